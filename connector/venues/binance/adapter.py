"""Binance (spot and USDⓈ-M) described for the generic venue session (sans-I/O).

Books: diffs on ``<sym>@depth@100ms`` over combined streams named in the URL,
plus a REST ``depth`` snapshot (limit 1000) that the diffs are chained to.
Rate limits: request weight per minute per API host (spot 6,000, USDⓈ-M
2,400), corrected by ``X-MBX-USED-WEIGHT-1M``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import parse_qs, urlsplit

import msgspec

from connector.errors import ConnectorError, MalformedMessage
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
from connector.venues.binance import parse, streams, symbols
from connector.venues.binance.sync import BinanceFuturesSync, BinanceSpotSync
from connector.venues.common import Sequencer, SymbolMap

__all__ = ["BinanceAdapter", "new_adapter"]

_WEIGHT_PER_MINUTE = {Market.SPOT: 6000.0, Market.LINEAR: 2400.0}
_TIME_PATH = {Market.SPOT: "/api/v3/time", Market.LINEAR: "/fapi/v1/time"}
_AUTH_CODES = frozenset({-1022, -2014, -2015})
_STREAMS_PER_SOCKET = 200
"""Fewer than the 1024 allowed: the streams ride in the URL, which must stay short."""


class _ServerTime(msgspec.Struct):
    serverTime: int


class _Error(msgspec.Struct):
    code: int
    msg: str = ""


_server_time = msgspec.json.Decoder(_ServerTime)
_error = msgspec.json.Decoder(_Error)


class BinanceAdapter:
    """The :class:`~connector.venues.adapter.VenueAdapter` of Binance.

    Args:
        book_depth: Levels of the REST depth snapshot a book starts from (0: 1000).
            Diffs then keep every level the venue changes.

    Raises:
        ConfigError: a depth neither market accepts.
    """

    name = "binance"

    def __init__(self, book_depth: int = 0) -> None:
        self._limit = book_depth or streams.SNAPSHOT_LIMIT
        for market in (Market.SPOT, Market.LINEAR):
            streams.depth_weight(market, self._limit)  # raises for a limit the market refuses

    def market_for(self, symbol: Symbol) -> Market:
        return spot_or_perp_market(
            self.name, symbol, perp=Market.LINEAR, supported="spot and USDⓈ-M perpetuals"
        )

    def endpoints(self, endpoint: str) -> Mapping[str, str]:
        testnet = is_testnet(self.name, endpoint)
        urls: dict[str, str] = {}
        for market in (Market.SPOT, Market.LINEAR):
            found = streams.endpoints(market, testnet=testnet)
            urls[f"{market.value}.rest"] = found.rest
            urls[f"{market.value}.ws"] = found.ws
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
        return rejection(
            self.name,
            error.code,
            error.msg,
            auth_codes=_AUTH_CODES,
            rate_limit_code=-1003,
            timestamp_code=-1021,
        )

    def server_time_call(self, market: Market) -> RestCall:
        return RestCall(path=_TIME_PATH[market], weights={"weight": 1})

    def parse_server_time(self, body: bytes) -> int:
        try:
            return _server_time.decode(body).serverTime * 1_000_000
        except (msgspec.DecodeError, ValueError) as exc:
            raise MalformedMessage(f"binance server time: {exc}", raw=body) from exc

    def instruments_call(self, market: Market) -> RestCall:
        return RestCall(
            path=streams.EXCHANGE_INFO_PATH[market],
            weights={"weight": streams.EXCHANGE_INFO_WEIGHT[market]},
        )

    def parse_instruments(self, market: Market, body: bytes) -> list[Instrument]:
        return symbols.parse_exchange_info(market, body)

    def read_captured_rest(
        self, url: str, body: bytes, symbols: SymbolMap, ts_recv_ns: int
    ) -> list[Instrument | BookSnapshot]:
        parts = urlsplit(url)
        for market in (Market.SPOT, Market.LINEAR):
            if parts.path == streams.EXCHANGE_INFO_PATH[market]:
                return list(self.parse_instruments(market, body))
            if parts.path == streams.DEPTH_PATH[market]:
                native = parse_qs(parts.query).get("symbol", [""])[0].upper()
                instrument = symbols.by_native(market, native)
                return [self.parse_snapshot(market, instrument, body, ts_recv_ns)]
        return []

    def guess_instrument(self, market: Market, native_id: str) -> Instrument | None:
        return guess_spot_or_perp(self.name, market, native_id)

    def heartbeat(self, market: Market) -> HeartbeatRule:
        # Binance pings us (the websocket layer answers); silence means a dead socket.
        return HeartbeatRule(interval=3600.0, ping=None, timeout=60.0)

    def streams(self, market: Market, instrument: Instrument, channel: str) -> list[StreamSpec]:
        name = streams.stream_name(channel, instrument.native_id, market)
        return [StreamSpec(market=market, instrument=instrument, channel=channel, name=name)]

    def plan_connections(
        self, ws_base: Mapping[Market, str], specs: Sequence[StreamSpec]
    ) -> list[ConnectionPlan]:
        plans: list[ConnectionPlan] = []
        for market in dict.fromkeys(s.market for s in specs):
            mine = [s for s in specs if s.market is market]
            for start in range(0, len(mine), _STREAMS_PER_SOCKET):
                chunk = tuple(mine[start : start + _STREAMS_PER_SOCKET])
                url = streams.combined_stream_url(ws_base[market], [s.name for s in chunk])
                plans.append(ConnectionPlan(market=market, url=url, streams=chunk))
        return plans

    def subscribe_frames(self, plan: ConnectionPlan) -> list[str]:
        return []  # the URL names the streams

    def resubscribe_frames(self, stream: StreamSpec) -> list[str]:
        return []  # books resync from a REST snapshot

    def decode(
        self, raw: str | bytes, market: Market, symbols: SymbolMap, ts_recv_ns: int
    ) -> Sequence[object]:
        return parse.decode_frame(raw, market=market, symbols=symbols, ts_recv_ns=ts_recv_ns)

    def new_sequencer(self, market: Market) -> Sequencer:
        return BinanceFuturesSync() if market is Market.LINEAR else BinanceSpotSync()

    def book_depth(self, market: Market) -> int | None:
        return None

    def snapshot_call(self, market: Market, instrument: Instrument) -> RestCall | None:
        limit = self._limit
        return RestCall(
            path=streams.DEPTH_PATH[market],
            params=streams.depth_params(instrument.native_id, limit),
            weights={"weight": streams.depth_weight(market, limit)},
        )

    def parse_snapshot(
        self, market: Market, instrument: Instrument, body: bytes, ts_recv_ns: int
    ) -> BookSnapshot:
        return parse.parse_depth_snapshot(
            body, market=market, symbol=instrument.symbol, ts_recv_ns=ts_recv_ns
        )


def new_adapter(book_depth: int = 0) -> BinanceAdapter:
    return BinanceAdapter(book_depth)
