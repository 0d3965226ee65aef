"""``connector replay``: a capture through the same sans-I/O code and books.

No network: every frame goes through the venue's decoder, its sequencer and
the book keepers exactly as a live session's would (:class:`VenueFeed`), and
every normalized event comes out as one JSON object. REST bodies in the
capture supply instrument lists and Binance depth snapshots (each kept to the
``limit`` its request asked for, the recording session's ``book_depth``, as the
live book was; hftbacktest's snapshot, which names no URL, to 1000); a venue whose
instrument list is missing gets instruments guessed from native ids (an OKX
swap's guess cannot know its ``ctVal``: its sizes then stay in contracts).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import structlog

from connector.capture import CaptureRecord, read_capture_batches
from connector.errors import ConnectorError
from connector.model import BookLevel, BookUpdate, Instrument, Market, Quote, Ticker, Trade
from connector.venues.common import SymbolMap
from connector.venues.feed import VenueFeed
from connector.venues.registry import VENUES, driver_for

__all__ = ["Replayer", "replay_file"]

log = structlog.get_logger(__name__)

Emit = Callable[[dict[str, object]], None]
OnFrame = Callable[[str, Market, int], object]

_TYPES: dict[type, str] = {BookUpdate: "book", Trade: "trade", Ticker: "ticker", Quote: "quote"}


class Replayer:
    """Feeds capture records to one :class:`VenueFeed` per venue.

    Each emitted event has the keys ``topic``, ``type`` (``book``, ``trade``,
    ``quote``, ``ticker``), ``venue``, ``market``, ``symbol``, ``seq``, ``state``
    (the book's state), ``ts_event_ns`` and ``ts_recv_ns``, plus by type: book
    ``bids``, ``asks`` (top ``depth`` levels as ``[price, qty]`` strings) and
    ``reason`` when the state has one; trade ``trade_id``, ``price``, ``qty``,
    ``aggressor``; quote ``bid``, ``bid_qty``, ``ask``, ``ask_qty``; ticker
    ``last``, ``bid``, ``ask``.

    Args:
        depth: Levels per side printed with each book event and in the summary.
        emit: Receives one JSON-safe dict per normalized event (``None``: keep quiet).
    """

    def __init__(self, *, depth: int = 10, emit: Emit | None = None) -> None:
        self.depth = depth
        self._emit = emit
        self.feeds: dict[str, VenueFeed] = {}
        self.records = 0
        self.skipped = 0
        # (venue, market text) -> the feed's on_frame and the market, once seen.
        self._targets: dict[tuple[str, str], tuple[OnFrame, Market]] = {}

    def feed(self, venue: str) -> VenueFeed:
        feed = self.feeds.get(venue)
        if feed is None:
            adapter = driver_for(venue).market_data
            symbols = SymbolMap(venue, resolver=adapter.guess_instrument)
            # Nobody reads the update of each applied delta when nothing is
            # emitted (``--summary``): the keepers do not build them.
            feed = self.feeds[venue] = VenueFeed(
                adapter,
                symbols,
                self._publish,
                snapshot_depth=self.depth,
                book_updates=self._emit is not None,
            )
        return feed

    def run(self, records: Iterable[CaptureRecord]) -> None:
        """Carry out every record, in order."""
        self.run_batches((records,))

    def run_batches(self, batches: Iterable[Iterable[CaptureRecord]]) -> None:
        """Carry out every record of every batch, in order (:func:`read_capture_batches`).

        The common record, a frame received with its URL from a venue and market
        seen before, goes straight to its feed; every other goes through
        :meth:`process`.
        """
        targets = self._targets
        process = self.process
        count = 0
        try:
            for batch in batches:
                for record in batch:
                    if record.t == "recv" and record.url:
                        target = targets.get((record.venue, record.market))
                        if target is not None:
                            count += 1
                            target[0](record.data, target[1], record.ts_ns)
                            continue
                    process(record)
        finally:
            self.records += count

    def process(self, record: CaptureRecord) -> None:
        """Carry out one record."""
        self.records += 1
        if record.venue not in VENUES:
            self.skipped += 1
            return
        feed = self.feed(record.venue)
        market = _market(record.market)
        if record.t == "http":
            self._rest(feed, record.url, record.data, record.ts_ns)
        elif record.t == "recv":
            if not record.url and record.data.startswith('{"lastUpdateId"'):
                # hftbacktest keeps the REST depth snapshot among the frames, without its URL.
                self._unnamed_snapshot(feed, market, record)
            else:
                feed.on_frame(record.data, market, record.ts_ns)
                if record.url:
                    self._targets[(record.venue, record.market)] = (feed.on_frame, market)
        elif record.t == "disconnect":
            keys = [k for k in feed.keepers() if k[0] is market or not record.market]
            feed.invalidate(f"disconnected: {record.data or 'capture says so'}", keys)

    def summary(self) -> dict[str, object]:
        """Per (venue, market, symbol): counts, final state and the final top levels."""
        books: list[dict[str, object]] = []
        for venue, feed in sorted(self.feeds.items()):
            for (market, symbol), keeper in sorted(
                feed.keepers().items(), key=lambda kv: (kv[0][0].value, str(kv[0][1]))
            ):
                stats = keeper.statistics()
                books.append(
                    {
                        "venue": venue,
                        "market": market.value,
                        "symbol": str(symbol),
                        "messages": stats.messages,
                        "deltas_applied": stats.deltas_applied,
                        "snapshots_applied": stats.snapshots_applied,
                        "gaps": stats.gaps,
                        "resyncs": stats.resyncs,
                        "checksums_checked": stats.checksums_checked,
                        "checksums_failed": stats.checksums_failed,
                        "crossed": stats.crossed,
                        "final_state": stats.state.status.value,
                        "final_seq": keeper.seq,
                        "bids": _levels(keeper.bids(self.depth)),
                        "asks": _levels(keeper.asks(self.depth)),
                    }
                )
        malformed = sum(f.statistics().malformed for f in self.feeds.values())
        return {"records": self.records, "malformed": malformed, "books": books}

    # -- internals -----------------------------------------------------------

    def _rest(self, feed: VenueFeed, url: str, body: str, ts_ns: int) -> None:
        try:
            found = feed.adapter.read_captured_rest(url, body.encode(), feed.symbols, ts_ns)
        except ConnectorError as exc:
            log.warning("replay.rest_skipped", venue=feed.venue, url=url, error=str(exc))
            return
        limit = _request_limit(url)
        for item in found:
            if isinstance(item, Instrument):
                feed.symbols.add(item)
                continue
            keeper = feed.keeper(item.market, item.symbol)
            if limit is not None and keeper.snapshot_limit is not None:
                # The capture's own limit (its session's ``book_depth``), not this
                # replay's default: below 1000 a live book stops at the snapshot's
                # last level and resyncs when a side runs out of it.
                keeper.snapshot_limit = limit
            feed.on_snapshot(item)

    def _unnamed_snapshot(self, feed: VenueFeed, market: Market, record: CaptureRecord) -> None:
        books = [key for key in feed.keepers() if key[0] is market]
        if len(books) != 1:
            log.warning("replay.unnamed_snapshot", venue=feed.venue, books=len(books))
            return
        instrument = feed.symbols.by_symbol(*books[0])
        try:
            snapshot = feed.adapter.parse_snapshot(
                market, instrument, record.data.encode(), record.ts_ns
            )
        except ConnectorError as exc:
            log.warning("replay.snapshot_skipped", venue=feed.venue, error=str(exc))
            return
        feed.on_snapshot(snapshot)

    def _publish(self, topic: str, event: object) -> None:
        if self._emit is None:
            return
        kind = _TYPES.get(type(event))
        if kind is None:
            return
        out: dict[str, object] = {"topic": topic, "type": kind}
        venue: str = event.venue  # type: ignore[attr-defined]
        market: Market = event.market  # type: ignore[attr-defined]
        symbol = event.symbol  # type: ignore[attr-defined]
        out["venue"] = venue
        out["market"] = market.value
        out["symbol"] = str(symbol)
        keeper = self.feeds[venue].keepers().get((market, symbol))
        if isinstance(event, BookUpdate):
            out["seq"] = event.seq
            out["state"] = event.state.status.value
        else:
            out["seq"] = getattr(event, "seq", None)
            out["state"] = keeper.state.status.value if keeper is not None else None
        out["ts_event_ns"] = event.ts_event_ns  # type: ignore[attr-defined]
        out["ts_recv_ns"] = event.ts_recv_ns  # type: ignore[attr-defined]
        if isinstance(event, BookUpdate):
            out["bids"] = _levels(keeper.bids(self.depth)) if keeper is not None else []
            out["asks"] = _levels(keeper.asks(self.depth)) if keeper is not None else []
            if event.state.reason:
                out["reason"] = event.state.reason
        elif isinstance(event, Trade):
            out["trade_id"] = event.trade_id
            out["price"] = str(event.price)
            out["qty"] = str(event.qty)
            out["aggressor"] = event.aggressor.value if event.aggressor else None
        elif isinstance(event, Quote):
            out["bid"] = _text(event.bid)
            out["bid_qty"] = _text(event.bid_qty)
            out["ask"] = _text(event.ask)
            out["ask_qty"] = _text(event.ask_qty)
        elif isinstance(event, Ticker):
            out["last"] = _text(event.last)
            out["bid"] = _text(event.bid)
            out["ask"] = _text(event.ask)
        self._emit(out)


def replay_file(
    path: str | Path,
    *,
    depth: int = 10,
    emit: Emit | None = None,
    venue: str | None = None,
    market: str | None = None,
) -> Replayer:
    """Replay a whole capture file; returns the :class:`Replayer` (for its summary)."""
    replayer = Replayer(depth=depth, emit=emit)
    replayer.run_batches(read_capture_batches(path, venue=venue, market=market))
    return replayer


def _market(text: str) -> Market:
    try:
        return Market(text)
    except ValueError:
        return Market.SPOT  # OKX: one socket for every market; instIds name theirs


def _request_limit(url: str) -> int | None:
    """The ``limit`` a REST request asked for (Binance's depth snapshot), or ``None``."""
    text = parse_qs(urlsplit(url).query).get("limit", [""])[0]
    return int(text) if text.isdigit() else None


def _levels(levels: Iterable[BookLevel]) -> list[list[str]]:
    return [[str(level.price), str(level.qty)] for level in levels]


def _text(value: object) -> str | None:
    return None if value is None else str(value)
