"""Bybit v5 private stream (connector/venues/bybit/private.py via BybitTrading)."""

from __future__ import annotations

import hashlib
import hmac
import json
from decimal import Decimal

import pytest

from connector.errors import MalformedMessage, UnknownSymbol
from connector.model import Balance, Fill, Liquidity, Market, OrderStatus, Position, Side
from connector.model.trading import OrderReport
from connector.venues.bybit.trading import BybitTrading
from connector.venues.common import ControlMessage
from tests.venues.bybit.trading_helpers import (
    BTC_LINEAR,
    CREDENTIALS,
    XRP_LINEAR,
    gct_lines,
    nt,
    symbols,
)

MS = 1_000_000
T = BybitTrading(CREDENTIALS)
STREAM = T.private_streams([Market.SPOT, Market.LINEAR])[0]


def _decode(raw: str | bytes) -> list[object]:
    return list(T.decode_private(STREAM, raw, symbols(), 42))


def test_one_stream_for_both_markets() -> None:
    streams = T.private_streams([Market.SPOT, Market.LINEAR])
    assert len(streams) == 1 and streams[0].markets == (Market.SPOT, Market.LINEAR)
    with pytest.raises(ValueError, match="swap"):
        T.private_streams([Market.SWAP])


def test_private_url() -> None:
    urls = {"spot.ws": "wss://stream.bybit.com", "linear.ws": "wss://stream.bybit.com"}
    assert T.private_url(STREAM, urls) == "wss://stream.bybit.com/v5/private"
    custom = {**urls, "linear.ws.private": "wss://stream-demo.bybit.com/v5/private"}
    assert T.private_url(STREAM, custom) == "wss://stream-demo.bybit.com/v5/private"
    with pytest.raises(ValueError, match=r"spot\.ws"):
        T.private_url(STREAM, {})


def test_auth_and_subscribe_frames() -> None:
    (auth,) = T.private_login_frames(STREAM, 1_662_350_390_000 * MS)
    frame = json.loads(auth)
    assert frame["op"] == "auth"
    key, expires, sig = frame["args"]
    assert key == CREDENTIALS.api_key and expires == 1_662_350_400_000
    # fact sheet §1.3 bybit-v5-ws-auth: GET/realtime1662350400000
    assert sig == "06f9ae2e99920f9b2838bea70215b2b1f1e30ae7665078e97d0a8b76b47d1094"
    assert (
        sig
        == hmac.new(
            CREDENTIALS.api_secret.encode(), b"GET/realtime1662350400000", hashlib.sha256
        ).hexdigest()
    )
    (sub,) = T.private_subscribe_frames(STREAM, 0)
    assert json.loads(sub)["args"] == ["order", "execution", "position", "wallet"]
    beat = T.private_heartbeat(STREAM)
    assert beat.ping == '{"op":"ping"}' and beat.interval == 20.0


def test_control_messages() -> None:
    (ok,) = _decode(nt("ws_auth_success.json"))
    assert ok == ControlMessage(kind="login", ok=True, detail="auth")
    (bad,) = _decode(nt("ws_auth_failure.json"))
    assert isinstance(bad, ControlMessage) and not bad.ok and "10003" in bad.detail
    (sub,) = _decode(nt("ws_subscription_ack.json"))
    assert isinstance(sub, ControlMessage) and sub.kind == "subscribed" and sub.ok
    (pong,) = _decode('{"req_id":"","op":"pong","args":["1675418560633"],"conn_id":"x"}')
    assert isinstance(pong, ControlMessage) and pong.kind == "pong"


def test_order_push() -> None:
    """nautilus ws_account_order.json: a canceled linear limit order."""
    (report,) = _decode(nt("ws_account_order.json"))
    assert isinstance(report, OrderReport)
    assert (report.client_order_id, report.venue_order_id) == ("client-1", "abcdef123456")
    assert report.status is OrderStatus.CANCELED and report.reason == "CancelByUser"
    assert (report.qty, report.price) == (Decimal("0.010"), Decimal("30000"))
    assert report.avg_fill_price is None and report.ts_recv_ns == 42
    assert report.ts_event_ns == 1700000005000 * MS


