"""Bybit v5 order requests and answers (connector/venues/bybit/orders.py via BybitTrading)."""

from __future__ import annotations

import hashlib
import hmac
import json
from decimal import Decimal

import pytest

from connector.errors import (
    AuthenticationFailed,
    ConfigError,
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
    TimeInForce,
)
from connector.model.credentials import Credentials, KeyType
from connector.model.venues import venue_facts
from connector.venues.bybit.trading import BybitTrading
from connector.venues.driver import FillsWindow, PagedListings
from connector.venues.registry import driver_for
from tests.venues.bybit.trading_helpers import (
    BTC_LINEAR,
    BTC_SPOT,
    CREDENTIALS,
    ETH_LINEAR,
    body,
    nt,
    symbols,
)

MS = 1_000_000
ED25519_PEM = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIE4rJ0goma1nbu1d8T1dp//0pe40jnf8tghwRhsSY4Bk\n"
    "-----END PRIVATE KEY-----\n"
)


def _order(**kw: object) -> PlaceOrder:
    fields: dict[str, object] = {
        "venue": "bybit",
        "symbol": BTC_LINEAR.symbol,
        "side": Side.BUY,
        "type": OrderType.LIMIT,
        "qty": Decimal("0.010"),
        "price": Decimal("30000.50"),
        "client_order_id": "abc123",
    }
    fields.update(kw)
    return PlaceOrder(**fields)  # type: ignore[arg-type]


def _current(**kw: object) -> Order:
    fields: dict[str, object] = {
        "venue": "bybit",
        "symbol": BTC_LINEAR.symbol,
        "client_order_id": "abc123",
        "side": Side.BUY,
        "type": OrderType.LIMIT,
        "qty": Decimal("0.010"),
        "price": Decimal("30000.50"),
        "venue_order_id": "42",
        "status": OrderStatus.PARTIALLY_FILLED,
        "filled_qty": Decimal("0.004"),
        "avg_fill_price": Decimal("30000.50"),
    }
    fields.update(kw)
    return Order(**fields)  # type: ignore[arg-type]


def _json(call_body: bytes | None) -> dict[str, object]:
    assert call_body is not None
    out: dict[str, object] = json.loads(call_body)
    return out


# Requests -------------------------------------------------------------------


def test_limit_order_request() -> None:
    call = BybitTrading(CREDENTIALS).place_order_call(Market.LINEAR, BTC_LINEAR, _order())
    assert (call.method, call.path, call.signed) == ("POST", "/v5/order/create", True)
    assert _json(call.body) == {
        "category": "linear",
        "symbol": "BTCUSDT",
        "side": "Buy",
        "orderType": "Limit",
        "qty": "0.01",
        "price": "30000.5",
        "timeInForce": "GTC",
        "orderLinkId": "abc123",
    }
    assert call.weights == {"ip": 1.0, "order:create": 1.0}


def test_post_only_reduce_only_linear() -> None:
    order = _order(time_in_force=TimeInForce.POST_ONLY, reduce_only=True, side=Side.SELL)
    call = BybitTrading(CREDENTIALS).place_order_call(Market.LINEAR, BTC_LINEAR, order)
    payload = _json(call.body)
    assert payload["timeInForce"] == "PostOnly"
    assert payload["reduceOnly"] is True
    assert payload["side"] == "Sell"


def test_spot_market_buy_is_sent_in_base_units() -> None:
    order = _order(symbol=BTC_SPOT.symbol, type=OrderType.MARKET, price=None, qty=Decimal("0.0015"))
    payload = _json(BybitTrading(CREDENTIALS).place_order_call(Market.SPOT, BTC_SPOT, order).body)
    assert payload["marketUnit"] == "baseCoin"
    assert payload["qty"] == "0.0015"
    assert payload["timeInForce"] == "IOC"
    assert "price" not in payload and payload["category"] == "spot"


