"""Bybit v5 websocket order entry ``/v5/trade`` (sans-I/O): URL, frames, replies.

Facts (Bybit v5 "Websocket Trade Guideline", ``websocket/trade/guideline.mdx``;
fact sheet 3.3; checked 2026-12-06):

* ``wss://stream.bybit.com/v5/trade`` (testnet ``stream-testnet.bybit.com``; not
  served for demo trading); spot, USDT/USDC contracts, inverse, options.
* ``{"op":"auth","args":[apiKey, expires_ms, signature]}`` first, as on the
  private stream; the reply ``{"op":"auth","retCode":0,"retMsg":"OK","connId"}``
  (20001 repeated auth, 10004 bad signature, 10003 unknown key, 10001 bad params).
* A request: ``{"reqId","header":{"X-BAPI-TIMESTAMP","X-BAPI-RECV-WINDOW"},
  "op":"order.create"|"order.amend"|"order.cancel","args":[one order]}``; the
  order's parameters are the REST endpoint's body (``/v5/order/create``, ``amend``,
  ``cancel``). ``reqId`` is at most 36 characters and must not repeat on the
  connection (20006). The timestamp must satisfy ``server_time - recv_window <=
  timestamp < server_time + 1000`` (10002 otherwise).
* The reply: ``{"reqId","retCode","retMsg","op","data":{orderId,orderLinkId},
  "retExtInfo","header":{X-Bapi-Limit, X-Bapi-Limit-Status,
  X-Bapi-Limit-Reset-Timestamp, Traceid, Timenow},"connId"}``: ``data`` is the REST
  ``result`` and the codes are the REST ones, so :func:`.orders.parse_order_answer`
  reads a reply as it reads a REST answer. As on REST, an acknowledgement means
  "accepted"; the ``order`` topic tells the outcome. The per-UID order limits are
  the REST ones (one counter); the IP limit of the socket is 3,000 requests/s.
* ``{"op":"ping"}`` -> ``{"op":"pong",...}``; ping every 20 s as on the private stream.

Tested on ``nautilus_trader/crates/adapters/bybit/test_data/ws_order_response.json``
and ``ws_auth_{success,failure}.json`` (``tests/venues/bybit/test_order_socket.py``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence

import msgspec

from connector.model import Market
from connector.venues.bybit.private import AUTH_EXPIRES_S
from connector.venues.bybit.sign import ws_auth_frame
from connector.venues.common import ControlMessage
from connector.venues.driver import RestCall
from connector.venues.driver_common import decode_or_none
from connector.venues.signing import Signer

__all__ = [
    "OPS",
    "PATH",
    "answer",
    "control",
    "login_frames",
    "reply_id",
    "request_builder",
    "url",
]

PATH = "/v5/trade"
OPS = {
    "/v5/order/create": "order.create",
    "/v5/order/amend": "order.amend",
    "/v5/order/cancel": "order.cancel",
}
"""The websocket op of each REST order endpoint that has one."""
_REPLY_OPS_NOT_ORDERS = frozenset({"auth", "pong", "ping"})
_NS_PER_MS = 1_000_000
_NS_PER_S = 1_000_000_000


def url(markets: Sequence[Market], urls: Mapping[str, str]) -> str:
    """``<market>.ws.trade`` from the URL table if given, else ``<market>.ws`` + ``/v5/trade``.

    Raises:
        ValueError: The table has neither key for any of the markets.
    """
    for market in markets:
        found = urls.get(f"{market.value}.ws.trade")
        if found:
            return found
    for market in markets:
        base = urls.get(f"{market.value}.ws")
        if base:
            return base.rstrip("/") + PATH
    keys = ", ".join(f"{m.value}.ws" for m in markets)
    raise ValueError(f"bybit: the URL table has no websocket URL for order entry ({keys})")


def login_frames(signer: Signer, venue_time_ns: int) -> list[str]:
    """The ``auth`` frame, valid for :data:`.private.AUTH_EXPIRES_S` from ``venue_time_ns``."""
    frame = ws_auth_frame(signer, expires_ns=venue_time_ns + AUTH_EXPIRES_S * _NS_PER_S)
    return [json.dumps(frame, separators=(",", ":"))]


def request_builder(call: RestCall, recv_window_ms: int) -> Callable[[str, int], str] | None:
    """What makes the websocket request of ``call`` from ``(request_id, venue_time_ns)``;
    ``None`` when its endpoint has no websocket op (it goes over REST).

    The order's parameters are ``call.body``, the JSON the REST endpoint takes,
    placed as it is into ``args``.
    """
    op = OPS.get(call.path)
    if op is None or call.body is None:
        return None
    head = f'"X-BAPI-RECV-WINDOW":"{recv_window_ms}"}},"op":"{op}","args":[{call.body.decode()}]}}'

    def build(request_id: str, venue_time_ns: int) -> str:
        stamp = venue_time_ns // _NS_PER_MS
        return f'{{"reqId":"{request_id}","header":{{"X-BAPI-TIMESTAMP":"{stamp}",{head}'

    return build


class _Reply(msgspec.Struct):
    op: str = ""
    reqId: str | None = None
    retCode: int | None = None
    retMsg: str = ""
    success: bool | None = None
    header: dict[str, str] | None = None


_reply = msgspec.json.Decoder(_Reply)
_SERVER_FAILURES = {10019: 503, 10016: 500}
"""The trade service behind the socket restarting, or failing (Bybit v5 error.mdx,
"WS OE General code", checked 2026-12-06), as the HTTP status each stands for."""


def reply_id(data: str | bytes) -> str | None:
    """The request id an order reply answers; ``None`` for any other frame."""
    reply = decode_or_none(_reply, data)
    if reply is None or reply.op in _REPLY_OPS_NOT_ORDERS:
        return None
    return reply.reqId


def control(data: str | bytes) -> ControlMessage | None:
    """A frame that is no order reply: the ``auth`` answer (``login``), a ``pong``, or an
    ``error`` (an unreadable frame, or a refusal that names no request)."""
    reply = decode_or_none(_reply, data)
    if reply is None:
        text = data if isinstance(data, str) else data.decode("utf-8", "replace")
        return ControlMessage(kind="error", ok=False, detail=f"unreadable frame: {text[:200]}")
    if reply.op == "auth":
        ok = reply.retCode == 0 if reply.retCode is not None else bool(reply.success)
        return ControlMessage(kind="login", ok=ok, detail=f"{reply.retCode} {reply.retMsg}")
    if reply.op in ("pong", "ping"):
        return ControlMessage(kind="pong")
    return ControlMessage(
        kind="error", ok=reply.retCode == 0, detail=f"{reply.op}: {reply.retCode} {reply.retMsg}"
    )


def answer(data: str | bytes) -> tuple[int, Mapping[str, str], bytes]:
    """An order reply as a REST answer: status 200 (codes are in ``retCode``, as over
    REST), its ``header`` as the headers (names in lower case, as the REST client
    gives them), the frame as the body (``data`` stands for ``result``). The
    service behind the socket failing stands for a 5xx: 10019 ("ws trade service is
    restarting, do not accept new request ... You can build new connection to be
    routed to normal service") a 503, 10016 ("internal server error; Service is
    restarting") a 500."""
    reply = decode_or_none(_reply, data)
    headers = (
        {}
        if reply is None or not reply.header
        else {name.lower(): value for name, value in reply.header.items()}
    )
    status = 200 if reply is None else _SERVER_FAILURES.get(reply.retCode or 0, 200)
    return status, headers, data.encode() if isinstance(data, str) else data
