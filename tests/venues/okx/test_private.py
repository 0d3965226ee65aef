"""OKX v5 private stream (connector/venues/okx/private.py via OkxTrading)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from connector.errors import MalformedMessage, UnknownSymbol
from connector.model import Balance, Fill, Liquidity, Market, OrderStatus, Position, Side
from connector.model.credentials import Credentials
from connector.model.trading import OrderReport
from connector.venues.common import ControlMessage
from connector.venues.okx.trading import OkxTrading
from tests.venues.okx.trading_helpers import BTC_SPOT, BTC_SWAP, CREDENTIALS, gct_lines, nt, symbols

MS = 1_000_000
T = OkxTrading(CREDENTIALS)
STREAM = T.private_streams([Market.SPOT, Market.SWAP])[0]


def _decode(raw: str | bytes) -> list[object]:
    return list(T.decode_private(STREAM, raw, symbols(), 42))


def test_stream_url_heartbeat() -> None:
    assert STREAM.markets == (Market.SPOT, Market.SWAP)
    urls = {"spot.ws": "wss://ws.okx.com", "swap.ws": "wss://ws.okx.com"}
    assert T.private_url(STREAM, urls) == "wss://ws.okx.com/ws/v5/private"
    demo = {**urls, "swap.ws.private": "wss://wspap.okx.com/ws/v5/private"}
    assert T.private_url(STREAM, demo) == "wss://wspap.okx.com/ws/v5/private"
    assert T.private_heartbeat(STREAM).ping == "ping"
    with pytest.raises(ValueError, match="linear"):
        T.private_streams([Market.LINEAR])


def test_login_frame_matches_the_vector() -> None:
    """signatures.json okx-v5-ws-login: timestamp 1538054050 (seconds)."""
    creds = Credentials(
        api_key="985d5b66-57ce-40fb-b714-afc0b9787083",
        api_secret="chNOOS4KvNXR_Xq4k4c9qsfoKWvnDecLATCRlcBwyKDYnWgO",
        passphrase="1234567890",
    )
    t = OkxTrading(creds)
    (frame,) = t.private_login_frames(STREAM, 1_538_054_050_123 * MS)
    login = json.loads(frame)
    assert login["op"] == "login"
    assert login["args"][0] == {
        "apiKey": "985d5b66-57ce-40fb-b714-afc0b9787083",
        "passphrase": "1234567890",
        "timestamp": "1538054050",
        "sign": "ENpPNQ8mQv8YzDMPhBsB4SrjaKK+FaEh2nozTRW6KU0=",
    }


def test_subscribe_frame() -> None:
    (frame,) = T.private_subscribe_frames(STREAM, 0)
    assert json.loads(frame) == {
        "op": "subscribe",
        "args": [
            {"channel": "orders", "instType": "SPOT"},
            {"channel": "orders", "instType": "SWAP"},
            {"channel": "positions", "instType": "SWAP"},
            {"channel": "account"},
        ],
    }
    spot_only = T.private_streams([Market.SPOT])[0]
    (frame,) = T.private_subscribe_frames(spot_only, 0)
    assert [a["channel"] for a in json.loads(frame)["args"]] == ["orders", "account"]


def test_control_messages() -> None:
    """The docs' replies: login ok / failure, subscribe, error, pong, upgrade notice."""
    (login,) = _decode('{"event":"login","code":"0","msg":"","connId":"a4d3ae55"}')
    assert login == ControlMessage(kind="login", ok=True, detail="0")
    (failed,) = _decode('{"event":"error","code":"60009","msg":"Login failed.","connId":"a"}')
    assert isinstance(failed, ControlMessage) and not failed.ok and "60009" in failed.detail
    (sub,) = _decode(
        '{"event":"subscribe","arg":{"channel":"orders","instType":"SPOT"},"connId":"a"}'
    )
    assert sub == ControlMessage(kind="subscribed", detail="orders")
    assert _decode("pong") == [ControlMessage(kind="pong")]
    (notice,) = _decode('{"event":"notice","code":"64008","msg":"upgrade","connId":"a"}')
    assert isinstance(notice, ControlMessage) and notice.kind == "expired"


def test_swap_fill_push() -> None:
    """nautilus ws_orders.json: a filled swap market order, 0.03 contracts, fee charged."""
    report, fill = _decode(nt("ws_orders.json"))
    assert isinstance(report, OrderReport) and isinstance(fill, Fill)
    assert report.status is OrderStatus.FILLED and report.symbol == BTC_SWAP.symbol
    assert report.qty == report.filled_qty == Decimal("0.0003")
    assert report.price is None and report.avg_fill_price == Decimal("103698.9")
    assert fill.trade_id == "1518905529" and fill.qty == Decimal("0.0003")
    assert (fill.fee, fill.fee_asset, fill.liquidity) == (
        Decimal("0.021776769"),
        "USDT",
        Liquidity.MAKER,
    )
    assert fill.ts_event_ns == 1746947317402 * MS


def test_ioc_partial_push() -> None:
    """nautilus ws_orders_ioc.json: spot IOC partially filled."""
    report, fill = _decode(nt("ws_orders_ioc.json"))
    assert isinstance(report, OrderReport) and isinstance(fill, Fill)
    assert report.time_in_force.value == "ioc" and report.status is OrderStatus.PARTIALLY_FILLED
    assert (report.qty, report.filled_qty) == (Decimal("0.05"), Decimal("0.02"))
    assert report.symbol == BTC_SPOT.symbol


