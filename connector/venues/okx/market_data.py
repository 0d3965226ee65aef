"""OKX v5 (spot and swap) market data, described for the generic session (sans-I/O).

One public socket carries every market (instrument ids name their market), with
fewer than 30 ``books`` channels per socket: more instruments open more sockets.

Books: ``books`` (400 levels), updates chained by ``seqId``/``prevSeqId``
(:class:`~connector.venues.okx.sync.OkxSync`). OKX no longer pushes a snapshot
after a subscribe (August 2026): the snapshot comes from
``GET /api/v5/market/books``, which carries ``seqId``. Where the venue still
pushes one (before August 2026, the simulator), a resync of that book is an
unsubscribe and subscribe, as before; the adapter learns which from the stream:

* a book whose stream pushed a snapshot (``prevSeqId == -1``) resyncs by
  resubscribing, until a resubscription is not answered by a snapshot (the
  session's snapshot deadline then asks again and gets the REST call);
* a REST answer without ``seqId`` cannot be aligned with the stream: from then
  on every book of this adapter resyncs by resubscribing;
* otherwise a resync is the REST snapshot (bucket ``books``, weight 1).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import parse_qs, urlsplit

import msgspec

from connector.book.sequencing import Sequencer
from connector.errors import ConfigError, MalformedMessage
from connector.model import BookSnapshot, Instrument, Market, Symbol, SymbolKind
from connector.venues.common import MarketEvent, SymbolMap, placeholder_instrument
from connector.venues.driver import (
    ConnectionPlan,
    HeartbeatRule,
    RestCall,
    StreamSpec,
)
from connector.venues.driver_common import changed_plan, spot_or_perp_market
from connector.venues.okx import parse, streams, symbols
from connector.venues.okx.sync import OkxSync

__all__ = ["OkxMarketData"]

_MARKETS = (Market.SPOT, Market.SWAP)
_PUSHED = -1
"""``prevSeqId`` of a snapshot pushed on the socket."""

BookKey = tuple[Market, Symbol]


class _SeqItem(msgspec.Struct):
    seqId: int | None = None


class _SeqProbe(msgspec.Struct):
    code: str = ""
    data: list[_SeqItem] = []


_seq_probe = msgspec.json.Decoder(_SeqProbe)


class OkxMarketData:
    """The :class:`~connector.venues.driver.MarketDataAdapter` of OKX.

    Args:
        book_depth: 0 or 400: the ``books`` channel always has 400 levels.

    Raises:
        ConfigError: any other depth.
    """

    name = "okx"

    def __init__(self, book_depth: int = 0) -> None:
        if book_depth not in (0, streams.BOOK_DEPTH):
            raise ConfigError(
                f"venues.okx.book_depth = {book_depth}: expected 0 or {streams.BOOK_DEPTH} "
                "(the books channel has 400 levels)"
            )
        # Which way a resync gets a snapshot, learnt from the venue (module docstring).
        self._pushed: set[BookKey] = set()
        self._unanswered: set[BookKey] = set()
        self._rest_unsequenced = False

    def market_for(self, symbol: Symbol) -> Market:
        return spot_or_perp_market(
            self.name, symbol, perp=Market.SWAP, supported="spot and perpetual swaps"
        )

    def instruments_call(self, market: Market) -> RestCall:
        path = streams.instruments_path(symbols.inst_type(market))
        return RestCall(path=path, weights={"instruments": 1})

    def parse_instruments(self, market: Market, body: bytes) -> list[Instrument]:
        return symbols.parse_instruments(market, body)

    def read_captured_rest(
        self, url: str, body: bytes, symbols_map: SymbolMap, ts_recv_ns: int
    ) -> list[Instrument | BookSnapshot]:
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        if parts.path.endswith("/public/instruments"):
            kind = query.get("instType", [""])[0]
            market = next((m for m in Market if _inst_type(m) == kind), None)
            return list(self.parse_instruments(market, body)) if market else []
        if parts.path.endswith(streams.BOOKS_PATH) and _rest_seq_id(body) is not None:
            inst_id = query.get("instId", [""])[0]
            snapshot = parse.parse_books_snapshot(
                body, inst_id=inst_id, symbols=symbols_map, ts_recv_ns=ts_recv_ns
            )
            return [snapshot]
        return []

    def guess_instrument(self, market: Market, native_id: str) -> Instrument | None:
        try:
            actual = symbols.market_of(native_id)
        except ValueError:  # an option, or not an OKX id
            return None
        parts = native_id.split("-")
        try:
            if actual is Market.SPOT and len(parts) == 2:
                symbol = Symbol(parts[0], parts[1], SymbolKind.SPOT)
            elif actual is Market.SWAP and len(parts) == 3:
                symbol = Symbol(parts[0], parts[1], SymbolKind.PERP)
            else:
                return None
        except ConfigError:
            return None
        return placeholder_instrument(self.name, actual, native_id, symbol)

    def heartbeat(self, market: Market) -> HeartbeatRule:
        # A quiet book gets a no-change update (seqId == prevSeqId) after about 60 s.
        return HeartbeatRule(
            interval=20.0, ping=streams.ping_frame(), timeout=60.0, book_silence=60.0
        )

    def streams(self, market: Market, instrument: Instrument, channel: str) -> list[StreamSpec]:
        name = streams.channel_name(channel)  # type: ignore[arg-type]
        return [
            StreamSpec(
                market=market,
                instrument=instrument,
                channel=channel,
                name=f"{name}:{instrument.native_id}",
            )
        ]

    def plan_connections(
        self, urls: Mapping[str, str], specs: Sequence[StreamSpec]
    ) -> list[ConnectionPlan]:
        """Every market on one socket, as long as it has fewer than 30 ``books``
        channels; an instrument's streams always share a socket."""
        by_instrument: dict[tuple[Market, str], list[StreamSpec]] = {}
        for spec in specs:
            by_instrument.setdefault((spec.market, spec.instrument.native_id), []).append(spec)
        shards: list[list[StreamSpec]] = []
        current: list[StreamSpec] = []
        books = 0
        for group in by_instrument.values():
            deep = sum(1 for s in group if _deep_book(s))
            if current and books + deep > streams.BOOK_CHANNELS_PER_CONNECTION:
                shards.append(current)
                current, books = [], 0
            current.extend(group)
            books += deep
        if current:
            shards.append(current)
        plans = []
        for shard in shards:
            market = shard[0].market
            url = f"{urls[f'{market.value}.ws'].rstrip('/')}/ws/v5/public"
            plans.append(ConnectionPlan(market=market, url=url, streams=tuple(shard)))
        return plans

    def subscribe_frames(self, plan: ConnectionPlan) -> list[str]:
        pairs = streams.subscribe_frames(_subscriptions(plan.streams))
        return [frame for _, frame in pairs]

    def resubscribe_frames(self, stream: StreamSpec) -> list[str]:
        """Unsubscribe and subscribe one book: only where the venue pushes snapshots.

        The book is noted as waiting for a pushed snapshot; if none comes, its
        next :meth:`snapshot_call` is the REST snapshot.
        """
        if stream.channel == "book":
            self._unanswered.add((stream.market, stream.instrument.symbol))
        subs = _subscriptions([stream])
        return [f for _, f in streams.unsubscribe_frames(subs) + streams.subscribe_frames(subs)]

    def change_streams(
        self,
        plan: ConnectionPlan,
        subscribe: Sequence[StreamSpec],
        unsubscribe: Sequence[StreamSpec],
    ) -> tuple[ConnectionPlan, list[str]]:
        off = streams.unsubscribe_frames(_subscriptions(unsubscribe))
        on = streams.subscribe_frames(_subscriptions(subscribe))
        return changed_plan(plan, subscribe, unsubscribe), [f for _, f in off + on]

    def decode(
        self, raw: str | bytes, market: Market, symbols: SymbolMap, ts_recv_ns: int
    ) -> Sequence[MarketEvent]:
        events = parse.decode_frame(raw, symbols=symbols, ts_recv_ns=ts_recv_ns)
        if events and type(events[0]) is BookSnapshot:
            for event in events:
                if type(event) is BookSnapshot and event.prev_seq == _PUSHED:
                    key = (event.market, event.symbol)
                    self._pushed.add(key)
                    self._unanswered.discard(key)
        return events

    def new_sequencer(self, market: Market) -> Sequencer:
        return OkxSync()

    def book_depth(self, market: Market) -> int | None:
        return streams.BOOK_DEPTH

    def snapshot_limit(self, market: Market) -> int | None:
        return None  # the venue keeps the book it sends to its depth

    def snapshot_call(self, market: Market, instrument: Instrument) -> RestCall | None:
        """``GET /api/v5/market/books`` (400 levels), or ``None`` where the venue
        pushes this book's snapshots (module docstring)."""
        key = (market, instrument.symbol)
        if self._rest_unsequenced or (key in self._pushed and key not in self._unanswered):
            return None
        return RestCall(
            path=streams.BOOKS_PATH,
            params=streams.books_params(instrument.native_id),
            weights={"books": 1},
        )

    def parse_snapshot(
        self, market: Market, instrument: Instrument, body: bytes, ts_recv_ns: int
    ) -> BookSnapshot:
        """The REST book, with its ``seqId``.

        Raises:
            MalformedMessage: Not a books answer, or one without ``seqId`` (it
                cannot be aligned with the stream: this adapter's books then
                resync by resubscribing).
        """
        if _rest_seq_id(body) is None and _rest_ok(body):
            self._rest_unsequenced = True
            raise MalformedMessage(
                "okx books answer without seqId cannot be aligned with the stream; "
                "books resync by resubscribing",
                raw=body,
                venue=self.name,
            )
        known = SymbolMap(self.name)
        known.add(instrument)
        return parse.parse_books_snapshot(
            body, inst_id=instrument.native_id, symbols=known, ts_recv_ns=ts_recv_ns
        )


def _inst_type(market: Market) -> str | None:
    try:
        return symbols.inst_type(market)
    except ValueError:  # a market OKX is not traded in here
        return None


def _subscriptions(specs: Sequence[StreamSpec]) -> list[tuple[streams.Channel, str]]:
    return [(s.channel, s.instrument.native_id) for s in specs]  # type: ignore[misc]


def _deep_book(spec: StreamSpec) -> bool:
    return streams.CHANNELS.get(spec.channel) in streams.DEEP_BOOK_CHANNELS  # type: ignore[call-overload]


def _probe(body: bytes) -> _SeqProbe | None:
    try:
        return _seq_probe.decode(body)
    except (msgspec.DecodeError, ValueError):
        return None


def _rest_ok(body: bytes) -> bool:
    probe = _probe(body)
    return probe is not None and probe.code == "0" and len(probe.data) == 1


def _rest_seq_id(body: bytes) -> int | None:
    """The ``seqId`` of a REST books answer, when it has one."""
    probe = _probe(body)
    if probe is None or probe.code != "0" or len(probe.data) != 1:
        return None
    return probe.data[0].seqId
