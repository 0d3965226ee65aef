"""Binance order requests, signing of them, and REST answers (fixtures and docs examples)."""

from __future__ import annotations

import json
from decimal import Decimal
from urllib.parse import parse_qsl

import pytest

from connector.errors import (
    AuthenticationFailed,
    ExchangeRejected,
    InvalidOrder,
    IpBanned,
    MalformedMessage,
    OrderNotFound,
    OrderRejected,
    RateLimited,
    ServiceUnavailable,
    TimestampRejected,
    UnknownSymbol,
)
from connector.model import (
    AmendOrder,
    Liquidity,
    Market,
    Order,
    OrderStatus,
    OrderType,
    PlaceOrder,
    Side,
    Symbol,
    SymbolKind,
    TimeInForce,
)
from connector.model.credentials import Credentials
from connector.model.trading import OrderReport
from connector.venues.binance.trading import BinanceTrading
from connector.venues.driver import FillsWindow, RestCall, TradingAdapter
from connector.venues.registry import driver_for
from tests.venues.binance.trading_data import (
    LINEAR_BTC,
    MS,
    NT,
    NT_PY,
    SPOT_BTC,
    fixture_bytes,
    symbol_map,
)

USDM_SECRET = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9"
BTC_SPOT = Symbol("BTC", "USDT", SymbolKind.SPOT)
BTC_PERP = Symbol("BTC", "USDT", SymbolKind.PERP)


def adapter(secret: str = USDM_SECRET) -> BinanceTrading:
    return BinanceTrading(Credentials(api_key="key", api_secret=secret))


def place(**kw: object) -> PlaceOrder:
    fields: dict[str, object] = {
        "venue": "binance",
        "symbol": BTC_SPOT,
        "side": Side.BUY,
        "type": OrderType.LIMIT,
        "qty": Decimal("0.010"),
        "price": Decimal("50000.00"),
        "client_order_id": "abc123",
    }
    fields.update(kw)
    return PlaceOrder(**fields)  # type: ignore[arg-type]


def order(**kw: object) -> Order:
    fields: dict[str, object] = {
        "venue": "binance",
        "symbol": BTC_PERP,
        "client_order_id": "abc123",
        "side": Side.SELL,
        "type": OrderType.LIMIT,
        "qty": Decimal("0.010"),
        "price": Decimal("50000"),
    }
    fields.update(kw)
    return Order(**fields)  # type: ignore[arg-type]


# Requests ------------------------------------------------------------------------


def test_spot_limit_order_is_a_signed_post_with_the_documented_params() -> None:
    call = adapter().place_order_call(Market.SPOT, SPOT_BTC, place())

    assert ("POST", "/api/v3/order", True) == (call.method, call.path, call.signed)
    assert {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "0.01",
        "price": "50000",
        "newClientOrderId": "abc123",
        "newOrderRespType": "RESULT",
    } == dict(call.params)
    assert {"weight": 1} == dict(call.weights)


def test_post_only_is_limit_maker_on_spot_and_gtx_on_usdm() -> None:
    spot = adapter().place_order_call(
        Market.SPOT, SPOT_BTC, place(time_in_force=TimeInForce.POST_ONLY)
    )
    usdm = adapter().place_order_call(
        Market.LINEAR, LINEAR_BTC, place(symbol=BTC_PERP, time_in_force=TimeInForce.POST_ONLY)
    )

    assert "LIMIT_MAKER" == spot.params["type"]
    assert "timeInForce" not in spot.params
    assert ("LIMIT", "GTX") == (usdm.params["type"], usdm.params["timeInForce"])
    assert "/fapi/v1/order" == usdm.path
    assert {"weight": 0} == dict(usdm.weights)


def test_market_reduce_only_on_usdm() -> None:
    call = adapter().place_order_call(
        Market.LINEAR,
        LINEAR_BTC,
        place(symbol=BTC_PERP, type=OrderType.MARKET, price=None, reduce_only=True),
    )

    assert ("MARKET", "true") == (call.params["type"], call.params["reduceOnly"])
    assert "price" not in call.params and "timeInForce" not in call.params


