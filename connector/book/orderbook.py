"""A client-side L2 order book: exact prices, the venue's text, Decimal on read.

Pure logic (sans-I/O): no trio, no clock. One :class:`OrderBook` per venue symbol,
owned by a :class:`~connector.book.keeper.BookKeeper`.

The levels live in an engine (``connector/book/pybook.py`` describes the
interface): the compiled ``connector.book._native.NativeBook`` when the package
was built with a C compiler, else the pure-Python :class:`~connector.book.pybook.PyBook`
(``CONNECTOR_BOOK_ENGINE=python`` chooses it; :data:`ENGINE` says which one is in
use). Both keep each level as the venue's price and quantity text, ordered by
its exact value, and read venue JSON level arrays directly
(:class:`~connector.model.levels.JsonLevels`), so a delta of 67 levels costs no
Python object per level. Prices become ``Decimal`` only in what a caller reads
(:meth:`OrderBook.best_bid`, :meth:`OrderBook.bids`, ...), through the interning
caches of :mod:`connector.model.levels`. A value the compiled engine cannot hold
exactly (more than 18 decimal places, 10^20 or more, text over 23 characters;
no venue sends such numbers) moves that book to the Python engine, which holds
any decimal.

Quantities read are in base units. A venue whose book counts contracts (OKX
swaps: ``ctVal`` base each) gets a book with ``unit`` = the contract's size: the
engine keeps the venue's text (what OKX's checksum covers, :meth:`OrderBook.bid_texts`)
and every quantity read is that text's value times ``unit``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Final, Literal

from connector.book.pybook import BookEngine, PyBook, TextLevel
from connector.errors import ConfigError
from connector.model import BookLevel
from connector.model.levels import JsonLevels, level_of, scaled_level

__all__ = ["ENGINE", "OrderBook"]

_native: type[BookEngine] | None
try:
    from connector.book._native import NativeBook as _native
    from connector.book._native import PrecisionError
except ImportError:  # built without a C compiler
    _native = None
    PrecisionError = ArithmeticError  # type: ignore[assignment,misc]


def _chosen_engine() -> Literal["native", "python"]:
    """``CONNECTOR_BOOK_ENGINE`` (``native``, the default, or ``python``) and what was built."""
    wanted = os.environ.get("CONNECTOR_BOOK_ENGINE", "native").strip().lower() or "native"
    if wanted not in ("native", "python"):
        raise ConfigError(
            f"CONNECTOR_BOOK_ENGINE={wanted!r}: expected 'native' or 'python' (or unset)"
        )
    return "native" if wanted == "native" and _native is not None else "python"


ENGINE: Final[Literal["native", "python"]] = _chosen_engine()
"""The book engine in use: ``"native"`` (compiled; ``"python"`` when it was not built)
or ``"python"`` (``CONNECTOR_BOOK_ENGINE=python``)."""


def _new_engine(depth_limit: int | None, engine: str) -> BookEngine:
    if engine == "native" and _native is not None:
        return _native(depth_limit)
    return PyBook(depth_limit)


def _scaled_reader(unit: Decimal) -> Callable[[Sequence[str]], BookLevel]:
    """A level reader that gives the quantity in base units (``qty x unit``)."""

    def read(texts: Sequence[str]) -> BookLevel:
        return scaled_level(level_of(texts), unit)

    return read


def _texts(levels: Iterable[BookLevel]) -> list[TextLevel] | list[list[str]]:
    """Levels as ``(price, qty)`` text for an engine (a JSON array's own text when there is one)."""
    if type(levels) is JsonLevels:
        return levels.texts()
    return [(format(price, "f"), format(qty, "f")) for price, qty in levels]


class OrderBook:
    """An L2 book: exact levels, best-first views, ``Decimal`` values on read.

    Identity equality (no ``__eq__``): compare ``bids()`` and ``asks()`` lists.

    Args:
        depth_limit: Keep at most this many levels per side, dropping the far ones
            after every snapshot and change. Only right for venues whose stream is a
            window of fixed depth (Bybit ``orderbook.200``, OKX ``books``) where
            levels can leave the window without an explicit delete. ``None`` (the
            default, and right for Binance diff streams, which cover every price)
            keeps everything the venue sends.
        engine: ``"native"`` or ``"python"``; default :data:`ENGINE`.
        unit: Base units per unit of the venue's quantity (an OKX swap's
            ``ctVal``); ``None`` or 1 when the venue counts base units. Levels
            given to the book are in the venue's units; levels read from it are
            in base units.
    """

    __slots__ = (
        "_ask",
        "_ask_texts",
        "_bid",
        "_bid_texts",
        "_engine",
        "_level",
        "depth_limit",
        "unit",
    )

    def __init__(
        self,
        depth_limit: int | None = None,
        *,
        engine: str = ENGINE,
        unit: Decimal | None = None,
    ) -> None:
        if depth_limit is not None and depth_limit < 1:
            raise ValueError(f"depth_limit must be positive or None, got {depth_limit}")
        if engine not in ("native", "python"):
            raise ValueError(f"engine must be 'native' or 'python', got {engine!r}")
        if unit is not None and not (unit.is_finite() and unit > 0):
            raise ValueError(f"unit must be a positive number or None, got {unit}")
        self.depth_limit = depth_limit
        self.unit = None if unit is None or unit == 1 else unit
        """Base units per unit of the venue's quantity; ``None`` when they are the same."""
        self._level: Callable[[Sequence[str]], BookLevel] = (
            level_of if self.unit is None else _scaled_reader(self.unit)
        )
        self._engine = _new_engine(depth_limit, engine)
        # What top() answered last: the engine's texts and the levels made of them.
        self._bid_texts: TextLevel | None = None
        self._bid: BookLevel | None = None
        self._ask_texts: TextLevel | None = None
        self._ask: BookLevel | None = None

    @property
    def engine(self) -> str:
        """The engine holding this book's levels: ``"native"`` or ``"python"``."""
        return "python" if type(self._engine) is PyBook else "native"

    # -- changes -------------------------------------------------------------

    def load_snapshot(self, bids: Sequence[BookLevel], asks: Sequence[BookLevel]) -> None:
        """Replace the whole book; zero-qty levels in a snapshot are ignored.

        Raises:
            ValueError: a level is not valid (see :mod:`connector.model.levels`);
                the book is unchanged.
        """
        if type(bids) is JsonLevels and type(asks) is JsonLevels:
            self._put("load_json", bids.text, asks.text)
        else:
            self._put("load_pairs", _texts(bids), _texts(asks))

    def apply(self, bids: Sequence[BookLevel], asks: Sequence[BookLevel]) -> None:
        """Apply changed levels: qty 0 removes a level (absent: no-op), else sets it.

        Raises:
            ValueError: a level is not valid; the book is unchanged.
        """
        if type(bids) is JsonLevels and type(asks) is JsonLevels:
            # The hot path: the venue's JSON text straight into the engine.
            try:
                self._engine.apply_json(bids.text, asks.text)
            except PrecisionError:
                self._to_python()
                self._engine.apply_json(bids.text, asks.text)
        else:
            self._put("apply_pairs", _texts(bids), _texts(asks))

    def apply_checked(self, bids: Sequence[BookLevel], asks: Sequence[BookLevel]) -> bool:
        """:meth:`apply`, then :meth:`is_crossed`: whether the changed book is crossed.

        Raises:
            ValueError: a level is not valid; the book is unchanged.
        """
        if type(bids) is JsonLevels and type(asks) is JsonLevels:
            try:
                return self._engine.apply_json_crossed(bids.text, asks.text)
            except PrecisionError:
                self._to_python()
                return self._engine.apply_json_crossed(bids.text, asks.text)
        self._put("apply_pairs", _texts(bids), _texts(asks))
        return self._engine.crossed()

    def apply_raw(self, bids: Sequence[Sequence[str]], asks: Sequence[Sequence[str]]) -> None:
        """Apply changed levels given as the venue's ``(price, qty)`` strings.

        Raises:
            ValueError: a level is not valid; the book is unchanged.
        """
        self._put("apply_pairs", bids, asks)

    def load_snapshot_raw(
        self, bids: Sequence[Sequence[str]], asks: Sequence[Sequence[str]]
    ) -> None:
        """Replace the book from the venue's ``(price, qty)`` strings.

        Raises:
            ValueError: a level is not valid; the book is unchanged.
        """
        self._put("load_pairs", bids, asks)

    def clear(self) -> None:
        """Remove every level."""
        self._engine.clear()

    def _put(self, change: str, bids: object, asks: object) -> None:
        """``engine.<change>(bids, asks)``; a value the compiled engine cannot hold
        moves the book to the Python engine first, which then takes the change."""
        try:
            getattr(self._engine, change)(bids, asks)
        except PrecisionError:
            self._to_python()
            getattr(self._engine, change)(bids, asks)

    def _to_python(self) -> None:
        """Move the levels to the Python engine (it holds any decimal exactly)."""
        engine = PyBook(self.depth_limit)
        old = self._engine
        engine.load_pairs(old.levels(True), old.levels(False))
        self._engine = engine

    # -- queries -------------------------------------------------------------

    def best_bid(self) -> BookLevel | None:
        """The highest bid, or ``None`` when there are no bids."""
        texts = self._engine.best(True)
        return None if texts is None else self._level(texts)

    def best_ask(self) -> BookLevel | None:
        """The lowest ask, or ``None`` when there are no asks."""
        texts = self._engine.best(False)
        return None if texts is None else self._level(texts)

    def bids(self, n: int | None = None) -> list[BookLevel]:
        """The best ``n`` bids (all when ``None``), highest price first."""
        read = self._level
        return [read(t) for t in self._engine.levels(True, -1 if n is None else n)]

    def asks(self, n: int | None = None) -> list[BookLevel]:
        """The best ``n`` asks (all when ``None``), lowest price first."""
        read = self._level
        return [read(t) for t in self._engine.levels(False, -1 if n is None else n)]

    def bid_texts(self, n: int | None = None) -> list[TextLevel]:
        """The best ``n`` bids as the venue's ``(price, qty)`` text, in the venue's
        units (OKX checksums it)."""
        return self._engine.levels(True, -1 if n is None else n)

    def ask_texts(self, n: int | None = None) -> list[TextLevel]:
        """The best ``n`` asks as the venue's ``(price, qty)`` text."""
        return self._engine.levels(False, -1 if n is None else n)

    def bid_qty(self, price: Decimal) -> Decimal | None:
        """The quantity bid at ``price``, or ``None`` when there is no such level."""
        return self._qty(self._engine.qty(True, format(price, "f")))

    def ask_qty(self, price: Decimal) -> Decimal | None:
        """The quantity offered at ``price``, or ``None`` when there is no such level."""
        return self._qty(self._engine.qty(False, format(price, "f")))

    def _qty(self, text: str | None) -> Decimal | None:
        if text is None:
            return None
        return Decimal(text) if self.unit is None else Decimal(text) * self.unit

    def top(self) -> tuple[BookLevel | None, BookLevel | None, bool]:
        """Best bid, best ask and whether the book is crossed, in one engine call.

        Returns:
            ``(best bid, best ask, crossed)``: each best ``None`` when its side is
            empty; crossed is :meth:`is_crossed`.
        """
        bid_texts, ask_texts, crossed = self._engine.top()
        # Engines answer the same text tuple again while a top level is unchanged
        # (the common case): its levels are made once.
        if bid_texts is not self._bid_texts:
            self._bid_texts = bid_texts
            self._bid = None if bid_texts is None else self._level(bid_texts)
        if ask_texts is not self._ask_texts:
            self._ask_texts = ask_texts
            self._ask = None if ask_texts is None else self._level(ask_texts)
        return self._bid, self._ask, crossed

    def is_crossed(self) -> bool:
        """True when best bid >= best ask (an impossible, invalid book)."""
        return self._engine.crossed()

    @property
    def bid_count(self) -> int:
        """Number of bid levels."""
        return self._engine.count(True)

    @property
    def ask_count(self) -> int:
        """Number of ask levels."""
        return self._engine.count(False)

    def __repr__(self) -> str:
        return (
            f"<OrderBook bids={self.bid_count} asks={self.ask_count} "
            f"best_bid={self.best_bid()} best_ask={self.best_ask()}>"
        )
