"""Binance (spot and USDⓈ-M) market data, described for the generic session (sans-I/O).

Books: diffs on ``<sym>@depth@100ms`` over combined streams named in the URL,
plus a REST ``depth`` snapshot (limit 1000) that the diffs are chained to.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import parse_qs, urlsplit

import attrs

from connector.book.sequencing import Sequencer
from connector.model import BookSnapshot, Instrument, Market, Symbol
from connector.venues.binance import parse, streams, symbols
from connector.venues.binance.sync import BinanceFuturesSync, BinanceSpotSync
from connector.venues.common import SymbolMap
from connector.venues.driver import (
    ConnectionPlan,
    HeartbeatRule,
    RestCall,
    StreamSpec,
)
from connector.venues.driver_common import (
    changed_plan,
    guess_spot_or_perp,
    spot_or_perp_market,
)

__all__ = ["BinanceMarketData"]

_STREAMS_PER_SOCKET = 200
"""Fewer than the 1024 allowed: the streams ride in the URL, which must stay short."""


class BinanceMarketData:
    """The :class:`~connector.venues.driver.MarketDataAdapter` of Binance.

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
        self._request_ids = streams.RequestIds()

    def market_for(self, symbol: Symbol) -> Market:
        return spot_or_perp_market(
            self.name, symbol, perp=Market.LINEAR, supported="spot and USDⓈ-M perpetuals"
        )

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
        self, urls: Mapping[str, str], specs: Sequence[StreamSpec]
    ) -> list[ConnectionPlan]:
        """Combined-stream sockets: spot on ``/stream``; USDⓈ-M one set per route
        (``/public``, ``/market``: a socket on one route never carries the other's
        streams), at most 200 streams each."""
        groups: dict[tuple[Market, str], list[StreamSpec]] = {}
        for spec in specs:
            route = streams.usdm_route(spec.name) if spec.market is Market.LINEAR else ""
            groups.setdefault((spec.market, route), []).append(spec)
        plans: list[ConnectionPlan] = []
        for (market, route), mine in groups.items():
            if route:
                base = streams.route_base(urls, market, route)
            else:
                base = urls[f"{market.value}.ws"].rstrip("/")
            for start in range(0, len(mine), _STREAMS_PER_SOCKET):
                chunk = tuple(mine[start : start + _STREAMS_PER_SOCKET])
                url = streams.combined_stream_url(base, [s.name for s in chunk])
                plans.append(ConnectionPlan(market=market, url=url, streams=chunk))
        return plans

    def subscribe_frames(self, plan: ConnectionPlan) -> list[str]:
        return []  # the URL names the streams

    def resubscribe_frames(self, stream: StreamSpec) -> list[str]:
        return []  # books resync from a REST snapshot

    def change_streams(
        self,
        plan: ConnectionPlan,
        subscribe: Sequence[StreamSpec],
        unsubscribe: Sequence[StreamSpec],
    ) -> tuple[ConnectionPlan, list[str]]:
        """``UNSUBSCRIBE``/``SUBSCRIBE`` on the open socket; the new plan's URL names
        its streams (a reconnect subscribes them, and only them)."""
        new = changed_plan(plan, subscribe, unsubscribe)
        base = plan.url.partition("?")[0].removesuffix("/stream")
        url = streams.combined_stream_url(base, [s.name for s in new.streams])
        frames = []
        if unsubscribe:
            names = [s.name for s in unsubscribe]
            frames.append(streams.unsubscribe_frame(names, next(self._request_ids)))
        if subscribe:
            names = [s.name for s in subscribe]
            frames.append(streams.subscribe_frame(names, next(self._request_ids)))
        return attrs.evolve(new, url=url), frames

    # The parser's own function, not a method around it: one call less per frame.
    decode = staticmethod(parse.decode)

    def new_sequencer(self, market: Market) -> Sequencer:
        return BinanceFuturesSync() if market is Market.LINEAR else BinanceSpotSync()

    def book_depth(self, market: Market) -> int | None:
        return None

    def snapshot_limit(self, market: Market) -> int | None:
        return self._limit

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
