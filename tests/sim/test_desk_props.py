"""Property tests of the simulator's trading desk.

Random sequences of orders (limit, market, IOC, FOK, post-only, reduce-only),
amends, cancels, cancel-alls and synthetic-flow steps, by two accounts on a
spot and a linear book, then:

* no order fills more than its quantity, and its fills add up to what it says;
* an order never changes after it ended (a cancelled order never fills);
* every order's last event is the state ``desk.order()`` reports, with
  revisions 1, 2, 3... and nothing after an end;
* balances, positions and fees reconcile with the fills alone, from the
  starting balances; holds are gone when nothing is open;
* the engine rests exactly the desk's open orders, with their remaining quantity.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from connector.model import OrderType, Side, TimeInForce
from connector.sim.accounts import DEFAULT_BALANCES, AccountBook, AccountSpec, Credentials
from connector.sim.accounts import default_accounts as demo_accounts
from connector.sim.desk import DeskEvent, OrderUpdated, UserOrder
from connector.sim.hub import SimVenue
from connector.sim.instruments import default_instruments

D = Decimal
ACCOUNTS = ("binance-demo", "bob")
BOB_START = {"USDT": D(20_000), "BTC": D("0.5")}
START = {"binance-demo": dict(DEFAULT_BALANCES), "bob": BOB_START}
STEP = {"spot": D("5"), "linear": D("5")}
LOT = D("0.001")

limit_op = st.tuples(
    st.just("limit"),
    st.sampled_from(ACCOUNTS),
    st.sampled_from(("spot", "linear")),
    st.sampled_from((Side.BUY, Side.SELL)),
    st.integers(-6, 6),  # price: steps from the own side's touch (positive: more aggressive)
    st.integers(1, 40),  # lots of 0.001
    st.sampled_from(tuple(TimeInForce)),
    st.booleans(),  # reduce-only (linear)
    st.sampled_from(("reject", "cancel")),
    st.sampled_from(("none", "expire_maker")),
)
market_op = st.tuples(
    st.just("market"),
    st.sampled_from(ACCOUNTS),
    st.sampled_from(("spot", "linear")),
    st.sampled_from((Side.BUY, Side.SELL)),
    st.integers(1, 60),
    st.booleans(),
)
cancel_op = st.tuples(st.just("cancel"), st.integers(0, 50))
amend_op = st.tuples(
    st.just("amend"),
    st.integers(0, 50),
    st.none() | st.integers(0, 40),
    st.none() | st.integers(-6, 6),
)
step_op = st.tuples(st.just("step"), st.integers(1, 60))
kill_op = st.tuples(st.just("kill"), st.sampled_from(ACCOUNTS), st.sampled_from(("spot", "linear")))
operations = st.lists(
    st.one_of(limit_op, limit_op, market_op, cancel_op, amend_op, step_op, step_op, kill_op),
    min_size=1,
    max_size=30,
)


def make_venue(seed: int) -> SimVenue:
    bob = AccountSpec(
        account_id="bob",
        venue="binance",
        credentials=Credentials(api_key="bob-key", secret="s"),
        balances=BOB_START,
    )
    book = AccountBook("binance", [*demo_accounts(), bob])
    return SimVenue("binance", default_instruments(["binance"], ["BTC"]), seed=seed, accounts=book)


def touch(venue: SimVenue, market: str, side: Side) -> Decimal:
    engine = venue.book(market, "BTCUSDT").engine
    level = engine.best_bid() if side is Side.BUY else engine.best_ask()
    other = engine.best_ask() if side is Side.BUY else engine.best_bid()
    chosen = level or other
    assert chosen is not None
    return chosen.price


def run_ops(venue: SimVenue, ops: list[tuple[object, ...]]) -> list[DeskEvent]:
    desk = venue.desk
    events: list[DeskEvent] = []
    desk.listen(events.append)
    placed: list[UserOrder] = []
    now = 1
    for op in ops:
        now += 1
        kind = op[0]
        if kind == "limit":
            _, account, market, side, steps, lots, tif, reduce_only, cross, stp = op
            assert isinstance(side, Side) and isinstance(steps, int) and isinstance(lots, int)
            sign = 1 if side is Side.BUY else -1
            price = touch(venue, str(market), side) + sign * steps * STEP[str(market)]
            result = desk.place(
                str(account), str(market), "BTCUSDT", side=side, type=OrderType.LIMIT,
                qty=lots * LOT, price=price, time_in_force=tif,  # type: ignore[arg-type]
                reduce_only=bool(reduce_only) and market == "linear",
                post_only_cross=cross, self_trade=stp, now_ms=now,  # type: ignore[arg-type]
            )  # fmt: skip
        elif kind == "market":
            _, account, market, side, lots, reduce_only = op
            assert isinstance(side, Side) and isinstance(lots, int)
            result = desk.place(
                str(account), str(market), "BTCUSDT", side=side, type=OrderType.MARKET,
                qty=lots * LOT, reduce_only=bool(reduce_only) and market == "linear", now_ms=now,
            )  # fmt: skip
        elif kind == "cancel" and placed:
            target = placed[int(op[1]) % len(placed)]  # type: ignore[call-overload]
            desk.cancel(
                target.account,
                target.market,
                target.native_id,
                order_id=target.order_id,
                now_ms=now,
            )
            continue
        elif kind == "amend" and placed:
            _, index, lots, steps = op
            target = placed[int(index) % len(placed)]  # type: ignore[call-overload]
            current = desk.order(target.account, target.market, order_id=target.order_id)
            assert current is not None
            price = None
            if steps is not None and current.price is not None:
                price = current.price + int(steps) * STEP[target.market]  # type: ignore[call-overload]
            desk.amend(
                target.account, target.market, target.native_id, order_id=target.order_id,
                qty=None if lots is None else int(lots) * LOT,  # type: ignore[call-overload]
                price=price, now_ms=now,
            )  # fmt: skip
            continue
        elif kind == "step":
            venue.step(int(op[1]))  # type: ignore[call-overload]
            continue
        elif kind == "kill":
            desk.cancel_all(str(op[1]), str(op[2]), now_ms=now)
            continue
        else:
            continue
        if isinstance(result, UserOrder):
            placed.append(result)
    return events


def check(venue: SimVenue, events: list[DeskEvent]) -> None:
    desk = venue.desk
    # Events per order: revisions 1, 2, ...; nothing after the end; last one is the truth.
    last: dict[str, UserOrder] = {}
    for event in events:
        if not isinstance(event, OrderUpdated):
            continue
        order = event.order
        before = last.get(order.order_id)
        if before is None:
            assert 1 == order.revision
        else:
            assert before.is_open, f"order {order.order_id} changed after it ended"
            assert before.revision + 1 == order.revision
            assert order.filled_qty >= before.filled_qty
        if event.fill is not None:
            assert event.fill.order_id == order.order_id
        last[order.order_id] = order
    for account in ACCOUNTS:
        orders = desk.orders(account)
        fills = desk.fills(account)
        by_order: dict[str, list[object]] = defaultdict(list)
        for fill in fills:
            by_order[fill.order_id].append(fill)
        for order in orders:
            assert last[order.order_id] == order
            mine = [f for f in fills if f.order_id == order.order_id]
            assert D(0) <= order.filled_qty <= order.qty
            assert sum((f.qty for f in mine), D(0)) == order.filled_qty
            assert sum((f.fee for f in mine), D(0)) == order.fee
            assert sum((f.quote_qty for f in mine), D(0)) == order.cum_quote
            resting = venue.book(order.market, order.native_id).engine.order(order.order_id)
            assert (resting is not None) == order.is_open
            if resting is not None and not order.reduce_only:
                assert order.qty - order.filled_qty == resting.remaining
        # Balances from the starting balances and the fills alone.
        expected: dict[str, Decimal] = defaultdict(Decimal)
        for asset, amount in START[account].items():
            expected[asset] += amount
        size: dict[str, Decimal] = defaultdict(Decimal)
        realised: dict[str, Decimal] = defaultdict(Decimal)
        for fill in fills:
            if fill.market == "spot":
                if fill.side is Side.BUY:
                    expected["USDT"] -= fill.quote_qty
                    expected["BTC"] += fill.qty - fill.fee
                else:
                    expected["BTC"] -= fill.qty
                    expected["USDT"] += fill.quote_qty - fill.fee
            else:
                expected["USDT"] += fill.realized_pnl - fill.fee
                size[fill.native_id] += fill.qty if fill.side is Side.BUY else -fill.qty
                realised[fill.native_id] += fill.realized_pnl - fill.fee
        for asset, total in expected.items():
            assert total == desk.balance(account, asset).total, (account, asset)
        for native_id, signed in size.items():
            position = desk.position(account, native_id)
            assert position is not None
            assert signed == position.size
            assert realised[native_id] == position.realised_pnl
        open_now = desk.open_orders(account)
        for balance in desk.balances(account):
            assert balance.held >= 0
            if not open_now:
                assert D(0) == balance.held, (account, balance)
        margin = sum((p.margin for p in desk.positions(account)), D(0))
        assert margin == desk.balance(account, "USDT").margin


@settings(max_examples=60, deadline=None)
@given(ops=operations, seed=st.integers(1, 5))
def test_desk_reconciles_with_its_fills_whatever_happens(
    ops: list[tuple[object, ...]], seed: int
) -> None:
    venue = make_venue(seed)

    events = run_ops(venue, ops)

    check(venue, events)


@settings(max_examples=15, deadline=None)
@given(ops=operations)
def test_flow_fills_keep_everything_reconciled(ops: list[tuple[object, ...]]) -> None:
    venue = make_venue(3)
    events = run_ops(venue, ops)
    venue.step(300)

    check(venue, events)