@pytest.mark.parametrize(
    ("kw", "market", "instrument", "words"),
    [
        ({"qty": Decimal("0.0105")}, Market.LINEAR, BTC_LINEAR, "whole number of lots"),
        ({"client_order_id": "bad id!"}, Market.LINEAR, BTC_LINEAR, "client order id"),
        ({"client_order_id": "x" * 37}, Market.LINEAR, BTC_LINEAR, "client order id"),
        ({"price": None}, Market.LINEAR, BTC_LINEAR, "needs a price"),
        ({"reduce_only": True}, Market.SPOT, BTC_SPOT, "reduce-only"),
        ({"qty": Decimal(0)}, Market.LINEAR, BTC_LINEAR, "positive"),
    ],
)
def test_invalid_orders(
    kw: dict[str, object], market: Market, instrument: object, words: str
) -> None:
    with pytest.raises(InvalidOrder, match=words):
        BybitTrading(CREDENTIALS).place_order_call(market, instrument, _order(**kw))  # type: ignore[arg-type]


def test_cancel_all_request_and_its_acknowledgement() -> None:
    t = BybitTrading(CREDENTIALS)
    [(call, counted)] = t.cancel_all_calls(Market.LINEAR, BTC_LINEAR, ["a", "b"])
    assert 1 == counted
    assert ("POST", "/v5/order/cancel-all") == (call.method, call.path)
    assert {"category": "linear", "symbol": "BTCUSDT"} == _json(call.body)
    # Shaped as the docs describe it: the ids accepted to cancel, not their ends (those come on
    # the private stream, or by reading the orders back).
    ack = json.dumps(
        {
            "retCode": 0,
            "retMsg": "OK",
            "result": {
                "list": [
                    {"orderId": "1616024329462743808", "orderLinkId": "1616024329462743809"},
                    {"orderId": "1616024287544869632", "orderLinkId": "1616024287544869633"},
                ],
                "success": "1",
            },
            "retExtInfo": {},
            "time": 1707381118116,
        }
    ).encode()
    assert [] == t.parse_cancel_all_answer(Market.LINEAR, symbols(), 200, ack, 5)
    refused = b'{"retCode":10001,"retMsg":"params error","result":{},"retExtInfo":{},"time":1}'
    with pytest.raises(ExchangeRejected, match="10001"):
        t.parse_cancel_all_answer(Market.LINEAR, symbols(), 200, refused, 5)


def test_cancel_amend_query_requests() -> None:
    t = BybitTrading(CREDENTIALS)
    cancel = t.cancel_order_call(Market.LINEAR, BTC_LINEAR, "abc123")
    assert cancel.path == "/v5/order/cancel"
    expected = {"category": "linear", "symbol": "BTCUSDT", "orderLinkId": "abc123"}
    assert _json(cancel.body) == expected
    amend = t.amend_order_call(
        Market.LINEAR,
        BTC_LINEAR,
        AmendOrder(
            venue="bybit", symbol=BTC_LINEAR.symbol, client_order_id="abc123", qty=Decimal("0.02")
        ),
        _current(),
    )
    assert _json(amend.body) == {
        "category": "linear",
        "symbol": "BTCUSDT",
        "orderLinkId": "abc123",
        "qty": "0.02",
    }
    with pytest.raises(InvalidOrder):
        t.amend_order_call(
            Market.LINEAR,
            BTC_LINEAR,
            AmendOrder(venue="bybit", symbol=BTC_LINEAR.symbol, client_order_id="abc123"),
            _current(),
        )
    query = t.query_order_call(Market.SPOT, BTC_SPOT, "abc123")
    assert (query.method, query.path) == ("GET", "/v5/order/realtime")
    assert dict(query.params) == {"category": "spot", "symbol": "BTCUSDT", "orderLinkId": "abc123"}


def test_listing_requests() -> None:
    t = BybitTrading(CREDENTIALS)
    assert dict(t.open_orders_call(Market.LINEAR).params)["settleCoin"] == "USDT"
    assert "settleCoin" not in t.open_orders_call(Market.SPOT).params
    fills = t.fills_call(Market.SPOT, None, 1_700_000_000_123 * MS)
    assert fills.path == "/v5/execution/list"
    assert dict(fills.params)["startTime"] == 1_700_000_000_123
    # execution/list takes no settleCoin (BYDOCS order/execution.mdx): every linear symbol.
    linear = t.fills_call(Market.LINEAR, None, None)
    assert {"category": "linear", "limit": 100} == dict(linear.params)
    assert isinstance(t, FillsWindow) and 7 * 86_400 * 10**9 == t.fills_window_ns(Market.SPOT)
    assert dict(t.balances_call(Market.SPOT).params) == {"accountType": "UNIFIED"}
    assert t.positions_call(Market.SPOT) is None
    positions = t.positions_call(Market.LINEAR)
    assert positions is not None and positions.path == "/v5/position/list"


