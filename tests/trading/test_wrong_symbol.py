"""An order named under another symbol than its own is not canceled or amended, and the
caller is told so, on every venue (Bybit finds an order by its client id alone)."""

from __future__ import annotations

from decimal import Decimal

import pytest
import trio

from connector import Connector, OrderNotFound, OrderStatus
from connector.config import Config, VenueConfig
from connector.model import Symbol

TIMEOUT = 40
SYMBOLS = ("BTC-USDT-PERP", "ETH-USDT-PERP")


def config(venue: str) -> Config:
    venues = {
        name: VenueConfig(name=name, symbols=tuple(map(Symbol.parse, SYMBOLS)), channels=("book",))
        if name == venue
        else VenueConfig(name=name, enabled=False)
        for name in ("binance", "bybit", "okx")
    }
    return Config(venues=venues)


@pytest.mark.parametrize("venue", ["binance", "bybit", "okx"])
async def test_cancel_and_amend_under_another_symbol_are_refused(venue: str) -> None:
    btc, eth = SYMBOLS
    with trio.fail_after(TIMEOUT):
        async with Connector(config(venue)) as c:
            async with c.subscribe(f"orderbook.{venue}.{btc}") as updates:
                while (bid := c.order_book(venue, btc).best_bid()) is None:
                    await updates.receive()
            price = (bid.price * Decimal("0.9")).quantize(c.instrument(venue, btc).tick_size)
            order = await c.place_order(venue, btc, "buy", "limit", Decimal("0.01"), price)
            with pytest.raises(OrderNotFound) as cancel:
                await c.cancel_order(venue, eth, order.client_order_id)
            with pytest.raises(OrderNotFound):
                await c.amend_order(venue, eth, order.client_order_id, price=price * 2)
            assert c.simulator is not None
            theirs = c.simulator.truth(venue).order(client_order_id=order.client_order_id)
            ours = c.orders.get(order.client_order_id)
            await c.cancel_all(venue)
    assert order.client_order_id in str(cancel.value) and eth in str(cancel.value)
    assert theirs is not None and theirs.state.is_open
    assert ours is not None and (OrderStatus.NEW, order.price) == (ours.status, ours.price)
