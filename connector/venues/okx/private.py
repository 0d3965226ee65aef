"""OKX v5 private stream (sans-I/O): URL, ``login`` and ``subscribe`` frames, decoding.

Facts (fact sheet §1.2, §3.4; OKXDOCS ``overview-websocket-login``,
``order-book-trading-trade-ws-order-channel``, ``trading-account-websocket-positions-channel``,
``-account-channel``, ``error-code-websocket``; checked 2026-12-03):

* One socket, ``wss://ws.okx.com/ws/v5/private``, for every market.
  ``{"op":"login","args":[{apiKey, passphrase, timestamp (s), sign}]}`` first
  (answered ``{"event":"login","code":"0"}``, or ``event:error`` 60009...), then
  one ``subscribe`` of ``orders`` (per ``instType``), ``positions`` (``SWAP``) and
  ``account``.
* The text ``ping`` keeps the socket alive (``pong``); the server closes a
  socket silent for 30 s. ``event:notice`` 64008 announces a close for an
  upgrade: it is reported as an ``expired`` control message (reconnect now).
* ``orders`` pushes become :class:`OrderReport` (plus a :class:`Fill` when the
  push carries a ``tradeId``), ``positions`` pushes :class:`Position`,
  ``account`` pushes one :class:`Balance` per currency. There are no sequence
  numbers and pushes may repeat: fills are deduplicated by trade id downstream.

Tested on ``nautilus_trader/crates/adapters/okx/test_data/ws_orders*.json``,
``ws_account.json``, ``gocryptotrader/exchanges/okx/testdata/wsOrders.json`` and the
docs' login / subscribe / error replies (``tests/venues/okx/test_private.py``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import msgspec

from connector.errors import MalformedMessage, UnknownSymbol
from connector.model import Market
from connector.venues.common import ControlMessage, SymbolMap
from connector.venues.driver import HeartbeatRule, PrivateEvent, PrivateStream
from connector.venues.okx import account, orders
from connector.venues.okx.parse import UPGRADE_NOTICE
from connector.venues.okx.sign import ws_login_frame
from connector.venues.signing import Signer
from connector.venues.trading_common import one_private_stream, private_ws_url

__all__ = [
    "PATH",
    "control",
    "decode_private",
    "heartbeat",
    "login_frames",
    "private_url",
    "streams",
    "subscribe_frames",
]

PATH = "/ws/v5/private"


def streams(market_list: Sequence[Market]) -> list[PrivateStream]:
    """One socket for every market."""
    return one_private_stream(orders.VENUE, orders.INST_TYPES, market_list)


def private_url(stream: PrivateStream, urls: Mapping[str, str]) -> str:
    """``<market>.ws.private`` from the URL table, else ``<market>.ws`` + ``/ws/v5/private``.

    Raises:
        ValueError: The table has neither key for any of the stream's markets.
    """
    return private_ws_url(orders.VENUE, stream, urls, PATH)


def heartbeat() -> HeartbeatRule:
    """The text ``ping`` every 20 s (OKX closes a socket silent for 30 s)."""
    return HeartbeatRule(interval=20.0, ping="ping", timeout=60.0)


def login_frames(signer: Signer, venue_time_ns: int) -> list[str]:
    """The ``login`` frame (valid 30 s after ``venue_time_ns``)."""
    return [json.dumps(ws_login_frame(signer, now_ns=venue_time_ns), separators=(",", ":"))]


def subscribe_frames(stream: PrivateStream) -> list[str]:
    """One ``subscribe``: ``orders`` of each market, ``positions`` of swaps, ``account``."""
    args: list[dict[str, str]] = [
        {"channel": "orders", "instType": orders.INST_TYPES[m]} for m in stream.markets
    ]
    if Market.SWAP in stream.markets:
        args.append({"channel": "positions", "instType": "SWAP"})
    args.append({"channel": "account"})
    return [json.dumps({"op": "subscribe", "args": args}, separators=(",", ":"))]


class _Arg(msgspec.Struct):
    channel: str = ""
    instType: str = ""


class _Frame(msgspec.Struct):
    event: str = ""
    code: str = ""
    msg: str = ""
    arg: _Arg | None = None
    data: msgspec.Raw = msgspec.Raw(b"[]")


_frame = msgspec.json.Decoder(_Frame)
_orders = msgspec.json.Decoder(list[orders.OrderItem])
_positions = msgspec.json.Decoder(list[account.PositionItem])
_accounts = msgspec.json.Decoder(list[account.AccountItem])


def _control(frame: _Frame) -> ControlMessage:
    channel = frame.arg.channel if frame.arg is not None else ""
    if frame.event == "login":
        ok = frame.code in ("", "0")
        return ControlMessage(
            kind="login" if ok else "error", ok=ok, detail=f"{frame.code} {frame.msg}".strip()
        )
    if frame.event == "subscribe":
        return ControlMessage(kind="subscribed", detail=channel)
    if frame.event == "unsubscribe":
        return ControlMessage(kind="unsubscribed", detail=channel)
    if frame.event == "error":
        return ControlMessage(kind="error", ok=False, detail=f"{frame.code} {frame.msg}")
    if frame.event == "notice" and frame.code == UPGRADE_NOTICE:
        return ControlMessage(kind="expired", ok=False, detail=f"{frame.code} {frame.msg}")
    return ControlMessage(kind="info", detail=f"{frame.event} {frame.code} {frame.msg}".strip())


def control(raw: str | bytes) -> ControlMessage | None:
    """A frame that is no push and no order reply: ``pong``, a ``login`` answer, an
    ``error`` or a notice; ``None`` for anything else (order replies carry ``op``)."""
    if raw == "pong" or raw == b"pong":
        return ControlMessage(kind="pong")
    try:
        frame = _frame.decode(raw)
    except (msgspec.DecodeError, ValueError):
        text = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
        return ControlMessage(kind="error", ok=False, detail=f"unreadable frame: {text[:200]}")
    return _control(frame) if frame.event else None


def decode_private(raw: str | bytes, symbols: SymbolMap, ts_recv_ns: int) -> list[PrivateEvent]:
    """The events of one private frame.

    Raises:
        UnknownSymbol: An item names an instrument the map does not list.
        MalformedMessage: A frame that does not parse.
    """
    text = raw.decode() if isinstance(raw, bytes) else raw
    if text == "pong":
        return [ControlMessage(kind="pong")]
    try:
        frame = _frame.decode(text)
    except (msgspec.DecodeError, ValueError) as exc:
        raise MalformedMessage(f"okx private frame: {exc}", raw=raw, venue="okx") from exc
    if frame.event:
        return [_control(frame)]
    channel = frame.arg.channel if frame.arg is not None else ""
    events: list[PrivateEvent] = []
    try:
        if channel == "orders":
            for item in _orders.decode(frame.data):
                if item.instType and item.instType not in orders.MARKETS:
                    continue
                events.append(orders.order_report(item, Market.SPOT, symbols, ts_recv_ns))
                events.extend(orders.fills_of_order(item, Market.SPOT, symbols, ts_recv_ns))
        elif channel == "positions":
            for pos in _positions.decode(frame.data):
                if pos.instType == "SWAP":
                    events.append(account.position_of(pos, symbols))
        elif channel == "account":
            events.extend(account.balances_of(_accounts.decode(frame.data)))
    except UnknownSymbol as exc:
        raise UnknownSymbol(exc.native_id, raw=raw, venue="okx") from exc
    except (msgspec.DecodeError, ValueError) as exc:
        raise MalformedMessage(f"okx {channel} push: {exc}", raw=raw, venue="okx") from exc
    return events