def test_filled_order_push() -> None:
    """nautilus ws_account_order_filled.json."""
    raw = nt("ws_account_order_filled.json")
    item = json.loads(raw)["data"][0]
    (report,) = _decode(raw)
    assert isinstance(report, OrderReport) and report.status is OrderStatus.FILLED
    assert report.filled_qty == Decimal(item["cumExecQty"])
    assert report.avg_fill_price == Decimal(item["avgPrice"])


def test_execution_push() -> None:
    """nautilus ws_account_execution.json: a taker sell, fee charged in USDT (quote)."""
    (fill,) = _decode(nt("ws_account_execution.json"))
    assert isinstance(fill, Fill)
    assert fill.trade_id == "0ab1bdf7-4219-438b-b30a-32ec863018f7"
    assert (fill.side, fill.qty, fill.price) == (Side.SELL, Decimal("0.5"), Decimal("95900.1"))
    assert (fill.fee, fill.fee_asset, fill.liquidity) == (
        Decimal("26.3725275"),
        "USDT",
        Liquidity.TAKER,
    )
    assert fill.ts_event_ns == 1746270400353 * MS and fill.symbol == BTC_LINEAR.symbol


def test_position_and_wallet_pushes() -> None:
    (short,) = _decode(nt("ws_account_position.json"))
    assert isinstance(short, Position)
    assert short.qty == Decimal("-0.01") and short.avg_entry_price == Decimal("3641.075")
    balances = _decode(nt("ws_account_wallet.json"))
    assert all(isinstance(b, Balance) for b in balances)
    btc = next(b for b in balances if isinstance(b, Balance) and b.asset == "BTC")
    assert (btc.free, btc.locked) == (Decimal("0.00092964"), Decimal("0.00010000"))
    assert btc.ts_event_ns == 1700034722104 * MS
    (usdt,) = _decode(nt("ws_account_wallet_locked_exceeds_total.json"))
    assert isinstance(usdt, Balance) and usdt.total == Decimal("100.0") and usdt.free >= 0


def test_gocryptotrader_pushes() -> None:
    """gocryptotrader wsAuth.json: position, order (option, placeholder symbol), wallet,
    greeks, execution, order."""
    lines = gct_lines()
    (position,) = _decode(lines[0])
    assert isinstance(position, Position) and position.symbol == XRP_LINEAR.symbol
    assert position.qty == Decimal(75)
    assert _decode(lines[1]) == []  # category option: not traded here
    assert len(_decode(lines[2])) == 6  # one balance per coin
    assert _decode(lines[3]) == []  # greeks
    (fill,) = _decode(lines[4])
    assert isinstance(fill, Fill) and fill.client_order_id == "" and fill.fee == Decimal("0.005061")
    (report,) = _decode(lines[5])
    assert isinstance(report, OrderReport) and report.status is OrderStatus.FILLED


def test_non_trade_executions_are_not_fills() -> None:
    raw = json.loads(nt("ws_account_execution.json"))
    raw["data"][0]["execType"] = "Funding"
    assert _decode(json.dumps(raw)) == []


def test_bad_frames() -> None:
    with pytest.raises(MalformedMessage):
        _decode("not json")
    raw = json.loads(nt("ws_account_order.json"))
    raw["data"][0]["symbol"] = "DOGEUSDT"
    with pytest.raises(UnknownSymbol) as caught:
        _decode(json.dumps(raw))
    assert caught.value.native_id == "DOGEUSDT"
    raw["data"][0]["symbol"] = "BTCUSDT"
    raw["data"][0]["orderStatus"] = "Exploded"
    with pytest.raises(MalformedMessage, match="Exploded"):
        _decode(json.dumps(raw))


