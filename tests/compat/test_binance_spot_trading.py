"""Binance spot trading with third-party clients: ccxt (REST and pro), python-binance,
the modular SDK ``binance-sdk-spot``.

Each client gets only the simulator's base URLs and the default account's
credentials (``connector.sim.accounts.DEFAULT_CREDENTIALS["binance"]``) and
does what a user does: load markets with keys, fetch the balance, place a
limit order away from the touch and a small market order, fetch the order,
list open orders, cancel, and receive its own order updates on the user data
stream (the WebSocket API subscription: ``/ws-api/v3`` on the spot port).
Orders use ETHUSDT and small sizes so the public-data tests sharing the
simulator are not disturbed.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from connector.sim.accounts import DEFAULT_CREDENTIALS
from tests.compat.conftest import Received, Urls, run_async, within

pytestmark = pytest.mark.timeout(60)

KEY = DEFAULT_CREDENTIALS["binance"].api_key
SECRET = DEFAULT_CREDENTIALS["binance"].secret


def ws_api(urls: Urls) -> str:
    return urls["binance"]["spot.ws"] + "/ws-api/v3"


def ccxt_client(module: Any, urls: Urls) -> Any:
    from tests.compat.test_ccxt import binance_hosts, rebase

    hosts = binance_hosts(urls)
    hosts["wss://ws-api.binance.com:443"] = urls["binance"]["spot.ws"]
    client = module.binance({"apiKey": KEY, "secret": SECRET})
    client.urls["api"] = rebase(client.urls["api"], hosts)
    return client


def test_ccxt_binance_spot_trades_with_keys(sim_urls: Urls) -> None:
    ccxt = pytest.importorskip("ccxt")
    client = ccxt_client(ccxt, sim_urls)
    client.load_markets()  # with keys: also capital/config/getall and the margin pair lists
    assert "ETH/USDT" in client.markets and "ETH" in client.currencies
    balance = client.fetch_balance()
    assert balance["USDT"]["total"] > 0
    bid = client.fetch_order_book("ETH/USDT", 5)["bids"][0][0]
    order = client.create_order("ETH/USDT", "limit", "buy", 0.01, round(bid * 0.9, 2))
    assert order["status"] == "open" and order["clientOrderId"]
    assert client.fetch_order(order["id"], "ETH/USDT")["status"] == "open"
    assert order["id"] in {o["id"] for o in client.fetch_open_orders("ETH/USDT")}
    assert client.cancel_order(order["id"], "ETH/USDT")["status"] == "canceled"
    market = client.create_order("ETH/USDT", "market", "sell", 0.01)
    assert market["status"] == "closed" and market["filled"] == 0.01
    trades = client.fetch_my_trades("ETH/USDT")
    assert market["id"] in {t["order"] for t in trades}


def test_ccxt_binance_spot_cancels_all_open_orders_of_a_symbol(sim_urls: Urls) -> None:
    # DELETE /api/v3/openOrders, as the connector's cancel_all sends it.
    ccxt = pytest.importorskip("ccxt")
    client = ccxt_client(ccxt, sim_urls)
    client.load_markets()
    bid = client.fetch_order_book("ETH/USDT", 5)["bids"][0][0]
    placed = [
        client.create_order("ETH/USDT", "limit", "buy", 0.01, round(bid * (0.9 - i / 100), 2))
        for i in range(3)
    ]
    canceled = client.cancel_all_orders("ETH/USDT")
    assert {o["id"] for o in placed} <= {o["id"] for o in canceled}
    assert {"canceled"} == {o["status"] for o in canceled}
    assert [] == client.fetch_open_orders("ETH/USDT")


def test_ccxt_pro_binance_watch_orders_and_websocket_order_entry(sim_urls: Urls) -> None:
    pytest.importorskip("ccxt")
    import ccxt.pro as ccxt_pro

    async def main() -> None:
        client = ccxt_client(ccxt_pro, sim_urls)
        try:
            received = Received(client)
            watching = asyncio.ensure_future(client.watch_orders("ETH/USDT"))
            await received.until(1, lambda m: "subscriptionId" in (m.get("result") or {}))
            book = await within(client.fetch_order_book("ETH/USDT", 5))
            order = await within(
                client.create_order(
                    "ETH/USDT", "limit", "buy", 0.01, round(book["bids"][0][0] * 0.9, 2)
                )
            )
            seen = await within(watching)
            assert order["id"] in {o["id"] for o in seen}
            # Watch before cancelling: watch_orders waits for updates after the call.
            watching = asyncio.ensure_future(client.watch_orders("ETH/USDT"))
            await asyncio.sleep(0.1)
            await within(client.cancel_order(order["id"], "ETH/USDT"))
            updates = await within(watching)
            assert [o["status"] for o in updates if o["id"] == order["id"]] == ["canceled"]
            # Order entry over the WebSocket API (order.place, order.status, order.cancel).
            price = round(book["bids"][0][0] * 0.9, 2)
            placed = await within(client.create_order_ws("ETH/USDT", "limit", "buy", 0.01, price))
            assert placed["status"] == "open"
            fetched = await within(client.fetch_order_ws(placed["id"], "ETH/USDT"))
            assert fetched["status"] == "open"
            done = await within(client.cancel_order_ws(placed["id"], "ETH/USDT"))
            assert done["status"] == "canceled"
        finally:
            await client.close()

    run_async(main)


def test_python_binance_spot_trading_and_user_socket(sim_urls: Urls) -> None:
    pytest.importorskip("binance")
    from binance import AsyncClient, BinanceSocketManager

    b = sim_urls["binance"]
    sim_client = type(
        "SimAsyncClient",
        (AsyncClient,),
        {"API_URL": b["spot.rest"] + "/api", "WS_API_URL": ws_api(sim_urls)},
    )

    async def main() -> None:
        client = await sim_client.create(KEY, SECRET)
        try:
            account = await within(client.get_account())
            assert {"ETH", "USDT"} <= {x["asset"] for x in account["balances"]}
            manager = BinanceSocketManager(client)
            async with manager.user_socket() as socket:
                book = await within(client.get_order_book(symbol="ETHUSDT", limit=5))
                price = (Decimal(book["bids"][0][0]) * Decimal("0.9")).quantize(Decimal("0.01"))
                order = await within(
                    client.create_order(
                        symbol="ETHUSDT",
                        side="BUY",
                        type="LIMIT",
                        timeInForce="GTC",
                        quantity="0.01",
                        price=str(price),
                    )
                )
                fetched = await within(client.get_order(symbol="ETHUSDT", orderId=order["orderId"]))
                assert fetched["status"] == "NEW"
                opened = await within(client.get_open_orders(symbol="ETHUSDT"))
                assert order["orderId"] in {o["orderId"] for o in opened}
                done = await within(client.cancel_order(symbol="ETHUSDT", orderId=order["orderId"]))
                assert done["status"] == "CANCELED"
                states = []
                while "CANCELED" not in states:
                    message = await within(socket.recv())
                    if message.get("e") == "executionReport" and message["i"] == order["orderId"]:
                        states.append(message["X"])
                assert states == ["NEW", "CANCELED"]
            market = await within(client.order_market_sell(symbol="ETHUSDT", quantity="0.01"))
            assert market["status"] == "FILLED"
        finally:
            # close_connection() would wait out the WebSocket API reader's 10 s receive
            # timeout (nothing comes unasked, as on the venue); asyncio.run ends that
            # reader instead, which keeps the test fast.
            await client.session.close()

    run_async(main)


def test_binance_sdk_spot_trading_and_user_data_stream(sim_urls: Urls) -> None:
    pytest.importorskip("binance_sdk_spot")
    from binance_common.configuration import ConfigurationRestAPI, ConfigurationWebSocketAPI
    from binance_sdk_spot.rest_api.models import (
        NewOrderSideEnum,
        NewOrderTimeInForceEnum,
        NewOrderTypeEnum,
    )
    from binance_sdk_spot.spot import Spot

    b = sim_urls["binance"]
    spot = Spot(
        config_rest_api=ConfigurationRestAPI(
            api_key=KEY, api_secret=SECRET, base_path=b["spot.rest"]
        ),
        config_ws_api=ConfigurationWebSocketAPI(
            api_key=KEY, api_secret=SECRET, stream_url=ws_api(sim_urls)
        ),
    )
    rest = spot.rest_api

    async def main() -> None:
        connection = await within(spot.websocket_api.create_connection())
        events: list[Any] = []
        try:
            subscribed = await within(connection.user_data_stream_subscribe_signature())
            subscribed.stream.on("message", events.append)
            account = rest.get_account().data()
            assert any(x.asset == "USDT" for x in account.balances)
            book = rest.depth(symbol="ETHUSDT", limit=5).data()
            price = round(float(book.bids[0][0]) * 0.9, 2)
            order = rest.new_order(
                symbol="ETHUSDT",
                side=NewOrderSideEnum.BUY,
                type=NewOrderTypeEnum.LIMIT,
                time_in_force=NewOrderTimeInForceEnum.GTC,
                quantity=0.01,
                price=price,
            ).data()
            assert order.status == "NEW"
            assert rest.get_order(symbol="ETHUSDT", order_id=order.order_id).data().status == "NEW"
            opened = rest.get_open_orders(symbol="ETHUSDT").data()
            assert order.order_id in {o.order_id for o in opened}
            assert (
                rest.delete_order(symbol="ETHUSDT", order_id=order.order_id).data().status
                == "CANCELED"
            )
            market = rest.new_order(
                symbol="ETHUSDT",
                side=NewOrderSideEnum.SELL,
                type=NewOrderTypeEnum.MARKET,
                quantity=0.01,
            ).data()
            assert market.status == "FILLED"
            for _ in range(50):
                reports = [
                    e.actual_instance
                    for e in events
                    if type(getattr(e, "actual_instance", None)).__name__ == "ExecutionReport"
                ]
                mine = [r.X for r in reports if r.i == order.order_id]
                if mine == ["NEW", "CANCELED"]:
                    break
                await asyncio.sleep(0.1)
            assert mine == ["NEW", "CANCELED"]
        finally:
            await connection.close_connection()

    run_async(main)