@pytest.mark.parametrize(
    ("market", "kw", "words"),
    [
        (Market.SPOT, {"reduce_only": True}, "reduce-only"),
        (Market.SPOT, {"qty": Decimal("0.0105")}, "lot step"),
        (Market.SPOT, {"price": None}, "needs a price"),
        (Market.SPOT, {"type": OrderType.MARKET}, "takes no price"),
        (Market.LINEAR, {"qty": Decimal(0)}, "must be positive"),
    ],
)
def test_orders_binance_cannot_take_are_refused_before_sending(
    market: Market, kw: dict[str, object], words: str
) -> None:
    instrument = SPOT_BTC if market is Market.SPOT else LINEAR_BTC
    with pytest.raises(InvalidOrder, match=words):
        adapter().place_order_call(market, instrument, place(**kw))


def test_cancel_and_query_name_the_order_by_orig_client_order_id() -> None:
    a = adapter()
    cancel = a.cancel_order_call(Market.SPOT, SPOT_BTC, "abc123")
    query = a.query_order_call(Market.LINEAR, LINEAR_BTC, "abc123")

    assert ("DELETE", "/api/v3/order") == (cancel.method, cancel.path)
    assert ("GET", "/fapi/v1/order") == (query.method, query.path)
    for call in (cancel, query):
        assert {"symbol": "BTCUSDT", "origClientOrderId": "abc123"} == dict(call.params)
    assert {"weight": 4} == dict(a.query_order_call(Market.SPOT, SPOT_BTC, "x").weights)


def test_an_order_and_its_fills_are_read_by_the_venue_order_id() -> None:
    """Reconciliation reads by ``orderId`` the order of a fill ``myTrades`` listed without
    a client id, and the fills of an order missing some (spot weight 5 with an orderId)."""
    a = adapter()
    spot = a.query_order_by_venue_id_call(Market.SPOT, SPOT_BTC, "12345")
    linear = a.query_order_by_venue_id_call(Market.LINEAR, LINEAR_BTC, "12345")
    assert ("GET", "/api/v3/order", {"weight": 4}) == (spot.method, spot.path, dict(spot.weights))
    assert ("GET", "/fapi/v1/order") == (linear.method, linear.path)
    for call in (spot, linear):
        assert {"symbol": "BTCUSDT", "orderId": "12345"} == dict(call.params)
    fills = a.order_fills_call(Market.SPOT, SPOT_BTC, "12345")
    assert ("/api/v3/myTrades", {"weight": 5}) == (fills.path, dict(fills.weights))
    assert {"symbol": "BTCUSDT", "orderId": "12345", "limit": 1000} == dict(fills.params)
    assert "/fapi/v1/userTrades" == a.order_fills_call(Market.LINEAR, LINEAR_BTC, "1").path


def test_open_orders_cover_every_symbol_and_fills_need_one() -> None:
    a = adapter()
    assert {} == dict(a.open_orders_call(Market.SPOT).params)
    assert "/fapi/v1/openOrders" == a.open_orders_call(Market.LINEAR).path
    with pytest.raises(ValueError, match="per symbol only"):
        a.fills_call(Market.SPOT, None, None)
    fills = a.fills_call(Market.LINEAR, LINEAR_BTC, 1_700_000_000_123_456_789)
    assert "/fapi/v1/userTrades" == fills.path
    assert {"symbol": "BTCUSDT", "startTime": 1_700_000_000_123, "limit": 1000} == dict(
        fills.params
    )
    assert "/api/v3/myTrades" == a.fills_call(Market.SPOT, SPOT_BTC, None).path
    # userTrades answers 7 days from startTime; myTrades with startTime alone has no span.
    assert isinstance(a, FillsWindow)
    assert (7 * 86_400 * 10**9, None) == (
        a.fills_window_ns(Market.LINEAR),
        a.fills_window_ns(Market.SPOT),
    )


def test_account_calls() -> None:
    a = adapter()
    assert "/api/v3/account" == a.balances_call(Market.SPOT).path
    assert "/fapi/v3/balance" == a.balances_call(Market.LINEAR).path
    assert a.positions_call(Market.SPOT) is None
    positions = a.positions_call(Market.LINEAR)
    assert positions is not None and "/fapi/v3/positionRisk" == positions.path


