"""Book levels from the venue's text: validated Decimals, interned, and lazy JSON arrays.

Where prices become Decimal (the hot path): venues send prices and quantities as
decimal strings. The order book keeps that text and compares exact fixed-point
values (``connector/book``), so a ``Decimal`` is only built for what someone
reads: the best levels of an update, a depth view, a level of a delta. Building
a ``Decimal`` and hashing it for the first time costs far more than a dict
lookup, and the same strings come back read after read, so :func:`decimal_price`
and :func:`decimal_qty` intern them through a bounded two-generation cache: new
strings go into the young generation; when it holds :data:`DECIMAL_CACHE_SIZE`
entries it becomes the old generation (the previous old one is dropped) and a new
young one starts; a string found only in the old generation moves back into the
young one. Strings still read (the prices near the top of the book, the common
quantities) stay cached, the rest are forgotten after two generations, and each
cache holds at most ``2 * DECIMAL_CACHE_SIZE`` entries
(:func:`decimal_cache_statistics`).

:class:`JsonLevels` is a delta's or snapshot's levels still in the venue's JSON
text (``[["61800.2","0.5"],...]``): the book engine reads that text directly and
the levels become :class:`~connector.model.BookLevel` tuples only when a consumer
iterates them.

Accepted number text: digits with an optional decimal point and an optional
exponent (``"61800.20"``, ``".5"``, ``"1e-5"``); no sign, no spaces, no
``NaN``/``Infinity``. Prices must be positive, quantities may be zero.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any, overload

import attrs
import msgspec

from connector.model.market import BookLevel

__all__ = [
    "DECIMAL_CACHE_SIZE",
    "DecimalCacheStatistics",
    "JsonLevels",
    "JsonText",
    "ScaledLevels",
    "check_number",
    "decimal_cache_statistics",
    "decimal_price",
    "decimal_qty",
    "levels_from_raw",
    "scaled_level",
]

JsonText = bytes | bytearray | memoryview | msgspec.Raw | str
"""JSON text of a level array: anything with the buffer protocol, or str."""

DECIMAL_CACHE_SIZE = 1_024
"""Entries in the young generation of each interning cache before it becomes the old one.

Each cache (prices, quantities) holds at most twice this many entries. Only what
consumers read goes through the caches (the book keeps text), so this covers the
top levels of a few dozen books; replaying the real Binance capture runs as fast
with 64 entries as with 4,096.
"""

NUMBER = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
"""An unsigned decimal number as venues write it."""

_new_level = tuple.__new__


class _Interned:
    """One interning cache: two generations of venue text -> ``Decimal``."""

    __slots__ = ("generations", "old", "positive", "young")

    def __init__(self, *, positive: bool) -> None:
        self.positive = positive
        self.young: dict[str, Decimal] = {}
        self.old: dict[str, Decimal] = {}
        self.generations = 0

    def get(self, text: str, *, checked: bool = False) -> Decimal:
        """The interned value of ``text`` (``checked``: a book engine validated it).

        Raises:
            ValueError: ``text`` is not a valid number (see :func:`check_number`).
        """
        value = self.young.get(text)
        if value is not None:
            return value
        value = self.old.get(text)
        if value is None:
            value = Decimal(text) if checked else check_number(text, positive=self.positive)
        if len(self.young) >= DECIMAL_CACHE_SIZE:
            # A new dict, never cleared in place: readers may hold the old one.
            self.old = self.young
            self.young = {}
            self.generations += 1
        self.young[text] = value
        return value

    def __len__(self) -> int:
        return len(self.young) + len(self.old)


_PRICES = _Interned(positive=True)
_QTYS = _Interned(positive=False)


@attrs.frozen(kw_only=True)
class DecimalCacheStatistics:
    """A snapshot of the price and quantity interning caches.

    Attributes:
        prices: Entries of the price cache now (both generations; a string
            moved back into the young generation is counted in both).
        qtys: Entries of the quantity cache now (likewise).
        limit: Most entries either cache can hold (``2 * DECIMAL_CACHE_SIZE``).
        price_generations: Times the price cache started a new generation.
        qty_generations: Times the quantity cache started a new generation.
    """

    prices: int
    qtys: int
    limit: int
    price_generations: int
    qty_generations: int


def decimal_cache_statistics() -> DecimalCacheStatistics:
    """A frozen snapshot of the interning caches' sizes."""
    return DecimalCacheStatistics(
        prices=len(_PRICES),
        qtys=len(_QTYS),
        limit=2 * DECIMAL_CACHE_SIZE,
        price_generations=_PRICES.generations,
        qty_generations=_QTYS.generations,
    )


def check_number(text: object, *, positive: bool) -> Decimal:
    """The exact value of one venue number.

    Raises:
        ValueError: ``text`` is not a str holding an unsigned decimal number, or
            ``positive`` and it is zero.
    """
    if type(text) is not str or NUMBER.fullmatch(text) is None:
        raise ValueError(f"not a decimal number: {text!r}")
    value = Decimal(text)
    if positive and not value:
        raise ValueError(f"price must be positive: {text!r}")
    return value


def decimal_price(text: str) -> Decimal:
    """The interned Decimal for a venue price string.

    Raises:
        ValueError: ``text`` is not an unsigned decimal number, or is zero.
    """
    return _PRICES.get(text)


def decimal_qty(text: str) -> Decimal:
    """The interned Decimal for a venue quantity string (zero allowed).

    Raises:
        ValueError: ``text`` is not an unsigned decimal number.
    """
    return _QTYS.get(text)


