"""Small pieces the Bybit and OKX trading adapters share (sans-I/O).

Numbers go on the wire as plain decimal text (never exponent notation);
quantities are checked to be whole multiples of a lot before they are sent;
and an order's request is remembered by its client order id, because Bybit and
OKX acknowledge an order with its ids only: the report of an acknowledgement
is built from what was asked (:class:`AskedOrders`). Both venues sort their
answer codes the same way (:class:`ErrorCodes`, each venue its own codes) and
carry every market on one private socket (:func:`one_private_stream`,
:func:`private_ws_url`).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation

import attrs
import msgspec

from connector.errors import (
    AuthenticationFailed,
    ConnectorError,
    ExchangeRejected,
    InvalidOrder,
    MalformedMessage,
    OrderNotFound,
    OrderRejected,
    RateLimited,
    ServiceUnavailable,
    TimestampRejected,
)
from connector.model import (
    AmendOrder,
    Instrument,
    Market,
    Order,
    OrderStatus,
    PlaceOrder,
    Side,
)
from connector.model.trading import OrderReport
from connector.venues.driver import PrivateStream, RestCall

__all__ = [
    "ACTIONS",
    "Asked",
    "AskedOrders",
    "ErrorCodes",
    "amended",
    "check_action",
    "check_amendment",
    "check_client_order_id",
    "fmt_decimal",
    "json_post",
    "limit_price",
    "market_code",
    "ms_to_ns",
    "one_private_stream",
    "private_ws_url",
    "reduce_only",
    "side_of",
    "to_lots",
    "venue_decimal",
]

_ZERO = Decimal(0)
_NS_PER_MS = 1_000_000

ACTIONS = frozenset({"place", "cancel", "amend", "query"})
"""What an order answer answers (``TradingAdapter.parse_order_answer``'s ``action``)."""
_OPEN = frozenset({OrderStatus.SUBMITTED, OrderStatus.UNKNOWN})


def check_action(action: str) -> None:
    """Raise ``ValueError`` unless ``action`` is one of :data:`ACTIONS`."""
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {sorted(ACTIONS)}, not {action!r}")


def fmt_decimal(value: Decimal) -> str:
    """``value`` as plain decimal text with no exponent and no trailing zeros."""
    return format(value.normalize(), "f")


def ms_to_ns(text: str | int | None) -> int:
    """A venue's millisecond timestamp (text or number; empty is 0) in ns."""
    if text is None or text == "":
        return 0
    try:
        return int(text) * _NS_PER_MS
    except ValueError:
        raise ValueError(f"timestamp {text!r} is not a whole number of ms") from None


def venue_decimal(text: str | None) -> Decimal | None:
    """A venue number: ``None`` for absent or empty text.

    Raises:
        ValueError: Not a finite number.
    """
    if text is None or text == "":
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"impossible number {text!r}")
    return value


def to_lots(venue: str, instrument: Instrument, qty: Decimal, unit: Decimal) -> Decimal:
    """``qty`` (base units) in the venue's unit (``qty / unit``), checked against the lot.

    Args:
        venue: For the error.
        instrument: Its ``lot_step`` is in the venue's unit (OKX swap: contracts).
        qty: The quantity in base units.
        unit: Base units per venue unit (OKX swap ``ctVal``; 1 elsewhere).

    Raises:
        InvalidOrder: Not positive, or not a whole number of lots.
    """
    if qty <= _ZERO:
        raise InvalidOrder(f"{venue} {instrument.symbol}: qty {qty} must be positive")
    amount = qty / unit
    if amount % instrument.lot_step != _ZERO:
        what = "contracts" if unit != 1 else "lots"
        detail = f" ({amount} contracts of {unit})" if unit != 1 else ""
        raise InvalidOrder(
            f"{venue} {instrument.symbol}: qty {qty}{detail} is not a whole number of "
            f"{what} of {instrument.lot_step}",
            violations=(f"qty {qty} is not a multiple of the lot step",),
        )
    return amount


def market_code(venue: str, codes: Mapping[Market, str], market: Market) -> str:
    """The venue's name of ``market`` (Bybit ``category``, OKX ``instType``).

    Raises:
        ValueError: The venue trades no such market here.
    """
    try:
        return codes[market]
    except KeyError:
        known = ", ".join(m.value for m in codes)
        raise ValueError(f"{venue} has no {market.value} market here ({known})") from None


def limit_price(venue: str, instrument: Instrument, order: PlaceOrder) -> Decimal:
    """The price of a limit order.

    Raises:
        InvalidOrder: The order has none.
    """
    if order.price is None:
        raise InvalidOrder(f"{venue} {instrument.symbol}: a limit order needs a price")
    return order.price


