"""Binance rules end to end against the built-in simulator, through the public API.

* USDⓈ-M spares a reduce-only order its minimum notional: -4164 "Order's notional
  must be no smaller than %s (unless you choose reduce only)" (USDⓈ-M error codes,
  checked 2026-12-06), so a small leftover position can be closed.
* Spot ``order/amend/keepPriority`` gives the order "a random new client order ID"
  unless ``newClientOrderId`` repeats the current one (spot FAQ
  order_amend_keep_priority.md, checked 2026-12-06): our amendment keeps the id.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import trio

from connector import InvalidOrder, OrderStatus
from tests.trading.helpers import assert_agrees_with_venue
from tests.trading.test_orders_sim import RISK, TIMEOUT, trading

PERP = "BTC-USDT-PERP"
SPOT = "BTC-USDT-SPOT"


async def test_binance_usdm_reduce_only_orders_below_the_minimum_notional_close_a_position() -> (
    None
):
    with trio.fail_after(TIMEOUT):
        async with trading("binance", PERP, RISK) as (c, _bid, ask):
            opened = await c.place_order("binance", PERP, "buy", "market", Decimal("0.003"))
            await c.orders.wait(opened.client_order_id, timeout=5)
            small = Decimal("0.001")
            above = (ask * Decimal("1.02")).quantize(Decimal("0.1"))
            assert small * above < c.instrument("binance", PERP).min_notional
            with pytest.raises(InvalidOrder) as refused:
                await c.place_order("binance", PERP, "sell", "limit", small, above)
            assert "min_notional" == refused.value.violations[0].split(":")[0]

            resting = await c.place_order(
                "binance", PERP, "sell", "limit", small, above, reduce_only=True
            )
            closing = await c.place_order(
                "binance", PERP, "sell", "market", small, reduce_only=True
            )
            closed = await c.orders.wait(closing.client_order_id, timeout=5)

            assert OrderStatus.NEW == resting.status
            assert (OrderStatus.FILLED, small) == (closed.status, closed.filled_qty)
            truth = c.simulator.truth("binance")  # type: ignore[union-attr]
            assert [Decimal("0.002")] == [p.size for p in truth.positions(truth.default_account())]
            await c.cancel_order("binance", PERP, resting.client_order_id)
            assert_agrees_with_venue(c, "binance")


@pytest.mark.parametrize("order_entry", ["rest", "websocket"])
async def test_binance_spot_amend_keeps_the_client_order_id(order_entry: str) -> None:
    with trio.fail_after(TIMEOUT):
        async with trading("binance", SPOT, RISK, order_entry) as (c, bid, _ask):
            price = (bid * Decimal("0.98")).quantize(Decimal("0.01"))
            order = await c.place_order("binance", SPOT, "buy", "limit", Decimal("0.002"), price)

            amended = await c.amend_order("binance", SPOT, order.client_order_id, qty="0.001")

            assert (order.client_order_id, Decimal("0.001")) == (
                amended.client_order_id,
                amended.qty,
            )
            truth = c.simulator.truth("binance")  # type: ignore[union-attr]
            (theirs,) = truth.open_orders(truth.default_account())
            assert (order.client_order_id, Decimal("0.001")) == (theirs.client_order_id, theirs.qty)
            assert_agrees_with_venue(c, "binance")
            canceled = await c.cancel_order("binance", SPOT, order.client_order_id)
            assert OrderStatus.CANCELED == canceled.status
