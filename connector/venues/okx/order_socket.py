"""OKX v5 websocket order entry on ``/ws/v5/private`` (sans-I/O): frames and replies.

Facts (OKX v5 API, "WebSocket / Place order", "Amend order", "Cancel order",
"Login"; fact sheet 3.4; checked 2026-12-06):

* The private socket, logged in with the private stream's ``login`` frame (reply
  ``{"event":"login","code":"0","msg":"","connId"}``; ``{"event":"error",...}``
  when refused). This module's socket carries orders only (no subscriptions).
* A request: ``{"id","op":"order"|"amend-order"|"cancel-order","args":[one
  order]}``; ``id`` is at most 32 letters and digits. Since 2026-02-03 the order
  ops name the instrument by ``instIdCode`` (the integer ``GET
  /api/v5/public/instruments`` lists), not ``instId`` (50014 "Parameter
  instIdCode can not be empty" otherwise): the args are the REST body with
  ``instId`` replaced by the instrument's code. An instrument listed without a
  code goes over REST.
* The reply: ``{"id","op","code","msg","data":[{ordId,clOrdId,tag,ts,sCode,sMsg,
  subCode}],"inTime","outTime"}``: the REST answer's envelope and codes (``code``
  "1" with the order's ``sCode``; 60013 and others with ``data: []``), so
  :func:`.orders.parse_order_answer` reads it as a REST answer. No rate-limit
  header; REST and websocket share the order limits.
* The text ``ping`` every 20 s, answered ``pong`` (a socket silent for 30 s is
  closed).
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from connector.model import Instrument
from connector.venues.driver import RestCall
from connector.venues.driver_common import decode_or_none

__all__ = ["OPS", "reply_id", "request_builder"]

OPS = {
    "/api/v5/trade/order": "order",
    "/api/v5/trade/amend-order": "amend-order",
    "/api/v5/trade/cancel-order": "cancel-order",
}
"""The websocket op of each REST order endpoint that has one."""
_REPLY_OPS = frozenset(OPS.values())
_args = msgspec.json.Decoder(dict[str, object])
_encode = msgspec.json.Encoder().encode


def request_builder(call: RestCall, instrument: Instrument) -> Callable[[str, int], str] | None:
    """What makes the websocket request of ``call`` from ``(request_id, venue_time_ns)``;
    ``None`` when its endpoint has no websocket op or the instrument no ``instIdCode``
    (it goes over REST)."""
    op = OPS.get(call.path)
    if op is None or call.body is None or instrument.venue_code is None:
        return None
    args = _args.decode(call.body)
    args.pop("instId", None)
    args = {"instIdCode": instrument.venue_code, **args}
    tail = f'","op":"{op}","args":[{_encode(args).decode()}]}}'

    def build(request_id: str, venue_time_ns: int) -> str:
        return f'{{"id":"{request_id}{tail}'

    return build


class _Reply(msgspec.Struct):
    id: str | None = None
    op: str = ""


_reply = msgspec.json.Decoder(_Reply)


def reply_id(data: str | bytes) -> str | None:
    """The request id an order reply answers; ``None`` for any other frame."""
    if data == "pong" or data == b"pong":
        return None
    reply = decode_or_none(_reply, data)
    return reply.id if reply is not None and reply.op in _REPLY_OPS else None