def test_spot_amend_lowers_quantity_keeping_priority_and_the_client_id() -> None:
    current = order(symbol=BTC_SPOT, qty=Decimal("0.010"))
    amend = AmendOrder(
        venue="binance", symbol=BTC_SPOT, client_order_id="abc123", qty=Decimal("0.004")
    )

    call = adapter().amend_order_call(Market.SPOT, SPOT_BTC, amend, current)

    assert ("PUT", "/api/v3/order/amend/keepPriority") == (call.method, call.path)
    assert {
        "symbol": "BTCUSDT",
        "origClientOrderId": "abc123",
        "newClientOrderId": "abc123",
        "newQty": "0.004",
    } == dict(call.params)


@pytest.mark.parametrize(
    ("qty", "price", "words"),
    [
        (None, Decimal("49000"), "price in place"),
        (Decimal("0.020"), None, "only lower"),
        (None, None, "changes qty or price"),
    ],
)
def test_spot_amends_binance_cannot_do_are_refused(
    qty: Decimal | None, price: Decimal | None, words: str
) -> None:
    amend = AmendOrder(venue="binance", symbol=BTC_SPOT, client_order_id="a", qty=qty, price=price)
    with pytest.raises(InvalidOrder, match=words):
        adapter().amend_order_call(Market.SPOT, SPOT_BTC, amend, order(symbol=BTC_SPOT))


def test_usdm_modify_sends_side_quantity_and_price_every_time() -> None:
    amend = AmendOrder(
        venue="binance", symbol=BTC_PERP, client_order_id="abc123", price=Decimal("49000.50")
    )

    call = adapter().amend_order_call(Market.LINEAR, LINEAR_BTC, amend, order())

    assert ("PUT", "/fapi/v1/order") == (call.method, call.path)
    assert {"weight": 1} == dict(call.weights)  # Modify Order: 1 on the IP weight too
    assert {
        "symbol": "BTCUSDT",
        "origClientOrderId": "abc123",
        "side": "SELL",
        "quantity": "0.01",
        "price": "49000.5",
    } == dict(call.params)
    with pytest.raises(InvalidOrder, match="limit orders"):
        adapter().amend_order_call(
            Market.LINEAR, LINEAR_BTC, amend, order(type=OrderType.MARKET, price=None)
        )


# Signing ---------------------------------------------------------------------------


def test_sign_reproduces_the_usdm_docs_signature() -> None:
    """signatures.json ``binance-usdm-rest-hmac`` (published in the USDⓈ-M docs)."""
    call = RestCall(
        method="POST",
        path="/fapi/v1/order",
        params={
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "LIMIT",
            "quantity": "1",
            "price": "9000",
            "timeInForce": "GTC",
        },
        signed=True,
    )
    a = BinanceTrading(Credentials(api_key="key", api_secret=USDM_SECRET), recv_window_ms=5000)

    signed = a.sign(call, 1591702613943 * MS)

    assert signed.query == (
        "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC"
        "&recvWindow=5000&timestamp=1591702613943"
        "&signature=3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9"
    )
    assert signed.body is None
    assert {"X-MBX-APIKEY": "key"} == dict(signed.headers)


def test_sign_percent_encodes_what_it_signs() -> None:
    call = adapter().place_order_call(Market.SPOT, SPOT_BTC, place(client_order_id="a-b_c"))
    signed = adapter().sign(call, 1_000 * MS)
    pairs = dict(parse_qsl(signed.query))
    assert ("1000", "a-b_c") == (pairs["timestamp"], pairs["newClientOrderId"])
    assert signed.query.index("timestamp") < signed.query.index("signature")


def test_listen_key_requests_carry_the_api_key_only() -> None:
    a = adapter()
    stream = a.private_streams([Market.LINEAR])[0]
    signed = a.sign(a.listen_key_call(stream, "keepalive", "k1"), 5 * MS)
    assert ("PUT", "listenKey=k1") == (signed.method, signed.query)
    assert {"X-MBX-APIKEY": "key"} == dict(signed.headers)


