"""ccxt and ccxt.pro ``bybit`` trading against the simulator with its demo credentials.

Only the base URLs are changed (``tests.compat.test_ccxt.point``, plus the
private socket URLs); every other option is ccxt's default, so the client calls
what it calls on the real venue when keys are set (``/v5/asset/coin/query-info``
while loading markets, ``/v5/user/query-api`` and ``/v5/account/info`` before
trading).
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from connector.sim.accounts import DEFAULT_CREDENTIALS
from tests.compat.conftest import Received, Urls, run_async, within
from tests.compat.test_ccxt import point

ccxt = pytest.importorskip("ccxt")
ccxt_pro = pytest.importorskip("ccxt.pro")

pytestmark = pytest.mark.timeout(60)

CREDS = DEFAULT_CREDENTIALS["bybit"]


def keyed(module: Any, urls: Urls) -> Any:
    """A ccxt ``bybit`` client with the simulator's URLs and the demo account's keys."""
    client = module.bybit({"apiKey": CREDS.api_key, "secret": CREDS.secret})
    client = point(client, "bybit", urls)
    base = urls["bybit"]["linear.ws"]
    if "ws" in client.urls["api"]:
        client.urls["api"]["ws"]["private"] = {
            "spot": {"unified": base + "/v5/private", "nonUnified": base + "/v5/private"},
            "contract": base + "/v5/private",
            "usdc": base + "/v5/private",
            "trade": base + "/v5/trade",
        }
    return client


def below_touch(client: Any, symbol: str) -> float:
    """A buy price 10 % under the best bid, on the market's tick."""
    bid = client.fetch_order_book(symbol, 1)["bids"][0][0]
    return float(client.price_to_precision(symbol, bid * 0.9))


def signed_contracts(client: Any, symbol: str) -> Decimal:
    """``symbol``'s position as ccxt reads it: long positive, short negative, flat 0."""
    held = [p for p in client.fetch_positions([symbol]) if p["contracts"]]
    if not held:
        return Decimal(0)
    (position,) = held
    size = Decimal(str(position["contracts"]))
    return size if position["side"] == "long" else -size


@pytest.mark.parametrize(
    ("symbol", "amount"), [("BTC/USDT", 0.001), ("ETH/USDT:USDT", 0.1)], ids=["spot", "swap"]
)
def test_ccxt_bybit_trades_with_keys(sim_urls: Urls, symbol: str, amount: float) -> None:
    client = keyed(ccxt, sim_urls)
    markets = client.load_markets()
    assert symbol in markets
    assert "USDT" in client.currencies
    balance = client.fetch_balance()
    assert balance["USDT"]["total"] > 0
    price = below_touch(client, symbol)
    limit = client.create_order(symbol, "limit", "buy", amount, price)
    fetched = client.fetch_order(limit["id"], symbol, {"acknowledged": True})
    assert ("open", symbol, amount) == (fetched["status"], fetched["symbol"], fetched["amount"])
    assert limit["id"] in [o["id"] for o in client.fetch_open_orders(symbol)]
    client.cancel_order(limit["id"], symbol)
    cancelled = client.fetch_order(limit["id"], symbol, {"acknowledged": True})
    assert "canceled" == cancelled["status"]
    assert limit["id"] not in [o["id"] for o in client.fetch_open_orders(symbol)]
    # The package's simulator is shared: another test may have left a position on it.
    before = signed_contracts(client, symbol) if symbol.endswith(":USDT") else Decimal(0)
    ask = client.fetch_order_book(symbol, 1)["asks"][0][0]
    market = client.create_order(symbol, "market", "buy", amount, ask)
    filled = client.fetch_order(market["id"], symbol, {"acknowledged": True})
    assert "closed" == filled["status"]
    assert filled["filled"] > 0
    trades = client.fetch_my_trades(symbol)
    assert market["id"] in {t["order"] for t in trades}
    if symbol.endswith(":USDT"):
        assert signed_contracts(client, symbol) == before + Decimal(str(amount))


def subscribed(message: dict[str, Any]) -> bool:
    """Bybit's acknowledgement of a private subscription."""
    return message.get("op") == "subscribe" and message.get("success") is True


