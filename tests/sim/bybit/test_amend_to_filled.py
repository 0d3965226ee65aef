"""The simulated Bybit refuses an amend to a total at or below the filled quantity with the
venue's codes (bybit-exchange/docs ``docs/v5/error.mdx``): 110064 on linear, 170313 on spot."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connector.model import Side
from tests.sim.bybit.test_trading import bybit, one_order, place, touch

SYMBOL = "ETHUSDT"


@pytest.mark.parametrize(
    ("category", "code", "msg"),
    [
        (
            "linear", 110064,
            "The modified contract quantity cannot be less than or equal to the filled quantity.",
        ),
        (
            "spot", 170313,
            "The modified contract quantity cannot be less than to the filled quantity",
        ),
    ],
)  # fmt: skip
async def test_bybit_amend_to_at_most_the_filled_qty_has_the_venue_code(
    category: str, code: int, msg: str
) -> None:
    async with bybit() as (sim, api):
        hub = sim.venues["bybit"]
        bid, _ask = touch(sim, category, SYMBOL)
        price = bid + hub.book(category, SYMBOL).instrument.tick_size
        placed = await place(
            api,
            category=category,
            symbol=SYMBOL,
            side="Buy",
            orderType="Limit",
            qty="0.2",
            price=str(price),
        )
        hub.add_liquidity(category, SYMBOL, Side.SELL, price, Decimal("0.05"))
        target = {"category": category, "symbol": SYMBOL, "orderId": placed["result"]["orderId"]}
        at_filled = (await api.post("/v5/order/amend", {**target, "qty": "0.05"})).json()
        below = (await api.post("/v5/order/amend", {**target, "qty": "0.01"})).json()
        after = await one_order(api, category, orderId=target["orderId"])
    assert [(code, msg)] * 2 == [(r["retCode"], r["retMsg"]) for r in (at_filled, below)]
    assert ("PartiallyFilled", Decimal("0.2"), Decimal("0.05")) == (
        after["orderStatus"],
        Decimal(after["qty"]),
        Decimal(after["cumExecQty"]),
    )
