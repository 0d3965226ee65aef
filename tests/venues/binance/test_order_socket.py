"""Binance order entry over the WebSocket APIs, sans-I/O (connector/venues/binance/
order_socket.py via BinanceTrading): sockets and URLs, signed request frames, and
replies made into REST answers (the docs' ``rateLimits`` examples, extracted in
``_docs_extracts/errors_and_ratelimits.json``)."""

from __future__ import annotations

import hashlib
import hmac
import json
from decimal import Decimal

import pytest

from connector.errors import OrderRejected
from connector.model import Market, OrderStatus
from connector.venues.binance.sign import ws_payload
from connector.venues.driver import OrderSocketEntry, PrivateStream
from connector.venues.registry import driver_for
from tests.conftest import fixture_path
from tests.venues.binance.test_orders import USDM_SECRET, adapter, order, place
from tests.venues.binance.trading_data import LINEAR_BTC, SPOT_BTC, symbol_map

LINEAR = PrivateStream(key="linear", markets=(Market.LINEAR,))
SPOT = PrivateStream(key="spot", markets=(Market.SPOT,))


def _docs_examples() -> list[dict[str, object]]:
    path = fixture_path("_docs_extracts/errors_and_ratelimits.json")
    examples: list[dict[str, object]] = json.loads(path.read_text())["binance"][
        "ws_api_rate_limit_examples_from_web-socket-api.md"
    ]
    return examples


def test_one_socket_per_market_on_each_apis_host() -> None:
    t = adapter()
    assert isinstance(t, OrderSocketEntry)
    assert [SPOT, LINEAR] == t.order_sockets([Market.SPOT, Market.LINEAR])
    live = driver_for("binance").rest.endpoints("live")
    assert "wss://ws-api.binance.com:443/ws-api/v3" == t.order_socket_url(SPOT, live)
    assert "wss://ws-fapi.binance.com/ws-fapi/v1" == t.order_socket_url(LINEAR, live)
    custom = {"linear.ws": "ws://127.0.0.1:9/"}
    assert "ws://127.0.0.1:9/ws-fapi/v1" == t.order_socket_url(LINEAR, custom)
    with pytest.raises(ValueError, match=r"spot\.wsapi"):
        t.order_socket_url(SPOT, custom)
    assert [] == t.order_socket_login_frames(LINEAR, 0)  # every request signs itself


def test_a_request_carries_the_rest_params_signed_over_all_of_them_sorted() -> None:
    t = adapter()
    call = t.place_order_call(Market.LINEAR, LINEAR_BTC, place(symbol=LINEAR_BTC.symbol))
    build = t.order_socket_request(call, LINEAR_BTC)
    assert build is not None
    frame = json.loads(build("o3", 1_700_000_000_123_456_789))
    assert ("o3", "order.place") == (frame["id"], frame["method"])
    params = dict(frame["params"])
    signature = params.pop("signature")
    assert {**call.params, "apiKey": "key", "timestamp": 1_700_000_000_123} == params
    expected = hmac.new(USDM_SECRET.encode(), ws_payload(params).encode(), hashlib.sha256)
    assert expected.hexdigest() == signature


@pytest.mark.parametrize(
    ("market", "make", "method"),
    [
        (Market.LINEAR, "cancel", "order.cancel"),
        (Market.LINEAR, "amend", "order.modify"),
        (Market.SPOT, "amend", "order.amend.keepPriority"),
        (Market.SPOT, "query", None),
        (Market.LINEAR, "cancel_all", None),
    ],
)
def test_each_order_request_has_its_method_and_the_rest_stay_on_rest(
    market: Market, make: str, method: str | None
) -> None:
    t = adapter()
    instrument = SPOT_BTC if market is Market.SPOT else LINEAR_BTC
    current = order(symbol=instrument.symbol, qty=Decimal("0.02"), price=Decimal("50000"))
    calls = {
        "cancel": lambda: t.cancel_order_call(market, instrument, "abc123"),
        "amend": lambda: t.amend_order_call(
            market,
            instrument,
            _amend(instrument.symbol, market),
            current,
        ),
        "query": lambda: t.query_order_call(market, instrument, "abc123"),
        "cancel_all": lambda: t.cancel_all_calls(market, instrument, ["abc123"])[0][0],
    }
    build = t.order_socket_request(calls[make](), instrument)
    if method is None:
        assert build is None
    else:
        assert build is not None and method == json.loads(build("o1", 0))["method"]


