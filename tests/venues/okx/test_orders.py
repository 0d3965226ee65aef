"""OKX v5 order requests and answers (connector/venues/okx/{orders,account}.py via OkxTrading)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from connector.errors import (
    AuthenticationFailed,
    ConfigError,
    ExchangeRejected,
    InvalidOrder,
    MalformedMessage,
    OrderNotFound,
    OrderRejected,
    RateLimited,
    ServiceUnavailable,
    TimestampRejected,
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
from connector.model.credentials import Credentials
from connector.model.venues import venue_facts
from connector.venues.driver import PagedListings, RestCall
from connector.venues.okx.trading import OkxTrading
from connector.venues.registry import driver_for
from tests.venues.okx.trading_helpers import (
    BTC_SPOT,
    BTC_SWAP,
    CREDENTIALS,
    body,
    nt,
    symbols,
)

MS = 1_000_000
DOCS_TIME_NS = 1_607_418_537_715 * MS  # 2020-12-08T09:08:57.715Z, the docs' example time


def _order(**kw: object) -> PlaceOrder:
    fields: dict[str, object] = {
        "venue": "okx",
        "symbol": BTC_SWAP.symbol,
        "side": Side.BUY,
        "type": OrderType.LIMIT,
        "qty": Decimal("0.0003"),
        "price": Decimal("103500.0"),
        "client_order_id": "abc123",
    }
    fields.update(kw)
    return PlaceOrder(**fields)  # type: ignore[arg-type]


def _json(raw: bytes | None) -> dict[str, object]:
    assert raw is not None
    out: dict[str, object] = json.loads(raw)
    return out


# Requests -------------------------------------------------------------------


def test_docs_place_order_body_and_signature() -> None:
    """signatures.json okx-v5-rest-post-docs-secret: the docs' place-order example."""
    t = OkxTrading(CREDENTIALS)
    order = _order(
        symbol=BTC_SPOT.symbol, qty=Decimal(2), price=Decimal("2.15"), client_order_id="b15"
    )
    call = t.place_order_call(Market.SPOT, BTC_SPOT, order)
    assert call.body == (
        b'{"instId":"BTC-USDT","tdMode":"cash","clOrdId":"b15","side":"buy",'
        b'"ordType":"limit","px":"2.15","sz":"2"}'
    )
    signed = t.sign(call, DOCS_TIME_NS)
    assert signed.headers["OK-ACCESS-TIMESTAMP"] == "2020-12-08T09:08:57.715Z"
    assert signed.headers["OK-ACCESS-SIGN"] == "dI6rrL9rXW/HdaPKJ/6LC1OgvH4/PYju6R3CqixMTNQ="
    assert signed.headers["Content-Type"] == "application/json"
    assert "x-simulated-trading" not in signed.headers


def test_docs_get_signature_and_demo_header() -> None:
    """signatures.json okx-v5-rest-get-docs-secret: GET /api/v5/account/balance?ccy=BTC."""
    t = OkxTrading(CREDENTIALS, demo=True)
    signed = t.sign(RestCall(path="/api/v5/account/balance", params={"ccy": "BTC"}), DOCS_TIME_NS)
    assert signed.query == "ccy=BTC"
    assert signed.headers["OK-ACCESS-SIGN"] == "HiZhvSfMtWJA3uUIVXV3a/bSXNPCWvYFXoGCVS8V4zY="
    assert signed.headers["x-simulated-trading"] == "1"


def test_swap_quantities_are_contracts() -> None:
    """0.0003 BTC at ctVal 0.01 is 0.03 contracts (lotSz 0.01)."""
    call = OkxTrading(CREDENTIALS).place_order_call(Market.SWAP, BTC_SWAP, _order())
    payload = _json(call.body)
    assert payload["sz"] == "0.03" and payload["tdMode"] == "cross"
    assert (payload["ordType"], payload["px"]) == ("limit", "103500")
    assert call.weights == {"trade:order": 1.0}
    with pytest.raises(InvalidOrder, match="contracts"):
        OkxTrading(CREDENTIALS).place_order_call(
            Market.SWAP, BTC_SWAP, _order(qty=Decimal("0.00005"))
        )


@pytest.mark.parametrize(
    ("tif", "ord_type"),
    [
        (TimeInForce.GTC, "limit"),
        (TimeInForce.POST_ONLY, "post_only"),
        (TimeInForce.IOC, "ioc"),
        (TimeInForce.FOK, "fok"),
    ],
)
def test_time_in_force_is_the_ord_type(tif: TimeInForce, ord_type: str) -> None:
    call = OkxTrading(CREDENTIALS).place_order_call(
        Market.SWAP, BTC_SWAP, _order(time_in_force=tif)
    )
    assert _json(call.body)["ordType"] == ord_type