@pytest.mark.parametrize(
    ("symbol", "amount"), [("ETH/USDT", 0.01), ("ETH/USDT:USDT", 0.1)], ids=["spot", "swap"]
)
def test_ccxt_pro_bybit_watch_orders_sees_its_own_order(
    sim_urls: Urls, symbol: str, amount: float
) -> None:
    # ccxt tells a spot order from a contract's by the keys it carries ("tpslMode"):
    # a spot order must not come as the perpetual's.
    async def main() -> None:
        client = keyed(ccxt_pro, sim_urls)
        try:
            await within(client.load_markets())
            received = Received(client)
            watching = asyncio.ensure_future(client.watch_orders(symbol))
            await received.until(1, subscribed)
            book = await within(client.fetch_order_book(symbol, 1))
            price = float(client.price_to_precision(symbol, book["bids"][0][0] * 0.9))
            placed = await within(client.create_order(symbol, "limit", "buy", amount, price))
            orders = await within(watching)
            assert placed["id"] in [o["id"] for o in orders]
            mine = [o for o in orders if o["id"] == placed["id"]][-1]
            assert ("open", symbol) == (mine["status"], mine["symbol"])
            cancelling = asyncio.ensure_future(client.watch_orders(symbol))
            await within(client.cancel_order(placed["id"], symbol))
            updates = await within(cancelling)
            assert "canceled" == [o for o in updates if o["id"] == placed["id"]][-1]["status"]
        finally:
            await client.close()

    run_async(main)


def test_ccxt_pro_bybit_watch_my_trades_and_balance_see_a_fill(sim_urls: Urls) -> None:
    symbol = "ETH/USDT:USDT"

    async def main() -> None:
        client = keyed(ccxt_pro, sim_urls)
        try:
            await within(client.load_markets())
            received = Received(client)
            trades = asyncio.ensure_future(client.watch_my_trades(symbol))
            balance = asyncio.ensure_future(client.watch_balance())
            await received.until(2, subscribed)
            placed = await within(client.create_order(symbol, "market", "sell", 0.1))
            mine = await within(trades)
            assert placed["id"] in {t["order"] for t in mine}
            assert all(t["symbol"] == symbol and t["side"] == "sell" for t in mine)
            wallet = await within(balance)
            assert wallet["USDT"]["total"] > 0
        finally:
            await client.close()

    run_async(main)


def test_ccxt_pro_bybit_watch_positions_sees_a_position_change(sim_urls: Urls) -> None:
    # ccxt.pro first reads a snapshot of every category it trades (linear, then
    # inverse): a unified account's inverse list is there, empty, on the venue.
    symbol = "ETH/USDT:USDT"

    async def main() -> None:
        client = keyed(ccxt_pro, sim_urls)
        try:
            await within(client.load_markets())
            received = Received(client)
            await within(client.watch_positions([symbol]))  # the first answer: the snapshot
            positions = asyncio.ensure_future(client.watch_positions([symbol]))
            await received.until(1, subscribed)
            await within(client.create_order(symbol, "market", "buy", 0.1))
            seen = await within(positions)
            assert symbol in {p["symbol"] for p in seen}
        finally:
            await client.close()

    run_async(main)


def test_ccxt_bybit_market_order_over_the_market_maximum_is_refused(sim_urls: Urls) -> None:
    # The venue answers retCode 10001 "The number of contracts exceeds maximum limit
    # allowed: too large" for a linear market order over maxMktOrderQty, below the
    # limit orders' maxOrderQty (pybit issues 244 and 284).
    client = keyed(ccxt, sim_urls)
    lot = client.load_markets()["BTC/USDT:USDT"]["info"]["lotSizeFilter"]
    cap, limit_cap = Decimal(lot["maxMktOrderQty"]), Decimal(lot["maxOrderQty"])
    assert cap < limit_cap
    ask = client.fetch_order_book("BTC/USDT:USDT", 1)["asks"][0][0]
    with pytest.raises(ccxt.BadRequest, match="10001"):
        client.create_order("BTC/USDT:USDT", "market", "buy", float(cap + 1), ask)


def test_ccxt_pro_bybit_create_edit_and_cancel_order_ws(sim_urls: Urls) -> None:
    """ccxt.pro's websocket order entry (``/v5/trade``: ``order.create``, ``order.amend``,
    ``order.cancel``), the path the connector takes with ``order_entry = "websocket"``."""
    symbol = "ETH/USDT:USDT"

    async def main() -> None:
        client = keyed(ccxt_pro, sim_urls)
        try:
            await within(client.load_markets())
            book = await within(client.fetch_order_book(symbol, 1))
            price = float(client.price_to_precision(symbol, book["bids"][0][0] * 0.9))
            placed = await within(client.create_order_ws(symbol, "limit", "buy", 0.1, price))
            lower = float(client.price_to_precision(symbol, price * 0.99))
            await within(client.edit_order_ws(placed["id"], symbol, "limit", "buy", 0.1, lower))
            (listed,) = await within(client.fetch_open_orders(symbol))
            assert (placed["id"], lower) == (listed["id"], listed["price"])
            await within(client.cancel_order_ws(placed["id"], symbol))
            assert [] == await within(client.fetch_open_orders(symbol))
        finally:
            await client.close()

    run_async(main)
