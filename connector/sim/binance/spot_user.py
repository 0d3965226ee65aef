"""Binance spot user data: desk events as ``executionReport`` and account events.

One desk listener for the whole front-end turns each desk event into the
venue's events once (so every subscriber sees the same execution id ``I``)
and hands them to the WebSocket API subscriptions of that account, wrapped
as ``{"subscriptionId": n, "event": {...}}`` (Binance spot
user-data-stream.md, web-socket-api.md "User Data Stream subscription";
checked 2026-12-03; fixtures ``.../spot/user_data_json/*_wrapped.json``).

Per order the sequence is the venue's: ``x=NEW`` first (made up from the
order's first snapshot when the desk's first event for it is already a
fill or an expiry, as a MARKET order's is), then ``TRADE`` per fill,
``REPLACED`` per keep-priority amendment, and ``CANCELED``/``EXPIRED`` at
the end; each balance change follows as ``outboundAccountPosition`` with the
changed assets (free, locked). A transfer also gets a ``balanceUpdate`` with
the delta. The first fill of an order gives one back on each of the
account's order counts (the "unfilled order count").
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import attrs
import msgspec

from connector.sim.binance.spot_orders import SpotTrading
from connector.sim.binance.spot_wire import account_position, execution_report, execution_type, p8
from connector.sim.desk import (
    BalancesUpdated,
    DeskEvent,
    OrderState,
    OrderUpdated,
    UserFill,
    UserOrder,
)
from connector.sim.ws import WsConnection

__all__ = ["USER_STREAM", "Subscription", "UserDataHub"]

#: The stream name user data frames go out under (the fault plan's private-stream key).
USER_STREAM = "userData"
_enc = msgspec.json.Encoder()
_ZERO = Decimal(0)


@attrs.define(eq=False)
class Subscription:
    """One user data subscription of one WebSocket API session."""

    subscription_id: int
    account: str
    conn: WsConnection
    events: int = 0


class UserDataHub:
    """The spot user data of every account, fanned out to the subscriptions.

    Args:
        trading: The spot order entry (its order records and order counts).
        now_ms: The venue's clock.
    """

    def __init__(self, trading: SpotTrading, now_ms: Callable[[], int]) -> None:
        self.trading = trading
        self.now_ms = now_ms
        self._subs: dict[str, list[Subscription]] = {}
        self._announced: set[tuple[str, str]] = set()
        self._totals: dict[tuple[str, str], Decimal] = {}
        self.events_sent = 0

    def start(self) -> Callable[[], None]:
        """Listen to the desk; returns the function that stops listening."""
        return self.trading.desk.listen(self.on_event)

    def add(self, sub: Subscription) -> None:
        """Deliver ``sub.account``'s events to ``sub``."""
        self._subs.setdefault(sub.account, []).append(sub)

    def remove(self, sub: Subscription, *, terminated: bool = True) -> None:
        """Stop ``sub``; ``eventStreamTerminated`` goes out unless the connection is gone."""
        subs = self._subs.get(sub.account, [])
        if sub in subs:
            subs.remove(sub)
        if terminated and not sub.conn.closed:
            event = {"e": "eventStreamTerminated", "E": self.now_ms()}
            sub.conn.send(
                _enc.encode({"subscriptionId": sub.subscription_id, "event": event}).decode()
            )

    def terminate_all(self) -> int:
        """End every subscription with ``eventStreamTerminated``; returns how many."""
        subs = [sub for subs in self._subs.values() for sub in subs]
        for sub in subs:
            self.remove(sub)
        return len(subs)

    def subscribed(self, account: str) -> int:
        """Subscriptions of ``account``."""
        return len(self._subs.get(account, []))

    # ----------------------------------------------------------- desk side

    def on_event(self, event: DeskEvent) -> None:
        """A desk change: the venue's events for it, to the account's subscriptions."""
        if isinstance(event, OrderUpdated):
            if event.order.market != "spot":
                return
            for ev in self._order_events(event):
                self._deliver(event.order.account, ev)
        elif isinstance(event, BalancesUpdated):
            for ev in self._balance_events(event):
                self._deliver(event.account, ev)

    def _order_events(self, event: OrderUpdated) -> list[dict[str, object]]:
        t = self.trading
        order = event.order
        key = (order.account, order.order_id)
        t.meta_of(order)  # takes over the record of an order being placed
        out: list[dict[str, object]] = []
        first = key not in self._announced
        if first:
            self._announced.add(key)
            is_new = event.fill is None and order.state in (OrderState.NEW,)
            if not is_new and order.state is not OrderState.REJECTED:
                fresh = attrs.evolve(
                    order,
                    state=OrderState.NEW,
                    filled_qty=_ZERO,
                    cum_quote=_ZERO,
                    avg_price=_ZERO,
                    fee=_ZERO,
                    cancel_cause=None,
                    updated_ms=order.created_ms,
                )
                out.append(self._report(fresh, "NEW", None, event.ts_ms))
        if event.fill is not None and event.fill.qty == order.filled_qty:
            t.limiter.give_back(order.account, event.ts_ms)
        exec_type = execution_type(order, event.fill, amended=not first)
        if first and exec_type == "REPLACED":
            exec_type = "NEW"
        out.append(self._report(order, exec_type, event.fill, event.ts_ms))
        if not order.is_open:
            self._announced.discard(key)  # its last event: the set stays as small as the book
        return out

    def _report(
        self, order: UserOrder, exec_type: str, fill: UserFill | None, ts_ms: int
    ) -> dict[str, object]:
        t = self.trading
        return execution_report(
            order,
            t.meta_of(order),
            order.native_id,
            exec_type=exec_type,
            fill=fill,
            execution_id=t.next_execution_id(),
            event_ms=ts_ms,
        )

    def _balance_events(self, event: BalancesUpdated) -> list[dict[str, object]]:
        out: list[dict[str, object]] = []
        for b in event.balances:
            key = (event.account, b.asset)
            before = self._totals.get(key)
            self._totals[key] = b.total
            if event.reason == "transfer" and before is not None and b.total != before:
                out.append(
                    {
                        "e": "balanceUpdate",
                        "E": event.ts_ms,
                        "a": b.asset,
                        "d": p8(b.total - before),
                        "T": event.ts_ms,
                    }
                )
        out.append(
            account_position(
                ((b.asset, b.free, b.locked) for b in event.balances), event.ts_ms, event.ts_ms
            )
        )
        return out

    def _deliver(self, account: str, event: dict[str, object]) -> None:
        for sub in self._subs.get(account, ()):
            frame = _enc.encode({"subscriptionId": sub.subscription_id, "event": event}).decode()
            sub.conn.send(frame, stream=USER_STREAM)
            sub.events += 1
            self.events_sent += 1
