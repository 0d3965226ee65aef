"""The desk's amend down to the filled quantity: cancelled (Binance USDⓈ-M) or filled (OKX)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connector.model import OrderType, Side
from connector.sim.desk import (
    BalancesUpdated,
    CancelCause,
    DeskEvent,
    OrderState,
    OrderUpdated,
    UserOrder,
)
from connector.sim.hub import SimVenue
from connector.sim.instruments import default_instruments

D = Decimal
A = "binance-demo"


def partly_filled(v: SimVenue) -> UserOrder:
    """A resting spot buy of 0.02 BTC of which 0.005 filled (the demo account's)."""
    tick = v.book("spot", "BTCUSDT").instrument.tick_size
    best_bid = v.book("spot", "BTCUSDT").engine.best_bid()
    assert best_bid is not None
    price = best_bid.price + tick
    order = v.desk.place(
        A,
        "spot",
        "BTCUSDT",
        side=Side.BUY,
        type=OrderType.LIMIT,
        qty=D("0.02"),
        price=price,
        now_ms=1,
    )
    assert isinstance(order, UserOrder), order
    v.add_liquidity("spot", "BTCUSDT", Side.SELL, price, D("0.005"))
    found = v.desk.order(A, "spot", order_id=order.order_id)
    assert found is not None and OrderState.PARTIALLY_FILLED == found.state
    return found


@pytest.mark.parametrize("new_qty", [D("0.005"), D("0.001")])
def test_amend_to_at_most_the_filled_qty_fills_the_order_when_asked(new_qty: Decimal) -> None:
    v = SimVenue("binance", default_instruments(["binance"], ["BTC"]), seed=5)
    order = partly_filled(v)
    events: list[DeskEvent] = []
    v.desk.listen(events.append)

    done = v.desk.amend(
        A, "spot", "BTCUSDT", order_id=order.order_id, qty=new_qty, to_filled="fill", now_ms=2
    )

    assert isinstance(done, UserOrder), done
    assert (OrderState.FILLED, D("0.005"), D("0.005"), None) == (
        done.state,
        done.qty,
        done.filled_qty,
        done.cancel_cause,
    )
    assert [] == v.desk.open_orders(A)
    assert D(0) == v.desk.balance(A, "USDT").held
    assert [OrderUpdated, BalancesUpdated] == [type(e) for e in events]
    assert isinstance(events[0], OrderUpdated) and done == events[0].order
    assert not v.book("spot", "BTCUSDT").engine.is_resting(order.order_id)


def test_amend_to_the_filled_qty_cancels_the_order_by_default() -> None:
    v = SimVenue("binance", default_instruments(["binance"], ["BTC"]), seed=5)
    order = partly_filled(v)

    done = v.desk.amend(A, "spot", "BTCUSDT", order_id=order.order_id, qty=D("0.005"), now_ms=2)

    assert isinstance(done, UserOrder), done
    assert (OrderState.CANCELED, D("0.02"), CancelCause.AMEND_TO_FILLED) == (
        done.state,
        done.qty,
        done.cancel_cause,
    )
    assert D(0) == v.desk.balance(A, "USDT").held
