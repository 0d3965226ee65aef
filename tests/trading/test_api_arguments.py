"""Bad arguments to the trading API are refused naming the argument; a venue that does
not trade here is never answered with an empty result."""

from __future__ import annotations

from decimal import Decimal

import pytest
import trio

from connector import ConfigError, Connector, InvalidOrder, OrderStatus
from connector.config import Config, VenueConfig
from connector.model import Symbol

TIMEOUT = 30
SYMBOL = "BTC-USDT-PERP"


def config() -> Config:
    venues = {
        name: VenueConfig(name=name, symbols=(Symbol.parse(SYMBOL),), channels=("book",))
        if name == "okx"
        else VenueConfig(name=name, enabled=False)
        for name in ("binance", "bybit", "okx")
    }
    return Config(venues=venues)


async def test_bad_arguments_are_named_and_unknown_venues_refused() -> None:
    with trio.fail_after(TIMEOUT):
        async with Connector(config()) as c:
            for read in (
                lambda: c.orders.open("kraken"),
                lambda: c.balances.all("kraken"),
                lambda: c.balances.get("kraken", "USDT"),
                lambda: c.positions.get("kraken", SYMBOL),
                lambda: c.positions.unrealized_pnl("kraken", SYMBOL),
            ):
                with pytest.raises(ConfigError, match="'kraken' does not trade here"):
                    read()
            for since in ("yesterday", 1.5):
                with pytest.raises(ValueError, match="since: "):
                    c.orders.all(since=since)  # type: ignore[arg-type]
            for timeout in (-1, "5"):
                with pytest.raises(ValueError, match="timeout: "):
                    await c.orders.wait("x1", timeout=timeout)  # type: ignore[arg-type]
            with pytest.raises(ValueError, match="status: 'done' is not one of"):
                await c.orders.wait("x1", status="done", timeout=1)
            with pytest.raises(InvalidOrder, match="client_order_id: 123 is not text"):
                await c.place_order(
                    "okx",
                    SYMBOL,
                    "buy",
                    "market",
                    Decimal("0.01"),
                    client_order_id=123,  # type: ignore[arg-type]
                )
            order = await c.place_order("okx", SYMBOL, "buy", "market", Decimal("0.01"))
            # A status in upper case, as place_order takes "BUY" and "LIMIT".
            done = await c.orders.wait(order.client_order_id, status="FILLED", timeout=10)
    assert OrderStatus.FILLED == done.status