def _amend(symbol: object, market: Market) -> object:
    from connector.model import AmendOrder

    qty = Decimal("0.01") if market is Market.SPOT else None
    price = None if market is Market.SPOT else Decimal("49000")
    return AmendOrder(
        venue="binance", symbol=symbol, client_order_id="abc123", qty=qty, price=price
    )  # type: ignore[arg-type]


def test_the_docs_replies_become_rest_answers() -> None:
    t = adapter()
    ok, _empty, banned = _docs_examples()
    raw = json.dumps(ok).encode()
    assert "7069b743-f477-4ae3-81db-db9b8df085d2" == t.order_socket_reply_id(raw)
    status, headers, body = t.order_socket_answer(raw)
    assert (200, {"x-mbx-used-weight-1m": "70"}) == (status, dict(headers))
    assert {"serverTime": 1656400526260} == json.loads(body)
    status, headers, body = t.order_socket_answer(json.dumps(banned).encode())
    assert 418 == status and -1003 == json.loads(body)["code"]
    # Banned until 1659146400000, said at 1659142907531: REST's Retry-After, in seconds.
    assert {"x-mbx-used-weight-1m": "2411", "retry-after": "3492.469"} == dict(headers)


def test_an_order_reply_is_read_as_the_rest_answer() -> None:
    t = adapter()
    call = t.place_order_call(Market.LINEAR, LINEAR_BTC, place(symbol=LINEAR_BTC.symbol))
    assert call is not None
    result = {
        "orderId": 325078477, "symbol": "BTCUSDT", "status": "NEW",
        "clientOrderId": "abc123", "price": "50000", "avgPrice": "0.00",
        "origQty": "0.010", "executedQty": "0", "cumQty": "0", "cumQuote": "0",
        "timeInForce": "GTC", "type": "LIMIT", "reduceOnly": False,
        "closePosition": False, "side": "BUY", "positionSide": "BOTH",
        "stopPrice": "0", "workingType": "CONTRACT_PRICE", "priceProtect": False,
        "origType": "LIMIT", "priceMatch": "NONE", "selfTradePreventionMode": "NONE",
        "goodTillDate": 0, "updateTime": 1655716096498,
    }  # fmt: skip
    limits = [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
         "limit": 2400, "count": 1},
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 300,
         "count": 1},
        {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200,
         "count": 1},
    ]  # fmt: skip
    reply = {"id": "o1", "status": 200, "result": result, "rateLimits": limits}
    status, headers, body = t.order_socket_answer(json.dumps(reply))
    assert {"orders_10s": 299.0, "orders_1m": 1199.0} == dict(
        t.read_order_counts(Market.LINEAR, headers)
    )
    report = t.parse_order_answer(
        Market.LINEAR, symbol_map(), status, body, 5, action="place", client_order_id="abc123"
    )
    assert (OrderStatus.NEW, "325078477") == (report.status, report.venue_order_id)

    refused = {
        "id": "o2",
        "status": 400,
        "error": {"code": -2010, "msg": "Account has insufficient balance for requested action."},
    }
    status, headers, body = t.order_socket_answer(json.dumps(refused))
    with pytest.raises(OrderRejected) as info:
        t.parse_order_answer(
            Market.LINEAR, symbol_map(), status, body, 5, action="place", client_order_id="abc123"
        )
    assert -2010 == info.value.code


def test_server_shutdown_says_the_socket_is_closing_and_replies_are_no_control() -> None:
    # The WebSocket API's event format (spot web-socket-api.md "Event format",
    # "Server Shutdown"; checked 2026-12-06).
    t = adapter()
    shutdown = json.dumps({"event": {"e": "serverShutdown", "E": 1728972148778}})
    closing = t.order_socket_control(shutdown)
    assert closing is not None and ("expired", False) == (closing.kind, closing.ok)
    assert t.order_socket_reply_id(shutdown) is None
    other = t.order_socket_control(json.dumps({"event": {"e": "eventStreamTerminated"}}))
    assert other is not None and "info" == other.kind
    ok, _empty, banned = _docs_examples()
    assert t.order_socket_control(json.dumps(ok)) is None
    assert t.order_socket_control(json.dumps(banned)) is None
    unreadable = t.order_socket_control("not json")
    assert unreadable is not None and "error" == unreadable.kind
