"""Orders placed elsewhere without a client order id (a venue's web page, a tool that
sets none: Bybit and OKX allow it) are canceled too, by the venue's order id."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
import trio

from connector import Connector, OrderStatus
from connector.config import Config, VenueConfig
from connector.model import Symbol
from tests.sim.bybit.client import Signed
from tests.sim.okx.okx_client import Okx

TIMEOUT = 40
SYMBOL = "BTC-USDT-PERP"
VENUES = ("bybit", "okx")


def config(venue: str) -> Config:
    venues = {
        name: VenueConfig(name=name, symbols=(Symbol.parse(SYMBOL),), channels=("book",))
        if name == venue
        else VenueConfig(name=name, enabled=False)
        for name in ("binance", "bybit", "okx")
    }
    return Config(venues=venues)


async def place_elsewhere(c: Connector, venue: str, price: Decimal) -> str:
    """A resting buy placed through the venue's own API without a client id; its id."""
    assert c.simulator is not None
    rest = c.simulator.urls[venue]["linear.rest" if venue == "bybit" else "swap.rest"]
    async with httpx.AsyncClient(base_url=rest) as client:
        if venue == "bybit":
            body = {"category": "linear", "symbol": "BTCUSDT", "side": "Buy"}
            body |= {"orderType": "Limit", "qty": "0.01", "price": str(price)}
            result = await Signed(client).ok("POST", "/v5/order/create", **body)
            return str(result["orderId"])
        order = {"instId": "BTC-USDT-SWAP", "tdMode": "cross", "side": "buy"}
        order |= {"ordType": "limit", "sz": "1", "px": str(price)}
        status, answer = await Okx(client).post("/api/v5/trade/order", order)
        assert (200, "0") == (status, answer["code"]), answer
        return str(answer["data"][0]["ordId"])


@pytest.mark.parametrize("venue", VENUES)
async def test_cancel_all_and_cancel_order_reach_orders_without_a_client_id(venue: str) -> None:
    with trio.fail_after(TIMEOUT):
        async with Connector(config(venue)) as c:
            async with c.subscribe(f"orderbook.{venue}.{SYMBOL}") as updates:
                while (bid := c.order_book(venue, SYMBOL).best_bid()) is None:
                    await updates.receive()
            price = (bid.price * Decimal("0.8")).quantize(Decimal(1))
            first, second, third = [await place_elsewhere(c, venue, price) for _ in range(3)]
            # One by its key (``#`` + the venue's id: how the order state keeps it).
            one = await c.cancel_order(venue, SYMBOL, "#" + first)
            canceled = await c.cancel_all(venue)
            assert c.simulator is not None
            truth = c.simulator.truth(venue)
            states = {o.order_id: o.state.value for o in truth.orders(truth.default_account())}
            left_open = c.orders.open(venue)
    assert (first, OrderStatus.CANCELED, "") == (
        one.venue_order_id,
        one.status,
        one.client_order_id,
    )
    assert {second, third} == {o.venue_order_id for o in canceled}
    assert {OrderStatus.CANCELED} == {o.status for o in canceled}
    assert ["canceled"] * 3 == [states[i] for i in (first, second, third)]
    assert [] == left_open
