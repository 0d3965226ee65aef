"""The private-stream handshake (``connector/account/stream.py``), frame by frame.

The handler is driven the way a ``WsConnection`` drives it (``on_open`` on every
connect, ``on_frame`` per frame, ``on_close``), with the real venue adapters and
the venues' documented acknowledgement frames; no socket is involved.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from connector.account.stream import PrivateHandler, PrivatePhase
from connector.model import Market
from connector.model.credentials import Credentials
from connector.venues.common import SymbolMap
from connector.venues.driver import PrivateEvent, TradingAdapter
from connector.venues.registry import driver_for

KEYS = Credentials(api_key="key", api_secret="secret", passphrase="phrase")
NOW_NS = 1_700_000_000_000_000_000

BYBIT_AUTH_OK = '{"success":true,"ret_msg":"","op":"auth","conn_id":"c1"}'
BYBIT_AUTH_BAD = '{"success":false,"ret_msg":"Invalid apikey","op":"auth","conn_id":"c1"}'
BYBIT_SUBSCRIBED = (
    '{"success":true,"ret_msg":"","op":"subscribe","conn_id":"c1","req_id":"private"}'
)
OKX_LOGIN_OK = '{"event":"login","code":"0","msg":"","connId":"a4d3ae55"}'
OKX_SUBSCRIBED = '{"event":"subscribe","arg":{"channel":"orders","instType":"SWAP"},"connId":"a"}'
BINANCE_EXPIRED = '{"e":"listenKeyExpired","E":"1576653824250","listenKey":"k"}'


def adapter(venue: str) -> TradingAdapter:
    trading = driver_for(venue, credentials=KEYS).trading
    assert trading is not None
    return trading


class Recorder:
    def __init__(self) -> None:
        self.events: list[Sequence[PrivateEvent]] = []
        self.ready = 0
        self.expired: list[str] = []


def handler(venue: str, markets: Sequence[Market], rec: Recorder) -> PrivateHandler:
    trading = adapter(venue)
    (stream,) = trading.private_streams(markets)
    return PrivateHandler(
        venue=venue,
        stream=stream,
        adapter=trading,
        symbols=SymbolMap(venue),
        venue_time_ns=lambda: NOW_NS,
        on_events=rec.events.append,
        on_ready=lambda: setattr(rec, "ready", rec.ready + 1),
        on_expired=rec.expired.append,
        ack_timeout=3.0,
    )


def test_bybit_logs_in_waits_for_the_ack_then_subscribes_and_again_after_a_reconnect() -> None:
    rec = Recorder()
    h = handler("bybit", [Market.LINEAR], rec)
    for connect in (1, 2):
        greeting = h.on_open()
        assert not greeting.ready
        assert 3.0 == greeting.ack_timeout
        assert ["auth"] == [json.loads(f)["op"] for f in greeting.frames]
        assert PrivatePhase.LOGGING_IN == h.phase

        answer = h.on_frame(BYBIT_AUTH_OK, NOW_NS)
        assert answer is not None and not answer.ready and answer.fail is None
        assert ["subscribe"] == [json.loads(f)["op"] for f in answer.frames]
        assert PrivatePhase.SUBSCRIBING == h.phase
        assert connect - 1 == rec.ready

        answer = h.on_frame(BYBIT_SUBSCRIBED, NOW_NS)
        assert answer is not None and answer.ready and not answer.frames
        assert PrivatePhase.READY == h.phase
        assert connect == rec.ready
        h.on_close("1006 dropped")
        assert PrivatePhase.DOWN == h.phase
    assert 2 == h.statistics().logins


def test_a_refused_login_fails_the_attempt_naming_the_venue_reason() -> None:
    rec = Recorder()
    h = handler("bybit", [Market.LINEAR], rec)
    h.on_open()
    answer = h.on_frame(BYBIT_AUTH_BAD, NOW_NS)
    assert answer is not None and answer.fail is not None
    assert "login refused" in answer.fail and "Invalid apikey" in answer.fail
    assert 0 == rec.ready
    assert 1 == h.statistics().refusals


def test_okx_is_ready_at_the_first_subscribe_ack_and_later_acks_change_nothing() -> None:
    rec = Recorder()
    h = handler("okx", [Market.SWAP], rec)
    greeting = h.on_open()
    assert ["login"] == [json.loads(f)["op"] for f in greeting.frames]
    answer = h.on_frame(OKX_LOGIN_OK, NOW_NS)
    assert answer is not None
    assert ["subscribe"] == [json.loads(f)["op"] for f in answer.frames]
    answer = h.on_frame(OKX_SUBSCRIBED, NOW_NS)
    assert answer is not None and answer.ready
    assert h.on_frame(OKX_SUBSCRIBED, NOW_NS) is None
    assert h.on_frame("pong", NOW_NS) is None
    assert 1 == rec.ready


def test_a_listen_key_stream_is_ready_at_once_and_an_expiry_is_told_not_failed() -> None:
    rec = Recorder()
    h = handler("binance", [Market.LINEAR], rec)
    greeting = h.on_open()
    assert greeting.ready and not greeting.frames
    assert 1 == rec.ready
    # The account service replaces the socket (planned) once it has a new key: the
    # handler does not fail the attempt, which would count as a failure.
    assert h.on_frame(BINANCE_EXPIRED, NOW_NS) is None
    assert ["listenKeyExpired"] == rec.expired
    assert 1 == h.statistics().expiries


def test_binance_spot_waits_for_its_signed_subscription_to_be_answered() -> None:
    rec = Recorder()
    h = handler("binance", [Market.SPOT], rec)
    greeting = h.on_open()
    (frame,) = greeting.frames
    request = json.loads(frame)
    assert "userDataStream.subscribe.signature" == request["method"]
    assert not greeting.ready
    refused = json.dumps(
        {"id": request["id"], "status": 400, "error": {"code": -2015, "msg": "Invalid API-key"}}
    )
    answer = h.on_frame(refused, NOW_NS)
    assert answer is not None and answer.fail is not None and "-2015" in answer.fail
    h.on_close("refused")
    request = json.loads(h.on_open().frames[0])
    ok = json.dumps({"id": request["id"], "status": 200, "result": {"subscriptionId": 0}})
    answer = h.on_frame(ok, NOW_NS)
    assert answer is not None and answer.ready
    assert 1 == rec.ready


def test_a_frame_that_does_not_decode_is_counted_and_skipped() -> None:
    rec = Recorder()
    h = handler("bybit", [Market.LINEAR], rec)
    h.on_open()
    assert h.on_frame("{not json", NOW_NS) is None
    assert 1 == h.statistics().malformed
    assert [] == rec.events
    # An error after the handshake is logged, not a reason to drop the socket.
    h.on_frame(BYBIT_AUTH_OK, NOW_NS)
    h.on_frame(BYBIT_SUBSCRIBED, NOW_NS)
    error = '{"success":false,"ret_msg":"topic not found","op":"subscribe","req_id":"x"}'
    assert h.on_frame(error, NOW_NS) is None
    assert PrivatePhase.READY == h.phase
