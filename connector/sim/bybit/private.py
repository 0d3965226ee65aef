"""Bybit v5 private stream ``/v5/private``: ``auth``, topics, pushes from the desk.

Rules (Bybit v5 "WebSocket Connect", "Authentication", private topics
``order``, ``execution``, ``execution.fast``, ``position``, ``wallet``; fact
sheet 1.2, 3.3; checked 2026-12-03):

* ``{"op":"auth","args":[apiKey, expires, signature]}`` (HMAC of
  ``"GET/realtime" + expires``, ``expires`` in ms and in the future) ->
  ``{"success":true,"ret_msg":"","op":"auth","conn_id":...}``; a failure has
  ``success`` false and the reason in ``ret_msg``; a second ``auth`` on an
  authenticated socket: ``"Repeat auth"``.
* ``subscribe`` before ``auth``: ``success`` false, ``"Request not authorized"``.
* Topics: all-in-one ``order``, ``execution``, ``execution.fast``,
  ``position``, ``wallet``, or per category ``order.spot``, ``order.linear``,
  ``execution.spot`` ... (``position.linear``); one request cannot mix the two
  styles. ``wallet`` sends no snapshot on subscribe.
* Pushes: ``{"id","topic","creationTime","data":[...]}`` (the topic as
  subscribed); one per desk event, in the order the desk made them; ``seq`` on
  ``execution``, ``execution.fast`` and ``position`` is the instrument's cross
  sequence (shared by executions and positions, per symbol).
* ``{"op":"ping"}`` -> ``{"req_id","op":"pong","args":["<ms>"],"conn_id"}``.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable

import msgspec

from connector.sim.accounts import AuthRejected
from connector.sim.bybit.account import BybitAccount
from connector.sim.bybit.auth import verify_ws_auth
from connector.sim.bybit.trade_wire import fast_execution_item
from connector.sim.bybit.trading import BybitTrading
from connector.sim.bybit.wire import JsonDict, encode
from connector.sim.desk import BalancesUpdated, DeskEvent, OrderUpdated, PositionUpdated
from connector.sim.hub import SimVenue
from connector.sim.ws import WsConnection

__all__ = ["PRIVATE_TOPICS", "PrivateStream"]

_dec = msgspec.json.Decoder()

#: Topic bases and the categories each serves per category.
PRIVATE_TOPICS: dict[str, tuple[str, ...]] = {
    "order": ("spot", "linear"),
    "execution": ("spot", "linear"),
    "execution.fast": ("spot", "linear"),
    "position": ("linear",),
    "wallet": (),
}


def _split(topic: str) -> tuple[str, str] | None:
    """``(base, category)`` of a topic (category ``""`` for all-in-one), or None."""
    if topic in PRIVATE_TOPICS:
        return topic, ""
    base, _, category = topic.rpartition(".")
    if base in PRIVATE_TOPICS and category in PRIVATE_TOPICS[base]:
        return base, category
    return None


class PrivateStream:
    """The ``/v5/private`` sessions of one Bybit front-end.

    Args:
        venue: The Bybit hub (desk, keyring, clock).
        trading: Order and fill shapes.
        account: Position and wallet shapes.
    """

    def __init__(self, venue: SimVenue, trading: BybitTrading, account: BybitAccount) -> None:
        self.venue = venue
        self.trading = trading
        self.account = account
        self._ids = itertools.count(1)
        self.pushes = 0
        self.sessions = 0

    def _conn_id(self, conn: WsConnection) -> str:
        return str(uuid.UUID(int=(self.venue.seed << 64) + (1 << 40) + conn.conn_id))

    async def serve(self, conn: WsConnection) -> None:
        """One private session until the client leaves."""
        self.sessions += 1
        session = _Session(self, conn)
        try:
            while (message := await conn.receive()) is not None:
                session.on_message(message)
        finally:
            session.close()

    def push_id(self) -> str:
        """A message ``id``."""
        return str(uuid.UUID(int=(self.venue.seed << 96) + next(self._ids)))


class _Session:
    def __init__(self, stream: PrivateStream, conn: WsConnection) -> None:
        self.stream = stream
        self.conn = conn
        self.conn_id = stream._conn_id(conn)
        self.account: str | None = None
        self.topics: set[str] = set()
        self.unlisten: Callable[[], None] | None = None

    def close(self) -> None:
        if self.unlisten is not None:
            self.unlisten()
            self.unlisten = None

    def reply(self, op: str, *, success: bool, ret_msg: str, req_id: object | None) -> None:
        body: JsonDict = {"success": success, "ret_msg": ret_msg, "op": op, "conn_id": self.conn_id}
        if req_id is not None:
            body["req_id"] = req_id
        self.conn.send(encode(body))

    def on_message(self, raw: str | bytes) -> None:
        try:
            message = _dec.decode(raw)
        except msgspec.DecodeError:
            self.reply("", success=False, ret_msg="error:request not json", req_id=None)
            return
        if not isinstance(message, dict):
            return
        op = message.get("op")
        req_id = message.get("req_id")
        if op == "ping":
            now = str(self.stream.venue.now_ms())
            body: JsonDict = {"op": "pong", "args": [now], "conn_id": self.conn_id}
            if req_id is not None:
                body = {"req_id": req_id, **body}
            self.conn.send(encode(body))
        elif op == "auth":
            self._auth(message.get("args"), req_id)
        elif op in ("subscribe", "unsubscribe"):
            self._subscribe(str(op), message.get("args"), req_id)
        else:
            self.reply(
                str(op or ""), success=False, ret_msg=f"error:illegal op {op}", req_id=req_id
            )

    def _auth(self, args: object, req_id: object | None) -> None:
        if self.account is not None:
            self.reply("auth", success=False, ret_msg="Repeat auth", req_id=req_id)
            return
        verdict = verify_ws_auth(
            args if isinstance(args, list) else [],
            keyring=self.stream.venue.desk.keyring,
            now_ns=self.stream.venue.now_ns(),
        )
        if isinstance(verdict, AuthRejected):
            self.reply("auth", success=False, ret_msg=verdict.message, req_id=req_id)
            return
        self.account = verdict.account_id
        self.unlisten = self.stream.venue.desk.listen(self._on_event, self.account)
        self.reply("auth", success=True, ret_msg="", req_id=req_id)

    def _subscribe(self, op: str, args: object, req_id: object | None) -> None:
        if self.account is None:
            self.reply(op, success=False, ret_msg="Request not authorized", req_id=req_id)
            return
        if not isinstance(args, list) or not args or not all(isinstance(a, str) for a in args):
            self.reply(op, success=False, ret_msg="error:args invalid", req_id=req_id)
            return
        parts = [_split(a) for a in args]
        bad = [a for a, p in zip(args, parts, strict=True) if p is None]
        if bad:
            msg = f"error:handler not found,topic:{bad[0]}"
            self.reply(op, success=False, ret_msg=msg, req_id=req_id)
            return
        styles = {p[1] == "" for p in parts if p is not None}
        if len(styles) > 1:
            msg = "error:all-in-one and categorised topics cannot be mixed in one request"
            self.reply(op, success=False, ret_msg=msg, req_id=req_id)
            return
        if op == "subscribe":
            self.topics.update(args)
        else:
            self.topics.difference_update(args)
        self.reply(op, success=True, ret_msg="", req_id=req_id)

    # -------------------------------------------------------------- pushes

    def _push(self, base: str, category: str, items: list[JsonDict], now_ms: int) -> None:
        for topic in (base, f"{base}.{category}" if category else ""):
            if topic and topic in self.topics:
                body = {
                    "id": self.stream.push_id(),
                    "topic": topic,
                    "creationTime": now_ms,
                    "data": items,
                }
                self.stream.pushes += 1
                self.conn.send(encode(body), stream=topic)

    def _on_event(self, event: DeskEvent) -> None:
        if not self.topics:
            return
        trading = self.stream.trading
        if isinstance(event, OrderUpdated):
            order = event.order
            self._push("order", order.market, [trading.order_json(order, push=True)], event.ts_ms)
            fill = event.fill
            if fill is not None:
                self._push(
                    "execution", fill.market, [trading.fill_json(fill, push=True)], event.ts_ms
                )
                inst = self.stream.venue.book(fill.market, fill.native_id).instrument
                seq = trading.fill_seq.get((fill.order_id, fill.trade_id), 0)
                fast = fast_execution_item(fill, inst, seq=seq, link_id=trading.ops.link_id(order))
                self._push("execution.fast", fill.market, [fast], event.ts_ms)
        elif isinstance(event, PositionUpdated):
            symbol = event.position.symbol
            item = self.stream.account.position_json(event.account, symbol, push=True)
            self._push("position", "linear", [item], event.ts_ms)
        elif isinstance(event, BalancesUpdated) and "wallet" in self.topics:
            coins = {b.asset for b in event.balances}
            self._push(
                "wallet", "", [self.stream.account.wallet(event.account, coins)], event.ts_ms
            )