def _order_push(**changes: object) -> str:
    raw = json.loads(nt("ws_account_order.json"))
    raw["data"][0].update(changes)
    return json.dumps(raw)


def test_post_only_is_accepted_then_canceled() -> None:
    """BYDOCS enum.mdx / websocket/private/order.mdx: PostOnly that would take is canceled
    with rejectReason EC_PostOnlyWillTakeLiquidity (hand-made from the docs' field list)."""
    (report,) = _decode(
        _order_push(
            timeInForce="PostOnly",
            cancelType="UNKNOWN",
            rejectReason="EC_PostOnlyWillTakeLiquidity",
        )
    )
    assert isinstance(report, OrderReport)
    assert report.status is OrderStatus.CANCELED
    assert report.reason == "EC_PostOnlyWillTakeLiquidity"
    assert report.time_in_force.value == "post_only"


@pytest.mark.parametrize(
    ("tif", "reason", "status"),
    [
        ("IOC", "EC_NoImmediateQtyToFill", OrderStatus.EXPIRED),
        ("FOK", "EC_CancelForNoFullFill", OrderStatus.EXPIRED),
        ("GTC", "EC_NoError", OrderStatus.CANCELED),
    ],
)
def test_an_order_ended_for_its_time_in_force_expired(
    tif: str, reason: str, status: OrderStatus
) -> None:
    """BYDOCS enum.mdx ``rejectReason``: an IOC with nothing to fill at once, a FOK that
    could not fill whole: ended by the venue for its time in force, ``expired`` as
    Binance reports it; the user's cancel stays ``canceled``."""
    (report,) = _decode(_order_push(orderStatus="Cancelled", timeInForce=tif, rejectReason=reason))
    assert isinstance(report, OrderReport)
    assert status is report.status


def test_an_order_self_match_prevention_ended_expired() -> None:
    """BYDOCS enum.mdx ``cancelType`` ``CancelBySmp`` "cancelled by SMP": ended by the
    venue on its own rules, ``expired`` as Binance's ``EXPIRED_IN_MATCH``."""
    (report,) = _decode(_order_push(orderStatus="Cancelled", cancelType="CancelBySmp"))
    assert isinstance(report, OrderReport)
    assert (OrderStatus.EXPIRED, "CancelBySmp") == (report.status, report.reason)


def test_cancel_racing_a_fill_gives_two_filled_pushes() -> None:
    """BYDOCS websocket/private/order.mdx: the second Filled push carries
    cancelType=CancelByUser and rejectReason=EC_OrigClOrdIDDoesNotExist."""
    filled = {"orderStatus": "Filled", "cumExecQty": "0.010", "avgPrice": "30000", "leavesQty": "0"}
    (first,) = _decode(_order_push(**filled, cancelType="UNKNOWN", rejectReason="EC_NoError"))
    (second,) = _decode(
        _order_push(**filled, cancelType="CancelByUser", rejectReason="EC_OrigClOrdIDDoesNotExist")
    )
    assert isinstance(first, OrderReport) and isinstance(second, OrderReport)
    assert first.status is second.status is OrderStatus.FILLED
    assert first.filled_qty == second.filled_qty == Decimal("0.010")


def test_quote_sized_spot_market_order_reports_its_filled_qty() -> None:
    """BYDOCS open-order.mdx ``marketUnit``: a spot Market Buy of 200 USDT (docs example)."""
    (report,) = _decode(
        _order_push(
            category="spot",
            orderType="Market",
            marketUnit="quoteCoin",
            qty="200",
            orderStatus="PartiallyFilled",
            cumExecQty="0.002",
            avgPrice="30000",
        )
    )
    assert isinstance(report, OrderReport)
    assert (report.qty, report.filled_qty) == (Decimal("0.002"), Decimal("0.002"))