def test_an_order_and_its_fills_are_read_by_the_venue_order_id() -> None:
    t = BybitTrading(CREDENTIALS)
    query = t.query_order_by_venue_id_call(Market.LINEAR, BTC_LINEAR, "ab-1")
    assert (query.path, dict(query.params)) == (
        "/v5/order/realtime",
        {"category": "linear", "symbol": "BTCUSDT", "orderId": "ab-1"},
    )
    fills = t.order_fills_call(Market.SPOT, BTC_SPOT, "ab-1")
    assert (fills.path, dict(fills.params)) == (
        "/v5/execution/list",
        {"category": "spot", "symbol": "BTCUSDT", "orderId": "ab-1", "limit": 100},
    )


def test_sign_get_and_post() -> None:
    t = BybitTrading(CREDENTIALS)
    now = 1_700_000_000_000 * MS
    get = t.sign(t.query_order_call(Market.SPOT, BTC_SPOT, "abc"), now)
    assert get.query == "category=spot&symbol=BTCUSDT&orderLinkId=abc"
    payload = f"1700000000000{CREDENTIALS.api_key}5000{get.query}".encode()
    expected = hmac.new(CREDENTIALS.api_secret.encode(), payload, hashlib.sha256).hexdigest()
    assert get.headers["X-BAPI-SIGN"] == expected
    call = t.place_order_call(Market.LINEAR, BTC_LINEAR, _order())
    post = t.sign(call, now)
    assert post.body == call.body and post.query == ""
    assert post.headers["Content-Type"] == "application/json"
    assert call.body is not None
    payload = f"1700000000000{CREDENTIALS.api_key}5000".encode() + call.body
    expected = hmac.new(CREDENTIALS.api_secret.encode(), payload, hashlib.sha256).hexdigest()
    assert post.headers["X-BAPI-SIGN"] == expected


# Answers --------------------------------------------------------------------


def test_place_ack_reports_what_was_asked() -> None:
    t = BybitTrading(CREDENTIALS)
    t.place_order_call(Market.LINEAR, BTC_LINEAR, _order())
    answer = body(
        {
            "retCode": 0,
            "retMsg": "OK",
            "result": {"orderId": "1321003749386327552", "orderLinkId": "abc123"},
            "retExtInfo": {},
            "time": 1672211918471,
        }
    )
    report = t.parse_order_answer(
        Market.LINEAR, symbols(), 200, answer, 5, action="place", client_order_id="abc123"
    )
    assert report.status is OrderStatus.NEW
    assert report.venue_order_id == "1321003749386327552"
    assert (report.qty, report.price) == (Decimal("0.010"), Decimal("30000.50"))
    assert report.side is Side.BUY
    assert report.ts_event_ns == 1672211918471 * MS and report.ts_recv_ns == 5
    # a cancel acknowledgement keeps the placement's values and does not move the status
    t.cancel_order_call(Market.LINEAR, BTC_LINEAR, "abc123")
    canceled = t.parse_order_answer(
        Market.LINEAR, symbols(), 200, answer, 6, action="cancel", client_order_id="abc123"
    )
    assert (canceled.qty, canceled.status) == (Decimal("0.010"), OrderStatus.NEW)
    # an amend acknowledgement reports the order as known, with the new values
    amend = AmendOrder(
        venue="bybit", symbol=BTC_LINEAR.symbol, client_order_id="abc123", price=Decimal(29000)
    )
    t.amend_order_call(Market.LINEAR, BTC_LINEAR, amend, _current())
    amended = t.parse_order_answer(
        Market.LINEAR, symbols(), 200, answer, 7, action="amend", client_order_id="abc123"
    )
    assert (amended.status, amended.filled_qty) == (OrderStatus.PARTIALLY_FILLED, Decimal("0.004"))
    assert (amended.price, amended.qty) == (Decimal(29000), Decimal("0.010"))


