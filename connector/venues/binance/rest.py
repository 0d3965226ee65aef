"""Binance's REST side (sans-I/O): hosts, request-weight limits, error bodies, time.

Spot (``api.binance.com``) and USDⓈ-M (``fapi.binance.com``) are separate
hosts with separate request-weight budgets per minute (6,000 and 2,400),
corrected by ``X-MBX-USED-WEIGHT-1M``.

Error bodies keep the venue's code and message, 429s and 418s included (Binance
"LIMITS"): an HTTP 418 is :class:`~connector.errors.IpBanned` (its
``Retry-After`` says when the ban is over); a 429 is
:class:`~connector.errors.RateLimited` with the code that says which limit:
-1003 the IP's request weight (with ``Retry-After``: the host waits), -1015 the
account's order count (no ``Retry-After``; only new orders wait, on the order
path's own limiter).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import msgspec

from connector.errors import ConnectorError, IpBanned, MalformedMessage
from connector.model import Market
from connector.venues.binance import orders, streams
from connector.venues.driver import Bucket, RestCall
from connector.venues.driver_common import header_float, is_testnet, rejection

__all__ = ["BinanceRest"]

_WEIGHT_PER_MINUTE = {Market.SPOT: 6000.0, Market.LINEAR: 2400.0}
_TIME_PATH = {Market.SPOT: "/api/v3/time", Market.LINEAR: "/fapi/v1/time"}


class _ServerTime(msgspec.Struct):
    serverTime: int


class _Error(msgspec.Struct):
    code: int
    msg: str = ""


_server_time = msgspec.json.Decoder(_ServerTime)
_error = msgspec.json.Decoder(_Error)


class BinanceRest:
    """The :class:`~connector.venues.driver.RestProfile` of Binance."""

    name = "binance"

    def endpoints(self, endpoint: str) -> Mapping[str, str]:
        testnet = is_testnet(self.name, endpoint)
        urls: dict[str, str] = {}
        for market in (Market.SPOT, Market.LINEAR):
            found = streams.endpoints(market, testnet=testnet)
            urls[f"{market.value}.rest"] = found.rest
            urls[f"{market.value}.ws"] = found.ws
        urls["spot.wsapi"] = streams.WS_API[testnet]
        urls["linear.wsapi"] = streams.WS_FAPI[testnet]
        if testnet:
            # The USDⓈ-M testnet documents no routed paths: its streams stay unrouted.
            for route in ("public", "market"):
                urls[f"linear.ws.{route}"] = urls["linear.ws"]
        return urls

    def buckets(self, market: Market) -> Sequence[Bucket]:
        return [Bucket(name="weight", capacity=_WEIGHT_PER_MINUTE[market], period=60.0)]

    def limit_headers(self, market: Market, headers: Mapping[str, str]) -> Mapping[str, float]:
        used = header_float(headers, "x-mbx-used-weight-1m")
        return {} if used is None else {"weight": _WEIGHT_PER_MINUTE[market] - used}

    def rest_error(self, status: int, body: bytes) -> ConnectorError | None:
        if status < 400:
            return None
        try:
            error = _error.decode(body)
        except (msgspec.DecodeError, ValueError):
            return None
        if status == 418:
            return IpBanned(f"binance: HTTP 418 {error.code} {error.msg}", venue=self.name)
        return rejection(
            self.name,
            error.code,
            error.msg,
            timestamp_codes=orders.TIMESTAMP_CODES,
            auth_codes=orders.AUTH_CODES,
            rate_codes=orders.RATE_CODES,
        )

    def server_time_call(self, market: Market) -> RestCall:
        return RestCall(path=_TIME_PATH[market], weights={"weight": 1})

    def parse_server_time(self, body: bytes) -> int:
        try:
            return _server_time.decode(body).serverTime * 1_000_000
        except (msgspec.DecodeError, ValueError) as exc:
            raise MalformedMessage(f"binance server time: {exc}", raw=body) from exc