def reduce_only(venue: str, market: Market, instrument: Instrument, order: PlaceOrder) -> bool:
    """Whether ``order`` is to go out reduce-only (both venues refuse the flag on spot).

    Raises:
        InvalidOrder: A reduce-only spot order.
    """
    if order.reduce_only and market is Market.SPOT:
        raise InvalidOrder(f"{venue} {instrument.symbol}: spot orders cannot be reduce-only")
    return order.reduce_only


def json_post(path: str, body: object, weights: Mapping[str, float]) -> RestCall:
    """A signed ``POST`` of ``body`` as JSON (Bybit's and OKX's order commands)."""
    return RestCall(
        method="POST", path=path, body=msgspec.json.encode(body), weights=weights, signed=True
    )


def check_amendment(venue: str, instrument: Instrument, amend: AmendOrder) -> None:
    """Raise :class:`InvalidOrder` when ``amend`` changes neither qty nor price."""
    if amend.qty is None and amend.price is None:
        raise InvalidOrder(f"{venue} {instrument.symbol}: an amendment needs a qty or a price")


def amended(current: Order, amend: AmendOrder) -> Order:
    """``current`` with the amendment's quantity and price: what an accepted amend
    acknowledgement reports (the private stream confirms it, or restores the old
    values when the venue fails the amendment later, as OKX may)."""
    return attrs.evolve(
        current,
        qty=current.qty if amend.qty is None else amend.qty,
        price=current.price if amend.price is None else amend.price,
    )


def check_client_order_id(venue: str, client_order_id: str, pattern: str, rule: str) -> None:
    """Raise :class:`InvalidOrder` when the id breaks the venue's rule.

    Args:
        pattern: A regular expression the whole id must match.
        rule: The rule in words, for the message.
    """
    if re.fullmatch(pattern, client_order_id) is None:
        raise InvalidOrder(f"{venue}: client order id {client_order_id!r} breaks the rule: {rule}")


@attrs.frozen(kw_only=True)
class Asked:
    """What was asked for one client order id: the market, the instrument and the
    order (as placed, or as known locally when amended)."""

    market: Market
    instrument: Instrument
    order: PlaceOrder | Order | None


@attrs.define
class AskedOrders:
    """The requests an adapter built, by client order id (bounded, oldest dropped).

    Bybit's ``/v5/order/create`` answers ``{orderId, orderLinkId}`` and OKX's
    ``/trade/order`` ``{ordId, clOrdId, sCode, sMsg}``: an acknowledgement, not
    the order. The report of such an answer repeats what was asked, with status
    ``new`` (the venue accepted the request; the private stream or a query says
    what became of it).
    """

    capacity: int = 10_000
    _asked: OrderedDict[str, Asked] = attrs.field(factory=OrderedDict)

    def remember(
        self,
        market: Market,
        instrument: Instrument,
        client_order_id: str,
        order: PlaceOrder | Order | None,
    ) -> None:
        old = self._asked.get(client_order_id)
        if order is None and old is not None and old.instrument == instrument:
            order = old.order  # a cancel or query keeps the placement it refers to
        self._asked[client_order_id] = Asked(market=market, instrument=instrument, order=order)
        self._asked.move_to_end(client_order_id)
        while len(self._asked) > self.capacity:
            self._asked.popitem(last=False)

    def get(self, client_order_id: str) -> Asked | None:
        return self._asked.get(client_order_id)

    def ack_report(
        self,
        venue: str,
        client_order_id: str,
        venue_order_id: str | None,
        *,
        ts_event_ns: int,
        ts_recv_ns: int,
        raw: bytes,
    ) -> OrderReport:
        """The report of an acknowledgement (the answer ``raw``): the order as asked
        (placed, or known and amended), its status no further than the venue has
        said (``new``).

        ``client_order_id`` may be ``#`` + the venue's order id (a request for an order
        placed elsewhere without a client id, remembered under that key): the report
        then has no client order id and that venue order id.

        Raises:
            MalformedMessage: No request for that client order id was built here
                (the order must be queried instead).
        """
        asked = self._asked.get(client_order_id)
        if asked is None or asked.order is None:
            raise MalformedMessage(
                f"{venue} acknowledged order {client_order_id!r}, which no request of this "
                "adapter placed: query it",
                raw=raw,
                venue=venue,
            )
        if client_order_id.startswith("#"):
            venue_order_id = venue_order_id or client_order_id[1:]
            client_order_id = ""
        order = asked.order
        status, filled, avg = OrderStatus.NEW, _ZERO, None
        if isinstance(order, Order):
            if order.status not in _OPEN:
                status = order.status
            filled, avg = order.filled_qty, order.avg_fill_price
            venue_order_id = venue_order_id or order.venue_order_id
        return OrderReport(
            venue=venue,
            symbol=order.symbol,
            client_order_id=client_order_id,
            venue_order_id=venue_order_id or None,
            side=order.side,
            type=order.type,
            qty=order.qty,
            price=order.price,
            time_in_force=order.time_in_force,
            reduce_only=order.reduce_only,
            status=status,
            filled_qty=filled,
            avg_fill_price=avg,
            ts_event_ns=ts_event_ns,
            ts_recv_ns=ts_recv_ns,
        )