def test_spot_market_buy_in_base_units_and_reduce_only_swap() -> None:
    t = OkxTrading(CREDENTIALS, td_mode="isolated")
    spot = _order(symbol=BTC_SPOT.symbol, type=OrderType.MARKET, price=None, qty=Decimal("0.001"))
    payload = _json(t.place_order_call(Market.SPOT, BTC_SPOT, spot).body)
    assert (payload["ordType"], payload["tgtCcy"], payload["sz"]) == ("market", "base_ccy", "0.001")
    assert "px" not in payload
    swap = _order(side=Side.SELL, reduce_only=True)
    payload = _json(t.place_order_call(Market.SWAP, BTC_SWAP, swap).body)
    assert payload["reduceOnly"] is True and payload["tdMode"] == "isolated"
    with pytest.raises(ValueError, match="td_mode"):
        OkxTrading(CREDENTIALS, td_mode="cash")


def test_spot_market_orders_ban_amend_and_no_other_order_does() -> None:
    """banAmend (place-order docs): without it OKX shrinks a spot market order the
    balance cannot cover and fills less than asked; with it the order is refused."""
    t = OkxTrading(CREDENTIALS)
    for side in (Side.BUY, Side.SELL):
        spot = _order(
            symbol=BTC_SPOT.symbol, type=OrderType.MARKET, price=None, side=side, qty=Decimal(1)
        )
        payload = _json(t.place_order_call(Market.SPOT, BTC_SPOT, spot).body)
        assert (True, "base_ccy") == (payload["banAmend"], payload["tgtCcy"])
    limit = _order(symbol=BTC_SPOT.symbol, price=Decimal(60000), client_order_id="lim1")
    assert "banAmend" not in _json(t.place_order_call(Market.SPOT, BTC_SPOT, limit).body)
    swap = _order(type=OrderType.MARKET, price=None, client_order_id="swp1")
    assert "banAmend" not in _json(t.place_order_call(Market.SWAP, BTC_SWAP, swap).body)


@pytest.mark.parametrize(
    ("kw", "market", "words"),
    [
        ({"client_order_id": "has-dash"}, Market.SWAP, "client order id"),
        ({"client_order_id": "x" * 33}, Market.SWAP, "client order id"),
        ({"price": None}, Market.SWAP, "needs a price"),
        ({"reduce_only": True, "symbol": BTC_SPOT.symbol}, Market.SPOT, "reduce-only"),
        (
            {"type": OrderType.MARKET, "price": None, "time_in_force": TimeInForce.POST_ONLY},
            Market.SWAP,
            "always IOC",
        ),
    ],
)
def test_invalid_orders(kw: dict[str, object], market: Market, words: str) -> None:
    instrument = BTC_SPOT if market is Market.SPOT else BTC_SWAP
    with pytest.raises(InvalidOrder, match=words):
        OkxTrading(CREDENTIALS).place_order_call(market, instrument, _order(**kw))


def test_an_order_and_its_fills_are_read_by_the_venue_order_id() -> None:
    t = OkxTrading(CREDENTIALS)
    query = t.query_order_by_venue_id_call(Market.SWAP, BTC_SWAP, "777")
    assert (query.path, dict(query.params)) == (
        "/api/v5/trade/order",
        {"instId": "BTC-USDT-SWAP", "ordId": "777"},
    )
    fills = t.order_fills_call(Market.SWAP, BTC_SWAP, "777")
    assert (fills.path, dict(fills.params)) == (
        "/api/v5/trade/fills",
        {"instType": "SWAP", "instId": "BTC-USDT-SWAP", "ordId": "777", "limit": 100},
    )


def test_cancel_all_sends_batches_of_at_most_twenty_none_of_one_order() -> None:
    t = OkxTrading(CREDENTIALS)
    ids = [f"o{i}" for i in range(41)]
    calls = t.cancel_all_calls(Market.SWAP, BTC_SWAP, ids)
    assert [14, 14, 13] == [counted for _, counted in calls]
    assert {"/api/v5/trade/cancel-batch-orders"} == {call.path for call, _ in calls}
    sent = [item for call, _ in calls for item in json.loads(call.body or b"")]
    assert sorted(ids) == sorted(item["clOrdId"] for item in sent)
    assert {"BTC-USDT-SWAP"} == {item["instId"] for item in sent}
    for few, counts in ((2, [2]), (20, [20]), (21, [11, 10])):
        calls = t.cancel_all_calls(Market.SWAP, BTC_SWAP, ids[:few])
        assert counts == [counted for _, counted in calls]


