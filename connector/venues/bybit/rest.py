"""Bybit v5's REST side (sans-I/O): one API host, its limits, error bodies, time.

Spot and linear share the API host and its limits: 600 requests per 5 s per
IP for all endpoints together (bucket ``ip``), and a limit per endpoint
(``endpoint:<name>`` buckets), which ``X-Bapi-Limit-Status`` reports for the
endpoint that answered.

A breach of the IP limit is answered with HTTP 403 "access too frequent" and an
IP ban of at least 10 minutes (Bybit "Rate Limit Rules"): :meth:`BybitRest.rest_error`
maps any 403, and retCode 10009 ("IP has been banned"), to
:class:`~connector.errors.IpBanned` for :data:`~connector.venues.bybit.limits.IP_BAN_SECONDS`
(:func:`~connector.venues.bybit.orders.ip_ban`), which stops all REST to the host for
that long; the rate-limit retCodes (10006 too many visits, 10018, 10429) pause it for a
second.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import msgspec

from connector.errors import ConnectorError, MalformedMessage
from connector.model import Market
from connector.venues.bybit import limits, streams
from connector.venues.bybit.orders import ERRORS, ip_ban
from connector.venues.driver import Bucket, RestCall
from connector.venues.driver_common import header_float, is_testnet, rejection

__all__ = ["INSTRUMENTS_BUCKET", "BybitRest"]

_MARKETS = (Market.SPOT, Market.LINEAR)

_IP_BUCKET = Bucket(name="ip", capacity=600.0, period=5.0)
# Bybit v5 publishes per-UID limits for trading and account endpoints only; the
# public market endpoints are bound by the IP limit alone, so their own buckets
# are as generous as it (the simulator's default per-endpoint limit too).
_TIME = "endpoint:time"
INSTRUMENTS_BUCKET = "endpoint:instruments"
_ENDPOINT_BUCKETS = tuple(
    Bucket(name=name, capacity=600.0, period=5.0) for name in (_TIME, INSTRUMENTS_BUCKET)
)
_ENDPOINT = "endpoint"
"""``connector.net.ratelimit.ENDPOINT``: the bucket of the endpoint that answered
(the net layer is not imported here: this module is sans-I/O)."""


class _Body(msgspec.Struct):
    retCode: int
    retMsg: str = ""


class _TimeResult(msgspec.Struct):
    timeNano: str


class _Time(msgspec.Struct):
    retCode: int
    result: _TimeResult


_body = msgspec.json.Decoder(_Body)
_time = msgspec.json.Decoder(_Time)


class BybitRest:
    """The :class:`~connector.venues.driver.RestProfile` of Bybit."""

    name = "bybit"

    def endpoints(self, endpoint: str) -> Mapping[str, str]:
        testnet = is_testnet(self.name, endpoint)
        urls: dict[str, str] = {}
        for market in _MARKETS:
            ws = streams.ws_url(market, testnet=testnet)
            urls[f"{market.value}.rest"] = streams.rest_url(testnet=testnet)
            urls[f"{market.value}.ws"] = ws[: ws.index("/v5/")]
        return urls

    def buckets(self, market: Market) -> Sequence[Bucket]:
        return [_IP_BUCKET, *_ENDPOINT_BUCKETS, *limits.TRADE_BUCKETS]

    def limit_headers(self, market: Market, headers: Mapping[str, str]) -> Mapping[str, float]:
        # The header counts the endpoint that answered, not the IP-wide limit.
        left = header_float(headers, "x-bapi-limit-status")
        return {} if left is None else {_ENDPOINT: left}

    def rest_error(self, status: int, body: bytes) -> ConnectorError | None:
        try:
            parsed = _body.decode(body)
        except (msgspec.DecodeError, ValueError):
            # An IP ban's 403 carries text, not Bybit's JSON.
            return ip_ban(status, None, body[:200].decode("utf-8", "replace").strip())
        code = parsed.retCode
        banned = ip_ban(status, code, parsed.retMsg)
        if banned is not None or code == 0:
            return banned
        return rejection(
            self.name,
            code,
            parsed.retMsg,
            timestamp_codes=ERRORS.timestamp,
            auth_codes=ERRORS.auth,
            rate_codes=ERRORS.rate,
            retry_after=ERRORS.retry_after,
        )

    def server_time_call(self, market: Market) -> RestCall:
        return RestCall(path="/v5/market/time", weights={"ip": 1, _TIME: 1})

    def parse_server_time(self, body: bytes) -> int:
        try:
            return int(_time.decode(body).result.timeNano)
        except (msgspec.DecodeError, ValueError) as exc:
            raise MalformedMessage(f"bybit server time: {exc}", raw=body) from exc
