"""Bybit v5 (spot and linear) described for the generic venue session (sans-I/O).

Books: ``orderbook.200.SYM`` on the market's public socket, a snapshot then
deltas; a resync is an unsubscribe and subscribe, which makes Bybit send a
fresh snapshot. Rate limits: 600 requests per 5 s per IP for all endpoints
together (bucket ``ip``), and a limit per endpoint (``endpoint:<name>``
buckets), which ``X-Bapi-Limit-Status`` reports for the endpoint that answered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import parse_qs, urlsplit

import msgspec

from connector.errors import ConfigError, ConnectorError, LocalError, MalformedMessage
from connector.model import BookSnapshot, Instrument, Market, Symbol
from connector.venues.adapter import (
    Bucket,
    ConnectionPlan,
    HeartbeatRule,
    RestCall,
    StreamSpec,
)
from connector.venues.adapter_common import (
    guess_spot_or_perp,
    header_float,
    is_testnet,
    rejection,
    spot_or_perp_market,
)
from connector.venues.bybit import parse, streams, symbols
from connector.venues.bybit.sync import BybitSync
from connector.venues.common import Sequencer, SymbolMap

__all__ = ["BybitAdapter", "new_adapter"]

_AUTH_CODES = frozenset({10003, 10004, 10005, 10007, 33004})
_MARKETS = (Market.SPOT, Market.LINEAR)

_IP_BUCKET = Bucket(name="ip", capacity=600.0, period=5.0)
# Bybit v5 publishes per-UID limits for trading and account endpoints only; the
# public market endpoints are bound by the IP limit alone, so their own buckets
# are as generous as it (the simulator's default per-endpoint limit too).
_TIME = "endpoint:time"
_INSTRUMENTS = "endpoint:instruments"
_ENDPOINT_BUCKETS = tuple(
    Bucket(name=name, capacity=600.0, period=5.0) for name in (_TIME, _INSTRUMENTS)
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


class BybitAdapter:
    """The :class:`~connector.venues.adapter.VenueAdapter` of Bybit.

    Holds the parser's per-market stream state (ticker and best-bid/offer
    deltas merge onto the last full message), so each session or replay gets
    its own instance (:func:`new_adapter`).
    """

    name = "bybit"

    def __init__(self, book_depth: int = 0) -> None:
        self._depth = book_depth or streams.BOOK_DEPTH
        if self._depth not in streams.BOOK_DEPTHS or self._depth == 1:
            raise ConfigError(
                f"venues.bybit.book_depth = {book_depth}: expected 0 (200), 50, 200 or 1000"
            )
        self._states = {market: parse.StreamState() for market in _MARKETS}

    def market_for(self, symbol: Symbol) -> Market:
        return spot_or_perp_market(
            self.name, symbol, perp=Market.LINEAR, supported="spot and linear perpetuals"
        )

    def endpoints(self, endpoint: str) -> Mapping[str, str]:
        testnet = is_testnet(self.name, endpoint)
        urls: dict[str, str] = {}
        for market in _MARKETS:
            ws = streams.ws_url(market, testnet=testnet)
            urls[f"{market.value}.rest"] = streams.rest_url(testnet=testnet)
            urls[f"{market.value}.ws"] = ws[: ws.index("/v5/")]
        return urls

    def buckets(self, market: Market) -> Sequence[Bucket]:
        return [_IP_BUCKET, *_ENDPOINT_BUCKETS]

    def limit_headers(self, market: Market, headers: Mapping[str, str]) -> Mapping[str, float]:
        # The header counts the endpoint that answered, not the IP-wide limit.
        left = header_float(headers, "x-bapi-limit-status")
        return {} if left is None else {_ENDPOINT: left}

    def rest_error(self, status: int, body: bytes) -> ConnectorError | None:
        try:
            parsed = _body.decode(body)
        except (msgspec.DecodeError, ValueError):
            return None
        code = parsed.retCode
        if code == 0:
            return None
        return rejection(
            self.name,
            code,
            parsed.retMsg,
            auth_codes=_AUTH_CODES,
            rate_limit_code=10006,
            retry_after=1.0,
            timestamp_code=10002,
        )

    def server_time_call(self, market: Market) -> RestCall:
        return RestCall(path="/v5/market/time", weights={"ip": 1, _TIME: 1})

    def parse_server_time(self, body: bytes) -> int:
        try:
            return int(_time.decode(body).result.timeNano)
        except (msgspec.DecodeError, ValueError) as exc:
            raise MalformedMessage(f"bybit server time: {exc}", raw=body) from exc

    def instruments_call(self, market: Market) -> RestCall:
        return RestCall(path=streams.instruments_path(market), weights={"ip": 1, _INSTRUMENTS: 1})

    def parse_instruments(self, market: Market, body: bytes) -> list[Instrument]:
        return symbols.parse_instruments(market, body)

    def read_captured_rest(
        self, url: str, body: bytes, symbols_map: SymbolMap, ts_recv_ns: int
    ) -> list[Instrument | BookSnapshot]:
        parts = urlsplit(url)
        category = parse_qs(parts.query).get("category", [""])[0]
        market = next((m for m in _MARKETS if symbols.category(m) == category), None)
        if market is None:
            return []
        if parts.path.endswith("/instruments-info"):
            return list(self.parse_instruments(market, body))
        if parts.path.endswith("/market/orderbook"):
            snap = parse.parse_orderbook_snapshot(
                body, market=market, symbols=symbols_map, ts_recv_ns=ts_recv_ns
            )
            return [snap]
        return []

    def guess_instrument(self, market: Market, native_id: str) -> Instrument | None:
        return guess_spot_or_perp(self.name, market, native_id)

    def heartbeat(self, market: Market) -> HeartbeatRule:
        return HeartbeatRule(
            interval=streams.PING_INTERVAL_S, ping=streams.ping_frame(), timeout=60.0
        )

    def streams(self, market: Market, instrument: Instrument, channel: str) -> list[StreamSpec]:
        if channel not in streams.CHANNELS:
            raise ConfigError(f"bybit has no channel {channel!r}")
        name = streams.topic(channel, instrument.native_id, depth=self._depth)
        return [StreamSpec(market=market, instrument=instrument, channel=channel, name=name)]

    def plan_connections(
        self, ws_base: Mapping[Market, str], specs: Sequence[StreamSpec]
    ) -> list[ConnectionPlan]:
        plans = []
        for market in dict.fromkeys(s.market for s in specs):
            url = f"{ws_base[market].rstrip('/')}/v5/public/{symbols.category(market)}"
            mine = tuple(s for s in specs if s.market is market)
            plans.append(ConnectionPlan(market=market, url=url, streams=mine))
        return plans

    def subscribe_frames(self, plan: ConnectionPlan) -> list[str]:
        # A reconnect starts a fresh stream: merged ticker state must not leak across.
        self._states[plan.market] = parse.StreamState()
        pairs = streams.subscribe_frames([s.name for s in plan.streams], market=plan.market)
        return [frame for _, frame in pairs]

    def resubscribe_frames(self, stream: StreamSpec) -> list[str]:
        off = streams.unsubscribe_frames([stream.name], market=stream.market)
        on = streams.subscribe_frames([stream.name], market=stream.market)
        return [frame for _, frame in off + on]

    def decode(
        self, raw: str | bytes, market: Market, symbols_map: SymbolMap, ts_recv_ns: int
    ) -> Sequence[object]:
        return list(
            parse.decode_frame(
                raw,
                market=market,
                symbols=symbols_map,
                ts_recv_ns=ts_recv_ns,
                state=self._states[market],
            )
        )

    def new_sequencer(self, market: Market) -> Sequencer:
        return BybitSync()

    def book_depth(self, market: Market) -> int | None:
        return self._depth

    def snapshot_call(self, market: Market, instrument: Instrument) -> RestCall | None:
        return None  # resync = resubscribe; Bybit then sends a snapshot

    def parse_snapshot(
        self, market: Market, instrument: Instrument, body: bytes, ts_recv_ns: int
    ) -> BookSnapshot:
        raise LocalError("bybit books resync by resubscribing, not from REST")


def new_adapter(book_depth: int = 0) -> BybitAdapter:
    return BybitAdapter(book_depth)