def level_of(texts: Sequence[str]) -> BookLevel:
    """A level from ``(price text, qty text)`` that a book engine has validated already."""
    price, qty = texts
    return _new_level(BookLevel, (_PRICES.get(price, checked=True), _QTYS.get(qty, checked=True)))


def levels_from_raw(pairs: Sequence[Sequence[Any]]) -> tuple[BookLevel, ...]:
    """Convert the venue's ``[[price, qty], ...]`` strings into validated levels.

    Only the first two elements of each level are read (OKX sends four).

    Raises:
        ValueError: a level with fewer than two elements, a price that is not
            strictly positive, or text that is not a decimal number; nothing is
            returned then.
    """
    prices = _PRICES.young
    qtys = _QTYS.young
    try:
        # Hot path: plain dict subscripts when every string was seen before.
        return tuple([_new_level(BookLevel, (prices[lv[0]], qtys[lv[1]])) for lv in pairs])
    except (KeyError, IndexError, TypeError):
        pass
    out = []
    for lv in pairs:
        if len(lv) < 2:
            raise ValueError(f"a book level needs a price and a quantity, got {lv!r}")
        price, qty = lv[0], lv[1]
        for text in (price, qty):
            if type(text) is not str:
                raise ValueError(f"not a decimal number: {text!r}")
        out.append(_new_level(BookLevel, (decimal_price(price), decimal_qty(qty))))
    return tuple(out)


_json_levels = msgspec.json.Decoder(list[list[Any]])


def decode_json_levels(text: JsonText) -> list[list[Any]]:
    """The venue's JSON level array as lists (strings kept as they are).

    Raises:
        ValueError: ``text`` is not a JSON array of arrays, or has an escaped
            string (venues never escape numbers; the compiled engine refuses them).
    """
    escaped = "\\" in text if isinstance(text, str) else b"\\" in bytes(text)
    if escaped:
        raise ValueError("malformed book levels: escaped string in a level")
    try:
        return _json_levels.decode(text)
    except msgspec.DecodeError as exc:
        raise ValueError(f"malformed book levels: {exc}") from None


class _Levels(Sequence[BookLevel]):
    """Levels made on first read (:attr:`levels`); a sequence equal to any other
    sequence of the same levels (``tuple``, ``list``)."""

    __slots__ = ()

    @property
    def levels(self) -> tuple[BookLevel, ...]:
        raise NotImplementedError

    def __len__(self) -> int:
        return len(self.levels)

    @overload
    def __getitem__(self, index: int) -> BookLevel: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[BookLevel, ...]: ...

    def __getitem__(self, index: int | slice) -> BookLevel | tuple[BookLevel, ...]:
        return self.levels[index]

    def __iter__(self) -> Iterator[BookLevel]:
        return iter(self.levels)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _Levels):
            return self.levels == other.levels
        if isinstance(other, tuple | list):
            return self.levels == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.levels)


class JsonLevels(_Levels):
    """A level array still in the venue's JSON text, read as levels on first use.

    Parsers wrap the text of a delta's or snapshot's ``bids``/``asks`` in this;
    the book engine reads :attr:`text` directly (and validates it, all or
    nothing, before changing the book), and a consumer that iterates, indexes or
    compares the levels gets :class:`~connector.model.BookLevel` tuples built
    once. It equals any sequence of the same levels (``tuple``, ``list``).

    Raises (on first read of the levels):
        ValueError: the text is not valid levels (the book rejected it too).
    """

    __slots__ = ("_levels", "text")

    def __init__(self, text: JsonText) -> None:
        self.text = text
        self._levels: tuple[BookLevel, ...] | None = None

    @property
    def levels(self) -> tuple[BookLevel, ...]:
        """The levels as validated ``BookLevel`` tuples, in the venue's order."""
        levels = self._levels
        if levels is None:
            levels = self._levels = levels_from_raw(decode_json_levels(self.text))
        return levels

    def texts(self) -> list[tuple[str, str]]:
        """The ``(price, qty)`` text of each level, as the venue wrote it (not validated)."""
        return [(lv[0], lv[1]) for lv in decode_json_levels(self.text)]

    def __repr__(self) -> str:
        text = self.text
        raw = bytes(text).decode("utf-8", "replace") if not isinstance(text, str) else text
        return f"JsonLevels({raw if len(raw) <= 80 else raw[:77] + '...'})"


def scaled_level(level: BookLevel, unit: Decimal) -> BookLevel:
    """``level`` with its quantity in base units: the venue's quantity times ``unit``
    (the base units of one contract)."""
    return _new_level(BookLevel, (level[0], level[1] * unit))


class ScaledLevels(_Levels):
    """Levels whose venue quantity counts contracts, read in base units (``qty x unit``).

    Wraps a delta's levels (often :class:`JsonLevels`) for the book update that
    publishes them; the levels are scaled once, on first read.
    """

    __slots__ = ("_levels", "source", "unit")

    def __init__(self, source: Sequence[BookLevel], unit: Decimal) -> None:
        self.source = source
        self.unit = unit
        self._levels: tuple[BookLevel, ...] | None = None

    @property
    def levels(self) -> tuple[BookLevel, ...]:
        """The levels in base units, in the venue's order."""
        levels = self._levels
        if levels is None:
            unit = self.unit
            levels = self._levels = tuple([scaled_level(lv, unit) for lv in self.source])
        return levels

    def __repr__(self) -> str:
        return f"ScaledLevels({self.source!r}, unit={self.unit})"
