"""The simulated OKX's order listings as the OKX docs describe them
(``/trade/orders-pending``, ``/trade/orders-history``): ``ordId`` pages (``after``
older, ``before`` newer), ``limit`` up to 100 (default 100), newest first, the
``instType`` / ``instFamily`` / ``instId`` / ``ordType`` / ``state`` filters, the
history's 7 days (2 hours for canceled orders that filled nothing) and
``begin``/``end`` on ``cTime``.

The selection is tested on hand-made orders (pure); the route through a running
simulator with a signing client written from the docs (``okx_client.py``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
import trio

from connector.sim.desk import CancelCause, OrderState, UserOrder
from connector.sim.okx.ops import BadRequest
from connector.sim.okx.order_lists import (
    CANCELED_KEPT_MS,
    HISTORY_MS,
    Listed,
    OrderQuery,
    order_page,
)
from connector.sim.standalone import run
from tests.sim.okx.okx_client import Okx
from tests.sim.user_orders import user_order

NOW = 1_800_000_000_000
PENDING = "/api/v5/trade/orders-pending"
HISTORY = "/api/v5/trade/orders-history"


def order(
    n: int,
    *,
    state: OrderState = OrderState.NEW,
    filled: str = "0",
    created_ms: int = NOW - 1000,
    updated_ms: int | None = None,
) -> UserOrder:
    return user_order(
        state=state,
        filled=filled,
        created_ms=created_ms,
        updated_ms=created_ms if updated_ms is None else updated_ms,
        order_id=str(5000 + n),
        client_order_id=f"c{n}",
        native_id="BTC-USDT",
        qty=Decimal(2),
        cancel_cause=CancelCause.USER if state is OrderState.CANCELED else None,
    )


def listed(orders: list[UserOrder], ord_type: str = "limit", family: str = "") -> list[Listed]:
    return [Listed(order=o, ord_type=ord_type, family=family) for o in orders]


def page(orders: list[Listed], *, history: bool = False, **query: str) -> list[int]:
    chosen = order_page(
        orders, OrderQuery.parse(query, history=history), history=history, now_ms=NOW
    )
    return [int(o.order_id) - 5000 for o in chosen]


def test_pending_pages_by_order_id_newest_first() -> None:
    # Given out of order: the listing sorts by ordId.
    orders = listed([order(n) for n in (3, 0, 9, 1, 2, 8, 4, 6, 5, 7)])
    assert list(range(9, -1, -1)) == page(orders)
    assert [9, 8, 7] == page(orders, limit="3")
    # after: earlier than the order; the next page of a walk.
    assert [6, 5, 4] == page(orders, limit="3", after="5007")
    assert [] == page(orders, after="5000")
    # before: newer than the order, the page next to it, newest first.
    assert [5, 4, 3] == page(orders, limit="3", before="5002")
    assert [6, 5, 4] == page(orders, after="5007", before="5003")


def test_limit_is_at_most_100_and_defaults_to_100() -> None:
    orders = listed([order(n) for n in range(150)])
    assert 100 == len(page(orders))
    assert 100 == len(page(orders, limit="500"))
    assert list(range(149, 49, -1)) == page(orders)
    assert list(range(49, -1, -1)) == page(orders, after="5050")


def test_pending_lists_open_orders_only_and_filters() -> None:
    closed = order(0, state=OrderState.FILLED, filled="2")
    partly = order(1, state=OrderState.PARTIALLY_FILLED, filled="1")
    orders = [
        *listed([closed, partly, order(2)]),
        *listed([order(3)], "post_only"),
        *listed([order(4)], "ioc", family="BTC-USDT"),
    ]
    assert [4, 3, 2, 1] == page(orders)
    assert [1] == page(orders, state="partially_filled")
    assert [4, 3, 2] == page(orders, state="live")
    assert [4, 3] == page(orders, ordType="post_only,ioc")
    assert [2, 1] == page(orders, ordType="limit")
    assert [4] == page(orders, instFamily="BTC-USDT")
    # Pending has no time filter: begin / end are not its parameters.
    assert [4, 3, 2, 1] == page(orders, begin=str(NOW))


def test_history_reaches_7_days_and_unfilled_cancels_2_hours() -> None:
    old = NOW - HISTORY_MS - 1
    orders = listed(
        [
            order(0, state=OrderState.FILLED, filled="2", created_ms=old, updated_ms=old),
            # Placed more than 7 days ago, completed within them: listed.
            order(1, state=OrderState.FILLED, filled="2", created_ms=old, updated_ms=NOW - 5),
            order(2, state=OrderState.CANCELED, updated_ms=NOW - CANCELED_KEPT_MS - 1),
            order(3, state=OrderState.CANCELED, updated_ms=NOW - CANCELED_KEPT_MS + 1),
            # Partly filled before the cancel: kept the 7 days.
            order(4, state=OrderState.CANCELED, filled="1", updated_ms=NOW - CANCELED_KEPT_MS - 1),
            order(5),
        ]
    )
    assert [4, 3, 1] == page(orders, history=True)
    assert [4, 3] == page(orders, history=True, state="canceled")
    assert [1] == page(orders, history=True, state="filled")
    assert [] == page(orders, history=True, category="twap")


def test_history_begin_and_end_filter_on_the_creation_time() -> None:
    orders = listed(
        [
            order(n, state=OrderState.FILLED, filled="2", created_ms=NOW - 10_000 + n * 1000)
            for n in range(10)
        ]
    )
    begin, end = NOW - 10_000 + 3000, NOW - 10_000 + 6000
    assert [6, 5, 4, 3] == page(orders, history=True, begin=str(begin), end=str(end))
    assert [2, 1, 0] == page(orders, history=True, end=str(begin - 1))


@pytest.mark.parametrize("name", ["after", "before", "limit", "begin", "end"])
def test_a_malformed_number_is_51000(name: str) -> None:
    with pytest.raises(BadRequest) as caught:
        OrderQuery.parse({name: "abc"}, history=True)
    assert ("51000", f"Parameter {name} error", 400) == (
        caught.value.code,
        caught.value.msg,
        caught.value.status,
    )


@pytest.fixture
async def okx() -> AsyncIterator[Okx]:
    with trio.fail_after(30):
        async with (
            run(venues=("okx",), paused=True) as sim,
            httpx.AsyncClient(base_url=sim.urls["okx"]["spot.rest"]) as client,
        ):
            yield Okx(client)


async def _place(client: Okx, body: dict[str, Any]) -> str:
    _, placed = await client.post("/api/v5/trade/order", body)
    assert "0" == placed["code"], placed
    return str(placed["data"][0]["ordId"])


async def test_the_route_pages_pending_orders_by_order_id(okx: Okx) -> None:
    client = okx
    with trio.fail_after(30):
        spot = {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "limit"}
        placed = [await _place(client, {**spot, "px": "1000", "sz": "0.001"}) for _ in range(5)]
        swap = {"instId": "BTC-USDT-SWAP", "tdMode": "cross", "side": "buy"}
        post = await _place(client, {**swap, "ordType": "post_only", "px": "1000", "sz": "1"})
        status, listed_ = await client.get(PENDING)
        assert (200, "0") == (status, listed_["code"])
        every = [o["ordId"] for o in listed_["data"]]
        assert [post, *placed[::-1]] == every
        # Walk back two at a time with after = the last ordId of each page.
        walked: list[str] = []
        after = ""
        while True:
            params = {"limit": "2", **({"after": after} if after else {})}
            _, got = await client.get(PENDING, **params)
            walked += [o["ordId"] for o in got["data"]]
            if len(got["data"]) < 2:
                break
            after = got["data"][-1]["ordId"]
        assert every == walked
        _, newer = await client.get(PENDING, before=every[2])
        assert every[:2] == [o["ordId"] for o in newer["data"]]
        _, spot_only = await client.get(PENDING, instType="SPOT")
        assert placed[::-1] == [o["ordId"] for o in spot_only["data"]]
        _, by_type = await client.get(PENDING, ordType="post_only,fok")
        assert [post] == [o["ordId"] for o in by_type["data"]]
        _, family = await client.get(PENDING, instFamily="BTC-USDT")
        assert [post] == [o["ordId"] for o in family["data"]]
        status, bad = await client.get(PENDING, after="x")
        assert (400, "51000", "Parameter after error") == (status, bad["code"], bad["msg"])
        # Canceled: out of the pending list, into the history (instType required).
        _, canceled = await client.post(
            "/api/v5/trade/cancel-order", {"instId": "BTC-USDT", "ordId": placed[0]}
        )
        assert "0" == canceled["code"], canceled
        _, listed_ = await client.get(PENDING, instType="SPOT")
        assert placed[:0:-1] == [o["ordId"] for o in listed_["data"]]
        status, bad = await client.get(HISTORY)
        assert (400, "50014") == (status, bad["code"])
        _, history = await client.get(HISTORY, instType="SPOT", state="canceled")
        assert [placed[0]] == [o["ordId"] for o in history["data"]]
        _, none = await client.get(HISTORY, instType="SPOT", after=placed[0])
        assert [] == none["data"]