def test_driver_for_with_credentials_trades() -> None:
    driver = driver_for("binance", credentials=Credentials(api_key="k", api_secret="s"))
    trading: TradingAdapter | None = driver.trading
    assert isinstance(trading, BinanceTrading)
    assert driver_for("binance").trading is None


# Answers ----------------------------------------------------------------------------


def answer(market: Market, body: bytes, status: int = 200, action: str = "place") -> OrderReport:
    return adapter().parse_order_answer(
        market, symbol_map(), status, body, 7, action=action, client_order_id="abc123"
    )


def test_spot_order_answer() -> None:
    report = answer(Market.SPOT, fixture_bytes(f"{NT}/spot/http_json/order_response.json"))

    assert report == adapter().parse_order_answer(
        Market.SPOT,
        symbol_map(),
        200,
        fixture_bytes(f"{NT}/spot/http_json/order_response.json"),
        7,
        action="query",
        client_order_id="abc123",
    )
    assert (
        "myOrder1",
        "1",
        OrderStatus.NEW,
        Decimal("1.0"),
        Decimal("0.1"),
        Decimal(0),
        None,
        1499827319559 * MS,
    ) == (
        report.client_order_id,
        report.venue_order_id,
        report.status,
        report.qty,
        report.price,
        report.filled_qty,
        report.avg_fill_price,
        report.ts_event_ns,
    )


def test_spot_full_market_answer_has_the_average_price() -> None:
    report = answer(Market.SPOT, fixture_bytes(f"{NT}/spot/http_json/new_order_full_response.json"))

    assert OrderStatus.FILLED == report.status
    assert OrderType.MARKET == report.type
    assert report.price is None
    assert Decimal(1) == report.avg_fill_price


def test_spot_cancel_answer_keeps_our_id_not_the_cancels() -> None:
    body = fixture_bytes(f"{NT}/spot/http_json/cancel_order_response.json")
    report = answer(Market.SPOT, body, action="cancel")

    assert ("myOrder1", OrderStatus.CANCELED) == (report.client_order_id, report.status)


def test_spot_cancel_all_answer_reports_every_order_an_order_lists_too() -> None:
    body = fixture_bytes(f"{NT}/spot/http_json/cancel_open_orders_response.json")
    reports = adapter().parse_cancel_all_answer(Market.SPOT, symbol_map(), 200, body, 7)

    assert [
        ("E6APeyTJvkMvLMYMqu1KQ4", "11"),
        ("A3EF2HCwxgZPFMrfwbgrhv", "13"),
        ("CwOOIPHSmYywx6jZX77TdL", "20"),  # the OCO's two orders, from its orderReports
        ("461cPg51vQjV3zIMOXNz39", "21"),
    ] == [(r.client_order_id, r.venue_order_id) for r in reports]
    assert {OrderStatus.CANCELED} == {r.status for r in reports}


def test_cancel_all_request_per_market() -> None:
    spot = symbol_map().by_symbol(Market.SPOT, BTC_SPOT)
    [(call, counted)] = adapter().cancel_all_calls(Market.SPOT, spot, ["a", "b"])
    assert 1 == counted
    assert ("DELETE", "/api/v3/openOrders", {"symbol": "BTCUSDT"}, True) == (
        call.method,
        call.path,
        dict(call.params),
        call.signed,
    )
    perp = symbol_map().by_symbol(Market.LINEAR, BTC_PERP)
    [(call, _)] = adapter().cancel_all_calls(Market.LINEAR, perp, ["a", "b"])
    assert ("DELETE", "/fapi/v1/allOpenOrders", {"symbol": "BTCUSDT"}) == (
        call.method,
        call.path,
        dict(call.params),
    )
    # USDⓈ-M answers with a message (the docs' example), the stream tells each order's end.
    done = b'{"code": 200, "msg": "The operation of cancel all open order is done."}'
    assert [] == adapter().parse_cancel_all_answer(Market.LINEAR, symbol_map(), 200, done, 7)
    with pytest.raises(OrderNotFound):  # nothing open: the venue's -2011
        adapter().parse_cancel_all_answer(
            Market.SPOT, symbol_map(), 400, b'{"code":-2011,"msg":"Unknown order sent."}', 7
        )