def test_ack_for_an_order_never_asked_is_malformed() -> None:
    answer = body({"retCode": 0, "result": {"orderId": "1", "orderLinkId": "zzz"}})
    with pytest.raises(MalformedMessage, match="query it"):
        BybitTrading(CREDENTIALS).parse_order_answer(
            Market.LINEAR, symbols(), 200, answer, 0, action="place", client_order_id="zzz"
        )


def test_query_answer_from_the_realtime_list() -> None:
    """nautilus http_get_orders_realtime.json: the first open order."""
    report = BybitTrading(CREDENTIALS).parse_order_answer(
        Market.LINEAR,
        symbols(),
        200,
        nt("http_get_orders_realtime.json"),
        7,
        action="query",
        client_order_id="client-open-1",
    )
    assert report.client_order_id == "client-open-1"
    assert report.venue_order_id == "open-order-1"
    assert report.symbol == ETH_LINEAR.symbol
    assert (report.status, report.side, report.type) == (OrderStatus.NEW, Side.BUY, OrderType.LIMIT)
    assert (report.qty, report.price, report.filled_qty) == (
        Decimal("0.010"),
        Decimal("3930.41"),
        Decimal(0),
    )
    assert report.avg_fill_price is None
    assert report.ts_event_ns == 1761355905606 * MS


def test_query_of_an_unknown_order() -> None:
    empty = body({"retCode": 0, "result": {"list": [], "category": "linear"}})
    with pytest.raises(OrderNotFound) as refused:
        BybitTrading(CREDENTIALS).parse_order_answer(
            Market.LINEAR, symbols(), 200, empty, 0, action="query", client_order_id="x"
        )
    assert "bybit has no order x: not in its order listing" == str(refused.value)


def test_open_orders_fixture() -> None:
    reports = BybitTrading(CREDENTIALS).parse_open_orders(
        Market.LINEAR, symbols(), nt("http_get_orders_realtime.json"), 0
    )
    assert [r.client_order_id for r in reports][:2] == ["client-open-1", "client-open-2"]
    assert reports[1].side is Side.SELL


def test_partially_filled_rejected_fixture() -> None:
    """nautilus http_get_order_partially_filled_rejected.json: Rejected after a fill is canceled."""
    raw = nt("http_get_order_partially_filled_rejected.json")
    item = json.loads(raw)["result"]["list"][0]
    reports = BybitTrading(CREDENTIALS).parse_open_orders(Market.SPOT, symbols(), raw, 0)
    assert reports[0].filled_qty == Decimal(item["cumExecQty"])
    assert reports[0].status is OrderStatus.CANCELED


def test_fills_fixture() -> None:
    """nautilus http_get_executions.json: fees positive for a charge, maker flag."""
    raw = nt("http_get_executions.json")
    fills = BybitTrading(CREDENTIALS).parse_fills(Market.LINEAR, symbols(), raw, 0)
    first = fills[0]
    assert first.trade_id == "e0cbe81d-0f18-5866-9415-cf319b5dab3b"
    assert (first.qty, first.price, first.fee, first.fee_asset) == (
        Decimal("0.100"),
        Decimal("50000.00"),
        Decimal("0.0150"),
        "USDT",
    )
    assert first.liquidity is Liquidity.MAKER and first.client_order_id == "test-order-001"
    assert [f.ts_event_ns for f in fills] == sorted(f.ts_event_ns for f in fills)


def test_balances_fixture() -> None:
    """nautilus http_get_wallet_balance.json."""
    raw = nt("http_get_wallet_balance.json")
    balances = BybitTrading(CREDENTIALS).parse_balances(Market.SPOT, raw, 0)
    usdt = next(b for b in balances if b.asset == "USDT")
    assert (usdt.free, usdt.locked) == (Decimal("1000.50"), Decimal(0))
    assert {b.asset for b in balances} == {"BTC", "USDT", "ETH"}