def test_cancel_all_answers() -> None:
    t = OkxTrading(CREDENTIALS)
    # Shaped as the docs describe it: code "2" when some orders were not canceled, each
    # element with its own sCode; no reports either way (the stream tells the ends).
    partial = json.dumps(
        {
            "code": "2",
            "msg": "",
            "data": [
                {"clOrdId": "o1", "ordId": "1", "sCode": "0", "sMsg": "", "ts": "1"},
                {"clOrdId": "o2", "ordId": "2", "sCode": "51400", "sMsg": "failed", "ts": "1"},
            ],
        }
    ).encode()
    assert [] == t.parse_cancel_all_answer(Market.SWAP, symbols(), 200, partial, 7)
    limited = b'{"code":"50011","msg":"Rate limit reached.","data":[]}'
    with pytest.raises(RateLimited):
        t.parse_cancel_all_answer(Market.SWAP, symbols(), 429, limited, 7)


def test_cancel_amend_query_and_listing_requests() -> None:
    t = OkxTrading(CREDENTIALS)
    cancel = t.cancel_order_call(Market.SWAP, BTC_SWAP, "abc123")
    assert cancel.path == "/api/v5/trade/cancel-order"
    assert _json(cancel.body) == {"instId": "BTC-USDT-SWAP", "clOrdId": "abc123"}
    amend = AmendOrder(
        venue="okx",
        symbol=BTC_SWAP.symbol,
        client_order_id="abc123",
        qty=Decimal("0.0005"),
        price=Decimal("103000"),
    )
    current = Order(
        venue="okx",
        symbol=BTC_SWAP.symbol,
        client_order_id="abc123",
        side=Side.BUY,
        type=OrderType.LIMIT,
        qty=Decimal("0.0003"),
        price=Decimal(103500),
        status=OrderStatus.NEW,
    )
    assert _json(t.amend_order_call(Market.SWAP, BTC_SWAP, amend, current).body) == {
        "instId": "BTC-USDT-SWAP",
        "clOrdId": "abc123",
        "newSz": "0.05",
        "newPx": "103000",
    }
    query = t.query_order_call(Market.SWAP, BTC_SWAP, "abc123")
    assert (query.path, dict(query.params)) == (
        "/api/v5/trade/order",
        {"instId": "BTC-USDT-SWAP", "clOrdId": "abc123"},
    )
    assert dict(t.open_orders_call(Market.SPOT).params)["instType"] == "SPOT"
    fills = t.fills_call(Market.SWAP, None, 1_700_000_000_000 * MS)
    assert fills.path == "/api/v5/trade/fills"
    assert dict(fills.params) == {"instType": "SWAP", "begin": 1_700_000_000_000, "limit": 100}
    assert t.balances_call(Market.SPOT).path == "/api/v5/account/balance"
    assert t.positions_call(Market.SPOT) is None
    positions = t.positions_call(Market.SWAP)
    assert positions is not None and dict(positions.params) == {"instType": "SWAP"}


# Answers --------------------------------------------------------------------


def test_place_ack_fixture() -> None:
    """nautilus http_place_order_response.json (one data element), wrapped in the envelope."""
    t = OkxTrading(CREDENTIALS)
    element = json.loads(nt("http_place_order_response.json"))
    t.place_order_call(Market.SWAP, BTC_SWAP, _order(client_order_id="clientorder123"))
    element["clOrdId"] = "clientorder123"  # the fixture's id has '_', which OKX does not allow
    raw = body({"code": "0", "msg": "", "data": [element], "inTime": "1", "outTime": "2"})
    report = t.parse_order_answer(
        Market.SWAP, symbols(), 200, raw, 9, action="place", client_order_id="clientorder123"
    )
    assert report.status is OrderStatus.NEW
    assert report.venue_order_id == "12345678901234567890"
    assert (report.qty, report.price) == (Decimal("0.0003"), Decimal("103500.0"))


