"""Bybit v5 private stream (sans-I/O): URL, ``auth`` and ``subscribe`` frames, decoding.

Facts (fact sheet §1.2, §3.3; BYDOCS ``websocket/wss-authentication.mdx``,
``websocket/private/{order,execution,position,wallet}.mdx``; checked 2026-12-03):

* One socket, ``wss://stream.bybit.com/v5/private``, carries spot and linear.
  ``{"op":"auth","args":[apiKey, expires_ms, signature]}`` first (``expires`` in
  the future), then ``{"op":"subscribe","args":["order","execution","position","wallet"]}``
  (the all-in-one topics; they cannot be mixed with ``order.spot``-style ones).
* ``{"op":"ping"}`` every 20 s; the server closes a socket silent for 10 min.
* Pushes are ``{id, topic, creationTime, data:[...]}``. ``order`` items become
  :class:`OrderReport`, ``execution`` items :class:`Fill` (Trade, AdlTrade,
  BustTrade, BlockTrade only), ``position`` items :class:`Position`, ``wallet``
  items one :class:`Balance` per coin. ``wallet`` sends no snapshot on
  subscribe: read ``wallet-balance`` after every (re)connect.
* Items of other categories (``option``, ``inverse``) are skipped.

Tested on ``nautilus_trader/crates/adapters/bybit/test_data/ws_account_*.json``,
``ws_auth_{success,failure}.json``, ``ws_subscription_ack.json`` and
``gocryptotrader/exchanges/bybit/testdata/wsAuth.json`` (``tests/venues/bybit/test_private.py``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import msgspec

from connector.errors import MalformedMessage, UnknownSymbol
from connector.model import Market
from connector.venues.bybit import account, orders
from connector.venues.bybit.sign import ws_auth_frame
from connector.venues.common import ControlMessage, SymbolMap
from connector.venues.driver import HeartbeatRule, PrivateEvent, PrivateStream
from connector.venues.signing import Signer
from connector.venues.trading_common import one_private_stream, private_ws_url

__all__ = [
    "AUTH_EXPIRES_S",
    "PATH",
    "TOPICS",
    "decode_private",
    "heartbeat",
    "login_frames",
    "private_url",
    "streams",
    "subscribe_frames",
]

PATH = "/v5/private"
TOPICS = ("order", "execution", "position", "wallet")
AUTH_EXPIRES_S = 10
"""How far in the future the ``auth`` request's ``expires`` lies (venue time)."""
_NS_PER_S = 1_000_000_000


def streams(market_list: Sequence[Market]) -> list[PrivateStream]:
    """One socket for every market (Bybit's private stream is not per category)."""
    return one_private_stream(orders.VENUE, orders.CATEGORIES, market_list)


def private_url(stream: PrivateStream, urls: Mapping[str, str]) -> str:
    """``<market>.ws.private`` from the URL table if given, else ``<market>.ws`` + ``/v5/private``.

    Raises:
        ValueError: The table has neither key for any of the stream's markets.
    """
    return private_ws_url(orders.VENUE, stream, urls, PATH)


def heartbeat() -> HeartbeatRule:
    """``{"op":"ping"}`` every 20 s; a socket silent for 60 s is dead."""
    return HeartbeatRule(interval=20.0, ping='{"op":"ping"}', timeout=60.0)


def login_frames(signer: Signer, venue_time_ns: int) -> list[str]:
    """The ``auth`` frame, valid for :data:`AUTH_EXPIRES_S` from ``venue_time_ns``."""
    frame = ws_auth_frame(
        signer, expires_ns=venue_time_ns + AUTH_EXPIRES_S * _NS_PER_S, req_id="auth"
    )
    return [json.dumps(frame, separators=(",", ":"))]


def subscribe_frames() -> list[str]:
    """One ``subscribe`` for the all-in-one topics."""
    frame = {"op": "subscribe", "req_id": "private", "args": list(TOPICS)}
    return [json.dumps(frame, separators=(",", ":"))]


class _Frame(msgspec.Struct):
    topic: str = ""
    op: str = ""
    success: bool | None = None
    retCode: int | None = None
    retMsg: str = ""
    ret_msg: str = ""
    req_id: str = ""
    creationTime: int = 0
    data: msgspec.Raw = msgspec.Raw(b"[]")


_frame = msgspec.json.Decoder(_Frame)
_orders = msgspec.json.Decoder(list[orders.OrderItem])
_execs = msgspec.json.Decoder(list[account.ExecItem])
_positions = msgspec.json.Decoder(list[account.PositionItem])
_wallets = msgspec.json.Decoder(list[account.WalletItem])
_KINDS = {"auth": "login", "subscribe": "subscribed", "unsubscribe": "unsubscribed"}


def _control(frame: _Frame) -> ControlMessage:
    ok = frame.success is not False and frame.retCode in (None, 0)
    if frame.op in ("pong", "ping"):
        return ControlMessage(kind="pong", request_id=frame.req_id or None)
    message = frame.retMsg or frame.ret_msg
    detail = message if frame.retCode in (None, 0) else f"{frame.retCode} {message}"
    kind = _KINDS.get(frame.op, "info")
    return ControlMessage(
        kind=kind if ok else "error",
        ok=ok,
        detail=detail if not ok else f"{frame.op} {message}".strip(),
        request_id=frame.req_id or None,
    )


def _known(category: str) -> bool:
    return category == "" or category in orders.MARKETS


def decode_private(raw: str | bytes, symbols: SymbolMap, ts_recv_ns: int) -> list[PrivateEvent]:
    """The events of one private frame.

    Raises:
        UnknownSymbol: An item names a symbol the map does not list.
        MalformedMessage: A frame that does not parse.
    """
    try:
        frame = _frame.decode(raw)
    except (msgspec.DecodeError, ValueError) as exc:
        raise MalformedMessage(f"bybit private frame: {exc}", raw=raw, venue="bybit") from exc
    if frame.op:
        return [_control(frame)]
    topic = frame.topic.split(".", 1)[0]
    market = Market.LINEAR
    events: list[PrivateEvent] = []
    try:
        if topic == "order":
            for item in _orders.decode(frame.data):
                if _known(item.category):
                    events.append(orders.order_report(item, market, symbols, ts_recv_ns))
        elif topic == "execution":
            for exe in _execs.decode(frame.data):
                fill = (
                    account.fill_of(exe, market, symbols, ts_recv_ns)
                    if _known(exe.category)
                    else None
                )
                if fill is not None:
                    events.append(fill)
        elif topic == "position":
            for pos in _positions.decode(frame.data):
                if pos.category == "linear" and pos.positionIdx == 0:
                    events.append(account.position_of(pos, symbols))
        elif topic == "wallet":
            events.extend(
                account.balances_of(_wallets.decode(frame.data), frame.creationTime * 1_000_000)
            )
        else:
            return []
    except UnknownSymbol as exc:
        raise UnknownSymbol(exc.native_id, raw=raw, venue="bybit") from exc
    except (msgspec.DecodeError, ValueError) as exc:
        raise MalformedMessage(f"bybit {frame.topic} push: {exc}", raw=raw, venue="bybit") from exc
    return events
