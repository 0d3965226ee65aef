"""ccxt and ccxt.pro ``okx`` trading against the simulator with the default account's keys.

As a user does it: load markets with keys (ccxt then loads ``asset/currencies``),
fetch the balance, place a limit order away from the market and a market order
(``create_order`` goes through ``batch-orders``), fetch the order, list open
orders, cancel, fetch positions on the swap, and receive the account's own
order updates through ccxt.pro ``watch_orders`` (``/ws/v5/private``). Only the
base URLs change (see ``tests/compat/test_ccxt.py``).
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from connector.sim.accounts import DEFAULT_CREDENTIALS
from tests.compat.conftest import Received, Urls, run_async, within
from tests.compat.test_ccxt import okx_urls

ccxt = pytest.importorskip("ccxt")
ccxt_pro = pytest.importorskip("ccxt.pro")

pytestmark = pytest.mark.timeout(60)

CREDS = DEFAULT_CREDENTIALS["okx"]


def keyed(cls: Any, urls: Urls) -> Any:
    client = cls(
        {
            "apiKey": CREDS.api_key,
            "secret": CREDS.secret,
            "password": CREDS.passphrase,
        }
    )
    client.urls["api"] = okx_urls(urls)
    return client


def below_market(client: Any, symbol: str) -> float:
    """A limit buy price 10 % under the bid, on the market's tick."""
    bid = Decimal(str(client.fetch_ticker(symbol)["bid"]))
    return float(client.price_to_precision(symbol, bid * Decimal("0.9")))


@pytest.mark.parametrize(("symbol", "amount"), [("BTC/USDT", 0.001), ("SOL/USDT:USDT", 1)])
def test_ccxt_okx_limit_order_lifecycle(sim_urls: Urls, symbol: str, amount: float) -> None:
    client = keyed(ccxt.okx, sim_urls)
    client.load_markets()
    assert client.currencies and "USDT" in client.currencies
    balance = client.fetch_balance()
    assert balance["USDT"]["free"] > 0
    price = below_market(client, symbol)
    placed = client.create_order(symbol, "limit", "buy", amount, price)
    assert placed["id"]
    fetched = client.fetch_order(placed["id"], symbol)
    assert ("open", price, amount) == (fetched["status"], fetched["price"], fetched["amount"])
    assert placed["id"] in {o["id"] for o in client.fetch_open_orders(symbol)}
    client.edit_order(placed["id"], symbol, "limit", "buy", amount * 2, price)  # amend-order
    assert amount * 2 == client.fetch_order(placed["id"], symbol)["amount"]
    client.cancel_order(placed["id"], symbol)
    assert "canceled" == client.fetch_order(placed["id"], symbol)["status"]
    assert placed["id"] not in {o["id"] for o in client.fetch_open_orders(symbol)}


def test_ccxt_okx_market_orders_fill_and_open_a_swap_position(sim_urls: Urls) -> None:
    client = keyed(ccxt.okx, sim_urls)
    client.load_markets()
    spot = client.create_order("ETH/USDT", "market", "buy", 0.01, None, {"tgtCcy": "base_ccy"})
    filled = client.fetch_order(spot["id"], "ETH/USDT")
    assert ("closed", 0.01) == (filled["status"], filled["filled"])
    assert filled["fee"]["cost"] > 0  # ccxt turns OKX's negative fee into a paid cost
    swap = client.create_order("ETH/USDT:USDT", "market", "buy", 2)
    assert "closed" == client.fetch_order(swap["id"], "ETH/USDT:USDT")["status"]
    (position,) = client.fetch_positions(["ETH/USDT:USDT"])
    assert position["contracts"] >= 2 and position["side"] == "long"
    trades = client.fetch_my_trades("ETH/USDT:USDT")
    assert swap["id"] in {t["order"] for t in trades}
    client.create_order("ETH/USDT:USDT", "market", "sell", 2, None, {"reduceOnly": True})


def test_ccxt_pro_okx_watch_orders_sees_its_own_order(sim_urls: Urls) -> None:
    async def main() -> tuple[Any, list[Any]]:
        client = keyed(ccxt_pro.okx, sim_urls)
        try:
            await within(client.load_markets())
            ticker = await within(client.fetch_ticker("BTC/USDT"))
            price = float(client.price_to_precision("BTC/USDT", ticker["bid"] * 0.9))
            received = Received(client)
            watching = asyncio.ensure_future(client.watch_orders("BTC/USDT"))
            await received.until(1, lambda m: m.get("event") == "subscribe")
            placed = await within(client.create_order("BTC/USDT", "limit", "buy", 0.001, price))
            seen = await within(watching)
            await within(client.cancel_order(placed["id"], "BTC/USDT"))
            return placed, seen
        finally:
            await client.close()

    placed, seen = run_async(main)
    assert placed["id"] in {o["id"] for o in seen}
    assert all(o["symbol"] == "BTC/USDT" for o in seen)


def test_ccxt_pro_okx_watch_balance_gets_the_account_snapshot(sim_urls: Urls) -> None:
    async def main() -> Any:
        client = keyed(ccxt_pro.okx, sim_urls)
        try:
            await within(client.load_markets())
            return await within(client.watch_balance())
        finally:
            await client.close()

    balance = run_async(main)
    assert balance["USDT"]["total"] > 0 and balance["BTC"]["total"] > 0
