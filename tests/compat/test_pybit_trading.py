"""pybit trading against the simulator: HTTP, the private WebSocket and WebSocketTrading.

Only the base URLs change (``HTTP().endpoint``; the ``PRIVATE_WSS`` and
``TRADE_WSS`` templates before a socket is built), and the demo account's keys
are given; everything else is pybit's default (its signing, ``recv_window``,
its ping and auth).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from connector.sim.accounts import DEFAULT_CREDENTIALS
from tests.compat.conftest import Inbox, Urls

pytest.importorskip("pybit")

from pybit import _websocket_trading, unified_trading

pytestmark = pytest.mark.timeout(60)

CREDS = DEFAULT_CREDENTIALS["bybit"]


def http(urls: Urls) -> Any:
    session = unified_trading.HTTP(api_key=CREDS.api_key, api_secret=CREDS.secret)
    session.endpoint = urls["bybit"]["linear.rest"]
    return session


def ok(reply: dict[str, Any]) -> dict[str, Any]:
    assert 0 == reply["retCode"], reply
    result: dict[str, Any] = reply["result"]
    return result


def signed_position(session: Any, symbol: str) -> Decimal:
    """The linear position of ``symbol``: long positive, short negative, flat 0."""
    position = ok(session.get_positions(category="linear", symbol=symbol))["list"][0]
    size = Decimal(position["size"] or 0)
    return {"Buy": size, "Sell": -size}.get(position["side"], Decimal(0))


def below_touch(session: Any, category: str, symbol: str) -> str:
    book = ok(session.get_orderbook(category=category, symbol=symbol, limit=1))
    bid = Decimal(book["b"][0][0])
    info = ok(session.get_instruments_info(category=category, symbol=symbol))["list"][0]
    return str((bid * Decimal("0.9")).quantize(Decimal(info["priceFilter"]["tickSize"])))


def test_pybit_cancels_all_open_orders_of_a_symbol(sim_urls: Urls) -> None:
    # POST /v5/order/cancel-all, as the connector's cancel_all sends it.
    session = http(sim_urls)
    price = Decimal(below_touch(session, "linear", "ETHUSDT"))
    links = [f"pybit-all-{i}" for i in range(3)]
    for i, link in enumerate(links):
        ok(
            session.place_order(
                category="linear",
                symbol="ETHUSDT",
                side="Buy",
                orderType="Limit",
                qty="0.1",
                price=str(price - i),
                orderLinkId=link,
            )
        )
    result = ok(session.cancel_all_orders(category="linear", symbol="ETHUSDT"))
    assert "1" == result["success"]
    assert set(links) <= {item["orderLinkId"] for item in result["list"]}
    assert [] == ok(session.get_open_orders(category="linear", symbol="ETHUSDT"))["list"]
    for link in links:
        history = ok(session.get_order_history(category="linear", orderLinkId=link))
        assert "Cancelled" == history["list"][0]["orderStatus"]


@pytest.fixture
def private_ws(sim_urls: Urls, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    base = sim_urls["bybit"]["linear.ws"]
    monkeypatch.setattr(unified_trading, "PRIVATE_WSS", base + "/v5/private")
    ws = unified_trading.WebSocket(
        testnet=False, channel_type="private", api_key=CREDS.api_key, api_secret=CREDS.secret
    )
    try:
        yield ws
    finally:
        ws.exit()


@pytest.fixture
def trade_ws(sim_urls: Urls, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    base = sim_urls["bybit"]["linear.ws"]
    monkeypatch.setattr(_websocket_trading, "TRADE_WSS", base + "/v5/trade")
    ws = unified_trading.WebSocketTrading(
        testnet=False, api_key=CREDS.api_key, api_secret=CREDS.secret
    )
    try:
        yield ws
    finally:
        ws.exit()


@pytest.mark.parametrize(
    ("category", "symbol", "qty"), [("spot", "BTCUSDT", "0.001"), ("linear", "ETHUSDT", "0.1")]
)
def test_pybit_http_trades_with_keys(sim_urls: Urls, category: str, symbol: str, qty: str) -> None:
    session = http(sim_urls)
    wallet = ok(session.get_wallet_balance(accountType="UNIFIED"))["list"][0]
    assert Decimal(wallet["totalEquity"]) > 0
    price = below_touch(session, category, symbol)
    placed = ok(
        session.place_order(
            category=category,
            symbol=symbol,
            side="Buy",
            orderType="Limit",
            qty=qty,
            price=price,
            orderLinkId=f"pybit-{category}",
        )
    )
    open_orders = ok(session.get_open_orders(category=category, symbol=symbol))["list"]
    assert [placed["orderId"]] == [o["orderId"] for o in open_orders]
    ok(session.amend_order(category=category, symbol=symbol, orderId=placed["orderId"], qty=qty))
    ok(session.cancel_order(category=category, symbol=symbol, orderLinkId=f"pybit-{category}"))
    history = ok(session.get_order_history(category=category, orderId=placed["orderId"]))
    assert "Cancelled" == history["list"][0]["orderStatus"]
    market_qty = "50" if category == "spot" else qty  # spot market buys are in USDT
    # The package's simulator is shared: another test may have left a position on it.
    before = signed_position(session, symbol) if category == "linear" else Decimal(0)
    market = ok(
        session.place_order(
            category=category, symbol=symbol, side="Buy", orderType="Market", qty=market_qty
        )
    )
    fills = ok(session.get_executions(category=category, orderId=market["orderId"]))["list"]
    assert fills and all(f["orderId"] == market["orderId"] for f in fills)
    if category == "linear":
        assert signed_position(session, symbol) == before + Decimal(qty)
        ok(
            session.set_leverage(
                category=category, symbol=symbol, buyLeverage="3", sellLeverage="3"
            )
        )
        assert (
            "3"
            == ok(session.get_positions(category=category, symbol=symbol))["list"][0]["leverage"]
        )
    fees = ok(session.get_fee_rates(category=category, symbol=symbol))["list"][0]
    assert Decimal(fees["takerFeeRate"]) > 0


def test_pybit_private_websocket_delivers_order_and_execution(
    sim_urls: Urls, private_ws: Any
) -> None:
    orders, executions = Inbox(), Inbox()
    private_ws.order_stream(callback=orders.put)
    private_ws.execution_stream(callback=executions.put)
    session = http(sim_urls)
    placed = ok(
        session.place_order(
            category="linear", symbol="ETHUSDT", side="Sell", orderType="Market", qty="0.1"
        )
    )
    (order_msg,) = orders.take(1)
    (exec_msg,) = executions.take(1)
    assert isinstance(order_msg, dict) and isinstance(exec_msg, dict)
    assert "order" == order_msg["topic"]
    assert placed["orderId"] == order_msg["data"][0]["orderId"]
    assert placed["orderId"] == exec_msg["data"][0]["orderId"]
    assert isinstance(exec_msg["data"][0]["seq"], int)


def test_pybit_websocket_trading_places_and_cancels(sim_urls: Urls, trade_ws: Any) -> None:
    session = http(sim_urls)
    price = below_touch(session, "linear", "ETHUSDT")
    replies, errors = Inbox(), Inbox()
    trade_ws.place_order(
        replies.put,
        errors.put,
        category="linear",
        symbol="ETHUSDT",
        side="Buy",
        orderType="Limit",
        qty="0.1",
        price=price,
        orderLinkId="pybit-ws-1",
    )
    (placed,) = replies.take(1)
    assert isinstance(placed, dict)
    assert ("order.create", "pybit-ws-1") == (placed["op"], placed["data"]["orderLinkId"])
    assert "X-Bapi-Limit-Status" in placed["header"]
    trade_ws.cancel_order(
        replies.put, errors.put, category="linear", symbol="ETHUSDT", orderLinkId="pybit-ws-1"
    )
    (cancelled,) = replies.take(1)
    assert isinstance(cancelled, dict) and 0 == cancelled["retCode"]
    trade_ws.cancel_order(
        replies.put, errors.put, category="linear", symbol="ETHUSDT", orderLinkId="pybit-ws-1"
    )
    (refused,) = errors.take(1)
    assert isinstance(refused, dict) and 110001 == refused["retCode"]
    order = ok(session.get_open_orders(category="linear", orderLinkId="pybit-ws-1"))["list"][0]
    assert "Cancelled" == order["orderStatus"]


def test_pybit_websocket_trading_batch_orders(sim_urls: Urls, trade_ws: Any) -> None:
    session = http(sim_urls)
    price = below_touch(session, "linear", "ETHUSDT")
    replies, errors = Inbox(), Inbox()
    order = {"symbol": "ETHUSDT", "side": "Buy", "orderType": "Limit", "qty": "0.1"}
    trade_ws.place_batch_order(
        replies.put,
        errors.put,
        category="linear",
        request=[
            {**order, "price": price, "orderLinkId": "pybit-b1"},
            {**order, "price": price, "orderLinkId": "pybit-b2"},
        ],
    )
    (placed,) = replies.take(1)
    assert isinstance(placed, dict) and 0 == placed["retCode"]
    assert [0, 0] == [e["code"] for e in placed["retExtInfo"]["list"]]
    assert ["pybit-b1", "pybit-b2"] == [o["orderLinkId"] for o in placed["data"]["list"]]
    trade_ws.cancel_batch_order(
        replies.put,
        errors.put,
        category="linear",
        request=[
            {"symbol": "ETHUSDT", "orderLinkId": "pybit-b1"},
            {"symbol": "ETHUSDT", "orderLinkId": "pybit-b2"},
        ],
    )
    (cancelled,) = replies.take(1)
    assert isinstance(cancelled, dict)
    assert [0, 0] == [e["code"] for e in cancelled["retExtInfo"]["list"]]


def test_pybit_meets_the_spot_and_linear_price_limits(sim_urls: Urls) -> None:
    # Bybit's defaults: spot refuses a limit price beyond its price limit (170193),
    # linear moves it to the limit (lpaSpot / lpaPerp false, Get Trade Behaviour Config).
    from pybit.exceptions import InvalidRequestError

    session = http(sim_urls)
    asks = {
        category: Decimal(ok(session.get_orderbook(category=category, symbol="BTCUSDT"))["a"][0][0])
        for category in ("spot", "linear")
    }
    far = {
        category: str((ask * Decimal("1.05")).quantize(Decimal("0.1")))
        for category, ask in asks.items()
    }
    order = {"symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", "qty": "0.001"}
    with pytest.raises(InvalidRequestError) as refused:
        session.place_order(category="spot", price=far["spot"], **order)
    assert 170193 == refused.value.status_code
    assert "Buy order price cannot be higher than" in refused.value.message
    placed = ok(session.place_order(category="linear", price=far["linear"], **order))
    history = session.get_order_history(category="linear", orderId=placed["orderId"])
    (moved,) = ok(history)["list"]
    assert Decimal(moved["price"]) < Decimal(far["linear"])  # at the limit, taken or resting
    session.cancel_all_orders(category="linear", symbol="BTCUSDT")