def test_per_element_refusal() -> None:
    t = OkxTrading(CREDENTIALS)
    t.place_order_call(Market.SWAP, BTC_SWAP, _order())
    raw = body(
        {
            "code": "1",
            "msg": "All operations failed",
            "data": [
                {
                    "ordId": "",
                    "clOrdId": "abc123",
                    "tag": "",
                    "sCode": "51008",
                    "sMsg": "Order failed. Insufficient USDT balance in account.",
                }
            ],
        }
    )
    with pytest.raises(OrderRejected) as caught:
        t.parse_order_answer(
            Market.SWAP, symbols(), 200, raw, 0, action="place", client_order_id="abc123"
        )
    assert (caught.value.code, caught.value.client_order_id) == ("51008", "abc123")


@pytest.mark.parametrize(
    ("status", "code", "s_code", "error"),
    [
        (200, "1", "51008", OrderRejected),
        (401, "50102", None, TimestampRejected),
        (401, "50113", None, AuthenticationFailed),
        (429, "50011", None, RateLimited),
        (503, "50001", None, ServiceUnavailable),
        (200, "50004", None, ServiceUnavailable),
        (200, "50013", None, ServiceUnavailable),
        (200, "1", "51149", ServiceUnavailable),
        (200, "1", "51603", OrderNotFound),
        (200, "1", "51400", ExchangeRejected),
        (200, "1", "51016", OrderRejected),
        (200, "51000", None, OrderRejected),
    ],
)
def test_error_classes(status: int, code: str, s_code: str | None, error: type[Exception]) -> None:
    data = [] if s_code is None else [{"ordId": "", "clOrdId": "", "sCode": s_code, "sMsg": "m"}]
    raw = body({"code": code, "msg": "message", "data": data})
    t = OkxTrading(CREDENTIALS)
    with pytest.raises(error) as caught:
        t.parse_order_answer(
            Market.SWAP, symbols(), status, raw, 0, action="place", client_order_id="x"
        )
    if error is OrderRejected:
        assert isinstance(caught.value, OrderRejected) and caught.value.client_order_id == "x"
        with pytest.raises(ExchangeRejected) as other:
            t.parse_order_answer(
                Market.SWAP, symbols(), status, raw, 0, action="amend", client_order_id="x"
            )
        assert not isinstance(other.value, OrderRejected)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("50026", "System error. Try again later"),  # HTTP 500 in OKX's table
        ("51054", "Request timed out. Please try again."),  # HTTP 500
    ],
)
def test_server_try_again_codes_leave_a_placement_unknown_on_every_path(
    code: str, message: str
) -> None:
    """OKX's server errors and timeouts (error table, HTTP 500) leave the outcome
    open whatever carries them: REST with HTTP 500, an element's sCode in an HTTP
    200 answer, a websocket order reply (top-level code, or code 1 with the sCode)."""
    t = OkxTrading(CREDENTIALS)
    t.place_order_call(Market.SWAP, BTC_SWAP, _order())
    item = [{"ordId": "", "clOrdId": "abc123", "tag": "", "sCode": code, "sMsg": message}]
    rest_500 = (500, body({"code": code, "msg": message, "data": []}))
    rest_200 = (200, body({"code": "1", "msg": "All operations failed", "data": item}))
    replies = [
        {"id": "r1", "op": "order", "code": code, "msg": message, "data": []},
        {"id": "r2", "op": "order", "code": "1", "msg": "", "data": item},
    ]
    answers = [rest_500, rest_200]
    for reply in replies:
        status, _headers, raw = t.order_socket_answer(json.dumps(reply))
        answers.append((status, raw))
    for status, raw in answers:
        with pytest.raises(ServiceUnavailable, match="outcome unknown"):
            t.parse_order_answer(
                Market.SWAP, symbols(), status, raw, 0, action="place", client_order_id="abc123"
            )


def test_a_cancel_that_timed_out_leaves_its_outcome_unknown() -> None:
    """51412 "Cancellation timed out, please try again later." (HTTP 200)."""
    item = [{"ordId": "1", "clOrdId": "abc123", "sCode": "51412", "sMsg": "timed out"}]
    raw = body({"code": "1", "msg": "", "data": item})
    with pytest.raises(ServiceUnavailable):
        OkxTrading(CREDENTIALS).parse_order_answer(
            Market.SWAP, symbols(), 200, raw, 0, action="cancel", client_order_id="abc123"
        )


