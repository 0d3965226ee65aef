"""Bybit ``/v5/trade`` websocket order entry, sans-I/O (connector/venues/bybit/order_socket.py
via BybitTrading): request frames, replies on the real ``ws_order_response.json`` and
``ws_auth_*.json`` captures, and errors read as on REST."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from connector.errors import (
    ConnectorError,
    OrderRejected,
    RateLimited,
    ServiceUnavailable,
    TimestampRejected,
)
from connector.model import Market, OrderStatus, PlaceOrder
from connector.venues.bybit.trading import BybitTrading
from connector.venues.driver import OrderSocketEntry
from tests.venues.bybit.test_orders import _order as rest_order
from tests.venues.bybit.trading_helpers import BTC_LINEAR, CREDENTIALS, nt, symbols

MS = 1_000_000


def _order(client_order_id: str) -> PlaceOrder:
    return rest_order(
        client_order_id=client_order_id, qty=Decimal("0.01"), price=Decimal("30000.5")
    )


def test_the_adapter_is_an_order_socket_entry() -> None:
    assert isinstance(BybitTrading(CREDENTIALS), OrderSocketEntry)


def test_url_from_the_table() -> None:
    t = BybitTrading(CREDENTIALS)
    (linear,) = t.order_sockets([Market.LINEAR])
    (spot,) = t.order_sockets([Market.SPOT])
    urls = {"linear.ws": "wss://stream.bybit.com/", "spot.ws": "wss://x"}
    assert "wss://stream.bybit.com/v5/trade" == t.order_socket_url(linear, urls)
    named = {**urls, "spot.ws.trade": "wss://trade.example/v5/trade"}
    assert "wss://trade.example/v5/trade" == t.order_socket_url(spot, named)
    with pytest.raises(ValueError, match="order entry"):
        t.order_socket_url(linear, {"linear.rest": "https://api.bybit.com"})


def test_login_frame_is_the_private_streams_auth() -> None:
    t = BybitTrading(CREDENTIALS)
    (socket,) = t.order_sockets([Market.LINEAR, Market.SPOT])  # one for both
    frames = t.order_socket_login_frames(socket, 1_700_000_000 * 10**9)
    frame = json.loads(frames[0])
    assert "auth" == frame["op"]
    key, expires, signature = frame["args"]
    assert CREDENTIALS.api_key == key
    assert 1_700_000_010_000 == expires
    assert 64 == len(signature)


def test_place_amend_cancel_frames_carry_the_rest_body_and_a_fresh_timestamp() -> None:
    t = BybitTrading(CREDENTIALS, recv_window_ms=7000)
    call = t.place_order_call(Market.LINEAR, BTC_LINEAR, _order("abc123"))
    build = t.order_socket_request(call, BTC_LINEAR)
    assert build is not None
    frame = json.loads(build("o17", 1_672_211_918_471_123_456))
    assert {
        "reqId": "o17",
        "header": {"X-BAPI-TIMESTAMP": "1672211918471", "X-BAPI-RECV-WINDOW": "7000"},
        "op": "order.create",
        "args": [json.loads(call.body or b"")],
    } == frame
    cancel = t.cancel_order_call(Market.LINEAR, BTC_LINEAR, "abc123")
    built = t.order_socket_request(cancel, BTC_LINEAR)
    assert built is not None and "order.cancel" == json.loads(built("o18", 0))["op"]


def test_requests_without_a_websocket_op_go_over_rest() -> None:
    t = BybitTrading(CREDENTIALS)
    query = t.query_order_call(Market.LINEAR, BTC_LINEAR, "abc123")
    assert t.order_socket_request(query, BTC_LINEAR) is None
    for call, _count in t.cancel_all_calls(Market.LINEAR, BTC_LINEAR, ["a", "b"]):
        assert t.order_socket_request(call, BTC_LINEAR) is None


def test_the_captured_order_reply_is_read_as_the_rest_acknowledgement() -> None:
    t = BybitTrading(CREDENTIALS)
    reply = nt("ws_order_response.json")
    assert "order-req-001" == t.order_socket_reply_id(reply)
    assert t.order_socket_control(reply) is not None  # what it is when no call waits
    assert (200, {}, reply) == t.order_socket_answer(reply)
    t.place_order_call(Market.LINEAR, BTC_LINEAR, _order("client-order-1"))
    report = t.parse_order_answer(
        Market.LINEAR, symbols(), 200, reply, 5, action="place", client_order_id="client-order-1"
    )
    assert OrderStatus.NEW == report.status
    assert "1726025498520715008" == report.venue_order_id
    assert (Decimal("0.01"), Decimal("30000.5")) == (report.qty, report.price)


def test_a_reply_with_its_header_gives_the_time_and_the_limit_left() -> None:
    t = BybitTrading(CREDENTIALS)
    t.place_order_call(Market.LINEAR, BTC_LINEAR, _order("abc123"))
    reply = json.dumps(
        {
            "reqId": "o5",
            "retCode": 0,
            "retMsg": "OK",
            "op": "order.create",
            "data": {"orderId": "42", "orderLinkId": "abc123"},
            "retExtInfo": {},
            "header": {
                "X-Bapi-Limit": "10",
                "X-Bapi-Limit-Status": "9",
                "X-Bapi-Limit-Reset-Timestamp": "1711001595207",
                "Traceid": "77b7c1b1d0a1f1b5f3c2d8a1e4f6a9b0",
                "Timenow": "1711001595209",
            },
            "connId": "cnt5leec0hvan15eukcg-2t",
        }
    ).encode()
    _status, headers, _body = t.order_socket_answer(reply)
    assert "9" == headers["x-bapi-limit-status"]
    assert {"endpoint": 9.0} == dict(t.read_order_counts(Market.LINEAR, headers))
    report = t.parse_order_answer(
        Market.LINEAR, symbols(), 200, reply, 5, action="place", client_order_id="abc123"
    )
    assert 1711001595209 * MS == report.ts_event_ns


@pytest.mark.parametrize(
    ("code", "message", "error"),
    [
        (110007, "ab not enough for new order", OrderRejected),
        (10002, "invalid request, please check your server timestamp", TimestampRejected),
    ],
)
def test_a_refusal_on_the_socket_is_the_rest_refusal(
    code: int, message: str, error: type[Exception]
) -> None:
    t = BybitTrading(CREDENTIALS)
    t.place_order_call(Market.LINEAR, BTC_LINEAR, _order("abc123"))
    reply = json.dumps(
        {"reqId": "o6", "retCode": code, "retMsg": message, "op": "order.create", "data": {}}
    ).encode()
    with pytest.raises(error):
        t.parse_order_answer(
            Market.LINEAR, symbols(), 200, reply, 5, action="place", client_order_id="abc123"
        )


def test_auth_replies_and_pongs_are_control_messages() -> None:
    t = BybitTrading(CREDENTIALS)
    success, failure = nt("ws_auth_success.json"), nt("ws_auth_failure.json")
    for frame in (success, failure, b'{"op":"pong","retCode":0,"data":["1"]}'):
        assert t.order_socket_reply_id(frame) is None
    ok = t.order_socket_control(success)
    refused = t.order_socket_control(failure)
    assert ok is not None and ("login", True) == (ok.kind, ok.ok)
    assert refused is not None and ("login", False) == (refused.kind, refused.ok)
    assert "10003" in refused.detail and "Invalid apikey" in refused.detail
    pong = t.order_socket_control(b'{"op":"pong","retCode":0,"retMsg":"OK","data":["1"]}')
    assert pong is not None and "pong" == pong.kind
    unreadable = t.order_socket_control(b"<html>")
    assert unreadable is not None and not unreadable.ok


def test_a_restarting_trade_service_stands_for_a_503() -> None:
    # 10019 on /v5/trade: "ws trade service is restarting, do not accept new request ...
    # You can build new connection" (Bybit v5 error.mdx, "WS OE General code").
    t = BybitTrading(CREDENTIALS)
    restarting = {"reqId": "o7", "retCode": 10019, "retMsg": "ws trade service is restarting",
                  "op": "order.create", "data": {}}  # fmt: skip
    status, _headers, body = t.order_socket_answer(json.dumps(restarting))
    assert 503 == status
    ok, _, _ = t.order_socket_answer(json.dumps({**restarting, "retCode": 0, "retMsg": "OK"}))
    failing, _, _ = t.order_socket_answer(json.dumps({**restarting, "retCode": 10016}))
    assert (200, 500) == (ok, failing)
    t.place_order_call(Market.LINEAR, BTC_LINEAR, _order("abc123"))
    with pytest.raises(ConnectorError) as raised:  # the outcome is not the venue's refusal
        t.parse_order_answer(
            Market.LINEAR, symbols(), status, body, 5, action="place", client_order_id="abc123"
        )
    assert not isinstance(raised.value, OrderRejected)


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (20003, RateLimited),  # "Too frequent requests under the same session": not placed
        (20006, ServiceUnavailable),  # "reqId is duplicated": which request acted is in doubt
    ],
)
def test_the_order_sockets_own_codes(code: int, error: type[ConnectorError]) -> None:
    # Bybit v5 error.mdx, "WS OE General code".
    t = BybitTrading(CREDENTIALS)
    reply = {"reqId": "o8", "retCode": code, "retMsg": "refused", "op": "order.create", "data": {}}
    status, _headers, body = t.order_socket_answer(json.dumps(reply))
    t.place_order_call(Market.LINEAR, BTC_LINEAR, _order("abc124"))
    with pytest.raises(error) as raised:
        t.parse_order_answer(
            Market.LINEAR, symbols(), status, body, 5, action="place", client_order_id="abc124"
        )
    assert str(code) in str(raised.value)
