"""Binance USDⓈ-M user data streams: ``/private/ws`` and ``/private/stream``.

Routes (user-data-streams, and the 2026-04-23 routed URLs; checked 2026-12-03):

* ``/private/ws?listenKey=<key>`` and ``/private/ws/<key>``: raw events;
* ``/private/stream?listenKey=<key>`` (or ``?streams=<key>``), and
  ``/private/stream`` followed by ``{"method": "SUBSCRIBE", "params":
  ["<key>"]}`` as Binance's USDⓈ-M SDK does: events wrapped as
  ``{"stream": "<key>", "data": {...}}``.

A connection naming an unknown or expired key is closed (1008, "Invalid
listenKey"); a SUBSCRIBE naming one gets ``{"error": {"code": 2, "msg":
"Invalid request: invalid stream"}}``.

Events, from the desk's (:meth:`Desk.listen`), USDⓈ-M orders only:
``TRADE_LITE`` then ``ORDER_TRADE_UPDATE`` for a fill, ``ORDER_TRADE_UPDATE``
for every other change (``NEW``, ``CANCELED``, ``EXPIRED``, ``AMENDMENT``),
and ``ACCOUNT_UPDATE`` (reason ``ORDER``) after each fill with the settle
asset's balance and the position (unfilled or cancelled orders do not send
it, as on the venue); ``ACCOUNT_CONFIG_UPDATE`` (``ac``: ``s``, ``l``) after
a leverage change. When a key expires (60 minutes without a keepalive)
its connections get ``{"e": "listenKeyExpired", "E": "<ms as a string>",
"listenKey": "<key>"}`` and nothing more.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import msgspec
import trio

from connector.sim.accounts import Balance
from connector.sim.binance.usdm_account import ListenKeys
from connector.sim.binance.usdm_trading import MARKET
from connector.sim.binance.usdm_wire import (
    account_update,
    order_trade_update,
    trade_lite,
)
from connector.sim.binance.wire import Listing
from connector.sim.desk import (
    BalancesUpdated,
    Desk,
    DeskEvent,
    OrderUpdated,
    PositionUpdated,
)
from connector.sim.ws import WsConnection

__all__ = ["UserStreams"]

_enc = msgspec.json.Encoder()
_dec = msgspec.json.Decoder()


class _Sub:
    """One listenKey followed by one connection."""

    __slots__ = ("combined", "conn", "key")

    def __init__(self, conn: WsConnection, key: str, combined: bool) -> None:
        self.conn = conn
        self.key = key
        self.combined = combined

    def send(self, event: Mapping[str, object]) -> None:
        value: object = {"stream": self.key, "data": event} if self.combined else event
        self.conn.send(_enc.encode(value).decode(), stream="userData")


class UserStreams:
    """The user data streams of the USDⓈ-M market.

    Args:
        desk: The venue's desk.
        symbols: The USDⓈ-M listings by symbol.
        keys: The listenKeys.
        clock: The venue clock in ms.
    """

    def __init__(
        self,
        desk: Desk,
        symbols: Mapping[str, Listing],
        keys: ListenKeys,
        clock: Callable[[], int],
    ) -> None:
        self.desk = desk
        self.symbols = symbols
        self.keys = keys
        self.clock = clock
        self._subs: dict[str, list[_Sub]] = {}  # by listenKey
        self._pending: dict[str, tuple[Balance, ...]] = {}
        self._unlisten: Callable[[], None] | None = None
        self.sent = 0

    def start(self) -> None:
        """Follow the desk's events."""
        if self._unlisten is None:
            self._unlisten = self.desk.listen(self._on_event)

    def stop(self) -> None:
        """Stop following the desk."""
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None

    # ------------------------------------------------------------ connections

    async def handler(self, conn: WsConnection) -> None:
        """One ``/private/...`` connection: the key in the URL, then SUBSCRIBE requests."""
        path = conn.path
        combined = path.startswith("/private/stream")
        key = conn.query.get("listenKey") or conn.query.get("streams", "").split("/")[0]
        if path.startswith("/private/ws/"):
            key = path[len("/private/ws/") :]
        mine: list[_Sub] = []

        def drop() -> None:
            for sub in mine:
                subs = self._subs.get(sub.key, [])
                if sub in subs:
                    subs.remove(sub)

        conn.on_close.append(drop)
        if key:
            if self.keys.account_of(key) is None:
                conn.close(1008, "Invalid listenKey")
                return
            mine.append(self._add(conn, key, combined))
        try:
            while True:
                message = await conn.receive()
                if message is None:
                    return
                self._on_message(conn, message, combined, mine)
        finally:
            drop()

    def _add(self, conn: WsConnection, key: str, combined: bool) -> _Sub:
        sub = _Sub(conn, key, combined)
        self._subs.setdefault(key, []).append(sub)
        return sub

    def _on_message(
        self, conn: WsConnection, message: str | bytes, combined: bool, mine: list[_Sub]
    ) -> None:
        def reply(value: object) -> None:
            conn.send(_enc.encode(value).decode())

        try:
            value = _dec.decode(message)
        except msgspec.DecodeError:
            reply({"error": {"code": 3, "msg": "Invalid JSON"}, "id": None})
            return
        if not isinstance(value, dict):
            reply({"error": {"code": 2, "msg": "Invalid request"}, "id": None})
            return
        req_id = value.get("id")
        method = value.get("method")
        params = value.get("params")
        if method == "LIST_SUBSCRIPTIONS":
            reply({"result": [s.key for s in mine], "id": req_id})
            return
        if method not in ("SUBSCRIBE", "UNSUBSCRIBE") or not isinstance(params, list):
            reply({"error": {"code": 2, "msg": "Invalid request"}, "id": req_id})
            return
        if method == "SUBSCRIBE":
            if not all(isinstance(p, str) and self.keys.account_of(p) for p in params):
                error = {"code": 2, "msg": "Invalid request: invalid stream"}
                reply({"error": error, "id": req_id})
                return
            for key in params:
                if key not in (s.key for s in mine):
                    mine.append(self._add(conn, key, combined))
        else:
            for sub in [s for s in mine if s.key in params]:
                mine.remove(sub)
                self._subs[sub.key].remove(sub)
        reply({"result": None, "id": req_id})

    # ----------------------------------------------------------------- expiry

    async def run_expiry(self, interval: float = 1.0) -> None:
        """Tell the connections of expired keys, then forget them (until cancelled)."""
        while True:
            await trio.sleep(interval)
            self.expire()

    def expire(self) -> None:
        """Send ``listenKeyExpired`` on every connection of a key that has expired."""
        now = self.clock()
        for key in list(self._subs):
            if self.keys.account_of(key) is not None:
                continue
            subs = self._subs.pop(key)
            event = {"e": "listenKeyExpired", "E": str(now), "listenKey": key}
            for sub in subs:
                sub.send(event)

    # ----------------------------------------------------------------- events

    def _targets(self, account: str) -> list[_Sub]:
        out: list[_Sub] = []
        for key, subs in self._subs.items():
            if subs and self.keys.account_of(key) == account:
                out.extend(subs)
        return out

    def _on_event(self, event: DeskEvent) -> None:
        if isinstance(event, OrderUpdated):
            order = event.order
            if order.market != MARKET or order.native_id not in self.symbols:
                return
            targets = self._targets(order.account)
            if not targets:
                return
            sym = self.symbols[order.native_id]
            frames: list[dict[str, object]] = []
            if event.fill is not None:
                frames.append(trade_lite(sym, order, event.fill, event.ts_ms))
            frames.append(order_trade_update(sym, order, event.fill, event.ts_ms))
            self._send(targets, frames)
        elif isinstance(event, BalancesUpdated):
            if event.reason == "fill":
                self._pending[event.account] = event.balances
        elif isinstance(event, PositionUpdated):
            pos = event.position
            if pos.symbol not in self.symbols:
                return
            pending = self._pending.pop(event.account, ())
            balances = tuple(b for b in pending if b.asset == pos.settle) or (
                self.desk.balance(event.account, pos.settle),
            )
            targets = self._targets(event.account)
            if targets:
                mark = self.desk.mark_price(MARKET, pos.symbol)
                self._send(targets, [account_update(balances, [(pos, mark)], event.ts_ms)])

    def leverage_changed(self, account: str, symbol: str, leverage: int) -> None:
        """``ACCOUNT_CONFIG_UPDATE`` with the symbol's new leverage."""
        targets = self._targets(account)
        if targets:
            now = self.clock()
            event: dict[str, object] = {
                "e": "ACCOUNT_CONFIG_UPDATE",
                "E": now,
                "T": now,
                "ac": {"s": symbol, "l": leverage},
            }
            self._send(targets, [event])

    def _send(self, targets: list[_Sub], frames: list[dict[str, object]]) -> None:
        for sub in targets:
            for frame in frames:
                sub.send(frame)
                self.sent += 1
