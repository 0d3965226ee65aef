"""OKX websocket order entry (order ops on ``/ws/v5/private``), sans-I/O
(connector/venues/okx/order_socket.py via OkxTrading): ``instIdCode`` from the real
instrument list, request frames, replies read as REST answers, control frames."""

from __future__ import annotations

import json
from decimal import Decimal

import attrs
import pytest

from connector.errors import OrderRejected
from connector.model import Market, OrderStatus, PlaceOrder
from connector.venues.driver import OrderSocketEntry
from connector.venues.okx import parse_instruments
from connector.venues.okx.trading import OkxTrading
from tests.venues.okx.test_orders import _order as rest_order
from tests.venues.okx.trading_helpers import BTC_SWAP, CREDENTIALS, nt, symbols

CODED = attrs.evolve(BTC_SWAP, venue_code=10459)


def _order() -> PlaceOrder:
    return rest_order(qty=Decimal("0.03"), price=Decimal("103500.1"))


def test_the_instrument_list_gives_each_instruments_code() -> None:
    listed = parse_instruments(Market.SWAP, nt("http_get_instruments_swap.json"))
    codes = {i.native_id: i.venue_code for i in listed}
    assert {"BTC-USD-SWAP": 10458, "ETH-USDT-SWAP": 10461, "BTC-USDT-SWAP": 10459} == codes


def test_url_is_the_private_socket() -> None:
    t = OkxTrading(CREDENTIALS)
    assert isinstance(t, OrderSocketEntry)
    (socket,) = t.order_sockets([Market.SWAP, Market.SPOT])  # one for both
    urls = {"swap.ws": "wss://ws.okx.com"}
    assert "wss://ws.okx.com/ws/v5/private" == t.order_socket_url(socket, urls)


def test_order_frames_name_the_instrument_by_its_code() -> None:
    t = OkxTrading(CREDENTIALS)
    call = t.place_order_call(Market.SWAP, CODED, _order())
    build = t.order_socket_request(call, CODED)
    assert build is not None
    frame = json.loads(build("o7", 0))
    rest = json.loads(call.body or b"")
    del rest["instId"]
    assert {"id": "o7", "op": "order", "args": [{"instIdCode": 10459, **rest}]} == frame
    assert "3" == frame["args"][0]["sz"]  # contracts, as over REST
    cancel = t.cancel_order_call(Market.SWAP, CODED, "abc123")
    built = t.order_socket_request(cancel, CODED)
    assert built is not None
    assert {
        "id": "o8",
        "op": "cancel-order",
        "args": [{"instIdCode": 10459, "clOrdId": "abc123"}],
    } == (json.loads(built("o8", 0)))


def test_no_code_no_op_or_demo_trading_goes_over_rest() -> None:
    t = OkxTrading(CREDENTIALS)
    placed = t.place_order_call(Market.SWAP, BTC_SWAP, _order())
    assert t.order_socket_request(placed, BTC_SWAP) is None  # listed without instIdCode
    query = t.query_order_call(Market.SWAP, CODED, "abc123")
    assert t.order_socket_request(query, CODED) is None
    for call, _count in t.cancel_all_calls(Market.SWAP, CODED, ["a", "b"]):
        assert t.order_socket_request(call, CODED) is None
    demo = OkxTrading(CREDENTIALS, demo=True)
    assert (
        demo.order_socket_request(demo.place_order_call(Market.SWAP, CODED, _order()), CODED)
        is None
    )


def test_a_reply_is_read_as_the_rest_answer() -> None:
    t = OkxTrading(CREDENTIALS)
    t.place_order_call(Market.SWAP, CODED, _order())
    # The shape of OKX's "WS / Place order" response example.
    reply = json.dumps(
        {
            "id": "o7",
            "op": "order",
            "data": [
                {"clOrdId": "abc123", "ordId": "12345689", "tag": "", "ts": "1695190491421",
                 "sCode": "0", "sMsg": "", "subCode": ""}
            ],
            "code": "0",
            "msg": "",
            "inTime": "1695190491421339",
            "outTime": "1695190491423240",
        }
    ).encode()  # fmt: skip
    assert "o7" == t.order_socket_reply_id(reply)
    assert (200, {}, reply) == t.order_socket_answer(reply)
    report = t.parse_order_answer(
        Market.SWAP, symbols(), 200, reply, 5, action="place", client_order_id="abc123"
    )
    assert (OrderStatus.NEW, "12345689") == (report.status, report.venue_order_id)
    assert Decimal("0.03") == report.qty

    refused = json.dumps(
        {"id": "o9", "op": "order", "code": "1", "msg": "", "inTime": "1", "outTime": "2",
         "data": [{"clOrdId": "abc123", "ordId": "", "tag": "", "ts": "1", "sCode": "51008",
                   "sMsg": "Order failed. Insufficient USDT balance in account."}]}
    ).encode()  # fmt: skip
    with pytest.raises(OrderRejected) as info:
        t.parse_order_answer(
            Market.SWAP, symbols(), 200, refused, 5, action="place", client_order_id="abc123"
        )
    assert "51008" == info.value.code


def test_login_pong_and_errors_are_control_messages() -> None:
    t = OkxTrading(CREDENTIALS)
    login = b'{"event":"login","code":"0","msg":"","connId":"a4d3ae55"}'
    failed = b'{"event":"error","code":"60009","msg":"Login failed.","connId":"a4d3ae55"}'
    for frame in (login, failed, b"pong", "pong"):
        assert t.order_socket_reply_id(frame) is None
    ok = t.order_socket_control(login)
    assert ok is not None and ("login", True) == (ok.kind, ok.ok)
    refused = t.order_socket_control(failed)
    assert refused is not None and ("error", False) == (refused.kind, refused.ok)
    assert "60009" in refused.detail
    pong = t.order_socket_control("pong")
    assert pong is not None and "pong" == pong.kind
