"""The reservation ledger: what our spot orders hold that the venue's balance does not show."""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest

from connector.account.reservations import Need, Reservations, spot_need
from connector.model import Order, OrderStatus, OrderType, PlaceOrder, Side, Symbol

SPOT = Symbol.parse("BTC-USDT-SPOT")
PERP = Symbol.parse("BTC-USDT-PERP")
D = Decimal


def place(
    cid: str = "a",
    side: Side = Side.BUY,
    qty: str = "0.01",
    price: str | None = "60000",
    symbol: Symbol = SPOT,
    type: OrderType = OrderType.LIMIT,
) -> PlaceOrder:
    return PlaceOrder(
        venue="binance",
        symbol=symbol,
        side=side,
        type=type,
        qty=D(qty),
        price=None if price is None else D(price),
        client_order_id=cid,
    )


def order(p: PlaceOrder, status: OrderStatus, filled: str = "0", **changes: object) -> Order:
    made = Order(
        venue=p.venue,
        symbol=p.symbol,
        client_order_id=p.client_order_id,
        side=p.side,
        type=p.type,
        qty=p.qty,
        price=p.price,
        status=status,
        filled_qty=D(filled),
    )
    return attrs.evolve(made, **changes)


def reserved(r: Reservations, asset: str = "USDT") -> Decimal:
    return r.reserved("binance", asset)


def test_need_of_spot_orders_and_none_for_derivatives() -> None:
    assert Need(asset="USDT", amount=D("600")) == spot_need(place(), None)
    assert Need(asset="BTC", amount=D("0.01")) == spot_need(place(side=Side.SELL), None)
    market = place(type=OrderType.MARKET, price=None)
    assert Need(asset="USDT", amount=D("590")) == spot_need(market, D("59000"))
    assert spot_need(market, None) is None
    assert spot_need(place(symbol=PERP), None) is None
    assert spot_need(attrs.evolve(place(side=Side.SELL), reduce_only=True), None) is None


def test_reserve_counts_until_released() -> None:
    r = Reservations()
    r.reserve(place("a"))
    r.reserve(place("b", side=Side.SELL, qty="0.5"))
    assert (D("600"), D("0.5")) == (reserved(r), reserved(r, "BTC"))
    assert D(0) == r.reserved("okx", "USDT")
    r.release("binance", "a")
    assert (D(0), D("0.5")) == (reserved(r), reserved(r, "BTC"))


def test_derivative_and_unpriced_market_buy_reserve_nothing() -> None:
    r = Reservations()
    assert r.reserve(place(symbol=PERP)) is None
    assert r.reserve(place(type=OrderType.MARKET, price=None), None) is None
    assert D(0) == reserved(r)
    assert 0 == r.statistics().orders


@pytest.mark.parametrize(
    "end",
    [OrderStatus.REJECTED, OrderStatus.CANCELED, OrderStatus.EXPIRED, OrderStatus.FILLED],
)
def test_an_end_releases_the_reservation(end: OrderStatus) -> None:
    r = Reservations()
    p = place()
    r.reserve(p)
    r.order_changed(order(p, OrderStatus.SUBMITTED))
    assert D("600") == reserved(r)
    r.order_changed(order(p, end))
    assert D(0) == reserved(r)
    assert 0 == r.statistics().orders


def test_unknown_outcome_keeps_it_until_resolved_not_placed() -> None:
    r = Reservations()
    p = place()
    r.reserve(p)
    r.order_changed(order(p, OrderStatus.UNKNOWN))
    r.balance_applied("binance", "USDT")  # not acknowledged: shows nothing of it
    assert D("600") == reserved(r)
    r.order_changed(order(p, OrderStatus.REJECTED))  # the venue never had it
    assert D(0) == reserved(r)


def test_first_balance_after_the_ack_releases_it() -> None:
    r = Reservations()
    p = place()
    r.reserve(p)
    r.order_changed(order(p, OrderStatus.NEW))
    r.balance_applied("binance", "BTC")  # another asset
    r.balance_applied("okx", "USDT")  # another venue
    assert D("600") == reserved(r)
    r.balance_applied("binance", "USDT")
    assert D(0) == reserved(r)
    assert (1, 0) == (r.statistics().orders, r.statistics().reserved)


def test_a_balance_before_the_ack_keeps_it_until_the_next() -> None:
    r = Reservations()
    p = place()
    r.reserve(p)
    r.order_changed(order(p, OrderStatus.SUBMITTED))
    r.balance_applied("binance", "USDT")
    assert D("600") == reserved(r)
    r.order_changed(order(p, OrderStatus.NEW))
    assert D("600") == reserved(r)
    r.balance_applied("binance", "USDT")
    assert D(0) == reserved(r)


def test_a_fill_before_the_balance_shrinks_it_to_the_open_part() -> None:
    r = Reservations()
    p = place(qty="0.02")
    r.reserve(p)
    r.order_changed(order(p, OrderStatus.PARTIALLY_FILLED, filled="0.005"))
    assert D("900") == reserved(r)  # 0.015 x 60000: the fill itself moved free


def test_wallet_read_shows_what_was_acknowledged_before_its_request() -> None:
    r = Reservations()
    a, b = place("a"), place("b", side=Side.SELL, qty="0.1")
    r.reserve(a)
    r.reserve(b)
    r.order_changed(order(a, OrderStatus.NEW))
    mark = r.mark()
    r.order_changed(order(b, OrderStatus.NEW))  # acknowledged after the request left
    r.wallet_read("binance", mark)
    assert (D(0), D("0.1")) == (reserved(r), reserved(r, "BTC"))


def test_amend_reserves_the_difference_until_the_next_balance() -> None:
    r = Reservations()
    p = place()
    r.reserve(p)
    r.order_changed(order(p, OrderStatus.NEW))
    r.balance_applied("binance", "USDT")
    assert D(0) == reserved(r)
    r.order_changed(order(p, OrderStatus.NEW, qty=D("0.03")))  # amended up
    assert D("1200") == reserved(r)
    r.order_changed(order(p, OrderStatus.NEW, qty=D("0.03"), price=D("61000")))
    assert D("1230") == reserved(r)  # 0.03 x 61000 - 600 shown
    r.balance_applied("binance", "USDT")
    assert D(0) == reserved(r)
    r.order_changed(order(p, OrderStatus.NEW, qty=D("0.01"), price=D("61000")))  # down
    assert D(0) == reserved(r)
    r.order_changed(order(p, OrderStatus.CANCELED, qty=D("0.01")))
    assert 0 == r.statistics().orders


def test_amend_before_the_balance_re_reserves_the_new_need() -> None:
    r = Reservations()
    p = place()
    r.reserve(p)
    r.order_changed(order(p, OrderStatus.NEW))
    r.order_changed(order(p, OrderStatus.NEW, price=D("50000")))
    assert D("500") == reserved(r)
    r.balance_applied("binance", "USDT")
    assert D(0) == reserved(r)