def test_query_answer_and_pending_orders_fixture() -> None:
    """nautilus http_get_orders_pending.json: a live swap limit order of 0.10 contracts."""
    raw = nt("http_get_orders_pending.json")
    t = OkxTrading(CREDENTIALS)
    report = t.parse_order_answer(
        Market.SWAP, symbols(), 200, raw, 3, action="query", client_order_id="client-order-1"
    )
    assert report == t.parse_open_orders(Market.SWAP, symbols(), raw, 3)[0]
    assert (report.status, report.type, report.time_in_force) == (
        OrderStatus.NEW,
        OrderType.LIMIT,
        TimeInForce.GTC,
    )
    assert report.qty == Decimal("0.0010")  # 0.10 contracts × ctVal 0.01
    assert report.price == Decimal("103500") and report.avg_fill_price is None
    assert report.client_order_id == "client-order-1"
    assert report.ts_event_ns == 1746947317000 * MS


def test_history_fixture_filled_market_order() -> None:
    """nautilus http_get_orders_history.json: a filled swap market order."""
    (report,) = OkxTrading(CREDENTIALS).parse_open_orders(
        Market.SWAP, symbols(), nt("http_get_orders_history.json"), 0
    )
    assert report.status is OrderStatus.FILLED and report.type is OrderType.MARKET
    assert report.filled_qty == Decimal("0.0003") and report.avg_fill_price == Decimal("103698.9")


def test_query_lists_nothing() -> None:
    with pytest.raises(OrderNotFound) as refused:
        OkxTrading(CREDENTIALS).parse_order_answer(
            Market.SWAP,
            symbols(),
            200,
            body({"code": "0", "data": []}),
            0,
            action="query",
            client_order_id="x",
        )
    assert "okx has no order x: not in its order listing" == str(refused.value)
    with pytest.raises(MalformedMessage):
        OkxTrading(CREDENTIALS).parse_order_answer(
            Market.SWAP, symbols(), 200, b"[", 0, action="place", client_order_id="x"
        )


def test_fills_fixture() -> None:
    """nautilus http_transaction_detail.json (a hand-made positive fee: a rebate)."""
    element = json.loads(nt("http_transaction_detail.json"))
    raw = body({"code": "0", "msg": "", "data": [element]})
    (fill,) = OkxTrading(CREDENTIALS).parse_fills(Market.SPOT, symbols(), raw, 0)
    assert (fill.trade_id, fill.venue_order_id, fill.client_order_id) == (
        "123456789",
        "987654321",
        "client_123",
    )
    assert (fill.qty, fill.price, fill.side) == (Decimal("0.001"), Decimal("42000.5"), Side.BUY)
    assert (fill.fee, fill.fee_asset, fill.liquidity) == (
        Decimal("-0.042"),
        "USDT",
        Liquidity.TAKER,
    )
    assert fill.ts_event_ns == 1625097600000 * MS


def test_balances_fixture() -> None:
    """nautilus http_get_account_balance.json."""
    (usdt,) = OkxTrading(CREDENTIALS).parse_balances(
        Market.SPOT, nt("http_get_account_balance.json"), 0
    )
    assert usdt.asset == "USDT"
    assert (usdt.free, usdt.locked) == (Decimal("94.42612990333333"), Decimal("5.468566666666667"))
    assert usdt.ts_event_ns == 1744498994783 * MS


def test_positions_fixture() -> None:
    """nautilus http_get_positions.json: long 0.5 contracts (long/short mode) × ctVal 0.01."""
    (position,) = OkxTrading(CREDENTIALS).parse_positions(
        Market.SWAP, symbols(), nt("http_get_positions.json"), 0
    )
    assert position.qty == Decimal("0.005") and position.avg_entry_price == Decimal(10000)
    short = json.loads(nt("http_get_positions.json"))
    short["data"][0]["posSide"] = "short"
    (position,) = OkxTrading(CREDENTIALS).parse_positions(
        Market.SWAP, symbols(), json.dumps(short).encode(), 0
    )
    assert position.qty == Decimal("-0.005")


def test_driver_for_with_credentials_trades() -> None:
    live = driver_for("okx", credentials=CREDENTIALS)
    assert isinstance(live.trading, OkxTrading)
    demo = driver_for("okx", credentials=CREDENTIALS, endpoint="testnet")
    assert demo.trading is not None
    signed = demo.trading.sign(RestCall(path="/api/v5/account/balance"), DOCS_TIME_NS)
    assert signed.headers["x-simulated-trading"] == "1"
    assert driver_for("okx").trading is None
    with pytest.raises(ConfigError, match="passphrase"):
        driver_for("okx", credentials=Credentials(api_key="k", api_secret="s"))


def test_private_url_keys_are_valid_config() -> None:
    facts = venue_facts("okx").market(Market.SWAP)
    assert facts is not None and "swap.ws.private" in facts.url_keys()