def test_usdm_order_answer() -> None:
    report = answer(Market.LINEAR, fixture_bytes(f"{NT}/futures/http_json/order_response.json"))

    assert (BTC_PERP, "testOrder123", Decimal("0.001"), Decimal("50000.00"), False) == (
        report.symbol,
        report.client_order_id,
        report.qty,
        report.price,
        report.reduce_only,
    )


def test_spot_amend_answer_docs_example() -> None:
    """Spot REST docs, ``PUT /api/v3/order/amend/keepPriority`` response example."""
    body = json.dumps(
        {
            "transactTime": 1741926410255,
            "executionId": 75,
            "amendedOrder": {
                "symbol": "BTCUSDT",
                "orderId": 33,
                "orderListId": -1,
                "origClientOrderId": "5xrgbMyg6z36NzBn2pbT8H",
                "clientOrderId": "PFaq6hIHxqFENGfdtn4J6Q",
                "price": "6.00000000",
                "qty": "5.00000000",
                "executedQty": "0.00000000",
                "preventedQty": "0.00000000",
                "quoteOrderQty": "0.00000000",
                "cumulativeQuoteQty": "0.00000000",
                "status": "NEW",
                "timeInForce": "GTC",
                "type": "LIMIT",
                "side": "SELL",
                "workingTime": 1741926410242,
                "selfTradePreventionMode": "NONE",
            },
        }
    ).encode()
    report = answer(Market.SPOT, body, action="amend")

    assert (Decimal(5), 1741926410255 * MS, "5xrgbMyg6z36NzBn2pbT8H") == (
        report.qty,
        report.ts_event_ns,
        report.client_order_id,
    )


def error(code: int, msg: str) -> bytes:
    return json.dumps({"code": code, "msg": msg}).encode()


@pytest.mark.parametrize(
    ("status", "body", "action", "expected"),
    [
        (400, error(-2010, "Account has insufficient balance for requested action."), "place",
         OrderRejected),
        (400, error(-5022, "Due to the order could not be executed as maker"), "place",
         OrderRejected),
        (400, error(-2010, "Duplicate order sent."), "cancel", ExchangeRejected),
        (400, error(-2013, "Order does not exist."), "query", OrderNotFound),
        (400, error(-2011, "Unknown order sent."), "cancel", OrderNotFound),
        (400, error(-2011, "Order was not canceled due to cancel restrictions."), "cancel",
         ExchangeRejected),
        (500, error(-1007, "Timeout waiting for response from backend server."), "place",
         ServiceUnavailable),
        (400, error(-1006, "An unexpected response was received from the message bus."), "place",
         ServiceUnavailable),
        (503, b"Unknown error, please check your request or try again later.", "place",
         ServiceUnavailable),
        (502, b"<html>bad gateway</html>", "cancel", ServiceUnavailable),
        (404, b"<html>404 Not Found</html>", "place", OrderRejected),
        (403, b"<html>Forbidden</html>", "cancel", ExchangeRejected),
        (408, b"", "place", ServiceUnavailable),
        (400, error(-1021, "Timestamp for this request is outside of the recvWindow."), "place",
         TimestampRejected),
        (401, error(-2015, "Invalid API-key, IP, or permissions for action."), "query",
         AuthenticationFailed),
        (429, error(-1015, "Too many new orders; current limit is 100 orders per 10 SECOND."),
         "place", RateLimited),
        (418, error(-1003, "Way too many requests; IP banned."), "place", IpBanned),
        (503, error(-1008, "Request throttled by system-level protection."), "place",
         RateLimited),
    ],
)  # fmt: skip
def test_error_answers_are_classified(
    status: int, body: bytes, action: str, expected: type[Exception]
) -> None:
    with pytest.raises(expected) as caught:
        answer(Market.LINEAR, body, status, action)
    assert type(caught.value) is expected
    if expected is OrderRejected:
        assert isinstance(caught.value, OrderRejected)
        assert "abc123" == caught.value.client_order_id
        assert caught.value.code in (-2010, -5022, 404)


