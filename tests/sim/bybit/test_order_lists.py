"""The simulated Bybit's order listings as BYDOCS ``order/open-order.mdx`` and
``order/order-list.mdx`` describe them: newest first, ``limit`` 1-50 (default 20),
``cursor`` tokens naming the page's last order (so orders closed or placed
between two pages shift nothing), ``orderId`` > ``orderLinkId`` > ``symbol`` >
``baseCoin``, ``settleCoin`` not on spot, the history's ``startTime``/``endTime``
together and 7 days of every state."""

from __future__ import annotations

from typing import Any

from connector.sim.bybit.order_lists import (
    HISTORY_ALL_STATES_MS,
    cursor_of,
    history_kept,
    order_after,
    page_orders,
)
from connector.sim.bybit.trading import history_span
from connector.sim.desk import OrderState, UserOrder
from tests.sim.bybit.test_trading import below, bybit, place
from tests.sim.user_orders import user_order

NOW = 1_800_000_000_000
REALTIME = "/v5/order/realtime"


def order(n: int, state: OrderState = OrderState.NEW, created_ms: int = NOW) -> UserOrder:
    filled = "1" if state is OrderState.FILLED else "0"
    return user_order(
        state=state, filled=filled, created_ms=created_ms, order_id=str(n), client_order_id=f"c{n}"
    )


def test_cursor_tokens_name_the_last_order_of_the_page() -> None:
    newest_first = [order(n) for n in range(9, -1, -1)]
    page, cursor = page_orders(newest_first, limit=4, after=None)
    assert ["9", "8", "7", "6"] == [o.order_id for o in page]
    assert "page_args%3D6%26" == cursor == cursor_of(page[-1])
    # Sent back verbatim the server decodes it once; percent-encoded again, twice.
    assert 6 == order_after("page_args=6&") == order_after(cursor)
    # Order 5 closed between the pages: the next page starts after 6 all the same.
    rest = [o for o in newest_first if o.order_id != "5"]
    page, cursor = page_orders(rest, limit=4, after=6)
    assert ["4", "3", "2", "1"] == [o.order_id for o in page]
    page, cursor = page_orders(rest, limit=4, after=order_after(cursor))
    assert (["0"], "") == ([o.order_id for o in page], cursor)
    assert None is order_after("12") is order_after("page_args=x&")


def test_history_times_come_together_and_reach_7_days_of_every_state() -> None:
    assert (NOW - HISTORY_ALL_STATES_MS, NOW) == history_span({}, NOW)
    assert (NOW - 100, NOW) == history_span({"startTime": NOW - 100, "endTime": NOW}, NOW)
    assert isinstance(history_span({"startTime": NOW - 100}, NOW), str)
    assert isinstance(history_span({"endTime": NOW}, NOW), str)
    assert isinstance(history_span({"startTime": NOW, "endTime": NOW - 1}, NOW), str)
    old = NOW - HISTORY_ALL_STATES_MS - 1
    assert history_kept(order(1, OrderState.FILLED, old), NOW)
    assert not history_kept(order(2, OrderState.CANCELED, old), NOW)
    assert history_kept(order(3, OrderState.CANCELED, NOW - 1), NOW)


async def test_realtime_pages_by_cursor_and_filters_by_priority() -> None:
    async with bybit() as (sim, api):
        px = below(sim, "spot", "BTCUSDT")
        ids = []
        for n in range(5):
            placed = await place(
                api,
                category="spot",
                symbol="BTCUSDT",
                side="Buy",
                orderType="Limit",
                qty="0.001",
                price=px,
                orderLinkId=f"o{n}",
            )
            assert 0 == placed["retCode"], placed
            ids.append(placed["result"]["orderId"])
        every = await api.ok("GET", REALTIME, category="spot")
        assert ids[::-1] == [o["orderId"] for o in every["list"]]
        assert "" == every["nextPageCursor"]
        first = await api.ok("GET", REALTIME, category="spot", limit=2)
        assert ids[:2:-1] == [o["orderId"] for o in first["list"]]
        # The next page's first order closes in between: nothing is skipped.
        cancel = {"category": "spot", "symbol": "BTCUSDT", "orderId": ids[2]}
        assert 0 == (await api.post("/v5/order/cancel", cancel)).json()["retCode"]
        second = await api.ok(
            "GET", REALTIME, category="spot", limit=2, cursor=first["nextPageCursor"]
        )
        assert [ids[1], ids[0]] == [o["orderId"] for o in second["list"]]
        assert "" == second["nextPageCursor"]
        bad = (await api.get(REALTIME, category="spot", cursor="7")).json()
        assert 10001 == bad["retCode"]
        # orderId before orderLinkId before symbol: only the first given counts.
        by_id = await api.ok(
            "GET", REALTIME, category="spot", orderId=ids[0], orderLinkId="o4", symbol="ETHUSDT"
        )
        assert [ids[0]] == [o["orderId"] for o in by_id["list"]]
        # settleCoin is not a spot parameter.
        spot_settle = await api.ok("GET", REALTIME, category="spot", settleCoin="USDC")
        assert 4 == len(spot_settle["list"])
        closed = await api.ok("GET", REALTIME, category="spot", openOnly=1)
        assert [ids[2]] == [o["orderId"] for o in closed["list"]]
        history: Any = await api.ok("GET", "/v5/order/history", category="spot")
        assert [ids[2]] == [o["orderId"] for o in history["list"]]
        half = (await api.get("/v5/order/history", category="spot", startTime=1)).json()
        assert 10001 == half["retCode"]