def test_non_json_4xx_is_a_refusal_by_status() -> None:
    t = OkxTrading(CREDENTIALS)
    with pytest.raises(OrderRejected) as caught:
        t.parse_order_answer(
            Market.SWAP, symbols(), 404, b"<html>no</html>", 0, action="place", client_order_id="a"
        )
    assert (caught.value.code, caught.value.client_order_id) == ("404", "a")
    with pytest.raises(RateLimited):
        t.parse_order_answer(
            Market.SWAP, symbols(), 429, b"slow down", 0, action="place", client_order_id="a"
        )


def test_amend_ack_reports_the_new_values() -> None:
    """OKXDOCS amend-order answer: ``{ordId, clOrdId, reqId, sCode, sMsg}``."""
    t = OkxTrading(CREDENTIALS)
    current = Order(
        venue="okx",
        symbol=BTC_SWAP.symbol,
        client_order_id="abc123",
        side=Side.BUY,
        type=OrderType.LIMIT,
        qty=Decimal("0.0003"),
        price=Decimal(103500),
        venue_order_id="7",
        status=OrderStatus.NEW,
    )
    amend = AmendOrder(
        venue="okx", symbol=BTC_SWAP.symbol, client_order_id="abc123", qty=Decimal("0.0005")
    )
    t.amend_order_call(Market.SWAP, BTC_SWAP, amend, current)
    element = {"ordId": "7", "clOrdId": "abc123", "reqId": "", "sCode": "0", "sMsg": ""}
    raw = body({"code": "0", "msg": "", "data": [element]})
    report = t.parse_order_answer(
        Market.SWAP, symbols(), 200, raw, 0, action="amend", client_order_id="abc123"
    )
    assert (report.qty, report.price, report.status) == (
        Decimal("0.0005"),
        Decimal(103500),
        OrderStatus.NEW,
    )


def test_listings_page_with_after() -> None:
    t = OkxTrading(CREDENTIALS)
    assert isinstance(t, PagedListings)
    call = t.open_orders_call(Market.SWAP)
    full = [{"ordId": str(i), "instId": "BTC-USDT-SWAP"} for i in range(200, 100, -1)]
    nxt = t.next_page_call(Market.SWAP, call, body({"code": "0", "data": full}))
    assert nxt is not None and nxt.params["after"] == "101" and nxt.params["instType"] == "SWAP"
    assert t.next_page_call(Market.SWAP, call, nt("http_get_orders_pending.json")) is None
    fills = t.fills_call(Market.SWAP, None, None)
    page = [{"billId": str(i), "tradeId": str(i)} for i in range(100)]
    nxt = t.next_page_call(Market.SWAP, fills, body({"code": "0", "data": page}))
    assert nxt is not None and nxt.params["after"] == "99"
    assert t.next_page_call(Market.SWAP, nxt, body({"code": "0", "data": page})) is None


def test_cancel_ack_of_an_order_placed_elsewhere_reports_the_known_order() -> None:
    """An order placed by another process (known from reconciliation): the cancel
    acknowledgement reports it from the order passed in; without it, it is unreadable."""
    current = Order(
        venue="okx",
        symbol=BTC_SWAP.symbol,
        client_order_id="abc123",
        side=Side.SELL,
        type=OrderType.LIMIT,
        qty=Decimal("0.01"),
        price=Decimal(150000),
        venue_order_id="7",
        status=OrderStatus.NEW,
    )
    element = {"ordId": "7", "clOrdId": "abc123", "sCode": "0", "sMsg": ""}
    raw = body({"code": "0", "msg": "", "data": [element]})
    fresh = OkxTrading(CREDENTIALS)
    fresh.cancel_order_call(Market.SWAP, BTC_SWAP, "abc123")
    with pytest.raises(MalformedMessage, match="query it"):
        fresh.parse_order_answer(
            Market.SWAP, symbols(), 200, raw, 0, action="cancel", client_order_id="abc123"
        )
    t = OkxTrading(CREDENTIALS)
    t.cancel_order_call(Market.SWAP, BTC_SWAP, "abc123", current)
    report = t.parse_order_answer(
        Market.SWAP, symbols(), 200, raw, 0, action="cancel", client_order_id="abc123"
    )
    assert (report.client_order_id, report.side, report.qty, report.status) == (
        "abc123",
        Side.SELL,
        Decimal("0.01"),
        OrderStatus.NEW,
    )
