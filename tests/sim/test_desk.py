"""The simulator's trading desk: orders, holds, fills, refusals, positions (unit tests).

Each test builds a venue hub (no trio, no sockets) with the real matching
engine and synthetic flow, and trades on it through ``venue.desk``.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import pytest

from connector.model import Liquidity, OrderType, Side, TimeInForce
from connector.sim.accounts import DEFAULT_CREDENTIALS, AccountBook, AccountSpec, Credentials
from connector.sim.accounts import default_accounts as demo_accounts
from connector.sim.desk import (
    BalancesUpdated,
    CancelCause,
    DeskEvent,
    OrderState,
    OrderUpdated,
    PositionUpdated,
    Refusal,
    RefusalReason,
    UserOrder,
)
from connector.sim.hub import SimVenue
from connector.sim.instruments import default_instruments

D = Decimal
A = "binance-demo"
BUY, SELL = Side.BUY, Side.SELL
LIMIT, MARKET = OrderType.LIMIT, OrderType.MARKET


def venue(name: str = "binance", *, accounts: AccountBook | None = None) -> SimVenue:
    return SimVenue(name, default_instruments([name], ["BTC"]), seed=5, accounts=accounts)


def two_accounts() -> AccountBook:
    bob = AccountSpec(
        account_id="bob", venue="binance", credentials=Credentials(api_key="bob-key", secret="s")
    )
    return AccountBook("binance", [*demo_accounts(), bob])


def placed(result: UserOrder | Refusal) -> UserOrder:
    assert isinstance(result, UserOrder), result
    return result


def refused(result: UserOrder | Refusal, reason: RefusalReason) -> None:
    assert isinstance(result, Refusal), result
    assert reason == result.reason, result.detail


def touch(v: SimVenue, market: str = "spot", side: Side = BUY) -> Decimal:
    engine = v.book(market, "BTCUSDT").engine
    level = engine.best_bid() if side is BUY else engine.best_ask()
    assert level is not None
    return level.price


# ------------------------------------------------------------------ accounts


def test_desk_has_the_default_account_and_its_key() -> None:
    desk = venue().desk

    assert (A,) == desk.accounts()
    assert A == desk.default_account()
    assert A == desk.account_for_key(DEFAULT_CREDENTIALS["binance"].api_key)
    assert desk.account_for_key("nope") is None
    assert desk.keyring.find(DEFAULT_CREDENTIALS["binance"].api_key) is not None
    assert D(100_000) == desk.balance(A, "USDT").total


def test_mark_price_follows_the_reference_on_the_tick_grid() -> None:
    v = venue()
    mark = v.desk.mark_price("linear", "BTCUSDT")

    assert D(0) == mark % D("0.10")
    assert abs(mark - touch(v, "linear")) < mark * D("0.001")
    with pytest.raises(KeyError):
        v.desk.mark_price("linear", "NOPE")


# ------------------------------------------------------------------ spot orders


def test_limit_buy_rests_and_holds_quote_then_cancel_releases_it() -> None:
    v = venue()
    desk = v.desk
    price = touch(v) - D(100)

    order = placed(
        desk.place(A, "spot", "BTCUSDT", side=BUY, type=LIMIT, qty=D("0.01"), price=price, now_ms=1)
    )

    assert OrderState.NEW == order.state and order.client_order_id == f"sim-{order.order_id}"
    assert price * D("0.01") == desk.balance(A, "USDT").held
    assert v.book("spot", "BTCUSDT").engine.is_resting(order.order_id)
    assert [order] == desk.open_orders(A)

    done = placed(desk.cancel(A, "spot", "BTCUSDT", order_id=order.order_id, now_ms=2))

    assert OrderState.CANCELED == done.state and CancelCause.USER == done.cancel_cause
    assert D(0) == desk.balance(A, "USDT").held
    assert [] == desk.open_orders(A)
    assert [done] == desk.orders(A)
    refused(
        desk.cancel(A, "spot", "BTCUSDT", order_id=order.order_id, now_ms=3),
        RefusalReason.ORDER_NOT_OPEN,
    )
    refused(desk.cancel(A, "spot", "BTCUSDT", order_id="1", now_ms=3), RefusalReason.UNKNOWN_ORDER)


def test_market_buy_fills_at_the_book_and_releases_the_rest_of_its_hold() -> None:
    v = venue()
    desk = v.desk
    events: list[DeskEvent] = []
    desk.listen(events.append)

    order = placed(desk.place(A, "spot", "BTCUSDT", side=BUY, type=MARKET, qty=D("0.05"), now_ms=1))

    fills = desk.fills(A)
    assert OrderState.FILLED == order.state
    assert sum(f.qty for f in fills) == order.filled_qty == D("0.05")
    assert all(Liquidity.TAKER == f.liquidity and "BTC" == f.fee_asset for f in fills)
    cost = sum(f.quote_qty for f in fills)
    assert D(100_000) - cost == desk.balance(A, "USDT").total
    assert D(1) + D("0.05") - order.fee == desk.balance(A, "BTC").total
    assert D(0) == desk.balance(A, "USDT").held
    # The fills are the public trades of the same engine trades, same ids.
    public = {str(t.trade_id): t for t in v.book("spot", "BTCUSDT").trades}
    assert all(public[f.trade_id].price == f.price for f in fills)
    kinds = [type(e).__name__ for e in events]
    assert ["OrderUpdated", "BalancesUpdated"] == kinds[:2]
    assert "order" == events[1].reason if isinstance(events[1], BalancesUpdated) else False
    last = [e for e in events if isinstance(e, OrderUpdated)][-1]
    assert order == last.order


def test_market_buy_by_quote_amount_converts_against_the_book() -> None:
    v = venue()
    order = placed(
        v.desk.place(
            A, "spot", "BTCUSDT", side=BUY, type=MARKET, qty=D(0), quote_qty=D(1000), now_ms=1
        )
    )

    assert OrderState.FILLED == order.state
    assert D(990) < order.cum_quote <= D(1000)


def test_ioc_and_fok_remainders_expire() -> None:
    v = venue()
    desk = v.desk
    ask = touch(v, side=SELL)
    depth_at_ask = v.book("spot", "BTCUSDT").engine.best_ask()
    assert depth_at_ask is not None

    ioc = placed(
        desk.place(
            A,
            "spot",
            "BTCUSDT",
            side=BUY,
            type=LIMIT,
            qty=depth_at_ask.qty + D("0.01"),
            price=ask,
            time_in_force=TimeInForce.IOC,
            now_ms=1,
        )
    )
    fok = placed(
        desk.place(
            A,
            "spot",
            "BTCUSDT",
            side=BUY,
            type=LIMIT,
            qty=D("1.5"),
            price=touch(v, side=SELL),
            time_in_force=TimeInForce.FOK,
            now_ms=2,
        )
    )

    assert (OrderState.EXPIRED, CancelCause.IOC) == (ioc.state, ioc.cancel_cause)
    assert depth_at_ask.qty == ioc.filled_qty
    assert (OrderState.EXPIRED, CancelCause.FOK, D(0)) == (
        fok.state,
        fok.cancel_cause,
        fok.filled_qty,
    )
    assert D(0) == desk.balance(A, "USDT").held


def test_post_only_that_would_take_is_refused_or_cancelled_per_venue() -> None:
    v = venue()
    desk = v.desk
    ask = touch(v, side=SELL)
    args = {"side": BUY, "type": LIMIT, "qty": D("0.01"), "price": ask}

    refused(
        desk.place(A, "spot", "BTCUSDT", time_in_force=TimeInForce.POST_ONLY, now_ms=1, **args),
        RefusalReason.POST_ONLY_WOULD_TAKE,
    )
    assert [] == desk.orders(A)
    cancelled = placed(
        desk.place(
            A,
            "spot",
            "BTCUSDT",
            time_in_force=TimeInForce.POST_ONLY,
            post_only_cross="cancel",
            now_ms=1,
            **args,
        )
    )
    assert (OrderState.CANCELED, CancelCause.POST_ONLY) == (
        cancelled.state,
        cancelled.cancel_cause,
    )
    assert D(0) == desk.balance(A, "USDT").held


def test_amend_changes_qty_and_price_and_moves_the_hold() -> None:
    v = venue()
    desk = v.desk
    price = touch(v) - D(200)
    order = placed(
        desk.place(A, "spot", "BTCUSDT", side=BUY, type=LIMIT, qty=D("0.02"), price=price, now_ms=1)
    )

    smaller = placed(
        desk.amend(A, "spot", "BTCUSDT", order_id=order.order_id, qty=D("0.01"), now_ms=2)
    )
    assert D("0.01") == smaller.qty and 2 == smaller.revision
    assert price * D("0.01") == desk.balance(A, "USDT").held
    lower = placed(
        desk.amend(
            A, "spot", "BTCUSDT", client_order_id=order.client_order_id, price=price - 1, now_ms=3
        )
    )
    assert price - 1 == lower.price
    assert (price - 1) * D("0.01") == desk.balance(A, "USDT").held
    refused(
        desk.amend(A, "spot", "BTCUSDT", order_id=order.order_id, qty=D(1000), now_ms=4),
        RefusalReason.INSUFFICIENT_BALANCE,
    )
    assert (price - 1) * D("0.01") == desk.balance(A, "USDT").held
    gone = placed(desk.amend(A, "spot", "BTCUSDT", order_id=order.order_id, qty=D(0), now_ms=5))
    assert CancelCause.AMEND_TO_FILLED == gone.cancel_cause
    assert D(0) == desk.balance(A, "USDT").held


def test_amend_across_the_book_trades() -> None:
    v = venue()
    desk = v.desk
    order = placed(
        desk.place(
            A,
            "spot",
            "BTCUSDT",
            side=BUY,
            type=LIMIT,
            qty=D("0.001"),
            price=touch(v) - 50,
            now_ms=1,
        )
    )

    amended = placed(
        desk.amend(
            A, "spot", "BTCUSDT", order_id=order.order_id, price=touch(v, side=SELL), now_ms=2
        )
    )

    assert OrderState.FILLED == amended.state
    assert 1 == len(desk.fills(A, order_id=order.order_id))


def test_cancel_all_cancels_every_open_order_of_the_market() -> None:
    v = venue()
    desk = v.desk
    for k in range(3):
        placed(
            desk.place(
                A,
                "spot",
                "BTCUSDT",
                side=BUY,
                type=LIMIT,
                qty=D("0.001"),
                price=touch(v) - 100 - k,
                now_ms=1,
            )
        )

    gone = desk.cancel_all(A, "spot", now_ms=2)

    assert 3 == len(gone) and all(CancelCause.KILL == o.cancel_cause for o in gone)
    assert [] == desk.open_orders(A)


# ------------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"native_id": "NOPE"}, RefusalReason.UNKNOWN_INSTRUMENT),
        ({"account": "nobody"}, RefusalReason.BAD_PARAMETER),
        ({"price": None}, RefusalReason.BAD_PARAMETER),
        ({"qty": D(-1)}, RefusalReason.BAD_PARAMETER),
        ({"price": D("50000.001")}, RefusalReason.TICK_SIZE),
        ({"qty": D("0.000011")}, RefusalReason.LOT_SIZE),
        ({"qty": D("0.000001")}, RefusalReason.MIN_QTY),
        ({"qty": D("9001")}, RefusalReason.MAX_QTY),
        ({"qty": D("0.00005")}, RefusalReason.MIN_NOTIONAL),
        ({"qty": D("3")}, RefusalReason.INSUFFICIENT_BALANCE),
        ({"reduce_only": True}, RefusalReason.BAD_PARAMETER),
        ({"type": MARKET, "time_in_force": TimeInForce.POST_ONLY}, RefusalReason.BAD_PARAMETER),
    ],
)
def test_each_refusal_reason(changes: dict[str, object], reason: RefusalReason) -> None:
    v = venue()
    request: dict[str, object] = {
        "account": A,
        "market": "spot",
        "native_id": "BTCUSDT",
        "side": BUY,
        "type": LIMIT,
        "qty": D("0.01"),
        "price": D("50000"),
        "now_ms": 1,
    }
    request.update(changes)

    result = v.desk.place(**request)  # type: ignore[arg-type]

    refused(result, reason)
    assert {reason.value: 1} == v.desk.statistics().refusals
    assert D(0) == v.desk.balance(A, "USDT").held


@pytest.mark.parametrize(
    ("name", "market", "native_id", "cap"),
    [
        ("binance", "spot", "BTCUSDT", D("97.09521512")),  # MARKET_LOT_SIZE as listed
        ("binance", "linear", "BTCUSDT", D(120)),
        ("bybit", "linear", "BTCUSDT", D(150)),  # maxMktOrderQty: a tenth of the limit maximum
        ("bybit", "spot", "BTCUSDT", None),  # maxMarketOrderQty: half of it
        ("okx", "swap", "BTC-USDT-SWAP", D(1600)),  # maxMktSz, in contracts
    ],
)
def test_a_market_order_over_the_market_maximum_is_refused(
    name: str, market: str, native_id: str, cap: D | None
) -> None:
    v = venue(name)
    inst = v.book(market, native_id).instrument
    limit = inst.max_market_qty
    assert limit is not None and limit < inst.max_qty
    assert cap is None or cap == limit
    over = (limit // inst.lot_step + 1) * inst.lot_step  # the first lot above it
    args = {"side": BUY, "qty": over, "now_ms": 1}

    account = f"{name}-demo"
    result = v.desk.place(account, market, native_id, type=MARKET, **args)
    refused(result, RefusalReason.MAX_MARKET_QTY)
    assert {"max_market_qty": 1} == v.desk.statistics().refusals


def test_bybit_spot_takes_post_only_orders_up_to_five_times_the_limit_maximum() -> None:
    v = venue("bybit")
    inst = v.book("spot", "BTCUSDT").instrument
    assert inst.max_post_only_qty == inst.max_qty * 5
    account = "bybit-demo"
    v.desk.transfer(account, "BTC", inst.max_qty * 6, now_ms=1)
    price = touch(v, side=SELL) * 2  # a sell far above the book: it rests
    args = {"side": SELL, "type": LIMIT, "price": price, "now_ms": 1}

    plain = v.desk.place(account, "spot", "BTCUSDT", qty=inst.max_qty * 2, **args)
    refused(plain, RefusalReason.MAX_QTY)
    post_only = {**args, "time_in_force": TimeInForce.POST_ONLY}
    rests = placed(v.desk.place(account, "spot", "BTCUSDT", qty=inst.max_qty * 2, **post_only))
    assert inst.max_qty * 2 == rests.qty
    over = inst.max_qty * 5 + inst.lot_step
    refused(v.desk.place(account, "spot", "BTCUSDT", qty=over, **post_only), RefusalReason.MAX_QTY)
    # Elsewhere the limit maximum holds for post-only orders too.
    assert venue("binance").book("spot", "BTCUSDT").instrument.max_post_only_qty is None


@pytest.mark.parametrize(
    ("market", "limits"),
    [
        # spot PERCENT_PRICE_BY_SIDE 0.2 / 5: both ends for either side
        ("spot", {BUY: (D("0.2"), D(5)), SELL: (D("0.2"), D(5))}),
        # USDⓈ-M PERCENT_PRICE 0.95 / 1.05: a buy's ceiling and a sell's floor only
        ("linear", {BUY: (None, D("1.05")), SELL: (D("0.95"), None)}),
    ],
)
def test_binance_limit_prices_stay_inside_the_percent_price_band(
    market: str, limits: dict[Side, tuple[D | None, D | None]]
) -> None:
    v = venue("binance")
    mark = v.desk.mark_price(market, "BTCUSDT")
    tick = v.book(market, "BTCUSDT").instrument.tick_size
    v.desk.transfer(A, "BTC", D(1), now_ms=1)
    for side, (down, up) in limits.items():
        args = {"side": side, "type": LIMIT, "qty": D("0.01"), "now_ms": 1}
        for multiplier, bound, reason in (
            (down, "low", RefusalReason.PRICE_BELOW_LIMIT),
            (up, "high", RefusalReason.PRICE_ABOVE_LIMIT),
        ):
            if multiplier is None:  # no bound that way: far out, the order rests
                far = mark * (D("0.3") if bound == "low" else D(3))
                far = (far / tick).to_integral_value() * tick
                placed(v.desk.place(A, market, "BTCUSDT", price=far, **args))
                continue
            # The bound on the tick grid, inside the band; one tick beyond it is refused.
            rounding = ROUND_FLOOR if bound == "high" else ROUND_CEILING
            limit = (mark * multiplier / tick).to_integral_value(rounding) * tick
            outside = limit + tick if bound == "high" else limit - tick
            result = v.desk.place(A, market, "BTCUSDT", price=outside, **args)
            refused(result, reason)
            assert isinstance(result, Refusal) and result.limits is not None
            assert limit == result.limits[0 if bound == "low" else 1]


@pytest.mark.parametrize(
    ("side", "asked", "ratio"), [(BUY, D("1.05"), D("1.01")), (SELL, D("0.95"), D("0.99"))]
)
def test_bybit_linear_moves_a_price_beyond_its_limit_to_the_limit(
    side: Side, asked: D, ratio: D
) -> None:
    # Bybit futures, lpaPerp false (the default): "the system will automatically adjust
    # the price to the nearest allowed price", mark x (1 +/- priceLimitRatioX).
    v = venue("bybit")
    inst = v.book("linear", "BTCUSDT").instrument
    assert (D("0.01"), D("0.02")) == inst.price_limit_ratios
    mark = v.desk.mark_price("linear", "BTCUSDT")
    tick = inst.tick_size
    price = (mark * asked / tick).to_integral_value() * tick
    order = placed(v.desk.place("bybit-demo", "linear", "BTCUSDT", side=side, type=LIMIT,
                                qty=D("0.01"), price=price, now_ms=1))  # fmt: skip
    rounding = ROUND_FLOOR if side is BUY else ROUND_CEILING
    assert (mark * ratio / tick).to_integral_value(rounding) * tick == order.price
    # A price inside the limit is left as it is.
    inside = touch(v, "linear", BUY) if side is BUY else touch(v, "linear", SELL)
    again = placed(v.desk.place("bybit-demo", "linear", "BTCUSDT", side=side, type=LIMIT,
                                qty=D("0.01"), price=inside, now_ms=1))  # fmt: skip
    assert inside == again.price


def test_bybit_spot_refuses_a_price_beyond_its_limit() -> None:
    # lpaSpot false (the default): "If the order price exceeds the limit, the system
    # rejects the request"; the limit is mark x (1 +/- priceLimitRatioX) here (0.5 %).
    v = venue("bybit")
    inst = v.book("spot", "BTCUSDT").instrument
    mark = v.desk.mark_price("spot", "BTCUSDT")
    tick = inst.tick_size
    high = (mark * D("1.005") / tick).to_integral_value(ROUND_FLOOR) * tick
    low = (mark * D("0.995") / tick).to_integral_value(ROUND_CEILING) * tick
    args = {"type": LIMIT, "qty": D("0.001"), "now_ms": 1}
    over = v.desk.place("bybit-demo", "spot", "BTCUSDT", side=BUY, price=high + tick, **args)
    refused(over, RefusalReason.PRICE_ABOVE_LIMIT)
    under = v.desk.place("bybit-demo", "spot", "BTCUSDT", side=SELL, price=low - tick, **args)
    refused(under, RefusalReason.PRICE_BELOW_LIMIT)
    assert isinstance(over, Refusal) and isinstance(under, Refusal)
    assert (low, high) == over.limits == under.limits
    # Passive prices far from the market are not limited.
    far = (low / 2 / tick).to_integral_value() * tick
    placed(v.desk.place("bybit-demo", "spot", "BTCUSDT", side=BUY, price=far, **args))


@pytest.mark.parametrize("market", ["spot", "swap"])
def test_okx_refuses_a_buy_over_and_a_sell_under_its_price_limit(market: str) -> None:
    # 51006 "Order price is not within the price limit": a buy above the highest buy
    # price, a sell under the lowest sell price; passive prices are not limited.
    v = venue("okx")
    native = "BTC-USDT-SWAP" if market == "swap" else "BTC-USDT"
    inst = v.book(market, native).instrument
    mark = v.desk.mark_price(market, native)
    tick = inst.tick_size
    low = (mark * D("0.98") / tick).to_integral_value(ROUND_CEILING) * tick
    high = (mark * D("1.02") / tick).to_integral_value(ROUND_FLOOR) * tick
    account = "okx-demo"
    args = {"type": LIMIT, "qty": inst.min_qty, "now_ms": 1}
    over = v.desk.place(account, market, native, side=BUY, price=high + tick, **args)
    under = v.desk.place(account, market, native, side=SELL, price=low - tick, **args)
    refused(over, RefusalReason.PRICE_ABOVE_LIMIT)
    refused(under, RefusalReason.PRICE_BELOW_LIMIT)
    assert isinstance(over, Refusal) and (low, high) == over.limits
    far = (low / 2 / tick).to_integral_value() * tick
    placed(v.desk.place(account, market, native, side=BUY, price=far, **args))


def test_duplicate_client_id_among_open_orders_only() -> None:
    v = venue()
    desk = v.desk
    args = {"side": BUY, "type": LIMIT, "qty": D("0.001"), "price": D(50000), "now_ms": 1}
    first = placed(desk.place(A, "spot", "BTCUSDT", client_order_id="x1", **args))  # type: ignore[arg-type]

    refused(
        desk.place(A, "spot", "BTCUSDT", client_order_id="x1", **args),  # type: ignore[arg-type]
        RefusalReason.DUPLICATE_CLIENT_ID,
    )
    desk.cancel(A, "spot", "BTCUSDT", client_order_id="x1", now_ms=2)
    again = placed(desk.place(A, "spot", "BTCUSDT", client_order_id="x1", **args))  # type: ignore[arg-type]

    assert again.order_id != first.order_id
    assert again == desk.order(A, "spot", client_order_id="x1")
    assert desk.order(A, "spot", order_id=first.order_id) is not None


def test_market_order_on_an_empty_side_has_no_liquidity() -> None:
    v = venue()
    book = v.book("spot", "BTCUSDT")
    for resting in book.engine.open_orders():
        if resting.side is SELL:
            v.cancel("spot", "BTCUSDT", resting.order_id)

    refused(
        v.desk.place(A, "spot", "BTCUSDT", side=BUY, type=MARKET, qty=D("0.01"), now_ms=1),
        RefusalReason.NO_LIQUIDITY,
    )


# ------------------------------------------------------------------ linear


def test_linear_margin_position_and_reduce_only() -> None:
    v = venue()
    desk = v.desk
    positions: list[PositionUpdated] = []
    desk.listen(lambda e: positions.append(e) if isinstance(e, PositionUpdated) else None)

    refused(
        desk.place(
            A,
            "linear",
            "BTCUSDT",
            side=SELL,
            type=MARKET,
            qty=D("0.01"),
            reduce_only=True,
            now_ms=1,
        ),
        RefusalReason.REDUCE_ONLY_WOULD_INCREASE,
    )
    refused(
        desk.place(
            A,
            "linear",
            "BTCUSDT",
            side=BUY,
            type=LIMIT,
            qty=D(100),
            price=touch(v, "linear"),
            now_ms=1,
        ),
        RefusalReason.INSUFFICIENT_MARGIN,
    )
    opened = placed(
        desk.place(A, "linear", "BTCUSDT", side=BUY, type=MARKET, qty=D("0.05"), now_ms=2)
    )
    pos = desk.position(A, "BTCUSDT")
    assert pos is not None and D("0.05") == pos.size
    assert opened.avg_price == pos.entry_price
    assert positions[-1].position == pos
    assert D(0) < desk.balance(A, "USDT").margin

    refused(
        desk.place(
            A, "linear", "BTCUSDT", side=SELL, type=MARKET, qty=D("0.08"), reduce_only=True,
            reduce_only_excess="reject", now_ms=3,
        ),
        RefusalReason.REDUCE_ONLY_WOULD_INCREASE,
    )  # fmt: skip
    closing = placed(
        desk.place(
            A,
            "linear",
            "BTCUSDT",
            side=SELL,
            type=MARKET,
            qty=D("0.08"),
            reduce_only=True,
            now_ms=3,
        )
    )

    assert (OrderState.CANCELED, CancelCause.REDUCE_ONLY) == (closing.state, closing.cancel_cause)
    assert D("0.05") == closing.filled_qty
    flat = desk.position(A, "BTCUSDT")
    assert flat is not None and D(0) == flat.size
    assert () == desk.positions(A)
    realised = sum(f.realized_pnl for f in desk.fills(A, "linear"))
    fees = sum(f.fee for f in desk.fills(A, "linear"))
    assert D(100_000) + realised - fees == desk.balance(A, "USDT").total
    assert D(0) == desk.balance(A, "USDT").locked


def test_resting_reduce_only_is_cancelled_when_the_position_closes() -> None:
    v = venue()
    desk = v.desk
    placed(desk.place(A, "linear", "BTCUSDT", side=BUY, type=MARKET, qty=D("0.01"), now_ms=1))
    far = touch(v, "linear", SELL) + D(500)
    resting = placed(
        desk.place(
            A,
            "linear",
            "BTCUSDT",
            side=SELL,
            type=LIMIT,
            qty=D("0.01"),
            price=far,
            reduce_only=True,
            now_ms=2,
        )
    )

    placed(desk.place(A, "linear", "BTCUSDT", side=SELL, type=MARKET, qty=D("0.01"), now_ms=3))

    after = desk.order(A, "linear", order_id=resting.order_id)
    assert after is not None and CancelCause.REDUCE_ONLY == after.cancel_cause
    assert D(0) == desk.balance(A, "USDT").held


def test_leverage_scales_the_margin() -> None:
    v = venue()
    desk = v.desk
    assert 10 == desk.leverage(A, "BTCUSDT")
    desk.set_leverage(A, "BTCUSDT", 20)
    price = touch(v, "linear") - 100
    placed(
        desk.place(
            A, "linear", "BTCUSDT", side=BUY, type=LIMIT, qty=D("0.1"), price=price, now_ms=1
        )
    )

    fee_reserve = D("0.1") * price * desk.fee_rates(A, "linear").taker
    assert D("0.1") * price / 20 + fee_reserve == desk.balance(A, "USDT").held
    with pytest.raises(ValueError, match="leverage"):
        desk.set_leverage(A, "BTCUSDT", 0)


def test_okx_swap_orders_are_in_contracts_and_positions_in_base() -> None:
    v = venue("okx")
    desk = v.desk
    acct = "okx-demo"

    order = placed(
        desk.place(acct, "swap", "BTC-USDT-SWAP", side=BUY, type=MARKET, qty=D(5), now_ms=1)
    )
    alias = desk.order(acct, "linear", order_id=order.order_id)

    assert D(5) == order.filled_qty and "swap" == order.market and order == alias
    pos = desk.position(acct, "BTC-USDT-SWAP")
    assert pos is not None and D("0.05") == pos.size
    assert order.cum_quote == sum(f.quote_qty for f in desk.fills(acct))
    assert abs(order.cum_quote - D("0.05") * order.avg_price) < D("0.0001")


# ------------------------------------------------------------------ accounts meet


def test_two_accounts_trade_with_each_other_maker_and_taker() -> None:
    v = venue(accounts=two_accounts())
    desk = v.desk
    price = touch(v, side=SELL) - D("0.01")
    bobs: list[DeskEvent] = []
    desk.listen(bobs.append, account="bob")
    maker = placed(
        desk.place(
            "bob", "spot", "BTCUSDT", side=SELL, type=LIMIT, qty=D("0.01"), price=price, now_ms=1
        )
    )

    taker = placed(
        desk.place(A, "spot", "BTCUSDT", side=BUY, type=LIMIT, qty=D("0.01"), price=price, now_ms=2)
    )

    assert OrderState.FILLED == taker.state
    bob_fill = desk.fills("bob")[0]
    assert Liquidity.MAKER == bob_fill.liquidity and bob_fill.trade_id == desk.fills(A)[0].trade_id
    assert (
        OrderState.FILLED
        == placed_or_none(desk.order("bob", "spot", order_id=maker.order_id)).state
    )
    assert all(
        (e.order.account if isinstance(e, OrderUpdated) else e.account) == "bob" for e in bobs
    )
    assert D(1) - D("0.01") == desk.balance("bob", "BTC").total


def placed_or_none(order: UserOrder | None) -> UserOrder:
    assert order is not None
    return order


def test_listener_unsubscribes() -> None:
    v = venue()
    events: list[DeskEvent] = []
    stop = v.desk.listen(events.append)
    stop()
    placed(v.desk.place(A, "spot", "BTCUSDT", side=BUY, type=MARKET, qty=D("0.001"), now_ms=1))

    assert [] == events
    assert 0 == v.desk.statistics().listeners


# ------------------------------------------------------------------ the flow


def test_order_at_the_touch_fills_within_seconds_and_far_one_never() -> None:
    v = venue()
    desk = v.desk
    at_touch = placed(
        desk.place(
            A, "spot", "BTCUSDT", side=BUY, type=LIMIT, qty=D("0.002"), price=touch(v), now_ms=1
        )
    )
    far = placed(
        desk.place(
            A, "spot", "BTCUSDT", side=SELL, type=LIMIT, qty=D("0.002"),
            price=(touch(v, side=SELL) * D("1.05")).quantize(D("0.01")), now_ms=1,
        )
    )  # fmt: skip

    # 200 steps a second is the default rate: 5 seconds at most.
    for _ in range(50):
        v.step(20)
        now = placed_or_none(desk.order(A, "spot", order_id=at_touch.order_id))
        if now.state is OrderState.FILLED:
            break
    assert OrderState.FILLED == now.state
    assert all(Liquidity.MAKER == f.liquidity for f in desk.fills(A, order_id=at_touch.order_id))
    v.step(2000)
    assert OrderState.NEW == placed_or_none(desk.order(A, "spot", order_id=far.order_id)).state


def test_amend_refusals_leave_the_order_as_it_was() -> None:
    v = venue()
    desk = v.desk
    bid = touch(v)
    order = placed(
        desk.place(
            A, "spot", "BTCUSDT", side=BUY, type=LIMIT, qty=D("0.01"), price=bid - 10,
            time_in_force=TimeInForce.POST_ONLY, now_ms=1,
        )
    )  # fmt: skip
    oid = order.order_id

    refused(
        desk.amend(A, "spot", "BTCUSDT", order_id=oid, price=touch(v, side=SELL), now_ms=2),
        RefusalReason.POST_ONLY_WOULD_TAKE,
    )
    refused(
        desk.amend(A, "spot", "BTCUSDT", order_id=oid, price=bid - D("0.001"), now_ms=2),
        RefusalReason.TICK_SIZE,
    )
    refused(desk.amend(A, "spot", "BTCUSDT", now_ms=2), RefusalReason.BAD_PARAMETER)
    refused(desk.amend(A, "spot", "BTCUSDT", order_id="42", now_ms=2), RefusalReason.UNKNOWN_ORDER)
    assert order == desk.order(A, "spot", order_id=oid)
    assert (bid - 10) * D("0.01") == desk.balance(A, "USDT").held
    desk.cancel(A, "spot", "BTCUSDT", order_id=oid, now_ms=3)
    refused(
        desk.amend(A, "spot", "BTCUSDT", order_id=oid, qty=D("0.02"), now_ms=4),
        RefusalReason.ORDER_NOT_OPEN,
    )


def test_flow_fill_events_come_after_the_public_batch_in_order() -> None:
    v = venue()
    desk = v.desk
    seen: list[str] = []
    v.listen(lambda batch: seen.append("book") if batch.market == "spot" else None)
    desk.listen(lambda e: seen.append(type(e).__name__))
    order = placed(
        desk.place(
            A,
            "spot",
            "BTCUSDT",
            side=SELL,
            type=LIMIT,
            qty=D("0.001"),
            price=touch(v, side=SELL),
            now_ms=1,
        )
    )
    seen.clear()
    for _ in range(100):
        v.step(10, market="spot")
        if desk.fills(A):
            break

    first_fill = seen.index("OrderUpdated")
    assert "book" in seen[:first_fill]
    assert ["OrderUpdated", "BalancesUpdated"] == seen[first_fill : first_fill + 2]
    assert desk.fills(A)[0].order_id == order.order_id


def test_transfer_moves_funds_and_tells_listeners() -> None:
    desk = venue().desk
    events: list[DeskEvent] = []
    desk.listen(events.append)

    after = desk.transfer(A, "USDC", D(250), now_ms=7)

    assert D(250) == after.total == desk.balance(A, "USDC").total
    assert [BalancesUpdated(account=A, balances=(after,), ts_ms=7, reason="transfer")] == events
    with pytest.raises(ValueError, match="free"):
        desk.transfer(A, "USDC", D(-251), now_ms=8)
    assert D(0) == desk.transfer(A, "USDC", D(-250), now_ms=9).total


def test_self_trade_prevention_expires_the_own_maker_first() -> None:
    v = venue()
    desk = v.desk
    ask = touch(v, side=SELL)
    own = placed(
        desk.place(
            A,
            "spot",
            "BTCUSDT",
            side=SELL,
            type=LIMIT,
            qty=D("0.001"),
            price=ask - D("0.01"),
            now_ms=1,
        )
    )

    taker = placed(
        desk.place(
            A, "spot", "BTCUSDT", side=BUY, type=LIMIT, qty=D("0.001"), price=ask,
            self_trade="expire_maker", now_ms=2,
        )
    )  # fmt: skip

    maker = placed_or_none(desk.order(A, "spot", order_id=own.order_id))
    assert (OrderState.EXPIRED, CancelCause.SELF_TRADE, D(0)) == (
        maker.state,
        maker.cancel_cause,
        maker.filled_qty,
    )
    assert OrderState.FILLED == taker.state
    assert all(f.order_id == taker.order_id for f in desk.fills(A))
