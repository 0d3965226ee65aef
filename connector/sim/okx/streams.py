"""OKX public channels: book channels over the wire book, tickers, trades.

``books`` sends updates whose ``prevSeqId`` is the previous message's
``seqId``; after ``heartbeat`` seconds without a change an empty update
repeats the last ``seqId`` as both. A newcomer gets no snapshot (OKX delisted
it in August 2026): it aligns to ``GET /api/v5/market/books``, which answers
from the channel's published views (:meth:`BookChannel.view`), so the REST
``seqId`` is one the stream published. With the legacy setting a newcomer gets
a 400-level snapshot (``prevSeqId`` ``-1``) first. ``books5`` and ``bbo-tbt``
send the whole view each time. ``checksum`` is 0 unless real checksums are
on; the ``corrupt_checksum`` fault sends a wrong non-zero one to some
connections.
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal

import trio

from connector.model import Side
from connector.sim.faults import FaultKind
from connector.sim.hub import SimBook, SimVenue
from connector.sim.mirror import BookView, WireBook, WireLevel, diff_levels
from connector.sim.okx.wire import (
    CHANNEL_DEPTH,
    JsonDict,
    book_checksum,
    books_message,
    encode,
    format_number,
    ticker_item,
    wire_levels,
    wrong_checksum,
)
from connector.sim.topics import Topic

__all__ = ["BookChannel", "Channel", "TickerChannel", "TradeChannel", "wire_book"]

#: Published ``books`` views kept for stale REST snapshots.
_HISTORY = 64

_View = tuple[int, list[WireLevel], list[WireLevel]]


def wire_book(book: SimBook) -> WireBook:
    """The instrument's wire book; ``numOrders`` is the engine's count when a change arrives."""
    engine = book.engine

    def level(side: Side, price: Decimal, qty: Decimal) -> WireLevel:
        count = len(engine.order_ids_at(side, price)) or 1
        return (price, format_number(price), format_number(qty), str(count))

    return WireBook(book, level)


class BookChannel(BookView):
    """One book channel (``books``, ``books5`` or ``bbo-tbt``) of one instrument.

    Args:
        channel: The channel name.
        mirror: The instrument's wire book.
        venue: The venue (its clock stamps messages).
        checksum: Send real checksums (else 0).
        corrupt: Whether the fault plan may corrupt checksums (saves a check per frame).

    Attributes:
        history: The last published views ``(seqId, bids, asks)``, newest last.
    """

    def __init__(
        self, channel: str, mirror: WireBook, venue: SimVenue, *, checksum: bool, corrupt: bool
    ) -> None:
        self.channel = channel
        self.inst_id = mirror.book.native_id
        self.venue = venue
        self.real_checksum = checksum
        self.corrupt = corrupt and channel == "books"
        self.corrupted = 0
        self.history: deque[_View] = deque(maxlen=_HISTORY)
        super().__init__(f"{channel}:{self.inst_id}", mirror, CHANNEL_DEPTH[channel])
        self.refresh(publish=False)

    def checksum(self, bids: list[WireLevel], asks: list[WireLevel]) -> int:
        """The checksum of a view (0 unless real checksums are on)."""
        if not self.real_checksum:
            return 0
        return book_checksum([lv[1:3] for lv in bids], [lv[1:3] for lv in asks])

    def changed(
        self,
        old_bids: list[WireLevel],
        old_asks: list[WireLevel],
        prev_seq: int,
        *,
        publish: bool,
    ) -> None:
        """Push the change to subscribers (an update on ``books``, the view otherwise)."""
        self.history.append((self.seq, self.bids, self.asks))
        if not publish or not self.subs:
            return
        self.last_sent = trio.current_time()
        now = self.venue.now_ms()
        if self.channel == "books":
            self._send_books(
                "update",
                wire_levels(diff_levels(old_asks, self.asks, reverse=False)),
                wire_levels(diff_levels(old_bids, self.bids, reverse=True)),
                now,
                prev_seq,
            )
        else:
            self.publish(self._plain_frame(now))

    def view(self, updates_back: int = 0) -> _View:
        """``(seqId, bids, asks)`` as published ``updates_back`` views ago (bounded history)."""
        if updates_back <= 0 or not self.history:
            return self.seq, self.bids, self.asks
        return self.history[max(0, len(self.history) - 1 - updates_back)]

    def heartbeat(self) -> None:
        """``books``: an empty update repeating the last ``seqId`` (no change for a while)."""
        self.last_sent = trio.current_time()
        self._send_books("update", [], [], self.venue.now_ms(), self.seq)

    def _send_books(
        self, action: str, asks: list[list[str]], bids: list[list[str]], now: int, prev: int
    ) -> None:
        good = self.checksum(self.bids, self.asks)

        def build(checksum: int) -> str:
            msg = books_message(
                self.inst_id,
                action,
                asks=asks,
                bids=bids,
                ts_ms=now,
                checksum=checksum,
                prev_seq_id=prev,
                seq_id=self.seq,
            )
            return encode(msg)

        if not self.corrupt:
            self.publish(build(good))
            return
        frame = build(good)
        conns = list(self.subs.values())
        if not conns:
            return
        self.published += 1
        self.sent += len(conns)
        for conn in conns:
            if conn.faults.should(FaultKind.CORRUPT_CHECKSUM, self.name):
                self.corrupted += 1
                conn.send(build(wrong_checksum(good)), stream=self.name)
            else:
                conn.send(frame, stream=self.name)

    def snapshot_frame(self) -> str:
        """The ``books`` snapshot (legacy) or the current ``books5``/``bbo-tbt`` push."""
        now = self.venue.now_ms()
        if self.channel == "books":
            msg = books_message(
                self.inst_id,
                "snapshot",
                asks=wire_levels(self.asks),
                bids=wire_levels(self.bids),
                ts_ms=now,
                checksum=self.checksum(self.bids, self.asks),
                prev_seq_id=-1,
                seq_id=self.seq,
            )
            return encode(msg)
        return self._plain_frame(now)

    def _plain_frame(self, now: int) -> str:
        data: JsonDict = {"asks": wire_levels(self.asks), "bids": wire_levels(self.bids)}
        if self.channel == "books5":
            data["instId"] = self.inst_id
        data["ts"] = str(now)
        data["seqId"] = self.seq
        return encode({"arg": {"channel": self.channel, "instId": self.inst_id}, "data": [data]})


class TickerChannel(Topic):
    """``tickers`` of one instrument: a push at most every 100 ms when it changed."""

    def __init__(self, book: SimBook, venue: SimVenue) -> None:
        super().__init__(f"tickers:{book.native_id}")
        self.book = book
        self.venue = venue
        self.dirty = True
        self.last: JsonDict = {}

    def frame(self) -> str:
        """The current ticker message (remembered as the last one sent)."""
        data = ticker_item(self.book, self.venue.now_ms(), rest=False)
        self.last = data
        return encode(
            {"arg": {"channel": "tickers", "instId": self.book.native_id}, "data": [data]}
        )

    def tick(self) -> None:
        """Push the ticker when something but its time changed since the last push."""
        if not self.dirty or not self.subs:
            return
        self.dirty = False
        previous = {k: v for k, v in self.last.items() if k != "ts"}
        frame = self.frame()
        if previous == {k: v for k, v in self.last.items() if k != "ts"}:
            return
        self.publish(frame)


class TradeChannel(Topic):
    """``trades`` of one instrument: one push per taker order and price."""

    def __init__(self, book: SimBook) -> None:
        super().__init__(f"trades:{book.native_id}")
        self.book = book

    def publish_trades(self, groups: list[tuple[int, int]]) -> None:
        """Push ``groups``: ``(trade count, taker index)`` runs of the latest trades."""
        if not self.subs:
            return
        total = sum(n for n, _ in groups)
        trades = self.book.recent_trades(total)
        inst_id = self.book.native_id
        index = 0
        for n, _ in groups:
            chunk = trades[index : index + n]
            index += n
            if not chunk:
                continue
            by_price: dict[Decimal, list[Decimal]] = {}
            last_ids: dict[Decimal, int] = {}
            for t in chunk:
                by_price.setdefault(t.price, []).append(t.qty)
                last_ids[t.price] = t.trade_id
            first = chunk[0]
            for price, qtys in by_price.items():
                data = {
                    "instId": inst_id,
                    "tradeId": str(last_ids[price]),
                    "px": format_number(price),
                    "sz": format_number(sum(qtys, Decimal(0))),
                    "side": first.aggressor.value,
                    "ts": str(first.ts_ms),
                    "count": str(len(qtys)),
                }
                self.publish(
                    encode({"arg": {"channel": "trades", "instId": inst_id}, "data": [data]})
                )


Channel = BookChannel | TickerChannel | TradeChannel