def test_positions_fixture() -> None:
    """nautilus http_get_positions.json: size unsigned + side -> signed qty."""
    positions = BybitTrading(CREDENTIALS).parse_positions(
        Market.LINEAR, symbols(), nt("http_get_positions.json"), 0
    )
    by_symbol = {p.symbol: p for p in positions}
    assert by_symbol[BTC_LINEAR.symbol].qty == Decimal("0.5")
    assert by_symbol[BTC_LINEAR.symbol].avg_entry_price == Decimal("50000.00")
    assert by_symbol[ETH_LINEAR.symbol].qty == Decimal("-5.0")


def test_unknown_symbol_in_a_listing() -> None:
    item = {
        "symbol": "DOGEUSDT",
        "orderId": "1",
        "side": "Buy",
        "orderType": "Limit",
        "qty": "1",
        "orderStatus": "New",
    }
    raw = body({"retCode": 0, "result": {"list": [item]}})
    with pytest.raises(UnknownSymbol):
        BybitTrading(CREDENTIALS).parse_open_orders(Market.LINEAR, symbols(), raw, 0)


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [
        (200, 110007, OrderRejected),
        (200, 10002, TimestampRejected),
        (401, 10003, AuthenticationFailed),
        (200, 10004, AuthenticationFailed),
        (200, 10006, RateLimited),
        (200, 10000, ServiceUnavailable),
        (200, 10016, ServiceUnavailable),
        (200, 170007, ServiceUnavailable),
        (502, 0, ServiceUnavailable),
        (200, 110001, OrderNotFound),
        (200, 170213, OrderNotFound),
        (200, 110007, OrderRejected),
        (200, 110072, OrderRejected),
        (200, 170141, OrderRejected),
        (200, 110008, ExchangeRejected),
    ],
)
def test_error_classes(status: int, code: int, error: type[Exception]) -> None:
    raw = body({"retCode": code, "retMsg": "message", "result": {}, "time": 1})
    t = BybitTrading(CREDENTIALS)
    with pytest.raises(error) as caught:
        t.parse_order_answer(
            Market.LINEAR, symbols(), status, raw, 0, action="place", client_order_id="abc"
        )
    if error is OrderRejected:
        assert isinstance(caught.value, OrderRejected)
        assert (caught.value.code, caught.value.client_order_id) == (code, "abc")
        # the same code refusing a cancel leaves the order as it was: not OrderRejected
        with pytest.raises(ExchangeRejected):
            t.parse_order_answer(
                Market.LINEAR, symbols(), status, raw, 0, action="cancel", client_order_id="abc"
            )
    with pytest.raises(ValueError, match="action"):
        t.parse_order_answer(Market.LINEAR, symbols(), 200, raw, 0, action="x", client_order_id="")


def test_unknown_outcome_on_a_5xx_without_json() -> None:
    with pytest.raises(ServiceUnavailable):
        BybitTrading(CREDENTIALS).parse_order_answer(
            Market.LINEAR, symbols(), 503, b"<html>", 0, action="place", client_order_id="a"
        )
    with pytest.raises(MalformedMessage):
        BybitTrading(CREDENTIALS).parse_order_answer(
            Market.LINEAR, symbols(), 200, b"<html>", 0, action="place", client_order_id="a"
        )


def test_driver_for_with_credentials_trades() -> None:
    driver = driver_for("bybit", credentials=CREDENTIALS)
    assert isinstance(driver.trading, BybitTrading)
    assert driver_for("bybit").trading is None
    ed25519 = Credentials(api_key="k", api_secret=ED25519_PEM, key_type=KeyType.ED25519)
    with pytest.raises(ConfigError, match="bybit"):
        driver_for("bybit", credentials=ed25519)
    facts = venue_facts("bybit").market(Market.LINEAR)
    assert facts is not None and "linear.ws.private" in facts.url_keys()


