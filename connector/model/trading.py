"""Orders, fills, positions and balances; the commands that change them and the
events that say they changed (commands are imperative, events past tense)."""

from __future__ import annotations

import enum
from decimal import Decimal

import attrs

from connector.model.symbols import Symbol

__all__ = [
    "AmendOrder",
    "Balance",
    "CancelOrder",
    "Fill",
    "FillKey",
    "Liquidity",
    "Order",
    "OrderAccepted",
    "OrderAmended",
    "OrderCanceled",
    "OrderEvent",
    "OrderExpired",
    "OrderFilled",
    "OrderRejected",
    "OrderReport",
    "OrderStatus",
    "OrderStatusUnknown",
    "OrderSubmitted",
    "OrderType",
    "PlaceOrder",
    "Position",
    "Side",
    "TimeInForce",
]

_ZERO = Decimal(0)


class Side(enum.StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(enum.StrEnum):
    LIMIT = "limit"
    MARKET = "market"


class TimeInForce(enum.StrEnum):
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"
    POST_ONLY = "post_only"


class OrderStatus(enum.StrEnum):
    """Order lifecycle. ``UNKNOWN``: sent, but the answer was lost (timeout,
    disconnect) until a query by client order id resolves it."""

    SUBMITTED = "submitted"
    UNKNOWN = "unknown"
    NEW = "new"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"
    EXPIRED = "expired"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL


_TERMINAL = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED}
)


class Liquidity(enum.StrEnum):
    MAKER = "maker"
    TAKER = "taker"


@attrs.frozen(kw_only=True)
class Order:
    """The known state of one order (a projection of its events)."""

    venue: str
    symbol: Symbol
    client_order_id: str
    side: Side
    type: OrderType
    qty: Decimal
    price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False
    venue_order_id: str | None = None
    status: OrderStatus = OrderStatus.SUBMITTED
    filled_qty: Decimal = _ZERO
    avg_fill_price: Decimal | None = None
    ts_created_ns: int = 0
    ts_updated_ns: int = 0

    @property
    def remaining_qty(self) -> Decimal:
        return self.qty - self.filled_qty


@attrs.frozen(kw_only=True)
class Fill:
    """One execution of an order; :attr:`key` tells one from another (a trade between
    two orders of one account is two fills with the venue's one trade id).

    ``fee`` is positive for a charge and negative for a rebate, whatever sign the
    venue sends (OKX sends charges negative: its parser flips them).
    """

    venue: str
    symbol: Symbol
    client_order_id: str
    venue_order_id: str
    trade_id: str
    side: Side
    qty: Decimal
    price: Decimal
    fee: Decimal = _ZERO
    fee_asset: str = ""
    liquidity: Liquidity | None = None
    ts_event_ns: int = 0
    ts_recv_ns: int = 0
    source: str | None = None
    """Where this came from when it is not the live flow: ``"reconcile"`` for what
    reconciliation emitted to close a difference with the venue."""

    @property
    def key(self) -> FillKey:
        """``(venue, symbol, trade_id, side)``: what makes a fill distinct. A trade id
        is unique per venue and symbol but for a trade of the account with itself
        (no self-trade prevention), whose buy and sell are two fills under one id."""
        return (self.venue, self.symbol, self.trade_id, self.side)


FillKey = tuple[str, Symbol, str, Side]
"""What :attr:`Fill.key` returns."""


@attrs.frozen(kw_only=True)
class Position:
    """A derivatives position: ``qty`` is signed (negative is short)."""

    venue: str
    symbol: Symbol
    qty: Decimal
    avg_entry_price: Decimal | None = None
    realized_pnl: Decimal = _ZERO
    ts_event_ns: int = 0
    source: str | None = None
    """Where this came from when it is not the live flow: ``"reconcile"`` for what
    reconciliation emitted to close a difference with the venue."""


@attrs.frozen(kw_only=True)
class Balance:
    """One asset's balance on one venue."""

    venue: str
    asset: str
    free: Decimal
    locked: Decimal = _ZERO
    ts_event_ns: int = 0
    source: str | None = None
    """Where this came from when it is not the live flow: ``"reconcile"`` for what
    reconciliation emitted to close a difference with the venue."""

    @property
    def total(self) -> Decimal:
        return self.free + self.locked


# Commands -------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class PlaceOrder:
    """Ask a venue to open an order. ``client_order_id`` makes it idempotent."""

    venue: str
    symbol: Symbol
    side: Side
    type: OrderType
    qty: Decimal
    client_order_id: str
    price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False