def test_option_and_algo_pushes_are_skipped() -> None:
    assert _decode(nt("ws_orders_option.json")) == []
    assert _decode(nt("ws_orders_algo.json")) == []  # the orders-algo channel


def test_gocryptotrader_spot_sequence() -> None:
    """gocryptotrader wsOrders.json: a fill, then a market sell live -> partial -> filled."""
    lines = gct_lines()
    report, fill = _decode(lines[0])
    assert isinstance(fill, Fill) and fill.fee == Decimal("0.02522168") and fill.side is Side.SELL
    assert isinstance(report, OrderReport) and report.client_order_id == "HamsterParty14"
    (live,) = _decode(lines[1])
    assert isinstance(live, OrderReport) and live.status is OrderStatus.NEW
    # sized in quote (tgtCcy quote_ccy): the quantity is what has filled
    assert live.qty == Decimal(0)
    partial, partial_fill = _decode(lines[2])
    assert isinstance(partial, OrderReport) and partial.status is OrderStatus.PARTIALLY_FILLED
    assert isinstance(partial_fill, Fill) and partial_fill.qty == Decimal("0.00038128")
    assert partial_fill.liquidity is Liquidity.TAKER
    assert partial_fill.fee == Decimal("0.010000249968")
    events = _decode(lines[3])
    assert isinstance(events[0], OrderReport) and events[0].status is OrderStatus.FILLED


def test_account_push() -> None:
    """nautilus ws_account.json: one balance per currency."""
    balances = _decode(nt("ws_account.json"))
    assert all(isinstance(b, Balance) for b in balances)
    usdt = next(b for b in balances if isinstance(b, Balance) and b.asset == "USDT")
    assert usdt.free == Decimal("100.52768569797846") and usdt.locked == 0
    assert usdt.ts_event_ns == 1751526647084 * MS
    assert _decode(nt("ws_account_empty.json")) == []


def test_positions_push() -> None:
    """A positions push in net mode (docs field list): short 2 contracts of ctVal 0.01."""
    raw = json.dumps(
        {
            "arg": {"channel": "positions", "instType": "SWAP"},
            "data": [
                {
                    "instType": "SWAP",
                    "instId": "BTC-USDT-SWAP",
                    "posSide": "net",
                    "pos": "-2",
                    "avgPx": "100000",
                    "realizedPnl": "-1.5",
                    "uTime": "1700000000000",
                }
            ],
        }
    )
    (position,) = _decode(raw)
    assert isinstance(position, Position)
    assert (position.qty, position.avg_entry_price, position.realized_pnl) == (
        Decimal("-0.02"),
        Decimal(100000),
        Decimal("-1.5"),
    )


def test_bad_frames() -> None:
    with pytest.raises(MalformedMessage):
        _decode("{")
    raw = json.loads(nt("ws_orders.json"))
    raw["data"][0]["instId"] = "DOGE-USDT-SWAP"
    with pytest.raises(UnknownSymbol) as caught:
        _decode(json.dumps(raw))
    assert caught.value.native_id == "DOGE-USDT-SWAP"
    raw["data"][0]["instId"] = "BTC-USDT-SWAP"
    raw["data"][0]["state"] = "exploded"
    with pytest.raises(MalformedMessage, match="exploded"):
        _decode(json.dumps(raw))


def _order_push(**changes: object) -> str:
    raw = json.loads(nt("ws_orders_ioc.json"))
    raw["data"][0].update(changes)
    return json.dumps(raw)


def test_post_only_is_accepted_then_canceled() -> None:
    """OKXDOCS ws-order-channel: a post_only order that would take is canceled with
    cancelSource 31 (hand-made from the docs' field list)."""
    events = _decode(
        _order_push(
            ordType="post_only",
            state="canceled",
            accFillSz="0",
            fillSz="0",
            tradeId="",
            cancelSource="31",
            cancelSourceReason="The post-only order will take liquidity from the maker orders",
        )
    )
    (report,) = events
    assert isinstance(report, OrderReport)
    assert report.status is OrderStatus.CANCELED and report.time_in_force.value == "post_only"
    assert report.reason is not None and "post-only" in report.reason


@pytest.mark.parametrize(
    ("source", "status"),
    [("14", "expired"), ("13", "expired"), ("32", "expired"), ("1", "canceled")],
)
def test_an_order_ended_for_its_time_in_force_expired(source: str, status: str) -> None:
    """OKXDOCS ws-order-channel ``cancelSource``: 13 a FOK that could not fill whole, 14 an
    IOC's unfilled remainder, 32 self-trade prevention: ended by the venue on its own
    rules, ``expired`` as Binance reports it (``EXPIRED``, ``EXPIRED_IN_MATCH``); 1 (the
    user's cancel) stays ``canceled``."""
    (report, _fill) = _decode(_order_push(state="canceled", cancelSource=source))
    assert isinstance(report, OrderReport)
    assert (status, f"cancelSource {source}") == (report.status.value, report.reason)


def test_repeated_push_gives_the_same_fill() -> None:
    """OKXDOCS: the same message may arrive twice (different uTime); the trade id dedups."""
    first = _decode(nt("ws_orders.json"))
    again = json.loads(nt("ws_orders.json"))
    again["data"][0]["uTime"] = "1746947317999"
    second = _decode(json.dumps(again))
    fills = [e for e in first + second if isinstance(e, Fill)]
    assert len(fills) == 2 and fills[0].trade_id == fills[1].trade_id