@attrs.frozen(kw_only=True)
class ErrorCodes:
    """A venue's answer codes by what they mean (Bybit ``retCode``, OKX ``code`` / ``sCode``).

    Attributes:
        venue: The venue's name, for the errors.
        success: The code of an answer that succeeded.
        unknown: The outcome is unknown (timeouts, server errors): query, never resend.
        timestamp: The request's time is off: resync the clock.
        auth: The key, signature or permissions are refused.
        rate: Too many requests; ``retry_after`` seconds is the wait.
        not_found: The venue does not know the order.
        order_final: A cancel or amend of an order already final (or busy): a
            refusal, not a missing order, even for a ``place``.
    """

    venue: str
    success: int | str
    unknown: frozenset[int | str]
    timestamp: frozenset[int | str]
    auth: frozenset[int | str]
    rate: frozenset[int | str]
    retry_after: float
    not_found: frozenset[int | str]
    order_final: frozenset[int | str]

    def error(
        self,
        status: int,
        code: int | str,
        message: str,
        *,
        action: str = "query",
        client_order_id: str = "",
    ) -> ConnectorError | None:
        """The error of an answer (HTTP status, code, message); ``None`` if it succeeded.

        ``ServiceUnavailable`` means the outcome is unknown (HTTP 5xx or an
        ``unknown`` code): the order must be queried, never resent. Any other
        refusal of a ``place`` is an :class:`OrderRejected` (nothing was placed);
        of a cancel, amend or query an :class:`ExchangeRejected` (the order is as
        it was).
        """
        venue = self.venue
        if status >= 500 or code in self.unknown:
            return ServiceUnavailable(f"{venue}: HTTP {status}, {code} {message}: outcome unknown")
        if code == self.success and status < 400:
            return None
        if code in self.timestamp:
            return TimestampRejected(code, message, venue=venue)
        if code in self.auth or status == 401:
            return AuthenticationFailed(f"{venue}: {code} {message}", venue=venue)
        if code in self.rate or status == 429:
            return RateLimited(
                f"{venue}: {code} {message}", retry_after=self.retry_after, venue=venue
            )
        if code in self.not_found:
            return OrderNotFound(code, message, client_order_id=client_order_id, venue=venue)
        if action == "place" and code not in self.order_final and code != self.success:
            return OrderRejected(code, message, client_order_id=client_order_id, venue=venue)
        return ExchangeRejected(code, message or f"HTTP {status}", venue=venue)


def one_private_stream(
    venue: str, codes: Mapping[Market, str], markets: Sequence[Market]
) -> list[PrivateStream]:
    """One socket for every market (``codes``: the venue's markets, as :func:`market_code`).

    Raises:
        ValueError: A market the venue does not trade here.
    """
    for market in markets:
        market_code(venue, codes, market)
    return [PrivateStream(key="all", markets=tuple(markets))]


def private_ws_url(venue: str, stream: PrivateStream, urls: Mapping[str, str], path: str) -> str:
    """``<market>.ws.private`` from the URL table if given, else ``<market>.ws`` + ``path``.

    Raises:
        ValueError: The table has neither key for any of the stream's markets.
    """
    for market in stream.markets:
        url = urls.get(f"{market.value}.ws.private")
        if url:
            return url
    for market in stream.markets:
        base = urls.get(f"{market.value}.ws")
        if base:
            return base.rstrip("/") + path
    keys = ", ".join(f"{m.value}.ws" for m in stream.markets)
    raise ValueError(f"{venue}: the URL table has no private websocket URL ({keys})")


def side_of(text: str) -> Side:
    """``buy``/``Buy``/``BUY`` as a :class:`Side`.

    Raises:
        ValueError: Neither buy nor sell.
    """
    lowered = text.lower()
    if lowered == "buy":
        return Side.BUY
    if lowered == "sell":
        return Side.SELL
    raise ValueError(f"side {text!r}")
