"""ccxt amending a partly filled order down to its filled amount, against the simulator.

OKX ends such an order ``filled`` ("POST / Amend order", ``newSz``): ccxt reads it
``closed``. Bybit linear refuses the amend with retCode 110064 (``docs/v5/error.mdx``),
which ccxt raises as ``InvalidOrder``.

The simulator runs paused in this process (only the test's orders and the liquidity it
adds trade, so the partial fill is exact); ccxt's synchronous calls run in a worker
thread, as a user's program would make them beside it.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

import pytest
import trio

from connector.model import Side
from connector.sim.standalone import run
from tests.compat.test_ccxt_bybit_trading import keyed as bybit_client
from tests.compat.test_ccxt_okx_trading import keyed as okx_client

ccxt = pytest.importorskip("ccxt")

T = TypeVar("T")

SYMBOL = "ETH/USDT:USDT"


async def call(fn: Callable[..., T], *args: Any) -> T:
    """One ccxt call, in a worker thread (the simulator serves in this one)."""
    return await trio.to_thread.run_sync(fn, *args)


async def partly_filled(
    client: Any, sim: Any, venue: str, market: str, native_id: str
) -> dict[str, Any]:
    """A resting limit buy of 10 at one tick over the bid, 2 of it filled (fetched)."""
    await call(client.load_markets)
    book = sim.venues[venue].book(market, native_id)
    price = book.engine.best_bid().price + book.instrument.tick_size
    placed = await call(client.create_order, SYMBOL, "limit", "buy", 10, float(price))
    sim.venues[venue].add_liquidity(market, native_id, Side.SELL, price, Decimal(2))
    order: dict[str, Any] = await call(client.fetch_order, placed["id"], SYMBOL)
    assert ("open", 2) == (order["status"], order["filled"])
    return order


async def test_ccxt_okx_amend_down_to_the_filled_amount_closes_the_order() -> None:
    with trio.fail_after(30):
        async with run(venues=("okx",), paused=True) as sim:
            client = okx_client(ccxt.okx, sim.urls)
            for amount in (2, 1):  # at, then below, the filled amount
                order = await partly_filled(client, sim, "okx", "swap", "ETH-USDT-SWAP")
                await call(
                    client.edit_order, order["id"], SYMBOL, "limit", "buy", amount, order["price"]
                )
                done = await call(client.fetch_order, order["id"], SYMBOL)
                assert ("closed", 2, 2, 0) == (
                    done["status"], done["filled"], done["amount"], done["remaining"],
                )  # fmt: skip


async def test_ccxt_bybit_amend_down_to_the_filled_amount_is_an_invalid_order() -> None:
    with trio.fail_after(30):
        async with run(venues=("bybit",), paused=True) as sim:
            client = bybit_client(ccxt, sim.urls)
            # ccxt asks every Bybit user to acknowledge that fetch_order sees only the
            # venue's last 500 orders (it refuses the call otherwise): as users run it.
            client.options["fetchOrder"] = {"acknowledged": True}
            order = await partly_filled(client, sim, "bybit", "linear", "ETHUSDT")
            with pytest.raises(ccxt.InvalidOrder, match="110064"):
                await call(
                    client.edit_order, order["id"], SYMBOL, "limit", "buy", 2, order["price"]
                )
            after = await call(client.fetch_order, order["id"], SYMBOL)
    assert ("open", 10, 2) == (after["status"], after["amount"], after["filled"])
