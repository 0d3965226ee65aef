"""The order state machine against a reference venue, over random interleavings.

The machine below plays a venue that really does things to a few orders
(accepts, rejects, fills, cancels, expires; one order is placed elsewhere) and
produces the messages a client would see: the REST answer to each placement,
private-stream order reports and fills. Hypothesis delivers them in any order,
repeats some, loses placement answers (the order becomes ``unknown``) and
queries orders by REST. Throughout, the tracked state never moves backwards,
its filled quantity never decreases or exceeds the venue's, no fill is counted
twice and no event is published twice; once every message is delivered, the
tracked state equals the venue's.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import attrs
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from connector.model import (
    Fill,
    Order,
    OrderAccepted,
    OrderCanceled,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderStatus,
    OrderStatusUnknown,
    OrderSubmitted,
    OrderType,
    Side,
    Symbol,
)
from connector.model.trading import OrderReport
from connector.oms.state import RANK, OrderBookkeeping

SYM = Symbol.parse("ETH-USDT-PERP")
VENUE = "okx"
QTYS = (Decimal("1"), Decimal("2"), Decimal("0.5"), Decimal("3"))
EXTERNAL = 3  # order 3 is placed elsewhere: we learn of it only from the venue
TERMINAL_EVENTS = (OrderCanceled, OrderRejected, OrderExpired)

Message = OrderEvent | OrderReport


@attrs.define
class Truth:
    """What the venue knows about one order (``status`` None: the venue has not seen it)."""

    cid: str
    qty: Decimal
    submitted: bool = False
    status: OrderStatus | None = None
    filled: Decimal = Decimal(0)
    notional: Decimal = Decimal(0)
    trades: set[str] = attrs.field(factory=set)
    answer: Message | None = None
    answer_lost: bool = False


class OrderStateMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.book = OrderBookkeeping()
        self.truth = [
            Truth(cid=("x" if i == EXTERNAL else "o") + str(i), qty=q) for i, q in enumerate(QTYS)
        ]
        self.pool: list[Message] = []
        self.trade_seq = 0
        self.ts = 1_000
        self.seen_rank: dict[str, int] = {}
        self.seen_filled: dict[str, Decimal] = {}
        self.published: Counter[tuple[str, str]] = Counter()

    # -- helpers -------------------------------------------------------------------

    def tick(self) -> int:
        self.ts += 1
        return self.ts

    def report(self, t: Truth) -> OrderReport:
        assert t.status is not None
        return OrderReport(
            venue=VENUE,
            symbol=SYM,
            client_order_id=t.cid,
            venue_order_id="v" + t.cid,
            side=Side.BUY,
            type=OrderType.LIMIT,
            qty=t.qty,
            price=Decimal("100"),
            status=t.status,
            filled_qty=t.filled,
            avg_fill_price=t.notional / t.filled if t.filled else None,
            ts_event_ns=self.tick(),
        )

    def common(self, t: Truth) -> dict[str, object]:
        return {
            "venue": VENUE,
            "symbol": SYM,
            "client_order_id": t.cid,
            "venue_order_id": "v" + t.cid,
            "ts_event_ns": self.tick(),
        }

    def apply(self, message: Message) -> tuple[OrderEvent, ...]:
        events = self.book.apply(message)
        for event in events:
            if isinstance(event, OrderFilled):
                self.published[(event.client_order_id, "fill " + event.fill.trade_id)] += 1
            elif isinstance(event, TERMINAL_EVENTS):
                self.published[(event.client_order_id, "terminal")] += 1
            else:
                self.published[(event.client_order_id, type(event).__name__)] += 1
        return events

    def order(self, t: Truth) -> Order | None:
        return self.book.get(VENUE, t.cid)

    def pick(self, data: st.DataObject, candidates: list[int]) -> Truth:
        return self.truth[data.draw(st.sampled_from(candidates))]

    def unsent(self) -> list[int]:
        return [i for i in range(EXTERNAL) if not self.truth[i].submitted]

    def answer_pending(self) -> list[int]:
        return [
            i
            for i, t in enumerate(self.truth[:EXTERNAL])
            if t.submitted and not t.answer_lost and (t.answer is None or t.answer in self.pool)
        ]

    def lost_at_sea(self) -> list[int]:
        return [
            i
            for i, t in enumerate(self.truth[:EXTERNAL])
            if t.submitted and t.status is None and t.answer_lost
        ]

    def at_venue(self, *, ours_only: bool = False) -> list[int]:
        last = EXTERNAL if ours_only else EXTERNAL + 1
        return [
            i
            for i, t in enumerate(self.truth[:last])
            if t.status is None and (t.submitted or i == EXTERNAL)
        ]

    def open_at_venue(self) -> list[int]:
        return [
            i
            for i, t in enumerate(self.truth)
            if t.status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)
        ]

    def seen_by_venue(self) -> list[int]:
        return [i for i, t in enumerate(self.truth) if t.status is not None]

    # -- our command path ---------------------------------------------------------------

    @precondition(lambda self: bool(self.unsent()))
    @rule(data=st.data())
    def submit(self, data: st.DataObject) -> None:
        t = self.pick(data, self.unsent())
        t.submitted = True
        ts = self.tick()
        order = Order(
            venue=VENUE,
            symbol=SYM,
            client_order_id=t.cid,
            side=Side.BUY,
            type=OrderType.LIMIT,
            qty=t.qty,
            price=Decimal("100"),
            ts_created_ns=ts,
        )
        event = OrderSubmitted(
            venue=VENUE, symbol=SYM, client_order_id=t.cid, order=order, ts_event_ns=ts
        )
        assert (event,) == self.apply(event)

    @precondition(lambda self: bool(self.answer_pending()))
    @rule(data=st.data())
    def lose_the_placement_answer(self, data: st.DataObject) -> None:
        t = self.pick(data, self.answer_pending())
        if t.answer is not None:
            self.pool.remove(t.answer)
        t.answer_lost = True
        before = self.order(t)
        assert before is not None
        event = OrderStatusUnknown(reason="timeout", **self.common(t))  # type: ignore[arg-type]
        events = self.apply(event)
        assert ((event,) if before.status is OrderStatus.SUBMITTED else ()) == events

    @precondition(lambda self: bool(self.lost_at_sea()))
    @rule(data=st.data())
    def venue_says_not_found(self, data: st.DataObject) -> None:
        t = self.pick(data, self.lost_at_sea())
        # The venue never got it; after the query window the order is rejected.
        t.status = OrderStatus.REJECTED
        (event,) = self.book.not_found(VENUE, t.cid, now_ns=self.tick())
        assert isinstance(event, OrderRejected)
        self.published[(t.cid, "terminal")] += 1

    # -- the venue ---------------------------------------------------------------------

    @precondition(lambda self: bool(self.at_venue()))
    @rule(data=st.data())
    def venue_accepts(self, data: st.DataObject) -> None:
        t = self.pick(data, self.at_venue())
        t.status = OrderStatus.NEW
        if t.submitted and not t.answer_lost:
            t.answer = OrderAccepted(**self.common(t))  # type: ignore[arg-type]
            self.pool.append(t.answer)
        self.pool.append(self.report(t))

    @precondition(lambda self: bool(self.at_venue(ours_only=True)))
    @rule(data=st.data())
    def venue_rejects(self, data: st.DataObject) -> None:
        t = self.pick(data, self.at_venue(ours_only=True))
        t.status = OrderStatus.REJECTED
        if not t.answer_lost:
            t.answer = OrderRejected(reason="no", code="51008", **self.common(t))  # type: ignore[arg-type]
            self.pool.append(t.answer)
        self.pool.append(self.report(t))

    @precondition(lambda self: bool(self.open_at_venue()))
    @rule(
        data=st.data(),
        part=st.sampled_from(["0.1", "0.25", "0.5", "all"]),
        price=st.sampled_from(["99.5", "100", "100.25"]),
    )
    def venue_fills(self, data: st.DataObject, part: str, price: str) -> None:
        t = self.pick(data, self.open_at_venue())
        remaining = t.qty - t.filled
        qty = remaining if part == "all" else min(remaining, Decimal(part))
        self.trade_seq += 1
        trade = f"T{self.trade_seq}"
        t.trades.add(trade)
        t.filled += qty
        t.notional += qty * Decimal(price)
        t.status = OrderStatus.FILLED if t.filled == t.qty else OrderStatus.PARTIALLY_FILLED
        fill = Fill(
            venue=VENUE,
            symbol=SYM,
            client_order_id=t.cid,
            venue_order_id="v" + t.cid,
            trade_id=trade,
            side=Side.BUY,
            qty=qty,
            price=Decimal(price),
        )
        self.pool.append(OrderFilled(fill=fill, **self.common(t)))  # type: ignore[arg-type]
        self.pool.append(self.report(t))

    @precondition(lambda self: bool(self.open_at_venue()))
    @rule(data=st.data(), status=st.sampled_from([OrderStatus.CANCELED, OrderStatus.EXPIRED]))
    def venue_ends(self, data: st.DataObject, status: OrderStatus) -> None:
        t = self.pick(data, self.open_at_venue())
        t.status = status
        self.pool.append(self.report(t))

    # -- delivery ---------------------------------------------------------------------

    @precondition(lambda self: bool(self.pool))
    @rule(data=st.data(), keep=st.booleans())
    def deliver(self, data: st.DataObject, keep: bool) -> None:
        index = data.draw(st.integers(min_value=0, max_value=len(self.pool) - 1))
        message = self.pool[index] if keep else self.pool.pop(index)
        self.apply(message)
        assert () == self.apply(message), "applying the same message twice changed the state"

    @precondition(lambda self: bool(self.seen_by_venue()))
    @rule(data=st.data())
    def query_by_rest(self, data: st.DataObject) -> None:
        self.apply(self.report(self.pick(data, self.seen_by_venue())))

    # -- properties -------------------------------------------------------------------

    @invariant()
    def never_backwards_never_ahead_never_double(self) -> None:
        for t in self.truth:
            order = self.order(t)
            if order is None:
                continue
            rank = RANK[order.status]
            assert rank >= self.seen_rank.get(t.cid, 0), f"{t.cid} moved back to {order.status}"
            assert order.filled_qty >= self.seen_filled.get(t.cid, Decimal(0))
            self.seen_rank[t.cid] = rank
            self.seen_filled[t.cid] = order.filled_qty
            assert order.filled_qty <= t.filled
            fills = self.book.fills(VENUE, t.cid)
            assert len(fills) == len({f.trade_id for f in fills})
            assert sum((f.qty for f in fills), Decimal(0)) <= t.filled
            if t.status is None:
                assert order.status in (OrderStatus.SUBMITTED, OrderStatus.UNKNOWN)
            else:
                assert rank <= RANK[t.status]
                if order.status.is_terminal:
                    assert t.status == order.status
        assert all(n == 1 for n in self.published.values()), self.published

    def teardown(self) -> None:
        while self.pool:
            self.apply(self.pool.pop(0))
        self.never_backwards_never_ahead_never_double()
        for t in self.truth:
            order = self.order(t)
            if t.status is None:
                if t.submitted:
                    assert order is not None
                    lost = OrderStatus.UNKNOWN if t.answer_lost else OrderStatus.SUBMITTED
                    assert lost == order.status
                else:
                    assert order is None
                continue
            assert order is not None
            assert (t.status, t.filled) == (order.status, order.filled_qty)
            expected_avg = t.notional / t.filled if t.filled else None
            assert expected_avg == order.avg_fill_price
            assert t.trades == {f.trade_id for f in self.book.fills(VENUE, t.cid)}
        stats = self.book.statistics()
        assert sum(len(t.trades) for t in self.truth) == stats.fills


OrderStateMachine.TestCase.settings = settings(
    max_examples=300, stateful_step_count=40, deadline=None
)
TestOrderStateMachine = OrderStateMachine.TestCase
