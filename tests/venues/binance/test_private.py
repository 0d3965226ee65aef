"""Binance private streams: URLs, the spot subscription, listen keys, frame decoding."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from connector.errors import ExchangeRejected, MalformedMessage, UnknownSymbol
from connector.model import (
    Balance,
    Fill,
    Liquidity,
    Market,
    OrderStatus,
    OrderType,
    Position,
    Side,
    Symbol,
    SymbolKind,
    TimeInForce,
)
from connector.model.credentials import Credentials
from connector.model.trading import OrderReport
from connector.venues.binance.private import LINEAR_STREAM, SPOT_STREAM
from connector.venues.binance.rest import BinanceRest
from connector.venues.binance.trading import BinanceTrading
from connector.venues.common import ControlMessage
from connector.venues.driver import ListenKeyStreams, PrivateEvent, PrivateStream
from tests.conftest import fixture_path
from tests.venues.binance.trading_data import MS, NT, NT_PY, fixture_bytes, symbol_map

DOCS_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
DOCS_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
ETH_SPOT = Symbol("ETH", "USDT", SymbolKind.SPOT)
BTC_PERP = Symbol("BTC", "USDT", SymbolKind.PERP)


def adapter() -> BinanceTrading:
    return BinanceTrading(Credentials(api_key=DOCS_KEY, api_secret=DOCS_SECRET))


def decode(stream: PrivateStream, raw: bytes | str) -> list[PrivateEvent]:
    return list(adapter().decode_private(stream, raw, symbol_map(), 42))


# Streams and URLs --------------------------------------------------------------------


def test_one_stream_per_market_and_the_live_urls() -> None:
    a = adapter()
    urls = BinanceRest().endpoints("live")

    assert [SPOT_STREAM, LINEAR_STREAM] == a.private_streams([Market.LINEAR, Market.SPOT])
    assert "wss://ws-api.binance.com:443/ws-api/v3" == a.private_url(SPOT_STREAM, urls)
    assert "wss://fstream.binance.com/private/ws?listenKey=k1" == a.private_url(
        LINEAR_STREAM, urls, "k1"
    )
    assert "wss://ws-api.testnet.binance.vision/ws-api/v3" == a.private_url(
        SPOT_STREAM, BinanceRest().endpoints("testnet")
    )
    with pytest.raises(ValueError, match="listenKey"):
        a.private_url(LINEAR_STREAM, urls)


def test_a_custom_table_without_the_ws_api_key_uses_the_spot_ws_host() -> None:
    urls = {"spot.ws": "ws://127.0.0.1:9/", "linear.ws": "ws://127.0.0.1:8"}
    a = adapter()
    assert "ws://127.0.0.1:9/ws-api/v3" == a.private_url(SPOT_STREAM, urls)
    assert "ws://127.0.0.1:8/private/ws?listenKey=k" == a.private_url(LINEAR_STREAM, urls, "k")


def test_heartbeats_ping_quiet_private_sockets() -> None:
    for stream in (SPOT_STREAM, LINEAR_STREAM):
        rule = adapter().private_heartbeat(stream)
        assert rule.protocol_ping and rule.ping is None and rule.timeout > rule.interval


def test_spot_subscription_is_signed_like_the_computed_vector() -> None:
    """signatures.json ``binance-wsapi-uds-subscribe-signature-hmac``."""
    vectors = json.loads(fixture_path("signatures.json").read_text())["vectors"]
    [vector] = [v for v in vectors if v["id"] == "binance-wsapi-uds-subscribe-signature-hmac"]
    a = adapter()

    assert [] == a.private_login_frames(SPOT_STREAM, 1747385641636 * MS)
    [frame] = a.private_subscribe_frames(SPOT_STREAM, 1747385641636 * MS)
    request = json.loads(frame)

    assert "userDataStream.subscribe.signature" == request["method"]
    assert "uds-1747385641636" == request["id"]
    assert {
        "apiKey": DOCS_KEY,
        "timestamp": 1747385641636,
        "signature": vector["expected_signature"],
    } == request["params"]
    assert [] == a.private_subscribe_frames(LINEAR_STREAM, 1)


def test_listen_key_calls() -> None:
    a = adapter()
    assert isinstance(a, ListenKeyStreams)
    create = a.listen_key_call(LINEAR_STREAM, "create", None)
    close = a.listen_key_call(LINEAR_STREAM, "close", "k")

    assert ("POST", "/fapi/v1/listenKey", {}) == (create.method, create.path, dict(create.params))
    assert ("DELETE", {"listenKey": "k"}) == (close.method, dict(close.params))
    assert 1800.0 == a.listen_key_keepalive_s(LINEAR_STREAM)
    with pytest.raises(ValueError, match="needs the key"):
        a.listen_key_call(LINEAR_STREAM, "keepalive", None)
    with pytest.raises(ValueError, match="takes no listenKey"):
        a.listen_key_call(SPOT_STREAM, "create", None)
    with pytest.raises(ValueError, match="action"):
        a.listen_key_call(LINEAR_STREAM, "renew", "k")


def test_listen_key_answers() -> None:
    """USDⓈ-M docs: ``{"listenKey": ...}``; -1125 when a keepalive finds no key."""
    a = adapter()
    key = "pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1"
    assert key == a.parse_listen_key(json.dumps({"listenKey": key}).encode())
    assert "" == a.parse_listen_key(b"{}")
    with pytest.raises(ExchangeRejected) as caught:
        a.parse_listen_key(b'{"code": -1125, "msg": "This listenKey does not exist."}')
    assert -1125 == caught.value.code
    with pytest.raises(MalformedMessage):
        a.parse_listen_key(b"[")


# Spot frames ----------------------------------------------------------------------------


def test_spot_new_execution_report_wrapped_and_unwrapped() -> None:
    [new] = decode(
        SPOT_STREAM, fixture_bytes(f"{NT}/spot/user_data_json/execution_report_new.json")
    )
    [wrapped] = decode(
        SPOT_STREAM, fixture_bytes(f"{NT}/spot/user_data_json/execution_report_wrapped.json")
    )

    assert isinstance(new, OrderReport) and isinstance(wrapped, OrderReport)
    assert (
        ETH_SPOT,
        "x-TD67BGP9-T0000000000000",
        "12345678",
        OrderStatus.NEW,
        Decimal(1),
        Decimal(2500),
        None,
        1709654400000 * MS,
        42,
    ) == (
        new.symbol,
        new.client_order_id,
        new.venue_order_id,
        new.status,
        new.qty,
        new.price,
        new.avg_fill_price,
        new.ts_event_ns,
        new.ts_recv_ns,
    )
    assert ("mUvoqJxFIILMdfAW5iGSOW", Decimal("0.10264410")) == (
        wrapped.client_order_id,
        wrapped.price,
    )


def test_spot_trade_gives_a_report_and_a_fill() -> None:
    report, fill = decode(
        SPOT_STREAM, fixture_bytes(f"{NT}/spot/user_data_json/execution_report_trade.json")
    )

    assert isinstance(report, OrderReport) and isinstance(fill, Fill)
    assert (OrderStatus.FILLED, Decimal(1), Decimal(2500)) == (
        report.status,
        report.filled_qty,
        report.avg_fill_price,
    )
    assert (
        "98765432",
        "12345678",
        "x-TD67BGP9-T0000000000000",
        Side.BUY,
        Decimal(1),
        Decimal(2500),
        Decimal("0.001"),
        "ETH",
        Liquidity.MAKER,
    ) == (
        fill.trade_id,
        fill.venue_order_id,
        fill.client_order_id,
        fill.side,
        fill.qty,
        fill.price,
        fill.fee,
        fill.fee_asset,
        fill.liquidity,
    )


def test_spot_partial_fill_and_the_l_zero_trade() -> None:
    report, fill = decode(
        SPOT_STREAM, fixture_bytes(f"{NT_PY}/ws_messages/ws_spot_execution_report_trade.json")
    )
    [no_price] = decode(
        SPOT_STREAM,
        fixture_bytes(f"{NT_PY}/ws_messages/ws_spot_execution_report_trade_l_zero.json"),
    )
    for variant, status in [
        ("canceled", OrderStatus.CANCELED),
        ("expired", OrderStatus.EXPIRED),
        ("new", OrderStatus.NEW),
        ("partial", OrderStatus.PARTIALLY_FILLED),
    ]:
        path = f"{NT_PY}/ws_messages/ws_spot_execution_report_trade_l_zero_{variant}.json"
        [only] = decode(SPOT_STREAM, fixture_bytes(path))
        assert isinstance(only, OrderReport) and status == only.status, variant

    assert isinstance(report, OrderReport) and isinstance(fill, Fill)
    assert (OrderStatus.PARTIALLY_FILLED, Decimal("0.5"), Decimal("2499.5")) == (
        report.status,
        report.filled_qty,
        report.avg_fill_price,
    )
    assert (Decimal("0.5"), Decimal("2499.5")) == (fill.qty, fill.price)
    assert isinstance(no_price, OrderReport)
    assert (OrderStatus.FILLED, None) == (no_price.status, no_price.avg_fill_price)


def test_spot_cancel_expiry_and_rejection() -> None:
    [canceled] = decode(
        SPOT_STREAM, fixture_bytes(f"{NT}/spot/user_data_json/execution_report_canceled.json")
    )
    [expired] = decode(
        SPOT_STREAM, fixture_bytes(f"{NT}/spot/user_data_json/execution_report_expired.json")
    )
    [rejected] = decode(
        SPOT_STREAM, fixture_bytes(f"{NT_PY}/ws_messages/ws_spot_execution_report_rejected.json")
    )

    assert isinstance(canceled, OrderReport) and isinstance(expired, OrderReport)
    assert isinstance(rejected, OrderReport)
    assert OrderStatus.CANCELED == canceled.status
    assert (OrderStatus.EXPIRED, "INSUFFICIENT_LIQUIDITY", TimeInForce.IOC) == (
        expired.status,
        expired.reason,
        expired.time_in_force,
    )
    assert (OrderStatus.REJECTED, "GTX_ORDER_REJECT") == (rejected.status, rejected.reason)


def test_spot_cancel_reports_the_original_client_id_from_c_upper() -> None:
    """Spot docs: on a cancel, ``c`` is the cancel's id and ``C`` the order's."""
    frame = json.loads(fixture_bytes(f"{NT}/spot/user_data_json/execution_report_canceled.json"))
    frame["c"], frame["C"] = "cancel-request-1", "x-TD67BGP9-T0000000000000"
    [report] = decode(SPOT_STREAM, json.dumps(frame))
    assert isinstance(report, OrderReport)
    assert "x-TD67BGP9-T0000000000000" == report.client_order_id


def test_spot_balances() -> None:
    [wrapped] = decode(
        SPOT_STREAM, fixture_bytes(f"{NT}/spot/user_data_json/account_position_wrapped.json")
    )
    gct = fixture_path("gocryptotrader/exchanges/binance/testdata/wsHandleData.json")
    lines = gct.read_text().splitlines()
    position = next(line for line in lines if "outboundAccountPosition" in line)
    balances = decode(SPOT_STREAM, position)

    assert (
        Balance(venue="binance", asset="ETH", free=Decimal(10000), ts_event_ns=1564034571073 * MS)
        == wrapped
    )
    assert [("BTC", Decimal("0.00225109"), Decimal("0.00123000"))] == [
        (b.asset, b.free, b.locked) for b in balances if isinstance(b, Balance) and b.asset == "BTC"
    ]
    assert 3 == len(balances)


def test_events_that_give_nothing() -> None:
    for path in (
        f"{NT}/spot/user_data_json/balance_update.json",
        f"{NT}/spot/user_data_json/list_status_wrapped.json",
        f"{NT}/futures/user_data_json/trade_lite.json",
        f"{NT}/futures/user_data_json/algo_update_new.json",
    ):
        assert [] == decode(LINEAR_STREAM, fixture_bytes(path)), path


def test_gocryptotrader_listen_key_stream_execution_report() -> None:
    gct = fixture_path("gocryptotrader/exchanges/binance/testdata/wsHandleData.json")
    line = next(x for x in gct.read_text().splitlines() if '"executionReport"' in x)
    [report] = decode(SPOT_STREAM, line)
    assert isinstance(report, OrderReport)
    assert ("c4wyKsIhoAaittTYlIVLqk", "5340845958", Decimal("0.00028400")) == (
        report.client_order_id,
        report.venue_order_id,
        report.qty,
    )


def test_ws_api_answers_and_terminations() -> None:
    """Spot WS API docs: the subscribe answer, an error answer, eventStreamTerminated."""
    ok = '{"id":"uds-1","status":200,"result":{"subscriptionId":0}}'
    bad = '{"id":"uds-2","status":400,"error":{"code":-1022,"msg":"Signature for this request is not valid."}}'  # noqa: E501
    other = '{"id":"x","status":400,"error":{"code":-1100,"msg":"Illegal characters"}}'
    ended = '{"subscriptionId":0,"event":{"e":"eventStreamTerminated","E":1728973001334}}'
    shutdown = '{"event":{"e":"serverShutdown","E":1728973001334}}'

    assert [ControlMessage(kind="subscribed", detail="subscriptionId=0", request_id="uds-1")] == (
        decode(SPOT_STREAM, ok)
    )
    assert [
        ControlMessage(
            kind="subscribed",
            ok=False,
            detail="-1022 Signature for this request is not valid.",
            request_id="uds-2",
        )
    ] == decode(SPOT_STREAM, bad)
    [error] = decode(SPOT_STREAM, other)
    assert isinstance(error, ControlMessage) and ("error", False) == (error.kind, error.ok)
    for frame in (ended, shutdown):
        [msg] = decode(SPOT_STREAM, frame)
        assert isinstance(msg, ControlMessage) and ("expired", False) == (msg.kind, msg.ok)


# USDⓈ-M frames -------------------------------------------------------------------------


def test_usdm_order_updates() -> None:
    [new] = decode(
        LINEAR_STREAM, fixture_bytes(f"{NT}/futures/user_data_json/order_update_new.json")
    )
    report, fill = decode(
        LINEAR_STREAM, fixture_bytes(f"{NT}/futures/user_data_json/order_update_trade_partial.json")
    )

    assert isinstance(new, OrderReport)
    assert (BTC_PERP, "TEST", OrderType.MARKET, None, OrderStatus.NEW) == (
        new.symbol,
        new.client_order_id,
        new.type,
        new.price,
        new.status,
    )
    assert isinstance(report, OrderReport) and isinstance(fill, Fill)
    assert (OrderStatus.PARTIALLY_FILLED, Decimal("0.001"), Decimal("7100.50")) == (
        report.status,
        report.filled_qty,
        report.avg_fill_price,
    )
    assert ("12345678", Decimal("0.01"), "USDT", Liquidity.MAKER, 1568879465651 * MS) == (
        fill.trade_id,
        fill.fee,
        fill.fee_asset,
        fill.liquidity,
        fill.ts_event_ns,
    )


def test_usdm_liquidation_and_adl_fills() -> None:
    report, fill = decode(
        LINEAR_STREAM,
        fixture_bytes(f"{NT_PY}/ws_messages/ws_futures_order_update_liquidation.json"),
    )
    adl, adl_fill = decode(
        LINEAR_STREAM, fixture_bytes(f"{NT}/futures/user_data_json/order_update_adl.json")
    )

    assert isinstance(report, OrderReport) and isinstance(fill, Fill)
    assert ("autoclose-1234567890123456", OrderStatus.FILLED, Side.SELL) == (
        report.client_order_id,
        report.status,
        fill.side,
    )
    assert isinstance(adl, OrderReport) and isinstance(adl_fill, Fill)
    assert (OrderStatus.PARTIALLY_FILLED, True) == (adl.status, adl.reduce_only)


def test_usdm_account_update_balances_positions_and_hedge_entries() -> None:
    events = decode(
        LINEAR_STREAM, fixture_bytes(f"{NT}/futures/user_data_json/account_update.json")
    )

    balance, position, hedge_long, hedge_short = events
    ts = 1564745798939 * MS
    usdt = Decimal("122624.12345678")
    assert Balance(venue="binance", asset="USDT", free=usdt, ts_event_ns=ts) == balance
    assert (
        Position(venue="binance", symbol=BTC_PERP, qty=Decimal(0), ts_event_ns=1564745798939 * MS)
        == position
    )
    for msg in (hedge_long, hedge_short):
        assert isinstance(msg, ControlMessage) and not msg.ok and "hedge-mode" in msg.detail


def test_listen_key_expired_has_a_string_time() -> None:
    """USDⓈ-M docs, Event-User-Data-Stream-Expired (``E`` is a string)."""
    frame = '{"e":"listenKeyExpired","E":"1736996475556","listenKey":"WsCMN0a4K"}'
    assert [ControlMessage(kind="expired", ok=False, detail="listenKeyExpired")] == decode(
        LINEAR_STREAM, frame
    )


def test_bad_frames() -> None:
    with pytest.raises(MalformedMessage):
        decode(SPOT_STREAM, "{not json")
    with pytest.raises(MalformedMessage):
        decode(SPOT_STREAM, "[1]")
    with pytest.raises(MalformedMessage):
        decode(SPOT_STREAM, '{"subscriptionId":0,"event":{"e":"executionReport","s":"ETHUSDT"}}')
    frame = fixture_bytes(f"{NT}/spot/user_data_json/execution_report_new.json")
    with pytest.raises(UnknownSymbol):
        decode(SPOT_STREAM, frame.replace(b"ETHUSDT", b"DOGEUSDT"))
