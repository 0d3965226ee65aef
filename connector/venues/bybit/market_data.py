"""Bybit v5 (spot and linear) market data, described for the generic session (sans-I/O).

Books: ``orderbook.200.SYM`` on the market's public socket, a snapshot then
deltas; a resync is an unsubscribe and subscribe, which makes Bybit send a
fresh snapshot.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import parse_qs, urlsplit

import attrs

from connector.book.sequencing import Sequencer
from connector.errors import ConfigError, LocalError
from connector.model import BookSnapshot, Instrument, Market, Symbol
from connector.venues.bybit import parse, streams, symbols
from connector.venues.bybit.rest import INSTRUMENTS_BUCKET
from connector.venues.bybit.sync import BybitSync
from connector.venues.common import MarketEvent, SymbolMap
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

__all__ = ["BybitMarketData"]

_MARKETS = (Market.SPOT, Market.LINEAR)


class BybitMarketData:
    """The :class:`~connector.venues.driver.MarketDataAdapter` of Bybit.

    Holds the parser's per-market stream state (ticker and best-bid/offer
    deltas merge onto the last full message), so each session or replay gets
    its own instance (:func:`connector.venues.registry.driver_for`).
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

    def instruments_call(self, market: Market) -> RestCall:
        return RestCall(
            path=streams.INSTRUMENTS_PATH,
            params=streams.instruments_params(market),
            weights={"ip": 1, INSTRUMENTS_BUCKET: 1},
        )

    def next_instruments_call(self, market: Market, call: RestCall, body: bytes) -> RestCall | None:
        """The next page after ``body`` (linear has more than 500 symbols, 1,000 a page).

        ``None`` on the last page (``nextPageCursor`` empty), for spot (no paging),
        or when the cursor does not move (a venue bug must not loop forever).
        """
        if market is Market.SPOT:
            return None
        cursor = symbols.next_page_cursor(body)
        if not cursor or cursor == call.params.get("cursor"):
            return None
        return attrs.evolve(call, params=streams.instruments_params(market, cursor=cursor))

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
        self, urls: Mapping[str, str], specs: Sequence[StreamSpec]
    ) -> list[ConnectionPlan]:
        """One socket per category, more when its topics pass 21,000 characters.

        Bybit counts the ``args`` of one public connection together (at most
        21,000 characters, "Connect"), so a category's topics are split over
        sockets, an instrument's topics always on the same one.
        """
        plans = []
        for market in dict.fromkeys(s.market for s in specs):
            base = urls[f"{market.value}.ws"].rstrip("/")
            url = f"{base}/v5/public/{symbols.category(market)}"
            for shard in _shards([s for s in specs if s.market is market]):
                plans.append(ConnectionPlan(market=market, url=url, streams=tuple(shard)))
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

    def change_streams(
        self,
        plan: ConnectionPlan,
        subscribe: Sequence[StreamSpec],
        unsubscribe: Sequence[StreamSpec],
    ) -> tuple[ConnectionPlan, list[str]]:
        off = streams.unsubscribe_frames([s.name for s in unsubscribe], market=plan.market)
        on = streams.subscribe_frames([s.name for s in subscribe], market=plan.market)
        return changed_plan(plan, subscribe, unsubscribe), [frame for _, frame in off + on]

    def decode(
        self, raw: str | bytes, market: Market, symbols: SymbolMap, ts_recv_ns: int
    ) -> Sequence[MarketEvent]:
        return parse.decode_frame(
            raw, market=market, symbols=symbols, ts_recv_ns=ts_recv_ns, state=self._states[market]
        )

    def new_sequencer(self, market: Market) -> Sequencer:
        return BybitSync()

    def book_depth(self, market: Market) -> int | None:
        return self._depth

    def snapshot_limit(self, market: Market) -> int | None:
        return None  # the venue keeps the book it sends to its depth

    def snapshot_call(self, market: Market, instrument: Instrument) -> RestCall | None:
        return None  # resync = resubscribe; Bybit then sends a snapshot

    def parse_snapshot(
        self, market: Market, instrument: Instrument, body: bytes, ts_recv_ns: int
    ) -> BookSnapshot:
        raise LocalError("bybit books resync by resubscribing, not from REST")


def _shards(specs: Sequence[StreamSpec]) -> list[list[StreamSpec]]:
    """``specs`` in groups whose topic names total at most 21,000 characters."""
    by_instrument: dict[str, list[StreamSpec]] = {}
    for spec in specs:
        by_instrument.setdefault(spec.instrument.native_id, []).append(spec)
    shards: list[list[StreamSpec]] = []
    current: list[StreamSpec] = []
    chars = 0
    for group in by_instrument.values():
        size = sum(len(s.name) for s in group)
        if current and chars + size > streams.CONNECTION_ARGS_CHARS_LIMIT:
            shards.append(current)
            current, chars = [], 0
        current.extend(group)
        chars += size
    if current:
        shards.append(current)
    return shards