def test_non_json_4xx_is_a_refusal_by_status() -> None:
    t = BybitTrading(CREDENTIALS)
    with pytest.raises(OrderRejected) as caught:
        t.parse_order_answer(
            Market.LINEAR,
            symbols(),
            404,
            b"<html>no</html>",
            0,
            action="place",
            client_order_id="a",
        )
    assert caught.value.code == 404
    with pytest.raises(ExchangeRejected):
        t.parse_order_answer(
            Market.LINEAR, symbols(), 400, b"bad", 0, action="cancel", client_order_id="a"
        )
    with pytest.raises(IpBanned):
        t.parse_order_answer(
            Market.LINEAR,
            symbols(),
            403,
            b"access too frequent",
            0,
            action="place",
            client_order_id="a",
        )


def test_listings_follow_next_page_cursor() -> None:
    """nautilus http_get_executions.json carries nextPageCursor 132766%3A2%2C132766%3A2."""
    t = BybitTrading(CREDENTIALS)
    assert isinstance(t, PagedListings)
    call = t.fills_call(Market.LINEAR, None, None)
    nxt = t.next_page_call(Market.LINEAR, call, nt("http_get_executions.json"))
    assert nxt is not None and nxt.params["cursor"] == "132766%3A2%2C132766%3A2"
    signed = t.sign(nxt, 1_700_000_000_000 * MS)
    assert signed.query.endswith("&cursor=132766%3A2%2C132766%3A2")  # sent back verbatim
    # the same cursor again, an empty page, or no cursor: the last page
    assert t.next_page_call(Market.LINEAR, nxt, nt("http_get_executions.json")) is None
    empty = body({"retCode": 0, "result": {"list": [], "nextPageCursor": "x"}})
    assert t.next_page_call(Market.LINEAR, call, empty) is None
    assert t.next_page_call(Market.LINEAR, call, nt("http_get_orders_realtime.json")) is None
    place = t.place_order_call(Market.LINEAR, BTC_LINEAR, _order())
    assert t.next_page_call(Market.LINEAR, place, nt("http_get_executions.json")) is None


def test_cancel_ack_of_an_order_placed_elsewhere_reports_the_known_order() -> None:
    """An order placed by another process (known from reconciliation): the cancel
    acknowledgement ``{orderId, orderLinkId}`` reports it from the order passed in."""
    current = Order(
        venue="bybit",
        symbol=BTC_LINEAR.symbol,
        client_order_id="abc123",
        side=Side.SELL,
        type=OrderType.LIMIT,
        qty=Decimal("0.01"),
        price=Decimal(150000),
        venue_order_id="7",
        status=OrderStatus.NEW,
    )
    raw = body({"retCode": 0, "retMsg": "OK", "result": {"orderId": "7", "orderLinkId": "abc123"}})
    fresh = BybitTrading(CREDENTIALS)
    fresh.cancel_order_call(Market.LINEAR, BTC_LINEAR, "abc123")
    with pytest.raises(MalformedMessage):
        fresh.parse_order_answer(
            Market.LINEAR, symbols(), 200, raw, 0, action="cancel", client_order_id="abc123"
        )
    t = BybitTrading(CREDENTIALS)
    t.cancel_order_call(Market.LINEAR, BTC_LINEAR, "abc123", current)
    report = t.parse_order_answer(
        Market.LINEAR, symbols(), 200, raw, 0, action="cancel", client_order_id="abc123"
    )
    assert (report.client_order_id, report.side, report.qty, report.status) == (
        "abc123",
        Side.SELL,
        Decimal("0.01"),
        OrderStatus.NEW,
    )


def test_balances_hold_order_and_position_margin() -> None:
    # A unified account's coin: spot lock, order margin and position margin are held.
    raw = (
        b'{"retCode":0,"retMsg":"OK","result":{"list":[{"accountType":"UNIFIED","coin":['
        b'{"coin":"USDT","walletBalance":"100000","locked":"1","totalOrderIM":"2.5",'
        b'"totalPositionIM":"60.0006"}]}]},"time":1}'
    )
    (usdt,) = BybitTrading(CREDENTIALS).parse_balances(Market.LINEAR, raw, 0)
    assert (usdt.free, usdt.locked) == (Decimal("99936.4994"), Decimal("63.5006"))