def test_an_unreadable_success_is_malformed_and_a_foreign_symbol_unknown() -> None:
    with pytest.raises(MalformedMessage):
        answer(Market.SPOT, b'{"orderId": 1}')
    body = fixture_bytes(f"{NT}/spot/http_json/order_response.json").replace(b"LTCBTC", b"XRPBTC")
    with pytest.raises(UnknownSymbol):
        answer(Market.SPOT, body)
    with pytest.raises(ValueError, match="action"):
        answer(Market.SPOT, error(-2013, "x"), 400, "replace")


def test_open_orders() -> None:
    a, table = adapter(), symbol_map()
    spot = a.parse_open_orders(
        Market.SPOT, table, fixture_bytes(f"{NT}/spot/http_json/open_orders_response.json"), 1
    )
    usdm_body = fixture_bytes(f"{NT_PY}/http_responses/http_futures_account_orders.json")
    usdm = a.parse_open_orders(Market.LINEAR, table, usdm_body, 1)

    assert ["myOrder1"] == [r.client_order_id for r in spot]
    assert [(OrderType.MARKET, Side.BUY, OrderStatus.NEW)] == [
        (r.type, r.side, r.status) for r in usdm
    ]
    assert [] == a.parse_open_orders(
        Market.SPOT, table, fixture_bytes(f"{NT}/spot/http_json/open_orders_response.json").replace(
            b"LTCBTC", b"XRPBTC"), 1
    )  # fmt: skip


def test_fills() -> None:
    a, table = adapter(), symbol_map()
    spot = a.parse_fills(
        Market.SPOT, table, fixture_bytes(f"{NT}/spot/http_json/account_trades_response.json"), 9
    )
    usdm_body = fixture_bytes(f"{NT_PY}/http_responses/http_futures_account_trades.json")
    usdm = a.parse_fills(Market.LINEAR, table, usdm_body, 9)

    [f] = spot
    assert ("28457", "100234", Side.BUY, Decimal("12.00000000"), Decimal("10.10000000"), "BNB") == (
        f.trade_id, f.venue_order_id, f.side, f.qty, f.fee, f.fee_asset
    )  # fmt: skip
    assert (Liquidity.TAKER, 1499865549590 * MS, 9) == (f.liquidity, f.ts_event_ns, f.ts_recv_ns)
    assert [("82357626", Side.SELL), ("82357629", Side.BUY)] == [(f.trade_id, f.side) for f in usdm]
    assert Decimal("0.00555800") == usdm[1].fee


def test_balances() -> None:
    a = adapter()
    spot = a.parse_balances(
        Market.SPOT, fixture_bytes(f"{NT}/spot/http_json/account_response.json"), 1
    )
    usdm = a.parse_balances(Market.LINEAR, fixture_bytes(f"{NT}/futures/http_json/balance.json"), 1)

    assert [
        ("BTC", Decimal("4723846.89208129"), Decimal(0)),
        ("LTC", Decimal("4763368.68006011"), Decimal(0)),
    ] == [(b.asset, b.free, b.locked) for b in spot]
    assert [("USDT", Decimal("122.12345678"), 1617939110373 * MS)] == [
        (b.asset, b.free, b.ts_event_ns) for b in usdm
    ]


def test_positions() -> None:
    a, table = adapter(), symbol_map()
    [held] = a.parse_positions(
        Market.LINEAR, table, fixture_bytes(f"{NT}/futures/http_json/position_risk.json"), 1
    )
    [flat] = a.parse_positions(
        Market.LINEAR, table,
        fixture_bytes(f"{NT_PY}/http_responses/http_futures_account_positions_one_way.json"), 1,
    )  # fmt: skip

    assert (BTC_PERP, Decimal("0.001"), Decimal("50000.0")) == (
        held.symbol,
        held.qty,
        held.avg_entry_price,
    )
    assert (Decimal(0), None) == (flat.qty, flat.avg_entry_price)
    with pytest.raises(MalformedMessage, match="hedge mode"):
        a.parse_positions(
            Market.LINEAR, table,
            fixture_bytes(f"{NT_PY}/http_responses/http_futures_account_positions_hedge.json"), 1,
        )  # fmt: skip
    assert [] == a.parse_positions(Market.SPOT, table, b"[]", 1)
