"""The one error tree of connector.

Every error this library raises on purpose is a :class:`ConnectorError`.
Errors are translated at the edge where they happen (``raise X(...) from exc``),
so callers never see a raw ``httpx`` or ``trio_websocket`` exception::

    ConnectorError
    ├── ConfigError                  a bad config file, value or symbol text
    │   └── InvalidSymbol            (also a ValueError) text that is not BASE-QUOTE-TYPE[-EXPIRY]
    ├── LocalError                   our caller misused the library
    │   ├── InvalidOrder             violates instrument filters (tick, lot, min notional)
    │   └── UnknownInstrument        no such venue / symbol is loaded
    ├── RemoteError                  the venue said no, or said something we cannot read
    │   ├── ExchangeRejected         a venue error code and message
    │   ├── AuthenticationFailed     bad key, signature or permissions
    │   ├── RateLimited              429 / 418 / venue limit code; carries retry_after
    │   │   └── IpBanned             Binance 418: all REST to the venue stops until the ban ends
    │   ├── MalformedMessage         a frame or body that does not parse; carries the raw text
    │   └── SequenceGap              a book update that does not chain to the previous one
    ├── TransientError               may be retried: the next attempt can succeed
    │   ├── ConnectionLost           socket closed or reset, connect refused
    │   ├── RequestTimeout           no answer in time (the outcome may be unknown!)
    │   └── ServiceUnavailable       HTTP 5xx, venue maintenance
    ├── SubscriptionOverflow         a ``fail`` subscription could not keep up
    └── SupervisorGaveUp             restart intensity exceeded; escalates to the parent

``RateLimited`` is both a :class:`RemoteError` and a :class:`TransientError`.
"""

from __future__ import annotations

__all__ = [
    "AuthenticationFailed",
    "ConfigError",
    "ConnectionLost",
    "ConnectorError",
    "ExchangeRejected",
    "InvalidOrder",
    "InvalidSymbol",
    "IpBanned",
    "LocalError",
    "MalformedMessage",
    "RateLimited",
    "RemoteError",
    "RequestTimeout",
    "SequenceGap",
    "ServiceUnavailable",
    "SubscriptionOverflow",
    "SupervisorGaveUp",
    "TransientError",
    "UnknownInstrument",
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


class LocalError(ConnectorError):
    """The caller misused the library; retrying the same call fails the same way."""


class InvalidOrder(LocalError):
    """An order that breaks the instrument's filters or the order model."""

    def __init__(self, message: str, violations: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.violations = violations


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
        super().__init__(f"{venue or 'venue'} rejected the request: {code} {message}", venue=venue)
        self.code = code
        self.venue_message = message


class AuthenticationFailed(RemoteError):
    """Bad API key, signature, passphrase or permission."""


class TransientError(ConnectorError):
    """A failure that may go away: the same request can be retried."""


class RateLimited(RemoteError, TransientError):
    """The venue (or our own limiter) says to wait ``retry_after`` seconds."""

    def __init__(
        self, message: str, *, retry_after: float | None = None, venue: str | None = None
    ) -> None:
        super().__init__(message, venue=venue)
        self.retry_after = retry_after


class IpBanned(RateLimited):
    """Binance HTTP 418: the IP is banned until ``retry_after`` seconds from now."""


class MalformedMessage(RemoteError):
    """A frame or body that does not parse into what the venue documents."""

    def __init__(self, message: str, *, raw: str | bytes = "", venue: str | None = None) -> None:
        super().__init__(message, venue=venue)
        self.raw = raw


class SequenceGap(RemoteError):
    """A book update that does not chain to the previous one."""

    def __init__(
        self,
        message: str,
        *,
        expected: int | None = None,
        got: int | None = None,
        venue: str | None = None,
    ) -> None:
        super().__init__(message, venue=venue)
        self.expected = expected
        self.got = got


class ConnectionLost(TransientError):
    """The connection closed, reset or could not be opened."""


class RequestTimeout(TransientError):
    """No answer in time. For orders the outcome is unknown until queried."""


class ServiceUnavailable(TransientError):
    """HTTP 5xx or venue maintenance."""


class SubscriptionOverflow(ConnectorError):
    """A subscription with the ``fail`` policy overflowed; re-read state, then resubscribe."""


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
