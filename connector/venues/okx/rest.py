"""OKX v5's REST side (sans-I/O): one API host, per-endpoint limits, error bodies, time.

Every market is served by one host; limits are per endpoint, in requests per
2 s per IP. OKX sends no rate-limit headers: 429 and code 50011 pause the host.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import msgspec

from connector.errors import ConnectorError, MalformedMessage
from connector.model import Market
from connector.venues.driver import Bucket, RestCall
from connector.venues.driver_common import is_testnet, rejection
from connector.venues.okx import limits, streams
from connector.venues.okx.orders import ERRORS

__all__ = ["OkxRest"]

_MARKETS = (Market.SPOT, Market.SWAP)
# Requests per 2 s per IP, from the OKX v5 docs of each endpoint.
_LIMITS = {"time": 10.0, "instruments": 20.0, "books": 40.0, **limits.TRADE_LIMITS}


class _Body(msgspec.Struct):
    code: str
    msg: str = ""


class _TimeItem(msgspec.Struct):
    ts: str


class _Time(msgspec.Struct):
    code: str
    data: list[_TimeItem]


_body = msgspec.json.Decoder(_Body)
_time = msgspec.json.Decoder(_Time)


class OkxRest:
    """The :class:`~connector.venues.driver.RestProfile` of OKX."""

    name = "okx"

    def endpoints(self, endpoint: str) -> Mapping[str, str]:
        demo = is_testnet(self.name, endpoint)
        ws = streams.ws_url(demo=demo)
        base = ws[: ws.index("/ws/v5/")]
        urls: dict[str, str] = {}
        for market in _MARKETS:
            urls[f"{market.value}.rest"] = streams.rest_url(demo=demo)
            urls[f"{market.value}.ws"] = base
        return urls

    def buckets(self, market: Market) -> Sequence[Bucket]:
        return [Bucket(name=name, capacity=n, period=2.0) for name, n in _LIMITS.items()]

    def limit_headers(self, market: Market, headers: Mapping[str, str]) -> Mapping[str, float]:
        return {}  # OKX sends no rate-limit headers; 429 / 50011 pause the limiter

    def rest_error(self, status: int, body: bytes) -> ConnectorError | None:
        try:
            parsed = _body.decode(body)
        except (msgspec.DecodeError, ValueError):
            return None
        if parsed.code == "0":
            return None
        return rejection(
            self.name,
            parsed.code,
            parsed.msg,
            timestamp_codes=ERRORS.timestamp,
            auth_codes=ERRORS.auth,
            rate_codes=ERRORS.rate,
            retry_after=ERRORS.retry_after,
        )

    def server_time_call(self, market: Market) -> RestCall:
        return RestCall(path="/api/v5/public/time", weights={"time": 1})

    def parse_server_time(self, body: bytes) -> int:
        try:
            return int(_time.decode(body).data[0].ts) * 1_000_000
        except (msgspec.DecodeError, ValueError, IndexError) as exc:
            raise MalformedMessage(f"okx server time: {exc}", raw=body) from exc
