"""Third-party clients trading Binance USDⓈ-M on the simulator, as a user does.

ccxt ``binanceusdm`` (REST and ccxt.pro ``watch_orders``), python-binance's
futures client and socket, and Binance's USDⓈ-M SDK (REST and its
``/private/stream`` user data), each given only base URLs and the default
account's credentials. Limit orders rest far below the market so they stay
open; market orders are small.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import httpx
import pytest

from connector.sim.accounts import DEFAULT_CREDENTIALS
from tests.compat.conftest import CALL_TIMEOUT, Urls, run_async, within

pytest.importorskip("ccxt")
pytest.importorskip("ccxt.pro")
pytest.importorskip("binance")
pytest.importorskip("binance_sdk_derivatives_trading_usds_futures")

import ccxt
import ccxt.pro as ccxt_pro
from binance import AsyncClient
from binance_common.configuration import ConfigurationRestAPI, ConfigurationWebSocketStreams
from binance_sdk_derivatives_trading_usds_futures.derivatives_trading_usds_futures import (
    DerivativesTradingUsdsFutures,
)
from binance_sdk_derivatives_trading_usds_futures.rest_api.models import (
    NewOrderSideEnum,
    NewOrderTimeInForceEnum,
    NewOrderTypeEnum,
)

from tests.compat.test_ccxt import point
from tests.compat.test_python_binance import sim_client, sim_socket_manager

pytestmark = pytest.mark.timeout(60)

KEY = DEFAULT_CREDENTIALS["binance"]
SYMBOL = "BTC/USDT:USDT"


def _price_below(urls: Urls) -> str:
    """A BTCUSDT price far below the market (the order rests)."""
    book = httpx.get(urls["binance"]["linear.rest"] + "/fapi/v1/ticker/bookTicker?symbol=BTCUSDT")
    return str((Decimal(book.json()["bidPrice"]) * Decimal("0.8")).quantize(Decimal("0.1")))


def _ccxt(urls: Urls) -> Any:
    """ccxt's ``binanceusdm`` with the default account's keys, pointed at the simulator."""
    return point(
        ccxt.binanceusdm({"apiKey": KEY.api_key, "secret": KEY.secret}),
        "binance",
        urls,
    )


def test_ccxt_binanceusdm_trades_like_a_user(sim_urls: Urls) -> None:
    client = _ccxt(sim_urls)
    client.load_markets()
    balance = client.fetch_balance()
    assert balance["USDT"]["total"] > 0
    price = float(_price_below(sim_urls))
    limit = client.create_order(SYMBOL, "limit", "buy", 0.01, price)
    assert "open" == limit["status"]
    market = client.create_order(SYMBOL, "market", "buy", 0.01)
    assert market["filled"] in (None, 0.0) or market["filled"] == 0.01
    assert "open" == client.fetch_order(limit["id"], SYMBOL)["status"]
    assert limit["id"] in {o["id"] for o in client.fetch_open_orders(SYMBOL)}
    assert "canceled" == client.cancel_order(limit["id"], SYMBOL)["status"]
    assert "closed" == client.fetch_order(market["id"], SYMBOL)["status"]
    positions = {p["symbol"]: p for p in client.fetch_positions([SYMBOL])}
    assert positions[SYMBOL]["contracts"] > 0
    assert market["id"] in {t["order"] for t in client.fetch_my_trades(SYMBOL)}


def test_ccxt_binanceusdm_meets_the_percent_price_band(sim_urls: Urls) -> None:
    # PERCENT_PRICE: "BUY: price <= markPrice * multiplierUp; SELL: price >=
    # markPrice * multiplierDown" (1.05 / 0.95 on BTCUSDT): -4016 / -4024.
    client = _ccxt(sim_urls)
    client.load_markets()
    book = client.fetch_order_book(SYMBOL, 5)
    bid, ask = book["bids"][0][0], book["asks"][0][0]
    with pytest.raises(ccxt.BaseError, match="-4016"):
        client.create_order(SYMBOL, "limit", "buy", 0.01, round(ask * 1.2, 1))
    with pytest.raises(ccxt.BaseError, match="-4024"):
        client.create_order(SYMBOL, "limit", "sell", 0.01, round(bid * 0.8, 1))
    # The band has no floor for a buy and no ceiling for a sell: both rest.
    resting = [
        client.create_order(SYMBOL, "limit", "buy", 0.01, round(bid * 0.5, 1)),
        client.create_order(SYMBOL, "limit", "sell", 0.01, round(ask * 1.5, 1)),
    ]
    assert ["open", "open"] == [o["status"] for o in resting]
    for order in resting:
        client.cancel_order(order["id"], SYMBOL)


def test_ccxt_binanceusdm_cancels_all_open_orders_of_a_symbol(sim_urls: Urls) -> None:
    # DELETE /fapi/v1/allOpenOrders, as the connector's cancel_all sends it.
    client = _ccxt(sim_urls)
    client.load_markets()
    price = float(_price_below(sim_urls))
    placed = [client.create_order(SYMBOL, "limit", "buy", 0.01, price - i) for i in range(3)]
    client.cancel_all_orders(SYMBOL)
    assert [] == client.fetch_open_orders(SYMBOL)
    assert {"canceled"} == {client.fetch_order(o["id"], SYMBOL)["status"] for o in placed}


def test_ccxt_binanceusdm_cancels_orders_by_id_and_by_client_id(sim_urls: Urls) -> None:
    # DELETE /fapi/v1/batchOrders: ccxt writes the list names in lower case
    # (orderidlist, origclientorderidlist) and Binance takes them so.
    client = _ccxt(sim_urls)
    client.load_markets()
    price = float(_price_below(sim_urls))
    placed = [client.create_order(SYMBOL, "limit", "buy", 0.01, price - i) for i in range(4)]
    by_id = client.cancel_orders([o["id"] for o in placed[:2]], SYMBOL)
    by_client_id = client.cancel_orders(
        [], SYMBOL, {"clientOrderIds": [o["clientOrderId"] for o in placed[2:]]}
    )
    assert ["canceled"] * 4 == [o["status"] for o in by_id + by_client_id]
    assert [] == client.fetch_open_orders(SYMBOL)


async def opened(client: Any) -> None:
    """Wait (at most a call's time) for an asyncio ccxt.pro client's socket to open."""
    for _ in range(int(CALL_TIMEOUT / 0.01)):
        if any(c.connected.done() for c in (client.clients or {}).values()):
            return
        await asyncio.sleep(0.01)
    pytest.fail("the client's socket did not open")


def test_ccxt_pro_binanceusdm_watch_orders_sees_its_order(sim_urls: Urls) -> None:
    price = float(_price_below(sim_urls))

    async def main() -> dict[str, str]:
        client = point(
            ccxt_pro.binanceusdm({"apiKey": KEY.api_key, "secret": KEY.secret}),
            "binance",
            sim_urls,
        )
        try:
            await within(client.load_markets())
            watching = asyncio.ensure_future(client.watch_orders(SYMBOL))
            await opened(client)  # the listenKey's stream: no acknowledgement but the socket
            placed = await within(client.create_order(SYMBOL, "limit", "buy", 0.01, price))
            orders: list[dict[str, Any]] = await within(watching)
            seen = {o["id"]: o["status"] for o in orders}  # ccxt keeps updating the list
            await within(client.cancel_order(placed["id"], SYMBOL))
            assert placed["id"] in seen
            return {"id": placed["id"], "status": seen[placed["id"]]}
        finally:
            await client.close()

    seen = run_async(main)
    assert "open" == seen["status"]


async def wake(client: Any, price: str) -> None:
    await asyncio.sleep(0.2)
    extra = await client.futures_create_order(
        symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.01", price=price
    )
    await client.futures_cancel_order(symbol="BTCUSDT", orderId=extra["orderId"])


def test_python_binance_futures_order_position_and_user_socket(sim_urls: Urls) -> None:
    price = _price_below(sim_urls)

    async def main() -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
        client = await sim_client(AsyncClient, sim_urls).create(KEY.api_key, KEY.secret)
        try:
            balances = await within(client.futures_account_balance())
            assert "USDT" in {b["asset"] for b in balances}
            manager = sim_socket_manager(sim_urls)(client)
            async with manager.futures_user_socket() as socket:
                placed = await within(
                    client.futures_create_order(
                        symbol="BTCUSDT",
                        side="BUY",
                        type="LIMIT",
                        timeInForce="GTC",
                        quantity="0.01",
                        price=price,
                    )
                )
                event = await within(socket.recv())
                await within(
                    client.futures_cancel_order(symbol="BTCUSDT", orderId=placed["orderId"])
                )
                cancelled = await within(socket.recv())
                # python-binance's read loop notices the exit on its next frame (else after
                # its 10 s receive timeout): one more order gives it that frame.
                waker = asyncio.ensure_future(wake(client, price))
            await within(waker)
            positions = await within(client.futures_position_information())
            return event, cancelled, positions
        finally:
            await client.close_connection()

    event, cancelled, positions = run_async(main)
    assert "ORDER_TRADE_UPDATE" == event["e"]
    assert ("NEW", "NEW") == (event["o"]["x"], event["o"]["X"])
    assert ("CANCELED", "CANCELED") == (cancelled["o"]["x"], cancelled["o"]["X"])
    assert all("BOTH" == p["positionSide"] for p in positions)


def test_binance_sdk_usds_order_and_private_stream(sim_urls: Urls) -> None:
    b = sim_urls["binance"]
    sdk = DerivativesTradingUsdsFutures(
        config_rest_api=ConfigurationRestAPI(
            api_key=KEY.api_key, api_secret=KEY.secret, base_path=b["linear.rest"]
        ),
        config_ws_streams=ConfigurationWebSocketStreams(stream_url=b["linear.ws"]),
    )
    price = float(_price_below(sim_urls))
    listen_key = sdk.rest_api.start_user_data_stream().data().listen_key

    async def main() -> tuple[Any, Any, list[str]]:
        messages: asyncio.Queue[Any] = asyncio.Queue()
        connection = await within(sdk.websocket_streams.create_connection())
        assert connection is not None, "the SDK could not open its stream connections"
        try:
            stream = await within(connection.user_data(listen_key))
            stream.on("message", messages.put_nowait)
            await asyncio.sleep(0.3)
            placed = await asyncio.to_thread(
                sdk.rest_api.new_order,
                symbol="BTCUSDT",
                side=NewOrderSideEnum.BUY,
                type=NewOrderTypeEnum.LIMIT,
                time_in_force=NewOrderTimeInForceEnum.GTC,
                quantity=0.01,
                price=price,
            )
            event = await within(messages.get())
            await asyncio.to_thread(
                sdk.rest_api.cancel_order, symbol="BTCUSDT", order_id=placed.data().order_id
            )
            await within(messages.get())  # its cancel
            await asyncio.to_thread(
                sdk.rest_api.new_order,
                symbol="BTCUSDT",
                side=NewOrderSideEnum.BUY,
                type=NewOrderTypeEnum.MARKET,
                quantity=0.01,
            )
            # The SDK's models of the market order's events (NEW, then each fill's
            # TRADE_LITE and ORDER_TRADE_UPDATE, then ACCOUNT_UPDATE).
            models = []
            while "AccountUpdate" not in models:
                message = await within(messages.get())
                models.append(type(getattr(message, "actual_instance", message)).__name__)
            return placed.data(), event, models
        finally:
            await connection.close_connection(close_session=True)

    placed, event, models = run_async(main)
    assert ["OrderTradeUpdate", "TradeLite", "OrderTradeUpdate"] == models[:3]
    assert "NEW" == placed.status
    data = event.actual_instance if hasattr(event, "actual_instance") else event
    dumped = data.model_dump(by_alias=True) if hasattr(data, "model_dump") else data
    # The SDK's model of ORDER_TRADE_UPDATE (it keeps ``o`` and drops ``e``).
    assert ("NEW", "NEW") == (dumped["o"]["x"], dumped["o"]["X"])
    assert placed.order_id == dumped["o"]["i"]


def test_ccxt_pro_binanceusdm_trades_over_ws_fapi(sim_urls: Urls) -> None:
    price = float(_price_below(sim_urls))

    async def main() -> list[str]:
        client = point(
            ccxt_pro.binanceusdm({"apiKey": KEY.api_key, "secret": KEY.secret}),
            "binance",
            sim_urls,
        )
        # ccxt's ws-fapi host (ws-fapi.binance.com) is a base URL of its own.
        ws_fapi = sim_urls["binance"]["linear.ws"] + "/ws-fapi/v1"
        client.urls["api"]["ws"]["ws-api"]["linear"] = ws_fapi
        try:
            await within(client.load_markets())
            placed = await within(client.create_order_ws(SYMBOL, "limit", "buy", 0.01, price))
            fetched = await within(client.fetch_order_ws(placed["id"], SYMBOL))
            edited = await within(
                client.edit_order_ws(placed["id"], SYMBOL, "limit", "buy", 0.02, price)
            )
            cancelled = await within(client.cancel_order_ws(placed["id"], SYMBOL))
            balance = await within(client.fetch_balance_ws())
            positions = await within(client.fetch_positions_ws([SYMBOL]))
            assert balance["USDT"]["total"] > 0
            assert all(SYMBOL == p["symbol"] for p in positions)
            assert 0.02 == edited["amount"]
            return [placed["status"], fetched["status"], edited["status"], cancelled["status"]]
        finally:
            await client.close()

    assert ["open", "open", "open", "canceled"] == run_async(main)


def test_python_binance_futures_websocket_api_orders(sim_urls: Urls) -> None:
    price = _price_below(sim_urls)
    ws_fapi = sim_urls["binance"]["linear.ws"] + "/ws-fapi/v1"
    cls = type("SimWsClient", (sim_client(AsyncClient, sim_urls),), {"WS_FUTURES_URL": ws_fapi})

    async def main() -> list[str]:
        client = await cls.create(KEY.api_key, KEY.secret)
        try:
            placed = await within(
                client.ws_futures_create_order(
                    symbol="BTCUSDT",
                    side="BUY",
                    type="LIMIT",
                    timeInForce="GTC",
                    quantity="0.01",
                    price=price,
                )
            )
            ref = {"symbol": "BTCUSDT", "orderId": placed["orderId"]}
            fetched = await within(client.ws_futures_get_order(**ref))
            cancelled = await within(client.ws_futures_cancel_order(**ref))
            return [placed["status"], fetched["status"], cancelled["status"]]
        finally:
            await client.close_connection()

    assert ["NEW", "NEW", "CANCELED"] == run_async(main)
