"""Pre-trade risk checks and the kill switch (sans-I/O).

The ``[risk]`` limits of the configuration (:class:`~connector.config.RiskConfig`),
as pure checks. :meth:`RiskChecks.check` returns ``None`` to allow an order, or
a :class:`~connector.errors.RiskRejected` (not raised: a decision) whose
``limit`` names what it would break, checked in this order:

``kill_switch``
    Killed: every new order is refused except reduce-only ones.
``max_order_notional``
    price x qty x contract size; a market order is priced at the book's mid.
``price_band_pct``
    A limit price at most this many percent from the mid of a *valid* book.
``max_position_qty``
    The absolute position the order could leave, counting open orders on the
    same side (reduce-only orders are exempt: they only shrink a position).
``check_balance``
    A spot order's need (:func:`~connector.account.reservations.spot_need`: a
    buy's price x qty of the quote asset, a market buy's at the mid; a sell's qty
    of the base asset) at most what is available of it (the venue's free balance
    less what our orders hold that it does not show yet; an asset never reported
    has none). Derivatives and reduce-only orders are not checked.
``max_open_orders``
    Open orders on the venue, this one included.
``max_orders_per_second``
    Orders sent per venue, as a token bucket (burst of ``max(1, rate)``).

An amendment (:meth:`RiskChecks.check_amend`) is checked as the order it makes, on
what it makes worse: killed, only a smaller quantity at the same price passes
(or a reduce-only order); the notional when it grows; the price band when the
price moves; the position when the quantity grows (the order's own open
quantity already counted). The open-order count and the order rate are not
drawn on: no order is added; nor is the balance (the venue refuses an amendment it
cannot fund).

Without a valid book, a check that needs the mid refuses the order (it cannot
be priced), rather than letting it through unchecked. Time is an argument
(``now_ns``); a check consumes no rate token: the caller records an order it
sends with :meth:`RiskChecks.record_order`.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from connector.account.reservations import drawn_asset, spot_need
from connector.config.values import RiskConfig
from connector.errors import RiskRejected
from connector.model.trading import OrderType, PlaceOrder, Side

__all__ = ["Exposure", "KillSwitch", "RiskChecks", "RiskStatistics"]

_ZERO = Decimal(0)
_HUNDRED = Decimal(100)


@attrs.frozen(kw_only=True)
class Exposure:
    """What the order adds to (the caller reads it from positions, orders and books).

    Attributes:
        position_qty: Current signed position of the symbol on the venue.
        open_buy_qty: Quantity of open buy orders of the symbol on the venue.
        open_sell_qty: Quantity of open sell orders of the symbol on the venue.
        open_orders: Open orders on the venue.
        mid: Mid price of the symbol's book when the book is valid, else ``None``.
        contract_size: Base units per contract (notional = price x qty x size).
        available: What is available of the asset a spot order draws on (only read
            with ``check_balance``; ``None``: the venue never reported the asset).
    """

    position_qty: Decimal = _ZERO
    open_buy_qty: Decimal = _ZERO
    open_sell_qty: Decimal = _ZERO
    open_orders: int = 0
    mid: Decimal | None = None
    contract_size: Decimal = Decimal(1)
    available: Decimal | None = None


@attrs.frozen(kw_only=True)
class KillSwitch:
    """Whether trading is stopped, why and since when."""

    killed: bool = False
    reason: str | None = None
    since_ns: int | None = None


@attrs.frozen(kw_only=True)
class RiskStatistics:
    allowed: int
    rejected: dict[str, int]
    """Rejections per limit name."""
    kill_switch: KillSwitch


@attrs.define
class _Bucket:
    tokens: float
    at_ns: int


class RiskChecks:
    """The limits, the kill switch and per-venue order rates.

    Args:
        limits: The configured limits; ``kill_switch=True`` starts killed.
        now_ns: The (wall-clock) time it starts: when a configured kill switch was thrown.
    """

    def __init__(self, limits: RiskConfig, *, now_ns: int = 0) -> None:
        self.limits = limits
        self._kill = (
            KillSwitch(killed=True, reason="configuration", since_ns=now_ns)
            if limits.kill_switch
            else KillSwitch()
        )
        self._buckets: dict[str, _Bucket] = {}
        self._allowed = 0
        self._rejected: dict[str, int] = {}

    # -- kill switch -------------------------------------------------------------

    @property
    def kill_switch(self) -> KillSwitch:
        return self._kill

    def kill(self, reason: str, *, now_ns: int) -> KillSwitch:
        """Stop new orders (reduce-only ones still pass); cancelling open ones is the caller's."""
        if not self._kill.killed:
            self._kill = KillSwitch(killed=True, reason=reason, since_ns=now_ns)
        return self._kill

    def resume(self) -> KillSwitch:
        """Allow new orders again."""
        self._kill = KillSwitch()
        return self._kill

    # -- checks ------------------------------------------------------------------

    def check(self, order: PlaceOrder, exposure: Exposure, *, now_ns: int) -> RiskRejected | None:
        """``None`` when ``order`` may be sent, else the refusal naming the limit.

        Args:
            order: The normalised order.
            exposure: Its symbol's position, open orders and book mid.
            now_ns: The caller's monotonic time (for the order rate).
        """
        return self._counted(self._decide(order, exposure, now_ns))

    def record_order(self, venue: str, *, now_ns: int) -> None:
        """An order was sent to ``venue``: it uses one token of the venue's rate."""
        bucket = self._bucket(venue, now_ns)
        if bucket is not None:
            bucket.tokens -= 1.0

    def statistics(self) -> RiskStatistics:
        return RiskStatistics(
            allowed=self._allowed, rejected=dict(self._rejected), kill_switch=self._kill
        )

    def check_amend(
        self, before: PlaceOrder, after: PlaceOrder, exposure: Exposure
    ) -> RiskRejected | None:
        """``None`` when ``before`` may become ``after``, else the refusal naming the limit.

        Args:
            before: The open order as it is (its total quantity and price).
            after: The order as the amendment leaves it.
            exposure: As for :meth:`check`; the open quantities hold ``before``'s.
        """
        return self._counted(self._decide_amend(before, after, exposure))

    def _counted(self, decision: RiskRejected | None) -> RiskRejected | None:
        if decision is None:
            self._allowed += 1
        else:
            self._rejected[decision.limit] = self._rejected.get(decision.limit, 0) + 1
        return decision

    def _decide(self, order: PlaceOrder, exposure: Exposure, now_ns: int) -> RiskRejected | None:
        limits = self.limits
        decision = (
            self._killed(order)
            or self._notional(order, exposure)
            or self._band(order, exposure.mid)
            or self._position(order, order.qty, exposure)
            or self._balance(order, exposure)
        )
        if decision is not None:
            return decision
        if limits.max_open_orders is not None and exposure.open_orders >= limits.max_open_orders:
            return RiskRejected(
                "max_open_orders",
                f"{exposure.open_orders} orders are open on {order.venue}, "
                f"the limit is {limits.max_open_orders}",
            )
        bucket = self._bucket(order.venue, now_ns)
        if bucket is not None and bucket.tokens < 1.0:
            return RiskRejected(
                "max_orders_per_second",
                f"more than {limits.max_orders_per_second} orders per second on {order.venue}",
            )
        return None

    def _decide_amend(
        self, before: PlaceOrder, after: PlaceOrder, exposure: Exposure
    ) -> RiskRejected | None:
        added = after.qty - before.qty
        repriced = after.price != before.price
        if added < _ZERO and not repriced:
            return None  # less of the same order: never more risk
        if self._kill.killed and not after.reduce_only:
            return RiskRejected(
                "kill_switch",
                f"trading is stopped ({self._kill.reason}); an open order may only be made smaller",
            )
        new, old = _notional(after, exposure), _notional(before, exposure)
        grows = new is None or old is None or new > old
        return (
            (self._notional(after, exposure) if grows else None)
            or (self._band(after, exposure.mid) if repriced else None)
            or (self._position(after, added, exposure) if added > _ZERO else None)
        )

    def _killed(self, order: PlaceOrder) -> RiskRejected | None:
        if self._kill.killed and not order.reduce_only:
            return RiskRejected(
                "kill_switch",
                f"trading is stopped ({self._kill.reason}); only reduce-only orders pass",
            )
        return None

    def _notional(self, order: PlaceOrder, exposure: Exposure) -> RiskRejected | None:
        limit = self.limits.max_order_notional
        if limit is None:
            return None
        notional = _notional(order, exposure)
        if notional is None:
            return RiskRejected("max_order_notional", "no valid book to price the order")
        if notional > limit:
            return RiskRejected("max_order_notional", f"notional {notional} is above {limit}")
        return None

    def _band(self, order: PlaceOrder, mid: Decimal | None) -> RiskRejected | None:
        band = self.limits.price_band_pct
        if band is None or order.type is not OrderType.LIMIT:
            return None
        if mid is None or mid <= _ZERO:
            return RiskRejected("price_band_pct", "no valid book mid to check the price")
        assert order.price is not None
        distance = abs(order.price - mid) / mid * _HUNDRED
        if distance > band:
            return RiskRejected(
                "price_band_pct",
                f"price {order.price} is {distance:.4f}% from mid {mid}, more than {band}%",
            )
        return None

    def _position(
        self, order: PlaceOrder, added: Decimal, exposure: Exposure
    ) -> RiskRejected | None:
        """The worst position if every open order of the side fills, with ``added`` more."""
        limit = self.limits.max_position_qty
        if limit is None or order.reduce_only:
            return None
        if order.side is Side.BUY:
            worst = exposure.position_qty + exposure.open_buy_qty + added
        else:
            worst = exposure.position_qty - exposure.open_sell_qty - added
        if abs(worst) > limit and abs(worst) > abs(exposure.position_qty):
            return RiskRejected(
                "max_position_qty", f"the position could reach {worst}, more than {limit}"
            )
        return None

    def _balance(self, order: PlaceOrder, exposure: Exposure) -> RiskRejected | None:
        if not self.limits.check_balance or order.reduce_only:
            return None
        asset = drawn_asset(order.symbol, order.side)
        if asset is None:
            return None  # a derivative: its margin depends on leverage, not modelled
        need = spot_need(order, exposure.mid)
        if need is None:
            return RiskRejected("check_balance", "no valid book to price the market buy")
        available = _ZERO if exposure.available is None else exposure.available
        if need.amount > available:
            return RiskRejected(
                "check_balance",
                f"needs {_text(need.amount)} {asset}, available {_text(available)} {asset}"
                f" on {order.venue}",
            )
        return None

    def beyond_position_limit(self, qty: Decimal) -> bool:
        """Whether a held position of signed ``qty`` is beyond ``max_position_qty``."""
        limit = self.limits.max_position_qty
        return limit is not None and abs(qty) > limit

    def _bucket(self, venue: str, now_ns: int) -> _Bucket | None:
        """The venue's token bucket, refilled up to ``now_ns``; ``None`` without a rate limit."""
        rate = self.limits.max_orders_per_second
        if rate is None:
            return None
        capacity = max(1.0, rate)
        bucket = self._buckets.get(venue)
        if bucket is None:
            bucket = self._buckets[venue] = _Bucket(tokens=capacity, at_ns=now_ns)
        elif now_ns > bucket.at_ns:
            bucket.tokens = min(capacity, bucket.tokens + (now_ns - bucket.at_ns) * rate / 1e9)
            bucket.at_ns = now_ns
        return bucket


def _notional(order: PlaceOrder, exposure: Exposure) -> Decimal | None:
    """price x qty x contract size; a market order at the mid (``None`` without one)."""
    price = order.price if order.type is OrderType.LIMIT else exposure.mid
    return None if price is None else price * order.qty * exposure.contract_size


def _text(amount: Decimal) -> str:
    """``amount`` without exponent or trailing zeros (600, not 6.000E+2)."""
    return format(amount.normalize(), "f")
