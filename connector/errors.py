"""The one error tree of connector.

Every error this library raises on purpose is a :class:`ConnectorError`, and
every exception class of the library lives in this module. Errors are
translated at the edge where they happen (``raise X(...) from exc``), so
callers never see a raw ``httpx``, ``trio`` or ``ssl`` exception::

    ConnectorError
    ├── ConfigError                  a bad config file, value or symbol text
    │   ├── InvalidSymbol            (also a ValueError) text that is not BASE-QUOTE-TYPE[-EXPIRY]
    │   └── UsageError               command-line arguments that parse but do not hold
    ├── LocalError                   our caller misused the library
    │   ├── InvalidOrder             violates instrument filters (tick, lot, min notional)
    │   ├── RiskRejected             a pre-trade risk limit refused the order; names the limit
    │   └── UnknownInstrument        no such venue / symbol is loaded
    ├── RemoteError                  the venue said no, or said something we cannot use
    │   ├── ExchangeRejected         a venue error code and message
    │   │   └── OrderNotFound        the venue does not know the order (query, cancel)
    │   ├── OrderRejected            the venue definitely refused one order; code, reason
    │   ├── AuthenticationFailed     bad key, signature or permissions
    │   ├── TimestampRejected        request time outside the venue's window (-1021, 10002, 50102)
    │   ├── RateLimited              429 / 418 / venue limit code; carries retry_after, local
    │   │   └── IpBanned             Binance 418: REST to that host stops until the ban ends
    │   ├── MalformedMessage         a frame or body that does not parse; carries the raw text
    │   │   └── UnknownSymbol        a frame for an instrument the symbol map does not list
    │   └── SymbolCollision          two instruments of a venue market share a canonical symbol
    ├── TransientError               may be retried: the next attempt can succeed
    │   ├── ConnectionLost           socket closed or reset, connect refused
    │   ├── RequestTimeout           no answer in time (the outcome may be unknown!)
    │   └── ServiceUnavailable       HTTP 5xx, venue maintenance
    ├── OrderOutcomeUnknown          an order was sent, its fate is not known; client_order_id
    ├── CancelAllIncomplete          cancel_all could not list a venue's open orders; what it did
    ├── ReconcileIncomplete          reconcile failed on a venue; the other venues' reports
    ├── SubscriptionOverflow         a ``fail`` subscription could not keep up
    ├── StoreError                   the event store cannot be opened, read or written
    └── SupervisorGaveUp             restart intensity exceeded; escalates to the parent

``RateLimited`` is both a :class:`RemoteError` and a :class:`TransientError`.
:class:`ConfigError` is raised only for what a user configured (a file, a
setting, an argument); what the library finds at run time (a venue's
instrument list, a frame) is a :class:`RemoteError`. ``OrderOutcomeUnknown`` is
neither a remote refusal nor retryable: resending could trade twice, so the
order is followed by its client order id until its state is known.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from connector.account.service import ReconcileReport
    from connector.model.trading import Order

__all__ = [
    "AuthenticationFailed",
    "CancelAllIncomplete",
    "ConfigError",
    "ConnectionLost",
    "ConnectorError",
    "ExchangeRejected",
    "InvalidOrder",
    "InvalidSymbol",
    "IpBanned",
    "LocalError",
    "MalformedMessage",
    "OrderNotFound",
    "OrderOutcomeUnknown",
    "OrderRejected",
    "RateLimited",
    "ReconcileIncomplete",
    "RemoteError",
    "RequestTimeout",
    "RiskRejected",
    "ServiceUnavailable",
    "StoreError",
    "SubscriptionOverflow",
    "SupervisorGaveUp",
    "SymbolCollision",
    "TimestampRejected",
    "TransientError",
    "UnknownInstrument",
    "UnknownSymbol",
    "UsageError",
]


class ConnectorError(Exception):
    """Base of every error raised by connector."""


class ConfigError(ConnectorError):
    """A configuration problem. ``problems`` lists each one as a full sentence."""

    def __init__(self, message: str, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems or (message,)


class InvalidSymbol(ConfigError, ValueError):
    """Text that is not a canonical symbol; the message names the text and the rule."""


class UsageError(ConfigError):
    """Command-line arguments that parse but do not hold together (a limit order
    without a price, a venue the config does not enable); ``connector`` prints each
    problem as ``connector: error: ...`` and exits 2."""

    def __init__(self, *problems: str) -> None:
        super().__init__("; ".join(problems), problems)


class LocalError(ConnectorError):
    """The caller misused the library; retrying the same call fails the same way."""


class InvalidOrder(LocalError):
    """An order that breaks the instrument's filters or the order model.

    Args:
        message: What is wrong, for people.
        violations: Each problem as ``"filter: what"``; without them, the message is
            the one problem (so ``violations`` never comes empty).
    """

    def __init__(self, message: str, violations: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.violations = violations or (message,)


class RiskRejected(LocalError):
    """A pre-trade risk check refused the order; ``limit`` names the limit it would break.

    Args:
        limit: The limit's name (``max_order_notional``, ``kill_switch``...).
        message: What was asked against what the limit allows.
    """

    def __init__(self, limit: str, message: str) -> None:
        super().__init__(f"risk limit {limit}: {message}")
        self.limit = limit


class UnknownInstrument(LocalError):
    """No instrument with that venue and symbol is loaded."""


class RemoteError(ConnectorError):
    """The venue refused a request or sent something we cannot use."""

    def __init__(self, message: str, *, venue: str | None = None) -> None:
        super().__init__(message)
        self.venue = venue


class ExchangeRejected(RemoteError):
    """The venue answered with an error code."""

    def __init__(self, code: int | str, message: str, *, venue: str | None = None) -> None:
        said = f"{code} {message}" if code != "" else message
        super().__init__(f"{venue or 'venue'} rejected the request: {said}", venue=venue)
        self.code = code
        self.venue_message = message


class OrderNotFound(ExchangeRejected):
    """The venue does not know the order: a query or cancel of an order that was never
    placed, or that the venue no longer keeps (Binance -2013/-2011, Bybit 110001,
    OKX 51603; ``code`` empty when the venue listed no such order).

    A definite answer, unlike a timeout: an order still ``unknown`` after its
    placement was answered this way was not placed (once the venue's
    propagation delay has passed).

    Args:
        client_order_id: The order asked for; the message names it.
    """

    def __init__(
        self,
        code: int | str,
        message: str,
        *,
        client_order_id: str = "",
        venue: str | None = None,
    ) -> None:
        super().__init__(code, message, venue=venue)
        self.client_order_id = client_order_id
        if client_order_id:
            said = f"{code} {message}" if code != "" else message
            self.args = (f"{venue or 'venue'} has no order {client_order_id}: {said}",)


class OrderRejected(RemoteError):
    """The venue definitely refused one order: nothing was placed, resending the same fails.

    Args:
        code: The venue's error code.
        reason: The venue's message.
        client_order_id: Our id of the refused order.
        venue: The venue that refused it.
    """

    def __init__(
        self, code: int | str, reason: str, *, client_order_id: str, venue: str | None = None
    ) -> None:
        super().__init__(
            f"{venue or 'venue'} rejected order {client_order_id}: {code} {reason}", venue=venue
        )
        self.code = code
        self.reason = reason
        self.client_order_id = client_order_id


class AuthenticationFailed(RemoteError):
    """Bad API key, signature, passphrase or permission."""


class TimestampRejected(RemoteError):
    """The request's timestamp is outside the venue's window: our clock must resync first.

    Binance ``-1021``, Bybit ``10002``, OKX ``50102``. The request was not acted on.
    """

    def __init__(self, code: int | str, message: str, *, venue: str | None = None) -> None:
        super().__init__(
            f"{venue or 'venue'} rejected the timestamp: {code} {message}", venue=venue
        )
        self.code = code
        self.venue_message = message


class TransientError(ConnectorError):
    """A failure that may go away: the same request can be retried."""


class RateLimited(RemoteError, TransientError):
    """The venue (or our own limiter) says to wait ``retry_after`` seconds.

    ``local`` is true when our own limiter raised it: the request was never sent,
    having waited as long as allowed (the order path resends only the venue's).
    """

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        venue: str | None = None,
        local: bool = False,
    ) -> None:
        super().__init__(message, venue=venue)
        self.retry_after = retry_after
        self.local = local


class IpBanned(RateLimited):
    """Binance HTTP 418: the IP is banned until ``retry_after`` seconds from now."""


class MalformedMessage(RemoteError):
    """A frame or body that does not parse into what the venue documents."""

    def __init__(self, message: str, *, raw: str | bytes = "", venue: str | None = None) -> None:
        super().__init__(message, venue=venue)
        self.raw = raw


class UnknownSymbol(MalformedMessage):
    """A frame or body for a native id the symbol map does not list.

    Well-formed, but for an instrument this session does not follow (another
    session's symbol, or a list loaded before the venue added it). A
    :class:`MalformedMessage`, so code that skips unreadable input skips these
    too; ``native_id`` lets it count them apart.
    """

    def __init__(self, native_id: str, *, raw: str | bytes = "", venue: str | None = None) -> None:
        super().__init__(
            f"{venue or 'venue'} frame for unknown instrument {native_id!r}", raw=raw, venue=venue
        )
        self.native_id = native_id


class SymbolCollision(RemoteError):
    """A venue lists two instruments of one market under one canonical symbol (or native id).

    Found when an instrument list is loaded: adding both would route orders and
    books to the wrong instrument, so the list is refused.
    """


class ConnectionLost(TransientError):
    """The connection closed, reset or could not be opened."""


class RequestTimeout(TransientError):
    """No answer in time. For orders the outcome is unknown until queried."""


class ServiceUnavailable(TransientError):
    """HTTP 5xx or venue maintenance."""


class OrderOutcomeUnknown(ConnectorError):
    """An order was sent but its outcome was lost (timeout, disconnect, 5xx, an "unknown" code).

    The order is tracked as ``unknown`` and resolved by querying it by
    ``client_order_id``; it is never resent blindly. Await its resolution with
    ``c.orders.wait(client_order_id)``.

    Args:
        client_order_id: Our id of the order, the key to follow it by.
        reason: What was lost.
        venue: The venue it was sent to.
    """

    def __init__(self, client_order_id: str, reason: str, *, venue: str | None = None) -> None:
        super().__init__(
            f"{venue or 'venue'} order {client_order_id}: outcome unknown ({reason}); "
            "follow it by its client order id"
        )
        self.client_order_id = client_order_id
        self.reason = reason
        self.venue = venue


class CancelAllIncomplete(ConnectorError):
    """``cancel_all`` canceled every order it knew of, but could not list some venue's
    open orders (wrong keys, the venue unreachable): orders only the venue knows of
    (placed elsewhere, or before a restart) may still be open there.

    Args:
        orders: The orders it canceled or tried to, as they are now (what
            ``cancel_all`` returns when it is complete).
        failures: Per venue, why its open orders are not known.
    """

    def __init__(self, orders: Sequence[Order], failures: Mapping[str, str]) -> None:
        said = "; ".join(f"{venue}: {why}" for venue, why in failures.items())
        super().__init__(f"cancel_all may have left orders open: {said}")
        self.orders = list(orders)
        self.failures = dict(failures)


class ReconcileIncomplete(ConnectorError):
    """``reconcile`` could not complete on some venue (a REST request failed, or no
    reconciliation finished in time): what that venue holds may still differ from the
    local state. The other venues' reconciliations completed and are in ``reports``.

    Args:
        reports: Per venue that completed, its report (what ``reconcile`` returns
            when it is complete).
        failures: Per venue that did not, why (the venue's error, or the timeout).
    """

    def __init__(self, reports: Mapping[str, ReconcileReport], failures: Mapping[str, str]) -> None:
        said = "; ".join(f"{venue}: {why}" for venue, why in failures.items())
        super().__init__(f"reconcile did not complete: {said}")
        self.reports = dict(reports)
        self.failures = dict(failures)


class SubscriptionOverflow(ConnectorError):
    """A subscription with the ``fail`` policy overflowed; re-read state, then resubscribe."""


class StoreError(ConnectorError):
    """The event store cannot be opened (a newer schema, another writer, a bad path or
    server) or cannot write or read now; order commands then fail at once and no
    request is sent. A write that failed may succeed once the store is back."""


class SupervisorGaveUp(ConnectorError):
    """A supervisor exceeded its restart intensity and stopped its children."""

    def __init__(self, supervisor: str, restarts: int, period: float, last_error: str) -> None:
        super().__init__(
            f"supervisor {supervisor!r} gave up after {restarts} restarts in {period:g} s; "
            f"last error: {last_error}"
        )
        self.supervisor = supervisor
        self.restarts = restarts
        self.period = period
        self.last_error = last_error
