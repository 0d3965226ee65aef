"""Small pieces the venue drivers share (sans-I/O).

Each venue's driver parts (``connector/venues/<v>/{rest,market_data}.py``)
answer the same questions of the protocols in :mod:`connector.venues.driver`;
where the answer has the same shape on every venue (which market trades a
symbol kind, which built-in endpoint is asked for, how an error code becomes an
exception), the shape lives here and the venue supplies its facts.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import TypeVar

import attrs
import msgspec

from connector.errors import (
    AuthenticationFailed,
    ConfigError,
    ConnectorError,
    ExchangeRejected,
    RateLimited,
    TimestampRejected,
)
from connector.model import Instrument, Market, Symbol, SymbolKind
from connector.venues.common import guess_split_instrument
from connector.venues.driver import ConnectionPlan, StreamSpec

__all__ = [
    "changed_plan",
    "decode_or_none",
    "guess_spot_or_perp",
    "header_float",
    "is_testnet",
    "rejection",
    "spot_or_perp_market",
]


_T = TypeVar("_T")


def decode_or_none(decoder: msgspec.json.Decoder[_T], data: str | bytes) -> _T | None:
    """``data`` decoded, or ``None`` when it is not what ``decoder`` reads (a frame
    of another kind, or not JSON)."""
    try:
        return decoder.decode(data)
    except (msgspec.DecodeError, ValueError):
        return None


def spot_or_perp_market(venue: str, symbol: Symbol, *, perp: Market, supported: str) -> Market:
    """The market of a spot or perpetual symbol on a venue that trades only those.

    Args:
        venue: The venue's name, for the error.
        symbol: The canonical symbol.
        perp: The venue's market of perpetuals (``linear`` or ``swap``).
        supported: What the venue supports, in words, for the error.

    Raises:
        ConfigError: The symbol is neither spot nor a perpetual.
    """
    if symbol.kind is SymbolKind.SPOT:
        return Market.SPOT
    if symbol.kind is SymbolKind.PERP:
        return perp
    raise ConfigError(f"{venue}: {symbol} is not supported ({supported})")


def is_testnet(venue: str, endpoint: str) -> bool:
    """Whether the built-in ``endpoint`` (``live`` or ``testnet``) is the test one.

    Raises:
        ConfigError: Neither ``live`` nor ``testnet``.
    """
    if endpoint not in ("live", "testnet"):
        raise ConfigError(f"{venue}: endpoint {endpoint!r} has no built-in URLs")
    return endpoint == "testnet"


def header_float(headers: Mapping[str, str], name: str) -> float | None:
    """The number in header ``name`` (lower case; matched case-insensitively).

    Returns:
        The first matching header's value, or None when it is absent or not a number.
    """
    value = headers.get(name)  # our responses' names are lower case already
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name), None)
        if value is None:
            return None
    try:
        return float(value)
    except ValueError:
        return None


def rejection(
    venue: str,
    code: int | str,
    message: str,
    *,
    timestamp_codes: Collection[int | str],
    auth_codes: Collection[int | str],
    rate_codes: Collection[int | str],
    retry_after: float | None = None,
) -> ConnectorError:
    """The exception for a venue error code that is not success.

    The venue's timestamp codes give :class:`TimestampRejected` (the clock must
    resync), authentication codes :class:`AuthenticationFailed`, rate-limit
    codes :class:`RateLimited` (waiting ``retry_after``), and every other code
    :class:`ExchangeRejected`. A venue passes the same sets its order answers
    are read with, so that a code means one thing on every request.
    """
    if code in timestamp_codes:
        return TimestampRejected(code, message, venue=venue)
    if code in auth_codes:
        return AuthenticationFailed(f"{venue}: {code} {message}", venue=venue)
    if code in rate_codes:
        return RateLimited(f"{venue}: {code} {message}", retry_after=retry_after, venue=venue)
    return ExchangeRejected(code, message, venue=venue)


def guess_spot_or_perp(venue: str, market: Market, native_id: str) -> Instrument | None:
    """A placeholder instrument for a concatenated id (``BTCUSDT``): spot or perpetual by market."""
    kind = SymbolKind.SPOT if market is Market.SPOT else SymbolKind.PERP
    return guess_split_instrument(venue, market, native_id, kind)


def changed_plan(
    plan: ConnectionPlan,
    subscribe: Sequence[StreamSpec],
    unsubscribe: Sequence[StreamSpec],
) -> ConnectionPlan:
    """``plan`` carrying ``subscribe`` too and no longer ``unsubscribe`` (each stream
    once, in the order subscribed)."""
    gone = set(unsubscribe)
    kept = dict.fromkeys(s for s in plan.streams if s not in gone)
    kept.update(dict.fromkeys(subscribe))
    return attrs.evolve(plan, streams=tuple(kept))
