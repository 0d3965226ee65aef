"""The simulated OKX's fill listings as the OKX docs describe them (``/trade/fills``,
``/trade/fills-history``): 3-day and 3-month reach, ``billId`` pages (``after``
older, ``before`` newer), ``begin``/``end`` on ``ts``, ``limit`` up to 100,
newest first, 51000/50014 parameter errors.

The page selection is tested on hand-made fills (pure); the route through a
running simulator with a signing client written from the docs (``okx_client.py``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import trio

from connector.model import Liquidity, Side
from connector.sim.desk import UserFill
from connector.sim.okx.fills import (
    FILL_WINDOW_MS,
    FIRST_BILL_ID,
    FillQuery,
    billed,
    fill_page,
)
from connector.sim.okx.ops import BadRequest
from tests.sim.okx.okx_client import Okx

DAY_MS = 86_400_000
NOW = 1_800_000_000_000
FILLS = "/api/v5/trade/fills"


def fill(n: int, ts_ms: int) -> UserFill:
    return UserFill(
        trade_id=str(n),
        order_id=str(1000 + n),
        client_order_id=f"c{n}",
        account="a",
        market="spot",
        native_id="BTC-USDT",
        side=Side.BUY,
        price=Decimal(100),
        qty=Decimal(1),
        quote_qty=Decimal(100),
        fee=Decimal("0.1"),
        fee_asset="BTC",
        liquidity=Liquidity.TAKER,
        realized_pnl=Decimal(0),
        ts_ms=ts_ms,
    )


def page(bills: list[tuple[int, UserFill]], route: str = "fills", **query: str) -> list[int]:
    chosen = fill_page(bills, FillQuery.parse(query), now_ms=NOW, window_ms=FILL_WINDOW_MS[route])
    return [bill - FIRST_BILL_ID for bill, _ in chosen]


def test_bill_ids_grow_with_each_fill_and_pages_are_newest_first() -> None:
    bills = billed([fill(n, NOW - 1000 + n) for n in range(10)])
    assert [FIRST_BILL_ID + n for n in range(10)] == [b for b, _ in bills]
    assert list(range(9, -1, -1)) == page(bills)
    assert [9, 8, 7] == page(bills, limit="3")
    # after: earlier than the bill; the next page of a walk.
    assert [6, 5, 4] == page(bills, limit="3", after=str(FIRST_BILL_ID + 7))
    assert [] == page(bills, after=str(FIRST_BILL_ID))
    # before: newer than the bill, the page next to it, newest first.
    assert [5, 4, 3] == page(bills, limit="3", before=str(FIRST_BILL_ID + 2))
    assert [6, 5, 4] == page(bills, after=str(FIRST_BILL_ID + 7), before=str(FIRST_BILL_ID + 3))


def test_limit_is_at_most_100_and_defaults_to_100() -> None:
    bills = billed([fill(n, NOW - 200_000 + n) for n in range(150)])
    assert 100 == len(page(bills))
    assert 100 == len(page(bills, limit="500"))
    assert 149 == page(bills, limit="500")[0]


def test_begin_and_end_filter_on_the_fill_time() -> None:
    bills = billed([fill(n, NOW - 10_000 + n * 1000) for n in range(10)])
    begin, end = NOW - 10_000 + 3000, NOW - 10_000 + 6000
    assert [6, 5, 4, 3] == page(bills, begin=str(begin), end=str(end))
    assert [9, 8, 7, 6] == page(bills, begin=str(end))
    assert [2, 1, 0] == page(bills, end=str(begin - 1))


def test_fills_reach_3_days_and_fills_history_3_months() -> None:
    ages = [100 * DAY_MS, 80 * DAY_MS, 4 * DAY_MS, 3 * DAY_MS - 1, 1000]
    bills = billed([fill(n, NOW - age) for n, age in enumerate(ages)])
    assert [4, 3] == page(bills, "fills")
    assert [4, 3, 2, 1] == page(bills, "fills-history")


@pytest.mark.parametrize("name", ["after", "before", "begin", "end", "limit"])
def test_a_malformed_number_is_51000(name: str) -> None:
    with pytest.raises(BadRequest) as caught:
        FillQuery.parse({name: "abc"})
    assert ("51000", f"Parameter {name} error", 400) == (
        caught.value.code,
        caught.value.msg,
        caught.value.status,
    )


async def test_the_route_pages_by_bill_id_and_filters(okx: tuple[Okx, Any]) -> None:
    client, _sim = okx
    with trio.fail_after(30):
        for _ in range(5):
            body = {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "market"}
            _, placed = await client.post(
                "/api/v5/trade/order", {**body, "sz": "10", "tgtCcy": "quote_ccy"}
            )
            assert "0" == placed["code"], placed
        swap = {"instId": "BTC-USDT-SWAP", "tdMode": "cross", "side": "buy", "ordType": "market"}
        _, placed = await client.post("/api/v5/trade/order", {**swap, "sz": "1"})
        swap_order = placed["data"][0]["ordId"]
        status, listed = await client.get(FILLS)
        assert (200, "0") == (status, listed["code"])
        every = listed["data"]
        bills = [int(f["billId"]) for f in every]
        assert len(bills) >= 6 and bills == sorted(bills, reverse=True)
        assert "SWAP" == every[0]["instType"]
        # Walk back two at a time with after = the last billId of each page.
        walked: list[str] = []
        after = ""
        while True:
            params = {"limit": "2", **({"after": after} if after else {})}
            _, got = await client.get(FILLS, **params)
            walked += [f["billId"] for f in got["data"]]
            if len(got["data"]) < 2:
                break
            after = got["data"][-1]["billId"]
        assert [f["billId"] for f in every] == walked
        _, newer = await client.get(FILLS, before=every[2]["billId"])
        assert [f["billId"] for f in every[:2]] == [f["billId"] for f in newer["data"]]
        _, spot = await client.get(FILLS, instType="SPOT")
        assert {"SPOT"} == {f["instType"] for f in spot["data"]}
        _, one = await client.get(FILLS, ordId=swap_order)
        assert {swap_order} == {f["ordId"] for f in one["data"]}
        _, later = await client.get(FILLS, begin=str(int(every[0]["ts"]) + 1))
        assert [] == later["data"]
        status, bad = await client.get(FILLS, after="x")
        assert (400, "51000", "Parameter after error") == (status, bad["code"], bad["msg"])
        status, bad = await client.get("/api/v5/trade/fills-history")
        assert (400, "50014") == (status, bad["code"])
        _, history = await client.get("/api/v5/trade/fills-history", instType="SWAP")
        assert [swap_order] == [f["ordId"] for f in history["data"]]
