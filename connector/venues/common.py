"""What every venue's sans-I/O code shares: control messages, the symbol map, helpers.

The sequencing decisions (``Apply``, ``Drop``...) live in
:mod:`connector.book.sequencing`. The helpers at the end read venue numbers and
market codes the same way for every venue.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import Decimal

import attrs
from msgspec import UNSET, UnsetType

from connector.errors import ConfigError, SymbolCollision, UnknownInstrument
from connector.model import (
    BookDelta,
    BookSnapshot,
    Instrument,
    Market,
    Quote,
    Symbol,
    SymbolKind,
    Ticker,
    Trade,
)

__all__ = [
    "ControlMessage",
    "MarketEvent",
    "SymbolMap",
    "guess_split_instrument",
    "market_code",
    "optional_decimal",
    "parse_decimal",
    "placeholder_instrument",
]


@attrs.frozen(kw_only=True)
class ControlMessage:
    """A non-data websocket message: subscribe ack, pong, error, login reply.

    Attributes:
        kind: ``subscribed``, ``unsubscribed``, ``pong``, ``error``, ``info``, ``login``.
        ok: False when the venue reports a failure.
        detail: The venue's text (error code and message, topic list...).
        request_id: The id the request carried, when the venue echoes it.
    """

    kind: str
    ok: bool = True
    detail: str = ""
    request_id: str | None = None


MarketEvent = BookSnapshot | BookDelta | Trade | Ticker | Quote | ControlMessage
"""What one decoded public frame may hold."""


@attrs.define
class SymbolMap:
    """Canonical symbol <-> venue-native id, per market, for one venue.

    Raises :class:`~connector.errors.SymbolCollision` when two instruments of one
    market would share a canonical symbol or a native id: a silent overwrite would
    route orders and books to the wrong instrument.
    """

    venue: str
    resolver: Callable[[Market, str], Instrument | None] | None = None
    """Replay only: builds an instrument for a native id no instrument list named."""
    _by_symbol: dict[tuple[Market, Symbol], Instrument] = attrs.field(factory=dict)
    _by_native: dict[tuple[Market, str], Instrument] = attrs.field(factory=dict)

    def add(self, instrument: Instrument) -> None:
        key = (instrument.market, instrument.symbol)
        native = (instrument.market, instrument.native_id)
        old = self._by_symbol.get(key)
        if old is not None and old.native_id != instrument.native_id:
            raise SymbolCollision(
                f"{self.venue} {instrument.market.value}: {instrument.symbol} is both "
                f"{old.native_id!r} and {instrument.native_id!r}",
                venue=self.venue,
            )
        old = self._by_native.get(native)
        if old is not None and old.symbol != instrument.symbol:
            raise SymbolCollision(
                f"{self.venue} {instrument.market.value}: {instrument.native_id!r} is both "
                f"{old.symbol} and {instrument.symbol}",
                venue=self.venue,
            )
        self._by_symbol[key] = instrument
        self._by_native[native] = instrument

    def extend(self, instruments: Iterable[Instrument]) -> None:
        for instrument in instruments:
            self.add(instrument)

    def by_symbol(self, market: Market, symbol: Symbol) -> Instrument:
        try:
            return self._by_symbol[(market, symbol)]
        except KeyError:
            raise UnknownInstrument(
                f"{self.venue} {market.value} has no instrument {symbol}"
            ) from None

    def get(self, market: Market, symbol: Symbol) -> Instrument | None:
        """The instrument of ``symbol`` in ``market``, or ``None`` if the venue lists none."""
        return self._by_symbol.get((market, symbol))

    def by_native(self, market: Market, native_id: str) -> Instrument:
        try:
            return self._by_native[(market, native_id)]
        except KeyError:
            if self.resolver is not None:
                found = self.resolver(market, native_id)
                if found is not None:
                    self.add(found)
                    return found
            raise UnknownInstrument(
                f"{self.venue} {market.value} has no instrument {native_id!r}"
            ) from None

    def find(self, symbol: Symbol) -> Instrument:
        """The instrument for a canonical symbol in whichever market lists it."""
        for (_, sym), instrument in self._by_symbol.items():
            if sym == symbol:
                return instrument
        raise UnknownInstrument(f"{self.venue} has no instrument {symbol}")

    def markets(self) -> set[Market]:
        """The markets some instrument was loaded for."""
        return {market for market, _ in self._by_symbol}

    def __len__(self) -> int:
        return len(self._by_symbol)

    def __iter__(self) -> Iterator[Instrument]:
        return iter(self._by_symbol.values())


_QUOTES = ("FDUSD", "USDT", "USDC", "BUSD", "TUSD", "USD", "BTC", "ETH", "BNB", "EUR", "TRY", "DAI")
_PLACEHOLDER_STEP = Decimal("1E-8")


def guess_split_instrument(
    venue: str, market: Market, native_id: str, kind: SymbolKind
) -> Instrument | None:
    """An instrument for a concatenated native id (``BTCUSDT``) by its quote suffix.

    For replaying captures that hold no instrument list: the filters are
    placeholders (see :func:`placeholder_instrument`).
    """
    for quote in _QUOTES:
        base = native_id[: -len(quote)]
        if native_id.endswith(quote) and base.isalnum() and base:
            try:
                symbol = Symbol(base.upper(), quote, kind)
            except ConfigError:
                return None
            return placeholder_instrument(venue, market, native_id, symbol)
    return None


def placeholder_instrument(
    venue: str, market: Market, native_id: str, symbol: Symbol
) -> Instrument:
    """An instrument whose filters are placeholders (``1E-8``): all a replayed book needs."""
    return Instrument(
        venue=venue,
        symbol=symbol,
        native_id=native_id,
        market=market,
        tick_size=_PLACEHOLDER_STEP,
        lot_step=_PLACEHOLDER_STEP,
        min_qty=_PLACEHOLDER_STEP,
    )


def market_code(venue: str, codes: Mapping[Market, str], market: Market) -> str:
    """The venue's code for ``market`` (Bybit ``category``, OKX ``instType``).

    Raises:
        ValueError: ``codes`` has no entry: the venue is not traded in that market here.
    """
    try:
        return codes[market]
    except KeyError:
        known = ", ".join(m.value for m in codes)
        raise ValueError(f"{venue} has no {market.value} market here ({known})") from None


def parse_decimal(text: str, *, positive: bool) -> Decimal:
    """A venue number (trade price, ticker field) as a finite, non-negative Decimal.

    Not interned, unlike :func:`connector.model.levels.decimal_price`: one-off
    numbers such as volumes would only churn the book's cache.

    Raises:
        ValueError: Infinite, NaN, negative, or zero when ``positive``.
        decimal.InvalidOperation: ``text`` is not a number.
    """
    value = Decimal(text)
    if not value.is_finite() or value < 0 or (positive and not value):
        raise ValueError(f"impossible number {text!r}")
    return value


def optional_decimal(text: str | UnsetType) -> Decimal | None:
    """Like :func:`parse_decimal` (zero allowed), but absent or empty text is ``None``."""
    if text is UNSET or text == "":
        return None
    return parse_decimal(text, positive=False)
