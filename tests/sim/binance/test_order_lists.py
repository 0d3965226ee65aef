"""The simulated Binance order listings as the docs describe them (checked
2026-12-03): spot ``GET /api/v3/allOrders`` (``startTime``-``endTime`` at most
24 hours, -1127) and USDⓈ-M ``GET /fapi/v1/allOrders`` (unfilled canceled or
expired orders gone after 3 days, every order after 90; the last 7 days by
default; at most 7 days between the times, -1127); ``openOrders`` weights with
and without a symbol."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
import trio

from connector import sim
from connector.sim.binance.usdm_trading import listed_by_all_orders
from connector.sim.desk import OrderState, UserOrder
from tests.sim.binance.spot_harness import Spot
from tests.sim.binance.usdm_client import call, touch
from tests.sim.binance.weights import inside_one_wall_minute, inside_one_weight_window
from tests.sim.user_orders import user_order

NOW = 1_800_000_000_000
DAY = 86_400_000


def order(state: OrderState, filled: str, created_ms: int) -> UserOrder:
    return user_order(state=state, filled=filled, created_ms=created_ms, market="linear")


def test_usdm_all_orders_forgets_unfilled_cancels_after_3_days_and_all_after_90() -> None:
    recent, old, ancient = NOW - 3 * DAY + 1, NOW - 3 * DAY - 1, NOW - 90 * DAY - 1
    assert listed_by_all_orders(order(OrderState.CANCELED, "0", recent), NOW)
    assert not listed_by_all_orders(order(OrderState.CANCELED, "0", old), NOW)
    assert not listed_by_all_orders(order(OrderState.EXPIRED, "0", old), NOW)
    assert listed_by_all_orders(order(OrderState.CANCELED, "0.5", old), NOW)
    assert listed_by_all_orders(order(OrderState.FILLED, "1", old), NOW)
    assert listed_by_all_orders(order(OrderState.NEW, "0", old), NOW)
    assert not listed_by_all_orders(order(OrderState.FILLED, "1", ancient), NOW)


def test_spot_all_orders_times_at_most_24_hours_apart() -> None:
    spot = Spot()
    bid, _ = spot.touch()
    params = {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "0.01",
        "price": str(bid - 100),
    }
    _, placed, _ = spot.call("POST", "/api/v3/order", params)
    status, body, _ = spot.call(
        "GET", "/api/v3/allOrders", {"symbol": "BTCUSDT", "startTime": 0, "endTime": DAY + 1}
    )
    assert (400, -1127) == (status, body["code"])
    t = placed["transactTime"]
    status, body, _ = spot.call(
        "GET", "/api/v3/allOrders", {"symbol": "BTCUSDT", "startTime": t - DAY, "endTime": t}
    )
    assert 200 == status and [placed["orderId"]] == [o["orderId"] for o in body]
    # openOrders: 6 with a symbol, 80 without.
    inside_one_wall_minute()
    _, _, before = spot.call("GET", "/api/v3/openOrders", {"symbol": "BTCUSDT"})
    _, _, after = spot.call("GET", "/api/v3/openOrders")
    used = int(after["x-mbx-used-weight-1m"]) - int(before["x-mbx-used-weight-1m"])
    assert 80 == used


@pytest.fixture
async def s() -> AsyncIterator[sim.SimRun]:
    with trio.fail_after(60):
        shallow = {"binance": {"spot_book_depth": 25, "linear_book_depth": 25}}
        async with sim.run(venues=("binance",), rate=100, seed=5, settings=shallow) as run:
            yield run


async def test_usdm_all_orders_window(s: sim.SimRun) -> None:
    with trio.fail_after(20):
        px = str((touch(s, "BUY") * Decimal("0.8")).quantize(Decimal("0.1")))
        body: dict[str, Any] = {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "LIMIT",
            "timeInForce": "GTC",
            "quantity": "0.01",
            "price": px,
        }
        placed = (await call(s, "POST", "/fapi/v1/order", body)).json()
        created = placed["updateTime"]
        listed = (await call(s, "GET", "/fapi/v1/allOrders", {"symbol": "BTCUSDT"})).json()
        assert [placed["orderId"]] == [o["orderId"] for o in listed]
        too_wide = await call(
            s,
            "GET",
            "/fapi/v1/allOrders",
            {"symbol": "BTCUSDT", "startTime": created - 8 * DAY, "endTime": created},
        )
        assert (400, -1127) == (too_wide.status_code, too_wide.json()["code"])
        # Only endTime: the 7 days before it; a week earlier finds nothing.
        before = await call(
            s, "GET", "/fapi/v1/allOrders", {"symbol": "BTCUSDT", "endTime": created - 1}
        )
        assert [] == before.json()
        weights = []
        await inside_one_weight_window()
        for params in ({"symbol": "BTCUSDT"}, {}):
            answer = await call(s, "GET", "/fapi/v1/openOrders", params)
            weights.append(int(answer.headers["x-mbx-used-weight-1m"]))
        assert 40 == weights[1] - weights[0]
