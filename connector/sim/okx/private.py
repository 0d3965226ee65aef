"""OKX ``/ws/v5/private``: ``login``, private channels and the websocket order ops.

OKX docs ``overview-websocket-login``, ``-ws-order-channel``,
``-websocket-account-channel``, ``-positions-channel``,
``-balance-and-position-channel``, ``-ws-fills-channel``, ``-ws-place-order``
(checked 2026-12-03; venues-trading.md 1.2, 3.4):

* ``login`` (:func:`connector.sim.okx.auth.verify_ws_login`: timestamp in
  seconds, 30 s window 60006, 60005 key, 60024 passphrase, 60009 signature):
  ``{"event":"login","code":"0","msg":"","connId"}``; failures are ``error``
  events. Anything private before a login: 60011 "Please log in".
* Channels: ``orders`` (``instType`` ``SPOT``/``SWAP``/``ANY``, optional
  ``instId``; pushed on every change, no snapshot), ``positions`` (a snapshot
  on subscribe, then each change; a closed position once with ``pos`` 0),
  ``account`` (a snapshot on subscribe, then the changed currencies),
  ``balance_and_position`` (a ``snapshot``, then ``filled`` events);
  ``fills`` answers 64003 (VIP4+ only), unknown channels 60018.
* Order ops ``order``, ``batch-orders``, ``cancel-order``,
  ``batch-cancel-orders``, ``amend-order``, ``batch-amend-orders``,
  ``mass-cancel``: ``{"id","op","args"}`` with ``instIdCode`` (the integer of
  ``public/instruments``; since 2026-02 ``instId`` alone gives 50014);
  reply ``{"id","op","code","msg","data","inTime","outTime"}`` with the REST
  items; a malformed request gives ``60013`` with empty data; ``mass-cancel``
  (options' MMP orders only) is refused as on REST. Limits are
  shared with REST (:mod:`connector.sim.okx.limits`). The reply goes out
  before the channel pushes the operation caused.
* Text ``ping`` -> ``pong``. Channel pushes are frames of the stream named
  by the channel (``orders``, ``positions``, ``account``,
  ``balance_and_position``): the fault plan's frame faults (drop, duplicate,
  reorder, delay, disconnect) apply to them, and to the order ops' replies
  (stream :data:`~connector.sim.ws.ORDER_REPLIES`); other replies never.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping

import msgspec

from connector.sim.accounts import Authenticated
from connector.sim.desk import BalancesUpdated, DeskEvent, OrderUpdated, PositionUpdated
from connector.sim.hub import SimVenue
from connector.sim.okx.account import OkxAccount, pos_id
from connector.sim.okx.auth import verify_ws_login
from connector.sim.okx.codes import Op
from connector.sim.okx.ops import BadRequest, OkxOrders
from connector.sim.okx.orders import order_push, position_item
from connector.sim.okx.wire import INST_TYPES, JsonDict, encode, format_number
from connector.sim.ws import ORDER_REPLIES, WsConnection

__all__ = ["OkxPrivate"]

_dec = msgspec.json.Decoder()

_OPS: dict[str, tuple[Op, bool]] = {
    "order": ("place", False),
    "batch-orders": ("place", True),
    "cancel-order": ("cancel", False),
    "batch-cancel-orders": ("cancel", True),
    "amend-order": ("amend", False),
    "batch-amend-orders": ("amend", True),
}
_CHANNELS = ("orders", "positions", "account", "balance_and_position")
_INST_TYPES = ("SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION", "ANY")


def _uid(account: str) -> str:
    return str(zlib.crc32(account.encode()))


class _Session:
    """One private connection: its login and subscriptions."""

    def __init__(self, conn: WsConnection, conn_id: str) -> None:
        self.conn = conn
        self.conn_id = conn.state["connId"] = conn_id
        self.account: str | None = None
        self.subs: dict[tuple[str, str, str], JsonDict] = {}
        self.unlisten: Callable[[], None] | None = None
        self.held: list[tuple[str, str]] | None = None

    def send(self, value: JsonDict, stream: str = "") -> None:
        self.conn.send(encode(value), stream)

    def push(self, value: JsonDict) -> None:
        """A channel push (held back while an op's reply is pending).

        Pushes are data frames of the stream named by their channel (``orders``,
        ``positions``...), so the run's fault plan applies to them.
        """
        arg = value.get("arg")
        stream = str(arg.get("channel", "")) if isinstance(arg, dict) else ""
        if self.held is not None:
            self.held.append((encode(value), stream))
        else:
            self.conn.send(encode(value), stream=stream)


class OkxPrivate:
    """The private websocket of the OKX front-end.

    Args:
        venue: The venue hub (desk, clock).
        orders: The order operations (shared with REST).
        account: The account routes (balance and position shapes).
        codes: ``instIdCode`` -> ``instId``.
        conn_id: Makes a new ``connId``.
    """

    def __init__(
        self,
        venue: SimVenue,
        orders: OkxOrders,
        account: OkxAccount,
        codes: Mapping[int, str],
        conn_id: Callable[[], str],
    ) -> None:
        self.venue = venue
        self.orders = orders
        self.account = account
        self.codes = codes
        self.conn_id = conn_id
        self.sessions = 0
        self.order_requests = 0

    async def serve(self, conn: WsConnection) -> None:
        """One ``/ws/v5/private`` session."""
        session = _Session(conn, self.conn_id())
        self.sessions += 1
        try:
            while (raw := await conn.receive()) is not None:
                text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
                if text == "ping":
                    conn.send("pong")
                else:
                    self._on_message(session, text)
        finally:
            if session.unlisten is not None:
                session.unlisten()

    def _error(self, session: _Session, code: str, msg: str, req_id: str | None) -> None:
        out: JsonDict = {}
        if req_id is not None:
            out["id"] = req_id
        out.update({"event": "error", "code": code, "msg": msg, "connId": session.conn_id})
        session.send(out)

    def _on_message(self, session: _Session, text: str) -> None:
        try:
            message = _dec.decode(text)
        except msgspec.DecodeError:
            message = None
        if not isinstance(message, dict) or not isinstance(message.get("op"), str):
            self._error(session, "60012", f"Invalid request: {text}", None)
            return
        raw_id = message.get("id")
        req_id = str(raw_id) if raw_id is not None else None
        op = str(message["op"])
        args = message.get("args")
        if op == "login":
            self._login(session, args if isinstance(args, list) else [], req_id)
        elif op in ("subscribe", "unsubscribe"):
            self._subscribe(session, op, args, req_id, text)
        elif op in _OPS or op == "mass-cancel":
            raw_exp = message.get("expTime")
            exp_time = str(raw_exp) if isinstance(raw_exp, (str, int)) else ""
            self._order_op(session, op, args, req_id, exp_time)
        else:
            self._error(session, "60019", f"Invalid op: {op}", req_id)

    # ------------------------------------------------------------------ login

    def _login(self, session: _Session, args: list[object], req_id: str | None) -> None:
        decision = verify_ws_login(
            args, keyring=self.venue.desk.keyring, now_ns=self.venue.now_ns()
        )
        if not isinstance(decision, Authenticated):
            self._error(session, str(decision.code), decision.message, req_id)
            return
        if session.account is not None and session.account != decision.account_id:
            self._error(
                session,
                "60031",
                "The WebSocket endpoint does not allow multiple or repeated logins.",
                req_id,
            )
            return
        out: JsonDict = {} if req_id is None else {"id": req_id}
        out.update({"event": "login", "code": "0", "msg": "", "connId": session.conn_id})
        session.send(out)
        if session.account is None:
            session.account = decision.account_id
            session.unlisten = self.venue.desk.listen(
                lambda event: self._on_event(session, event), decision.account_id
            )

    # ------------------------------------------------------------- channels

    def _subscribe(
        self, session: _Session, op: str, args: object, req_id: str | None, text: str
    ) -> None:
        if not isinstance(args, list) or not args:
            self._error(session, "60012", f"Invalid request: {text}", req_id)
            return
        for arg in args:
            if not isinstance(arg, dict) or not isinstance(arg.get("channel"), str):
                self._error(session, "60012", f"Invalid request: {text}", req_id)
                continue
            if session.account is None:
                self._error(session, "60011", "Please log in", req_id)
                continue
            channel = str(arg["channel"])
            if channel == "fills":
                self._error(
                    session,
                    "64003",
                    "Your trading fee tier doesn't meet the requirement to access this channel",
                    req_id,
                )
                continue
            if channel not in _CHANNELS:
                self._error(
                    session,
                    "60018",
                    f"Wrong URL or channel:{channel} doesn't exist. Please use the correct URL,"
                    " channel and parameters referring to API document.",
                    req_id,
                )
                continue
            inst_type = str(arg.get("instType", ""))
            if channel in ("orders", "positions") and inst_type not in _INST_TYPES:
                self._error(
                    session, "60013", f"Invalid args: {channel} instType is invalid", req_id
                )
                continue
            echo: JsonDict = {k: str(v) for k, v in arg.items()}
            key = (channel, inst_type, str(arg.get("instId", "")))
            ack: JsonDict = {} if req_id is None else {"id": req_id}
            ack.update({"event": op, "arg": echo, "connId": session.conn_id})
            session.send(ack)
            if op == "unsubscribe":
                session.subs.pop(key, None)
                continue
            if key in session.subs:
                continue
            session.subs[key] = echo
            self._snapshot(session, channel, echo)

    def _arg(self, session: _Session, echo: JsonDict) -> JsonDict:
        assert session.account is not None
        return {**echo, "uid": _uid(session.account)}

    def _snapshot(self, session: _Session, channel: str, echo: JsonDict) -> None:
        account = session.account
        assert account is not None
        if channel == "positions":
            items = [
                i
                for i in self.account.position_items(account)
                if self._matches(echo, str(i["instType"]), str(i["instId"]))
            ]
            session.push({"arg": self._arg(session, echo), "data": items})
        elif channel == "account":
            ccy = str(echo.get("ccy", ""))
            session.push(
                {
                    "arg": self._arg(session, echo),
                    "data": [self._account_item(account, {ccy} if ccy else None)],
                }
            )
        elif channel == "balance_and_position":
            now = str(self.venue.now_ms())
            bal = [
                {"cashBal": format_number(b.total), "ccy": b.asset, "uTime": now}
                for b in self.venue.desk.balances(account)
            ]
            pos = [self._pos_data(i) for i in self.account.position_items(account)]
            session.push(
                {
                    "arg": self._arg(session, echo),
                    "data": [
                        {
                            "balData": bal,
                            "eventType": "snapshot",
                            "pTime": now,
                            "posData": pos,
                            "trades": [],
                        }
                    ],
                }
            )

    @staticmethod
    def _matches(echo: JsonDict, inst_type: str, inst_id: str) -> bool:
        want_type = echo.get("instType", "ANY")
        want_id = echo.get("instId", "")
        return want_type in ("ANY", inst_type) and (not want_id or want_id == inst_id)

    def _account_item(self, account: str, ccys: set[str] | None) -> JsonDict:
        return self.account.summary(account, ccys)

    @staticmethod
    def _pos_data(item: JsonDict) -> JsonDict:
        keys = ("avgPx", "ccy", "instId", "instType", "mgnMode", "pos", "posId", "posSide")
        out: JsonDict = {k: item[k] for k in keys}
        out.update({"baseBal": "", "nonSettleAvgPx": "", "posCcy": "", "quoteBal": ""})
        out["settledPnl"] = ""
        out["tradeId"] = item["tradeId"]
        out["uTime"] = item["uTime"]
        return dict(sorted(out.items()))

    # ---------------------------------------------------------------- events

    def _on_event(self, session: _Session, event: DeskEvent) -> None:
        if not session.subs:
            return
        if isinstance(event, OrderUpdated):
            self._push_order(session, event)
        elif isinstance(event, BalancesUpdated):
            self._push_balances(session, event)
        elif isinstance(event, PositionUpdated):
            self._push_position(session, event)

    def _push_order(self, session: _Session, event: OrderUpdated) -> None:
        order = event.order
        inst = self.orders.instruments.get(order.native_id)
        if inst is None:
            return
        inst_type = INST_TYPES[inst.market]
        targets = [
            echo
            for (channel, _t, _i), echo in session.subs.items()
            if channel == "orders" and self._matches(echo, inst_type, order.native_id)
        ]
        if not targets:
            return
        item = order_push(
            order,
            event.fill,
            inst,
            self.orders.extras_of(order),
            lever=self.orders.leverage(order.account, order.native_id),
            amended=self.orders.amending == order.order_id,
        )
        for echo in targets:
            session.push({"arg": self._arg(session, echo), "data": [item]})

    def _push_balances(self, session: _Session, event: BalancesUpdated) -> None:
        ccys = {b.asset for b in event.balances}
        now = str(event.ts_ms)
        for (channel, _t, _i), echo in session.subs.items():
            if channel == "account":
                wanted = str(echo.get("ccy", ""))
                if wanted and wanted not in ccys:
                    continue
                item = self._account_item(event.account, {wanted} if wanted else ccys)
                session.push({"arg": self._arg(session, echo), "data": [item]})
            elif channel == "balance_and_position" and event.reason in ("fill", "transfer"):
                bal = [
                    {"cashBal": format_number(b.total), "ccy": b.asset, "uTime": now}
                    for b in event.balances
                ]
                kind = "filled" if event.reason == "fill" else "transferred"
                data: JsonDict = {
                    "balData": bal,
                    "eventType": kind,
                    "pTime": now,
                    "posData": [],
                    "trades": [],
                }
                session.push({"arg": self._arg(session, echo), "data": [data]})

    def _push_position(self, session: _Session, event: PositionUpdated) -> None:
        inst = self.orders.instruments.get(event.position.symbol)
        if inst is None:
            return
        item = position_item(
            event.position,
            inst,
            mark=self.venue.desk.mark_price(inst.market, inst.native_id),
            lever=self.orders.leverage(event.account, inst.native_id),
            now_ms=event.ts_ms,
            pos_id=pos_id(inst.native_id),
        )
        for (channel, _t, _i), echo in session.subs.items():
            if channel == "positions" and self._matches(echo, "SWAP", inst.native_id):
                session.push({"arg": self._arg(session, echo), "data": [item]})
            elif channel == "balance_and_position":
                data: JsonDict = {
                    "balData": [],
                    "eventType": "filled",
                    "pTime": str(event.ts_ms),
                    "posData": [self._pos_data(item)],
                    "trades": [],
                }
                session.push({"arg": self._arg(session, echo), "data": [data]})

    # ------------------------------------------------------------ order ops

    def _inst_of(self, args: Mapping[str, object]) -> str:
        code = args.get("instIdCode")
        if code is None or code == "":
            return ""
        try:
            return self.codes.get(int(str(code)), "?")
        except ValueError:
            return "?"

    def _order_op(
        self, session: _Session, op: str, args: object, req_id: str | None, exp_time: str = ""
    ) -> None:
        self.order_requests += 1
        in_us = self.venue.now_ns() // 1000
        reply: JsonDict = {"id": req_id or "", "op": op}

        def answer(code: str, msg: str, data: list[JsonDict]) -> None:
            reply.update({"code": code, "msg": msg, "data": data})
            reply["inTime"] = str(in_us)
            reply["outTime"] = str(self.venue.now_ns() // 1000)
            session.send(reply, ORDER_REPLIES)

        if session.account is None:
            self._error(session, "60011", "Please log in", req_id)
            return
        if req_id is None or not (0 < len(req_id) <= 32 and req_id.isascii() and req_id.isalnum()):
            answer("60013", "Invalid args", [])
            return
        if not isinstance(args, list) or not args or not all(isinstance(a, dict) for a in args):
            answer("60013", "Invalid args", [])
            return
        now = self.venue.now_ms()
        session.held = []
        try:
            if op == "mass-cancel":
                refused = self.orders.mass_cancel(args[0])
                answer(refused.code, refused.msg, [])
                return
            kind, batch = _OPS[op]
            if not batch and len(args) != 1:
                answer("60013", "Invalid args", [])
                return
            for a in args:
                if not a.get("instIdCode") and a.get("instId"):
                    answer("50014", "Parameter instIdCode can not be empty.", [])
                    return
            try:
                outcome = self.orders.run(
                    kind,
                    session.account,
                    list(args),
                    now,
                    batch=batch,
                    inst_of=self._inst_of,
                    exp_time=exp_time,
                )
            except BadRequest as err:
                answer(err.code, err.msg, [])
                return
            answer(outcome.code, outcome.msg, outcome.data)
        finally:
            held, session.held = session.held, None
            for frame, stream in held or ():
                session.conn.send(frame, stream=stream)
