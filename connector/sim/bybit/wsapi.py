"""Bybit v5 websocket order entry ``/v5/trade``: ``order.create``, ``.amend``, ``.cancel``.

Rules (Bybit v5 "Websocket Trade Guideline", checked 2026-12-03; fact sheet 3.3):

* ``auth`` as on the private stream; replies ``{"retCode":0,"retMsg":"OK",
  "op":"auth","connId"}``, 20001 on a repeated auth, 10004 bad signature, 10003
  unknown key, 10001 malformed.
* A request: ``{"reqId","header":{"X-BAPI-TIMESTAMP","X-BAPI-RECV-WINDOW"?,
  "Referer"?},"op","args":[one order]}``; the batch ops ``order.create-batch``,
  ``order.amend-batch``, ``order.cancel-batch`` take ``args:[{"category",
  "request":[...]}]`` and answer as the REST batch endpoints (``data.list`` and
  ``retExtInfo.list``), as the SDKs send them; ``X-BAPI-TIMESTAMP`` is required and
  must satisfy ``server_time - recv_window <= timestamp < server_time + 1000``
  (10002 otherwise; recv window 5000 by default). A repeated ``reqId`` on the
  connection is 20006; an unknown op or category 10404; before ``auth`` 10003.
* The reply: ``{"reqId","retCode","retMsg","op","data":{orderId,orderLinkId},
  "retExtInfo":{},"header":{X-Bapi-Limit, X-Bapi-Limit-Status,
  X-Bapi-Limit-Reset-Timestamp, Traceid, Timenow},"connId"}``; ``data`` is the
  REST ``result``. The per-UID order limits are the REST ones (shared counters).
* ``{"op":"ping"}`` -> ``{"retCode":0,"retMsg":"OK","op":"pong","data":["<ms>"],"connId"}``.
* A restart of the trade service (the fault plan's ``server_shutdown``): the sessions
  open then answer every order op with 10019 ("ws trade service is restarting, do not
  accept new request ... You can build new connection to be routed to normal
  service", Bybit v5 error.mdx "WS OE General code", checked 2026-12-06) and close
  ``seconds`` later; new sessions are served as before.

Order replies are data frames of stream :data:`~connector.sim.ws.ORDER_REPLIES` to the
fault plan.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

import msgspec

from connector.sim.accounts import AuthRejected
from connector.sim.bybit.auth import verify_ws_auth
from connector.sim.bybit.codes import AUTH_REPEAT
from connector.sim.bybit.orders import CATEGORIES, OpResult, OrderOps
from connector.sim.bybit.signed import OrderLimiter
from connector.sim.bybit.trading import BybitTrading, batch_size
from connector.sim.bybit.wire import JsonDict, encode
from connector.sim.hub import SimVenue
from connector.sim.ws import ORDER_REPLIES, WsConnection

__all__ = ["TradeSocket"]

_dec = msgspec.json.Decoder()
_OPS = {
    "order.create": "/v5/order/create",
    "order.amend": "/v5/order/amend",
    "order.cancel": "/v5/order/cancel",
    "order.create-batch": "/v5/order/create-batch",
    "order.amend-batch": "/v5/order/amend-batch",
    "order.cancel-batch": "/v5/order/cancel-batch",
}
_DEFAULT_RECV_WINDOW = 5000
_AHEAD_MS = 1000


class TradeSocket:
    """The ``/v5/trade`` sessions of one Bybit front-end.

    Args:
        venue: The Bybit hub.
        ops: The order operations (shared with REST).
        limiter: The per-UID order limiter (shared with REST).
        trading: The REST order routes (batches run as they do there).
    """

    def __init__(
        self, venue: SimVenue, ops: OrderOps, limiter: OrderLimiter, trading: BybitTrading
    ) -> None:
        self.venue = venue
        self.ops = ops
        self.trading = trading
        self.limiter = limiter
        self.requests = 0
        self._sessions: set[_TradeSession] = set()

    async def serve(self, conn: WsConnection) -> None:
        """One order-entry session until the client leaves."""
        conn_id = str(uuid.UUID(int=(self.venue.seed << 64) + (2 << 40) + conn.conn_id))
        session = _TradeSession(self, conn, conn_id)
        self._sessions.add(session)
        try:
            while (message := await conn.receive()) is not None:
                session.on_message(message)
        finally:
            self._sessions.discard(session)

    def restart(self) -> list[WsConnection]:
        """The trade service restarts: the sessions open now refuse new orders with
        10019 from here on. Returns their connections (the caller closes them)."""
        for session in self._sessions:
            session.restarting = True
        return [session.conn for session in self._sessions]


class _TradeSession:
    def __init__(self, socket: TradeSocket, conn: WsConnection, conn_id: str) -> None:
        self.socket = socket
        self.conn = conn
        self.conn_id = conn_id
        self.account: str | None = None
        self.req_ids: set[str] = set()
        self.restarting = False

    def send(self, body: JsonDict, stream: str = "") -> None:
        body["connId"] = self.conn_id
        self.conn.send(encode(body), stream)

    def on_message(self, raw: str | bytes) -> None:
        try:
            message = _dec.decode(raw)
        except msgspec.DecodeError:
            self.send({"retCode": 10001, "retMsg": "request not json", "op": ""})
            return
        if not isinstance(message, dict):
            self.send({"retCode": 10001, "retMsg": "request not an object", "op": ""})
            return
        op = str(message.get("op", ""))
        req_id = message.get("reqId")
        head: JsonDict = {"reqId": str(req_id)} if req_id is not None else {}
        if op == "ping":
            now = str(self.socket.venue.now_ms())
            self.send({**head, "retCode": 0, "retMsg": "OK", "op": "pong", "data": [now]})
        elif op == "auth":
            self.send({**head, **self._auth(message.get("args")), "op": "auth"})
        elif op in _OPS:
            self._order(op, head, message)
        else:
            self.send({**head, "retCode": 10404, "retMsg": f"op type is not found: {op}", "op": op})

    def _auth(self, args: object) -> JsonDict:
        if self.account is not None:
            code, msg = AUTH_REPEAT
            return {"retCode": code, "retMsg": msg}
        verdict = verify_ws_auth(
            args if isinstance(args, list) else [],
            keyring=self.socket.venue.desk.keyring,
            now_ns=self.socket.venue.now_ns(),
        )
        if isinstance(verdict, AuthRejected):
            return {"retCode": verdict.code, "retMsg": verdict.message}
        self.account = verdict.account_id
        return {"retCode": 0, "retMsg": "OK"}

    def _check_header(self, header: object) -> tuple[int, str] | None:
        if not isinstance(header, dict):
            return 10001, "header is required"
        stamp = str(header.get("X-BAPI-TIMESTAMP", ""))
        window = str(header.get("X-BAPI-RECV-WINDOW", _DEFAULT_RECV_WINDOW))
        if not stamp.isdigit() or not window.isdigit():
            return 10001, "header X-BAPI-TIMESTAMP or X-BAPI-RECV-WINDOW invalid"
        now = self.socket.venue.now_ms()
        if not now - int(window) <= int(stamp) < now + _AHEAD_MS:
            return 10002, (
                "invalid request, please check your server timestamp or recv_window param. "
                f"req_timestamp[{stamp}],server_timestamp[{now}],recv_window[{window}]"
            )
        return None

    def _order(self, op: str, head: JsonDict, message: Mapping[str, object]) -> None:
        self.socket.requests += 1

        def answer(
            result: OpResult, limit: JsonDict | None = None, ext: JsonDict | None = None
        ) -> None:
            code, msg, data = result
            now = str(self.socket.venue.now_ms())
            header: JsonDict = dict(limit or {})
            header["Traceid"] = uuid.uuid4().hex
            header["Timenow"] = now
            body: JsonDict = {**head, "retCode": code, "retMsg": msg, "op": op, "data": data}
            body["retExtInfo"] = ext if ext is not None else {}
            body["header"] = header
            self.send(body, ORDER_REPLIES)

        if self.account is None:
            answer((10003, "Request not authorized", {}))
            return
        if self.restarting:
            answer((10019, "ws trade service is restarting, do not accept new request", {}))
            return
        req_id = head.get("reqId")
        if isinstance(req_id, str):
            if req_id in self.req_ids:
                answer((20006, "reqId is duplicated", {}))
                return
            self.req_ids.add(req_id)
        header_error = self._check_header(message.get("header"))
        if header_error is not None:
            answer((*header_error, {}))
            return
        args = message.get("args")
        if not isinstance(args, list) or len(args) != 1 or not isinstance(args[0], dict):
            answer((10001, "args must hold one order", {}))
            return
        params: dict[str, object] = args[0]
        category = str(params.get("category", ""))
        if category not in CATEGORIES:
            answer((10404, "category is not correct/supported", {}))
            return
        batch = op.endswith("-batch")
        cost = batch_size(params) if batch else 1
        verdict = self.socket.limiter.hit(self.account, _OPS[op], category, max(cost, 1))
        limit: JsonDict = {
            "X-Bapi-Limit": str(verdict.limit),
            "X-Bapi-Limit-Status": str(verdict.remaining),
            "X-Bapi-Limit-Reset-Timestamp": str(verdict.reset_ms),
        }
        if not verdict.allowed:
            answer((10006, "Too many visits!", {}), limit)
            return
        if batch:
            name = op.removeprefix("order.").removesuffix("-batch")
            code, msg, result, ext = self.socket.trading.run_batch(name, self.account, params)
            answer((code, msg, result), limit, ext)
            return
        now = self.socket.venue.now_ms()
        ops = self.socket.ops
        run = {"order.create": ops.create, "order.amend": ops.amend, "order.cancel": ops.cancel}
        answer(run[op](self.account, params, now), limit)