@attrs.frozen(kw_only=True)
class CancelOrder:
    """Ask a venue to cancel an order, by client order id or venue order id."""

    venue: str
    symbol: Symbol
    client_order_id: str | None = None
    venue_order_id: str | None = None


@attrs.frozen(kw_only=True)
class AmendOrder:
    """Ask a venue to change an open order's quantity and/or price."""

    venue: str
    symbol: Symbol
    client_order_id: str
    qty: Decimal | None = None
    price: Decimal | None = None


# Events ---------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class OrderEvent:
    """Fields every order event has; published on ``order.{venue}.{event}``."""

    venue: str
    symbol: Symbol
    client_order_id: str
    venue_order_id: str | None = None
    ts_event_ns: int = 0
    ts_recv_ns: int = 0
    source: str | None = None
    """Where this came from when it is not the live flow: ``"reconcile"`` for what
    reconciliation emitted to close a difference with the venue."""


@attrs.frozen(kw_only=True)
class OrderSubmitted(OrderEvent):
    """Sent to the venue; no answer yet."""

    order: Order


@attrs.frozen(kw_only=True)
class OrderAccepted(OrderEvent):
    """The venue acknowledged the order (it rests or is being matched)."""


@attrs.frozen(kw_only=True)
class OrderRejected(OrderEvent):
    """Refused, by our checks (``code`` None) or by the venue (its code)."""

    reason: str
    code: str | None = None


@attrs.frozen(kw_only=True)
class OrderFilled(OrderEvent):
    """An execution; ``fill.trade_id`` deduplicates repeats."""

    fill: Fill

    @classmethod
    def of(cls, fill: Fill) -> OrderFilled:
        """The order event ``fill`` makes, with the fill's ids, times and source."""
        return cls(
            venue=fill.venue,
            symbol=fill.symbol,
            client_order_id=fill.client_order_id,
            venue_order_id=fill.venue_order_id,
            fill=fill,
            ts_event_ns=fill.ts_event_ns,
            ts_recv_ns=fill.ts_recv_ns,
            source=fill.source,
        )


@attrs.frozen(kw_only=True)
class OrderCanceled(OrderEvent):
    """Canceled by us, or by the venue (``reason`` says)."""

    reason: str | None = None


@attrs.frozen(kw_only=True)
class OrderAmended(OrderEvent):
    """The venue applied an amendment."""

    qty: Decimal
    price: Decimal | None = None


@attrs.frozen(kw_only=True)
class OrderExpired(OrderEvent):
    """IOC/FOK remainder or time-in-force expiry, or an open order the venue no longer knows."""

    reason: str | None = None


@attrs.frozen(kw_only=True)
class OrderStatusUnknown(OrderEvent):
    """The request's outcome was lost (timeout, disconnect); a query will resolve it."""

    reason: str


# Reports --------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class OrderReport:
    """What a venue says about one order at one moment (neither command nor event).

    A REST order query, an open-orders listing or a private-stream order update
    (Binance ``executionReport`` / ``ORDER_TRADE_UPDATE``, Bybit ``order``, OKX
    ``orders``) becomes one report: the order's status, cumulative filled
    quantity and average price as the venue sees them. Reports carry no
    sequence number and may arrive late, repeated or out of order; the order
    state machine (``connector/oms/state.py``) only lets them move an order
    forward. A report for an order we do not know creates it.

    Attributes:
        client_order_id: Our id; empty for an order the venue generated
            (liquidation, ADL), which is then keyed by ``venue_order_id``.
        qty: The order's current total quantity (after amendments).
        price: The order's current limit price; ``None`` for market orders.
        status: The venue's status mapped onto :class:`OrderStatus`
            (never ``submitted`` or ``unknown``).
        filled_qty: Cumulative filled quantity.
        avg_fill_price: Average price of ``filled_qty``; ``None`` when nothing filled.
        reason: The venue's reason text for a cancel, rejection or expiry.
        code: The venue's code for a rejection.
    """

    venue: str
    symbol: Symbol
    client_order_id: str
    venue_order_id: str | None = None
    side: Side
    type: OrderType
    qty: Decimal
    price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False
    status: OrderStatus
    filled_qty: Decimal = _ZERO
    avg_fill_price: Decimal | None = None
    reason: str | None = None
    code: str | None = None
    ts_event_ns: int = 0
    ts_recv_ns: int = 0
    source: str | None = None
    """Where this came from when it is not the live flow: ``"reconcile"`` for what
    reconciliation emitted to close a difference with the venue."""
