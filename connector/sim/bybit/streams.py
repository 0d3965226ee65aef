"""Bybit public topics: ``orderbook.{depth}``, ``tickers`` and ``publicTrade``.

A book topic is a :class:`~connector.sim.mirror.BookView` numbered with ``u``
(one more per published message) and shared by the category's connections
(see the package docstring for the snapshot/delta and REST contract).
``orderbook.1`` sends snapshots only and re-sends the unchanged one after 3 s
of quiet; after a ``restart_snapshot`` fault one connection's ``u`` restarts
at 1 and continues from there.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Callable
from decimal import Decimal

import trio

from connector.model import Side
from connector.sim.bybit.wire import (
    JsonDict,
    book_message,
    encode,
    price_format,
    qty_format,
    side_name,
    ticker_item,
    ticker_message,
    trade_message,
)
from connector.sim.faults import FaultKind
from connector.sim.hub import SimBook, SimVenue
from connector.sim.mirror import BookView, WireBook, WireLevel, diff_levels
from connector.sim.topics import Topic
from connector.sim.ws import WsConnection

__all__ = ["BookTopic", "TickerTopic", "TopicKind", "TradeTopic", "wire_book"]

#: Best price and size fields of a linear ``tickers`` delta, always sent together.
_TICKER_PAIRS = (("bid1Price", "bid1Size"), ("ask1Price", "ask1Size"))
#: Published views kept for stale REST snapshots.
_HISTORY = 64

_View = tuple[int, int, list[WireLevel], list[WireLevel]]


def wire_book(book: SimBook) -> WireBook:
    """The instrument's wire book, levels in the category's number format."""
    inst = book.instrument
    pf = price_format(inst)
    qf = qty_format(inst)

    def level(side: Side, price: Decimal, qty: Decimal) -> WireLevel:
        return (price, pf(price), qf(qty), "")

    return WireBook(book, level)


def _pairs(levels: list[WireLevel]) -> list[tuple[str, str]]:
    return [(p, q) for _, p, q, _ in levels]


class BookTopic(BookView):
    """One ``orderbook.{depth}.{symbol}`` stream of one category, shared by connections.

    Args:
        category: ``spot`` or ``linear``.
        mirror: The instrument's wire book.
        depth: Levels per side.
        venue: The venue (its clock stamps messages).
        restarts: Whether the fault plan may send restart snapshots (saves a
            check per frame).

    Attributes:
        u: The update id of the last published message.
        restarts: Restart snapshots sent.
    """

    def __init__(
        self, category: str, mirror: WireBook, depth: int, venue: SimVenue, *, restarts: bool
    ) -> None:
        self.category = category
        self.symbol = mirror.book.instrument.native_id
        self.venue = venue
        self.restart_rules = restarts
        self.restarts = 0
        self.u_offsets: dict[int, int] = {}
        super().__init__(f"orderbook.{depth}.{self.symbol}", mirror, depth)
        self.u = 1000 * depth + 1
        self.cts_ms = venue.now_ms()
        self.history: deque[_View] = deque(maxlen=_HISTORY)
        self.refresh(publish=False)

    def detach(self, conn_id: int) -> None:
        """Remove a subscriber and its restart numbering."""
        super().detach(conn_id)
        self.u_offsets.pop(conn_id, None)

    def changed(
        self,
        old_bids: list[WireLevel],
        old_asks: list[WireLevel],
        prev_seq: int,
        *,
        publish: bool,
    ) -> None:
        """Number the new view; publish a snapshot (depth 1) or a delta."""
        bids, asks = self.bids, self.asks
        self.cts_ms = self.venue.now_ms()
        self.u += 1
        self.history.append((self.u, self.seq, bids, asks))
        if publish:
            self.last_sent = trio.current_time()
            if self.depth == 1:
                self._broadcast_snapshot()
            else:
                self._broadcast_delta(
                    _pairs(diff_levels(old_bids, bids, reverse=True)),
                    _pairs(diff_levels(old_asks, asks, reverse=False)),
                )

    def resend_level1(self) -> None:
        """``orderbook.1``: re-send the unchanged snapshot (same ``u``) after 3 s of quiet."""
        self.last_sent = trio.current_time()
        self._broadcast_snapshot()

    def view(self, updates_back: int = 0) -> _View:
        """``(u, seq, bids, asks)`` as published ``updates_back`` messages ago."""
        if updates_back <= 0 or not self.history:
            return self.u, self.seq, self.bids, self.asks
        index = max(0, len(self.history) - 1 - updates_back)
        return self.history[index]

    def snapshot_frame(self, u: int) -> str:
        """The current view as a snapshot numbered ``u``."""
        msg = book_message(
            self.category,
            self.name,
            "snapshot",
            ts_ms=self.venue.now_ms(),
            symbol=self.symbol,
            bids=_pairs(self.bids),
            asks=_pairs(self.asks),
            u=u,
            seq=self.seq,
            cts_ms=self.cts_ms,
        )
        return encode(msg)

    def _broadcast_snapshot(self) -> None:
        if self.subs:
            self._fan_out(self.snapshot_frame(self.u), self.snapshot_frame)

    def _broadcast_delta(self, bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> None:
        if not self.subs:
            return
        now = self.venue.now_ms()

        def build(u: int) -> str:
            msg = book_message(
                self.category,
                self.name,
                "delta",
                ts_ms=now,
                symbol=self.symbol,
                bids=bids,
                asks=asks,
                u=u,
                seq=self.seq,
                cts_ms=self.cts_ms,
            )
            return encode(msg)

        self._fan_out(build(self.u), build)

    def _fan_out(self, frame: str, build: Callable[[int], str]) -> None:
        """Send ``frame`` (numbered ``u``) to each subscriber, renumbered after a restart."""
        self.published += 1
        name = self.name
        offsets = self.u_offsets
        for conn in list(self.subs.values()):
            if self.restart_rules and self._restart(conn):
                continue
            self.sent += 1
            offset = offsets.get(conn.conn_id, 0)
            if offset:
                conn.send(build(self.u - offset), stream=name)
            else:
                conn.send(frame, stream=name)

    def _restart(self, conn: WsConnection) -> bool:
        if not conn.faults.should(FaultKind.RESTART_SNAPSHOT, self.name):
            return False
        # A service restart as Bybit announces it: a full snapshot with u=1;
        # this connection's numbering continues from there.
        self.u_offsets[conn.conn_id] = self.u - 1
        self.restarts += 1
        conn.send(self.snapshot_frame(1), stream=self.name)
        return True


class TickerTopic(Topic):
    """``tickers.{symbol}`` of one category: linear sends deltas, spot snapshots."""

    def __init__(self, category: str, book: SimBook, venue: SimVenue) -> None:
        super().__init__(f"tickers.{book.native_id}")
        self.category = category
        self.book = book
        self.venue = venue
        self.last: JsonDict = {}
        self.dirty = True

    def data(self) -> JsonDict:
        """The ticker fields now."""
        return ticker_item(self.book, self.venue.now_ms(), rest=False)

    def snapshot_frame(self) -> str:
        """The snapshot a new subscriber gets."""
        data = self.data()
        if self.category == "linear" and not self.last:
            self.last = data
        return self._frame("snapshot", data)

    def _frame(self, kind: str, data: JsonDict) -> str:
        msg = ticker_message(
            self.category, self.name, kind, self.venue.now_ms(), self.book.update_id, data
        )
        return encode(msg)

    def tick(self) -> None:
        """Push what changed since the last push (linear a delta, spot the whole ticker)."""
        if not self.dirty or not self.subs:
            return
        self.dirty = False
        data = self.data()
        if self.category == "linear":
            changed: JsonDict = {"symbol": data["symbol"]}
            for key, value in data.items():
                if self.last.get(key) != value and key != "symbol":
                    changed[key] = value
            # As in the capture, a best price travels with its size even when unchanged.
            for price, size in _TICKER_PAIRS:
                if price in changed or size in changed:
                    changed[price] = data[price]
                    changed[size] = data[size]
            self.last = data
            if len(changed) == 1:
                return
            self.publish(self._frame("delta", changed))
            return
        if data == self.last:
            return
        self.last = data
        self.publish(self._frame("snapshot", data))


class TradeTopic(Topic):
    """``publicTrade.{symbol}`` of one category: one push per engine batch with trades."""

    def __init__(self, category: str, book: SimBook) -> None:
        super().__init__(f"publicTrade.{book.native_id}")
        self.category = category
        self.book = book
        self._last_price: Decimal | None = None
        self._direction = "ZeroPlusTick"

    def _tick_direction(self, price: Decimal) -> str:
        last = self._last_price
        if last is not None:
            if price > last:
                self._direction = "PlusTick"
            elif price < last:
                self._direction = "MinusTick"
            elif self._direction in ("PlusTick", "ZeroPlusTick"):
                self._direction = "ZeroPlusTick"
            else:
                self._direction = "ZeroMinusTick"
        self._last_price = price
        return self._direction

    def publish_trades(self, count: int, seq: int, ts_ms: int) -> None:
        """Push the latest ``count`` trades as one message (``seq``: the batch's last update id)."""
        trades = self.book.recent_trades(count)
        inst = self.book.instrument
        pf = price_format(inst)
        qf = qty_format(inst)
        items: list[JsonDict] = []
        for t in trades:
            direction = self._tick_direction(t.price)
            if not self.subs:
                continue
            if self.category == "spot":
                items.append(
                    {
                        "i": str(2_290_000_000_000_000_000 + t.trade_id),
                        "T": t.ts_ms,
                        "p": pf(t.price),
                        "v": qf(t.qty),
                        "S": side_name(t.aggressor),
                        "seq": seq,
                        "s": inst.native_id,
                        "BT": False,
                        "RPI": False,
                    }
                )
            else:
                items.append(
                    {
                        "T": t.ts_ms,
                        "s": inst.native_id,
                        "S": side_name(t.aggressor),
                        "v": qf(t.qty),
                        "p": pf(t.price),
                        "L": direction,
                        "i": str(uuid.UUID(int=t.trade_id)),
                        "BT": False,
                        "RPI": False,
                        "seq": seq,
                    }
                )
        if not items:
            return
        self.publish(encode(trade_message(self.category, self.name, ts_ms, items)))


TopicKind = BookTopic | TickerTopic | TradeTopic
