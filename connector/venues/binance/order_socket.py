"""Binance order entry over the WebSocket APIs (sans-I/O): sockets, frames, replies.

Facts (Binance spot ``web-socket-api.md`` and USDⓈ-M ``websocket-api-general-info``,
``trade/websocket-api``; fact sheet 1.1 and section 4; checked 2026-12-06):

* One socket per market, on its own host: spot ``wss://ws-api.binance.com:443/ws-api/v3``
  (``spot.wsapi``), USDⓈ-M ``wss://ws-fapi.binance.com/ws-fapi/v1`` (``linear.wsapi``);
  a custom table without them: ``<market>.ws`` + ``/ws-api/v3`` or ``/ws-fapi/v1``.
* No login: every request is signed on its own (``session.logon`` takes Ed25519 keys
  only), ``{"id","method","params"}`` with the REST endpoint's parameters plus
  ``apiKey``, ``timestamp`` and ``signature`` over all of them sorted by name
  (:func:`.sign.ws_signed_params`). Methods: ``order.place`` (``POST`` order),
  ``order.cancel`` (``DELETE``), spot ``order.amend.keepPriority``, USDⓈ-M
  ``order.modify`` (``PUT``). ``id`` is any string; the connector's never repeat.
* The reply ``{"id","status","result"|"error","rateLimits"}``: ``status`` the HTTP
  status the REST endpoint would answer, ``result`` its body, ``error`` its error
  body ``{"code","msg"}``; ``rateLimits`` the counters REST sends as headers
  (``ORDERS`` per 10 s / 1 min / 1 day → ``X-MBX-ORDER-COUNT-*``,
  ``REQUEST_WEIGHT`` → ``X-MBX-USED-WEIGHT-*``). Order counts and request weight are
  shared with REST. A 429 or 418 error's ``data`` ``{"serverTime","retryAfter"}``
  (epoch ms: until when) → ``Retry-After`` in seconds.
* The server pings (spot every 20 s, USDⓈ-M every 3 min); the transport answers.
* ``{"event": {"e": "serverShutdown", "E"}}`` announces the socket's close ("establish
  a new connection as soon as possible"): an ``expired`` control message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import msgspec

from connector.errors import MalformedMessage
from connector.model import Market
from connector.venues.binance.sign import ws_signed_params
from connector.venues.common import ControlMessage
from connector.venues.driver import HeartbeatRule, PrivateStream, RestCall
from connector.venues.driver_common import decode_or_none
from connector.venues.signing import Signer

__all__ = [
    "METHODS",
    "answer",
    "control",
    "heartbeat",
    "reply_id",
    "request_builder",
    "sockets",
    "url",
]

METHODS: Mapping[tuple[str, str], str] = {
    ("POST", "/api/v3/order"): "order.place",
    ("DELETE", "/api/v3/order"): "order.cancel",
    ("PUT", "/api/v3/order/amend/keepPriority"): "order.amend.keepPriority",
    ("POST", "/fapi/v1/order"): "order.place",
    ("DELETE", "/fapi/v1/order"): "order.cancel",
    ("PUT", "/fapi/v1/order"): "order.modify",
}
"""The WebSocket API method of each REST order request that has one."""
_PATHS = {Market.SPOT: "/ws-api/v3", Market.LINEAR: "/ws-fapi/v1"}
_INTERVALS = {"SECOND": "s", "MINUTE": "m", "HOUR": "h", "DAY": "d"}
_encode = msgspec.json.Encoder().encode


def sockets(markets: Sequence[Market]) -> list[PrivateStream]:
    """One socket per market (the two WebSocket APIs live on different hosts)."""
    return [PrivateStream(key=m.value, markets=(m,)) for m in markets if m in _PATHS]


def url(socket: PrivateStream, urls: Mapping[str, str]) -> str:
    """``<market>.wsapi`` from the URL table, else ``<market>.ws`` + the API's path.

    Raises:
        ValueError: The table has neither key for the socket's market.
    """
    (market,) = socket.markets
    explicit = urls.get(f"{market.value}.wsapi")
    if explicit:
        return explicit
    base = urls.get(f"{market.value}.ws")
    if not base:
        raise ValueError(f"binance: the URL table has no {market.value}.wsapi or .ws URL")
    return base.rstrip("/") + _PATHS[market]


def heartbeat() -> HeartbeatRule:
    """The server pings and the transport answers; we ping too (the socket may stay
    silent between orders)."""
    return HeartbeatRule(interval=30.0, ping=None, timeout=90.0, protocol_ping=True)


def request_builder(
    signer: Signer, call: RestCall, recv_window_ms: int | None
) -> Callable[[str, int], str] | None:
    """What makes the WebSocket API request of ``call`` from ``(request_id,
    venue_time_ns)`` (signed then, with the venue's time); ``None`` when the request has
    no method there (it goes over REST)."""
    method = METHODS.get((call.method, call.path))
    if method is None or call.body:
        return None
    params = dict(call.params)

    def build(request_id: str, venue_time_ns: int) -> str:
        signed = ws_signed_params(
            signer, params, now_ns=venue_time_ns, recv_window_ms=recv_window_ms
        )
        return _encode({"id": request_id, "method": method, "params": signed}).decode()

    return build


class _RateLimit(msgspec.Struct):
    rateLimitType: str = ""
    interval: str = ""
    intervalNum: int = 0
    count: int = 0


_ABSENT = msgspec.Raw(b"null")


class _Reply(msgspec.Struct):
    id: str | int | None = None
    status: int | None = None
    result: msgspec.Raw = _ABSENT
    error: msgspec.Raw = _ABSENT
    rateLimits: list[_RateLimit] = []


_reply = msgspec.json.Decoder(_Reply)


class _ErrorData(msgspec.Struct):
    serverTime: int | None = None
    retryAfter: int | None = None


class _Error(msgspec.Struct):
    data: _ErrorData | None = None


_error = msgspec.json.Decoder(_Error)


def reply_id(data: str | bytes) -> str | None:
    """The request id a reply answers; ``None`` for any other frame (events, or a
    reply without an id)."""
    reply = decode_or_none(_reply, data)
    if reply is None or reply.status is None or reply.id is None:
        return None
    return str(reply.id)


class _EventBody(msgspec.Struct):
    e: str = ""


class _Event(msgspec.Struct):
    event: _EventBody


_event = msgspec.json.Decoder(_Event)


def control(data: str | bytes) -> ControlMessage | None:
    """Any frame that is no reply to a request: ``serverShutdown`` (the venue will
    close the socket: ``expired``, open another now), an ``info`` for another event,
    an ``error`` when unreadable, else ``None``."""
    pushed = decode_or_none(_event, data)
    if pushed is not None:
        if pushed.event.e == "serverShutdown":
            return ControlMessage(kind="expired", ok=False, detail="serverShutdown")
        return ControlMessage(kind="info", detail=f"event {pushed.event.e}")
    if decode_or_none(_reply, data) is not None:
        return None
    text = data if isinstance(data, str) else data.decode("utf-8", "replace")
    return ControlMessage(kind="error", ok=False, detail=f"unreadable frame: {text[:200]}")


def answer(data: str | bytes) -> tuple[int, Mapping[str, str], bytes]:
    """A reply as the REST answer it stands for: its status, its ``rateLimits`` as the
    REST headers, and ``result`` (or ``error``) as the body.

    Raises:
        MalformedMessage: Not a reply.
    """
    reply = decode_or_none(_reply, data)
    if reply is None or reply.status is None:
        raw = data.encode() if isinstance(data, str) else data
        raise MalformedMessage("binance websocket reply without a status", raw=raw, venue="binance")
    headers: dict[str, str] = {}
    for limit in reply.rateLimits:
        unit = _INTERVALS.get(limit.interval)
        if unit is None:
            continue
        if limit.rateLimitType == "ORDERS":
            headers[f"x-mbx-order-count-{limit.intervalNum}{unit}"] = str(limit.count)
        elif limit.rateLimitType == "REQUEST_WEIGHT":
            headers[f"x-mbx-used-weight-{limit.intervalNum}{unit}"] = str(limit.count)
    if bytes(reply.result) != b"null":
        return reply.status, headers, bytes(reply.result)
    error = decode_or_none(_error, bytes(reply.error))
    until = None if error is None else error.data
    if until is not None and until.retryAfter is not None and until.serverTime is not None:
        # A 429 or 418 says until when (epoch ms): as REST's Retry-After, in seconds.
        headers["retry-after"] = str(max(0, until.retryAfter - until.serverTime) / 1000)
    return reply.status, headers, bytes(reply.error)
