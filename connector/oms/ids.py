"""Client order ids: short, ours, unique across restarts (sans-I/O).

Every venue accepts an id of at most 32 ASCII letters and digits (OKX's
``clOrdId`` is the strictest: 1-32 alphanumerics; Binance and Bybit allow 36
characters with ``-`` and ``_``, Binance USDⓈ-M also ``.``, ``:`` and ``/``;
see :data:`VENUE_RULES` and :data:`MARKET_RULES`). An id is::

    <prefix: 1-8> <session stamp: 8> <session salt: 4> <counter: 6>     (base 62, <= 26 chars)

- **prefix**: fixed per install (made once by :func:`new_prefix` and kept in
  the configuration or the store), so reconciliation recognises our orders
  (:meth:`ClientOrderIds.is_ours`) among those placed by other programs.
- **session stamp**: the wall-clock millisecond at which this generator was
  made (the caller passes it: nothing here reads a clock).
- **session salt**: random bits drawn by the caller for this session.
- **counter**: 0, 1, 2... within the session.

Why ids never repeat across restarts: within one session the counter never
repeats. Two sessions of one install differ in their stamp unless they start
in the same millisecond; restarts are sequential (one process owns the event
log), so that happens only when the wall clock is stepped back onto an earlier
session's exact millisecond, and then the two sessions still differ unless
they also drew the same 24-bit salt (one chance in 14.7 million on top of
that). Nothing has to be persisted to keep this promise; no venue reuse rule
matters (OKX lets an id be reused once its order is finished, Binance once it
is filled: we never ask).
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping

from connector.errors import ConfigError, InvalidOrder
from connector.model import Market

__all__ = [
    "MARKET_RULES",
    "MAX_LENGTH",
    "VENUE_RULES",
    "ClientOrderIds",
    "check_client_order_id",
    "new_prefix",
]

MAX_LENGTH = 32
"""Longest id every venue accepts."""

VENUE_RULES: Mapping[str, re.Pattern[str]] = {
    # Binance spot: "^[a-zA-Z0-9-_]{1,36}$" (the -1100 message; binance-spot-api-docs#34).
    "binance": re.compile(r"[a-zA-Z0-9_-]{1,36}"),
    "bybit": re.compile(r"[0-9A-Za-z_-]{1,36}"),
    "okx": re.compile(r"[0-9A-Za-z]{1,32}"),
}
"""Each venue's client-order-id rule (venues-trading.md 2.3), matched in full; a market
in :data:`MARKET_RULES` has its own."""

MARKET_RULES: Mapping[tuple[str, Market], re.Pattern[str]] = {
    # Binance USDⓈ-M "New Order (TRADE)", newClientOrderId: "^[\.A-Z\:/a-z0-9_-]{1,36}$"
    # (checked 2026-12-06).
    ("binance", Market.LINEAR): re.compile(r"[.A-Z:/a-z0-9_-]{1,36}"),
}
"""The client-order-id rules of markets whose rule is not their venue's, matched in full."""

_ALPHABET = string.digits + string.ascii_uppercase + string.ascii_lowercase
_BASE = len(_ALPHABET)
_PREFIX_MAX = 8
_STAMP_WIDTH = 8
_SALT_WIDTH = 4
_COUNTER_WIDTH = 6
_TAIL = _STAMP_WIDTH + _SALT_WIDTH + _COUNTER_WIDTH
_PREFIX_RULE = re.compile(r"[A-Za-z][0-9A-Za-z]{0,7}")


def _encode(value: int, width: int) -> str:
    """``value`` in base 62, left-padded with ``0`` to ``width`` digits."""
    digits = []
    for _ in range(width):
        value, digit = divmod(value, _BASE)
        digits.append(_ALPHABET[digit])
    if value:
        raise ValueError(f"does not fit in {width} base-62 digits")
    return "".join(reversed(digits))


def new_prefix(entropy: int, length: int = 6) -> str:
    """A fresh per-install prefix: a letter, then base-62 digits of ``entropy``.

    Args:
        entropy: Random bits drawn by the caller (``secrets.randbits(48)``).
        length: Prefix length, 1 to 8.
    """
    if not 1 <= length <= _PREFIX_MAX:
        raise ValueError(f"prefix length must be 1..{_PREFIX_MAX}, got {length}")
    letters = string.ascii_letters
    first = letters[entropy % len(letters)]
    rest = _encode(entropy // len(letters) % _BASE ** (length - 1), length - 1)
    return first + rest


class ClientOrderIds:
    """Makes this session's client order ids and recognises the install's ids.

    Args:
        prefix: The install's prefix: a letter then up to 7 letters or digits.
        start_ns: Wall-clock time this session started, in ns since the epoch.
        salt: Random bits drawn for this session (the low 23.8 bits are used).

    Raises:
        ConfigError: the prefix breaks its rule.
    """

    def __init__(self, prefix: str, *, start_ns: int, salt: int) -> None:
        if not _PREFIX_RULE.fullmatch(prefix):
            raise ConfigError(
                f"client order id prefix {prefix!r}: expected a letter then up to 7 "
                "ASCII letters or digits"
            )
        if start_ns < 0:
            raise ValueError(f"start_ns must be >= 0, got {start_ns}")
        self.prefix = prefix
        stamp = _encode(start_ns // 1_000_000 % _BASE**_STAMP_WIDTH, _STAMP_WIDTH)
        self.session = stamp + _encode(salt % _BASE**_SALT_WIDTH, _SALT_WIDTH)
        self._head = prefix + self.session
        self._length = len(prefix) + _TAIL
        self._counter = 0

    def next(self) -> str:
        """The next id of this session (never one returned before, in any session)."""
        cid = self._head + _encode(self._counter, _COUNTER_WIDTH)
        self._counter += 1
        return cid

    @property
    def issued(self) -> int:
        """Ids made by this session."""
        return self._counter

    def is_ours(self, client_order_id: str) -> bool:
        """Whether ``client_order_id`` was made by this install (any session)."""
        return (
            len(client_order_id) == self._length
            and client_order_id.startswith(self.prefix)
            and client_order_id.isascii()
            and client_order_id.isalnum()
        )

    def is_this_session(self, client_order_id: str) -> bool:
        """Whether ``client_order_id`` was made by this very generator's session."""
        return self.is_ours(client_order_id) and client_order_id.startswith(self._head)


def check_client_order_id(client_order_id: object, venue: str, market: Market) -> str:
    """A caller-chosen id (whatever the caller passed), checked against the rule of the
    venue's ``market``; returned unchanged.

    Raises:
        InvalidOrder: naming the rule the id breaks.
    """
    rule = MARKET_RULES.get((venue, market)) or VENUE_RULES.get(venue)
    if rule is None:
        raise InvalidOrder(f"no client order id rule for venue {venue!r}")
    if not isinstance(client_order_id, str):
        problem = f"client_order_id: {client_order_id!r} is not text"
        raise InvalidOrder(problem, (problem,))
    if not rule.fullmatch(client_order_id):
        problem = (
            f"client_order_id: {client_order_id!r} does not match the rule of {venue}"
            f" {market.value}: {rule.pattern}"
        )
        raise InvalidOrder(problem, (problem,))
    return client_order_id


def id_in_use(client_order_id: str, venue: str) -> InvalidOrder:
    """The refusal of a caller-chosen id an order of ``venue`` already has (one id names
    one order: ``c.orders.get`` and ``c.orders.wait`` look it up on every venue)."""
    problem = f"client_order_id: {client_order_id} is already used on {venue}"
    return InvalidOrder(f"invalid order: {problem}", (problem,))
