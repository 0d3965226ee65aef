"""The simulated Bybit's ``GET /v5/execution/list`` as BYDOCS ``order/execution.mdx``
describes it: the 7-day ``startTime``/``endTime`` rules, ``orderId`` > ``orderLinkId``
> ``symbol`` > ``baseCoin``, ``execType``, ``limit`` 1-100 (default 50), newest first,
``cursor`` pages that new fills do not shift."""

from __future__ import annotations

from typing import Any

import pytest

from connector.sim.bybit.trading import EXECUTION_WINDOW_MS, execution_window
from tests.sim.bybit.test_trading import bybit, place

NOW = 1_800_000_000_000
WEEK = EXECUTION_WINDOW_MS
LIST = "/v5/execution/list"


def test_the_seven_day_rules() -> None:
    assert (NOW - WEEK, NOW) == execution_window({}, NOW)
    assert (NOW - 9 * WEEK, NOW - 8 * WEEK) == execution_window({"startTime": NOW - 9 * WEEK}, NOW)
    assert (NOW - 3 * WEEK, NOW - 2 * WEEK) == execution_window({"endTime": NOW - 2 * WEEK}, NOW)
    assert (NOW - WEEK, NOW) == execution_window({"startTime": NOW - WEEK, "endTime": NOW}, NOW)


@pytest.mark.parametrize(
    "params",
    [
        {"startTime": NOW - WEEK - 1, "endTime": NOW},
        {"startTime": NOW, "endTime": NOW - 1},
        {"startTime": "soon"},
    ],
)
def test_windows_the_venue_refuses(params: dict[str, Any]) -> None:
    assert isinstance(execution_window(params, NOW), str)


async def market_buy(api: Any, link: str) -> str:
    placed = await place(
        api,
        category="spot",
        symbol="BTCUSDT",
        side="Buy",
        orderType="Market",
        qty="20",
        orderLinkId=link,
    )
    assert 0 == placed["retCode"], placed
    order_id: str = placed["result"]["orderId"]
    return order_id


async def test_execution_list_filters_windows_and_pages() -> None:
    async with bybit() as (_sim, api):
        ids = [await market_buy(api, f"link{n}") for n in range(5)]
        await place(
            api, category="spot", symbol="ETHUSDT", side="Buy", orderType="Market", qty="20"
        )
        every = (await api.ok("GET", LIST, category="spot", limit=100))["list"]
        assert len(every) >= 6
        times = [int(e["execTime"]) for e in every]
        assert times == sorted(times, reverse=True)
        assert "ETHUSDT" == every[0]["symbol"]
        # cursor pages of 2 walk the same list, even with a fill arriving in between.
        walked: list[str] = []
        page = await api.ok("GET", LIST, category="spot", limit=2)
        await market_buy(api, "late")
        while True:
            walked += [e["execId"] for e in page["list"]]
            if not page["nextPageCursor"]:
                break
            page = await api.ok(
                "GET", LIST, category="spot", limit=2, cursor=page["nextPageCursor"]
            )
        assert [e["execId"] for e in every] == walked
        # orderId wins over symbol and orderLinkId; orderLinkId over symbol.
        by_id = await api.ok(
            "GET", LIST, category="spot", orderId=ids[1], orderLinkId="link2", symbol="ETHUSDT"
        )
        assert {ids[1]} == {e["orderId"] for e in by_id["list"]}
        by_link = await api.ok("GET", LIST, category="spot", orderLinkId="link2", symbol="ETHUSDT")
        assert {ids[2]} == {e["orderId"] for e in by_link["list"]}
        by_base = await api.ok("GET", LIST, category="spot", baseCoin="ETH")
        assert {"ETHUSDT"} == {e["symbol"] for e in by_base["list"]}
        funding = await api.ok("GET", LIST, category="spot", execType="Funding")
        assert [] == funding["list"]
        default = await api.ok("GET", LIST, category="spot")
        assert 7 == len(default["list"])  # 50 by default: all of them
        # A start more than 7 days back sees only the 7 days after it.
        old = int(every[-1]["execTime"]) - WEEK - 60_000
        assert [] == (await api.ok("GET", LIST, category="spot", startTime=old))["list"]
        far = await api.get(LIST, category="spot", startTime=old, endTime=old + WEEK + 1)
        assert 10001 == far.json()["retCode"]
