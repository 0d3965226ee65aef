"""An amend of an order that has just filled, before the private stream told us.

The venue refuses it as it refuses an amend of any finished order (Binance -2013, spot
-2011; Bybit 110001, spot 170213; OKX 51503): the order is read back, and the amend is
refused naming the order's final state, as one known finished here is, never as an
order the venue never had (a caller would place it again).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import trio

from connector import InvalidOrder, OrderStatus
from connector.model import Symbol
from tests.rig import first_bid, rig

TIMEOUT = 30
QTY = Decimal("0.01")
SPOT = Symbol.parse("BTC-USDT-SPOT")
PERP = Symbol.parse("BTC-USDT-PERP")

CASES = [
    pytest.param("binance", PERP, "linear", "BTCUSDT", id="binance-usdm"),
    pytest.param("binance", SPOT, "spot", "BTCUSDT", id="binance-spot"),
    pytest.param("bybit", PERP, "linear", "BTCUSDT", id="bybit-linear"),
    pytest.param("bybit", SPOT, "spot", "BTCUSDT", id="bybit-spot"),
    pytest.param("okx", PERP, "swap", "BTC-USDT-SWAP", id="okx-swap"),
    pytest.param("okx", SPOT, "spot", "BTC-USDT", id="okx-spot"),
]
"""(venue, symbol, the simulator's market and instrument id of it)."""


@pytest.mark.parametrize(("venue", "symbol", "market", "native_id"), CASES)
async def test_an_amend_of_an_order_that_just_filled_is_refused_naming_its_status(
    venue: str, symbol: Symbol, market: str, native_id: str
) -> None:
    with trio.fail_after(TIMEOUT):
        async with rig(venue, symbol=symbol) as r:
            c = r.c
            hub = r.run.venue(venue)
            hub.pause()
            bid = await first_bid(c, venue, symbol)
            tick = c.instrument(venue, symbol).tick_size
            order = await c.place_order(venue, symbol, "buy", "limit", QTY, bid + tick)
            assert OrderStatus.NEW == order.status
            # The flow sells through the bids: the order, the best of them, fills whole.
            hub.move_market(market, native_id, -1)
            (theirs,) = [
                o for o in r.truth.orders(r.truth.default_account())
                if o.client_order_id == order.client_order_id
            ]  # fmt: skip
            assert not theirs.is_open and theirs.filled_qty == theirs.qty
            ours = c.orders.get(order.client_order_id)
            assert ours is not None and OrderStatus.NEW == ours.status  # not told yet

            with pytest.raises(InvalidOrder) as refused:
                await c.amend_order(venue, symbol, order.client_order_id, qty=QTY / 2)
            assert f"status: order {order.client_order_id} is filled" in refused.value.violations
            finished = c.orders.get(order.client_order_id)
            assert finished is not None and OrderStatus.FILLED == finished.status


async def test_a_post_only_amend_that_would_cross_names_the_venue_word_and_the_end() -> None:
    # Binance USDⓈ-M cancels a GTX order whose modify would take liquidity: the amend is
    # refused naming the order's end and the venue's code, not as if it ended before.
    with trio.fail_after(TIMEOUT):
        async with rig("binance", symbol=PERP) as r:
            c = r.c
            r.run.venue("binance").pause()
            bid = await first_bid(c, "binance", PERP)
            ask = c.order_book("binance", PERP).best_ask()
            assert ask is not None
            order = await c.place_order(
                "binance", PERP, "buy", "limit", QTY, bid * Decimal("0.99"),
                time_in_force="post_only",
            )  # fmt: skip
            tick = c.instrument("binance", PERP).tick_size
            crossing = (ask.price * Decimal("1.01")).quantize(tick)  # whatever moved meanwhile
            with pytest.raises(InvalidOrder) as refused:
                await c.amend_order("binance", PERP, order.client_order_id, price=crossing)
            ended = c.orders.get(order.client_order_id)

    assert ended is not None and OrderStatus.CANCELED == ended.status
    assert f"status: order {order.client_order_id} is canceled" in str(refused.value)
    assert "(the venue: " in str(refused.value)
