"""Canonical symbols: ``BASE-QUOTE-TYPE[-EXPIRY]``.

``BTC-USDT-SPOT``, ``ETH-USDT-PERP``, ``BTC-USD-FUT-20250328``. Venue-native ids
(``BTCUSDT``, ``BTC-USDT-SWAP``) never leave ``connector/venues/<v>/symbols.py``.
"""

from __future__ import annotations

import datetime as _dt
import enum
import re

import attrs

from connector.errors import InvalidSymbol

__all__ = ["Symbol", "SymbolKind"]

_ASSET = re.compile(r"[A-Z0-9]{1,20}")


class SymbolKind(enum.StrEnum):
    """What the canonical symbol trades: spot, perpetual swap or dated future."""

    SPOT = "SPOT"
    PERP = "PERP"
    FUT = "FUT"


@attrs.frozen(order=True, cache_hash=True)
class Symbol:
    """A canonical instrument name, the same on every venue.

    Hashable with the hash computed once: symbols key every per-book lookup on
    the hot path.

    Attributes:
        base: Base asset, upper case (``BTC``).
        quote: Quote or settlement-price asset (``USDT``).
        kind: ``SPOT``, ``PERP`` or ``FUT``.
        expiry: Delivery date, only (and always) for ``FUT``.
    """

    base: str
    quote: str
    kind: SymbolKind
    expiry: _dt.date | None = None

    def __attrs_post_init__(self) -> None:
        for role, asset in (("base", self.base), ("quote", self.quote)):
            if not _ASSET.fullmatch(asset):
                raise InvalidSymbol(
                    f"symbol {self!s}: {role} asset {asset!r} must be 1-20 upper-case "
                    "letters or digits"
                )
        if (self.kind is SymbolKind.FUT) != (self.expiry is not None):
            raise InvalidSymbol(f"symbol {self!s}: an expiry is required for FUT and only for FUT")

    @classmethod
    def parse(cls, text: str) -> Symbol:
        """Parse ``BASE-QUOTE-TYPE[-YYYYMMDD]``.

        Raises:
            InvalidSymbol: naming the text and the rule it breaks.
        """
        cached = cls is Symbol and isinstance(text, str)
        known = _PARSED.get(text) if cached else None
        if known is not None:
            return known  # symbols are frozen: one value serves every caller
        symbol = cls._parse(text)
        if cached:
            if len(_PARSED) >= _PARSED_LIMIT:
                _PARSED.clear()
            _PARSED[text] = symbol
        return symbol

    @classmethod
    def _parse(cls, text: str) -> Symbol:
        if not isinstance(text, str):
            raise InvalidSymbol(f"symbol {text!r}: expected text like 'BTC-USDT-SPOT'")
        parts = text.split("-")
        if len(parts) not in (3, 4):
            raise InvalidSymbol(
                f"symbol {text!r}: expected BASE-QUOTE-TYPE or BASE-QUOTE-FUT-YYYYMMDD "
                "(e.g. 'BTC-USDT-SPOT', 'ETH-USDT-PERP', 'BTC-USD-FUT-20250328')"
                + _did_you_mean(text)
            )
        base, quote, kind_text = parts[:3]
        try:
            kind = SymbolKind(kind_text)
        except ValueError:
            raise InvalidSymbol(
                f"symbol {text!r}: type {kind_text!r} must be one of SPOT, PERP, FUT"
                + _did_you_mean(text)
            ) from None
        expiry: _dt.date | None = None
        if len(parts) == 4:
            if kind is not SymbolKind.FUT:
                raise InvalidSymbol(f"symbol {text!r}: only FUT symbols carry an expiry")
            expiry = _parse_expiry(text, parts[3])
        elif kind is SymbolKind.FUT:
            raise InvalidSymbol(f"symbol {text!r}: FUT needs an expiry, as in BTC-USD-FUT-20250328")
        for role, asset in (("base", base), ("quote", quote)):
            if not _ASSET.fullmatch(asset):
                raise InvalidSymbol(
                    f"symbol {text!r}: {role} asset {asset!r} must be 1-20 upper-case "
                    "letters or digits" + _did_you_mean(text)
                )
        return cls(base, quote, kind, expiry)

    def __str__(self) -> str:
        text = f"{self.base}-{self.quote}-{self.kind.value}"
        if self.expiry is not None:
            e = self.expiry
            text += f"-{e.year:04d}{e.month:02d}{e.day:02d}"
        return text


_PARSED: dict[str, Symbol] = {}
"""Text -> symbol, for texts parsed before (a symbol given as text on every order)."""
_PARSED_LIMIT = 4096
"""Entries at most: past that the cache starts over."""


_PAIR = re.compile(r"([A-Z0-9]{1,20})[-/]([A-Z0-9]{1,20})(?::[A-Z0-9]{1,20})?(?:-SWAP)?")
"""A pair as other tools write it: ``BTC-USDT``, ``BTC/USDT``, ccxt's ``BTC/USDT:USDT``,
OKX's ``BTC-USDT-SWAP``."""


def _did_you_mean(text: str) -> str:
    """A hint naming the canonical symbols ``text`` most likely meant, or ``""``."""
    upper = text.strip().upper()
    if upper != text:
        try:
            return f"; did you mean '{Symbol._parse(upper)}'?"
        except InvalidSymbol:
            pass
    pair = _PAIR.fullmatch(upper)
    if pair is None:
        return ""
    base, quote = pair.groups()
    if upper.endswith("-SWAP") or ":" in upper:
        return f"; did you mean '{base}-{quote}-PERP'?"
    return f"; did you mean '{base}-{quote}-SPOT' or '{base}-{quote}-PERP'?"


def _parse_expiry(text: str, raw: str) -> _dt.date:
    if not re.fullmatch(r"\d{8}", raw):
        raise InvalidSymbol(f"symbol {text!r}: expiry {raw!r} must be YYYYMMDD")
    try:
        return _dt.date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
    except ValueError:
        raise InvalidSymbol(f"symbol {text!r}: expiry {raw!r} is not a calendar date") from None
