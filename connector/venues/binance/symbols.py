"""Binance exchangeInfo into instruments and the canonical symbol map (sans-I/O).

Canonical names: spot ``BTCUSDT`` -> ``BTC-USDT-SPOT`` (from ``baseAsset`` and
``quoteAsset``); USDⓈ-M ``contractType`` ``PERPETUAL`` -> ``BTC-USDT-PERP``;
``CURRENT_QUARTER``, ``NEXT_QUARTER``, ``CURRENT_MONTH``, ``NEXT_MONTH`` ->
``BTC-USDT-FUT-YYYYMMDD`` from ``deliveryDate`` (UTC). Venue-native ids never
leave this module except as :attr:`Instrument.native_id`.

Filters: ``PRICE_FILTER.tickSize``; ``LOT_SIZE.stepSize``/``minQty``/``maxQty``;
``MARKET_LOT_SIZE.maxQty`` (a market order's maximum, when not zero);
minimum notional from ``MIN_NOTIONAL`` (spot ``minNotional``, futures
``notional``) or ``NOTIONAL`` (``minNotional``); on USDⓈ-M a reduce-only order
is spared it (error -4164 "Order's notional must be no smaller than %s (unless
you choose reduce only)", USDⓈ-M error-code page, checked 2026-12-06), spot
has no reduce-only orders. Entries that cannot become a
valid instrument (no contract type, a zero tick, odd asset names, unknown status)
are skipped, each with a one-line reason, never a crash.

Shown by ``cryptofeed/master/sample_data/BINANCE.0`` (spot, 2021: ``MIN_NOTIONAL``),
``BINANCE_FUTURES.0`` (USDⓈ-M, 2021) and
``gocryptotrader/exchanges/binance/testdata/http.json`` (spot with ``NOTIONAL``).
"""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal, InvalidOperation

import attrs
import msgspec

from connector.errors import ConfigError, MalformedMessage
from connector.model import Instrument, InstrumentStatus, Market, Symbol, SymbolKind
from connector.venues.common import SymbolMap

__all__ = [
    "ParsedInstruments",
    "build_symbol_map",
    "parse_exchange_info",
    "parse_exchange_info_report",
]

_VENUE = "binance"

_STATUS = {
    "TRADING": InstrumentStatus.TRADING,
    "PRE_TRADING": InstrumentStatus.PRE_TRADING,
    "PENDING_TRADING": InstrumentStatus.PRE_TRADING,
    "BREAK": InstrumentStatus.HALTED,
    # Orders can only be canceled (spot, since 2026-07: changelog 2026-07-01, "CANCEL_ONLY").
    "CANCEL_ONLY": InstrumentStatus.HALTED,
    "HALT": InstrumentStatus.HALTED,
    "AUCTION_MATCH": InstrumentStatus.HALTED,
    "POST_TRADING": InstrumentStatus.HALTED,
    "END_OF_DAY": InstrumentStatus.HALTED,
    "PRE_DELIVERING": InstrumentStatus.HALTED,
    "DELIVERING": InstrumentStatus.DELISTED,
    "DELIVERED": InstrumentStatus.DELISTED,
    "PRE_SETTLE": InstrumentStatus.HALTED,
    "SETTLING": InstrumentStatus.DELISTED,
    "CLOSE": InstrumentStatus.DELISTED,
}

_DATED = frozenset({"CURRENT_QUARTER", "NEXT_QUARTER", "CURRENT_MONTH", "NEXT_MONTH"})


class _Filter(msgspec.Struct, kw_only=True):
    filterType: str
    tickSize: str | None = None
    minPrice: str | None = None
    maxPrice: str | None = None
    stepSize: str | None = None
    minQty: str | None = None
    maxQty: str | None = None
    minNotional: str | None = None
    notional: str | None = None


class _Symbol(msgspec.Struct, kw_only=True):
    symbol: str
    status: str
    baseAsset: str
    quoteAsset: str
    filters: list[_Filter] = []
    contractType: str | None = None
    deliveryDate: int | None = None


class _ExchangeInfo(msgspec.Struct):
    symbols: list[_Symbol]


_decoder = msgspec.json.Decoder(_ExchangeInfo)


@attrs.frozen(kw_only=True)
class ParsedInstruments:
    """exchangeInfo as instruments, with a reason for every entry left out."""

    instruments: tuple[Instrument, ...]
    skipped: tuple[str, ...]


def parse_exchange_info_report(market: Market, body: bytes | str) -> ParsedInstruments:
    """Parse a spot (``Market.SPOT``) or USDⓈ-M (``Market.LINEAR``) exchangeInfo body.

    Raises:
        ConfigError: ``market`` is neither spot nor linear.
        MalformedMessage: the body is not an exchangeInfo document at all (a single
            odd entry is skipped instead, with its reason).
    """
    if market not in (Market.SPOT, Market.LINEAR):
        raise ConfigError(f"binance has no {market.value} market (spot and linear only)")
    try:
        info = _decoder.decode(body)
    except (msgspec.DecodeError, ValueError) as exc:
        raise MalformedMessage(
            f"malformed binance exchangeInfo: {exc}", raw=body, venue=_VENUE
        ) from exc
    instruments: list[Instrument] = []
    skipped: list[str] = []
    for entry in info.symbols:
        try:
            instruments.append(_instrument(market, entry))
        except ValueError as skip:  # the entry cannot become an instrument: say why
            skipped.append(f"{entry.symbol}: {skip}")
    return ParsedInstruments(instruments=tuple(instruments), skipped=tuple(skipped))


def parse_exchange_info(market: Market, body: bytes | str) -> list[Instrument]:
    """The instruments of an exchangeInfo body (see :func:`parse_exchange_info_report`)."""
    return list(parse_exchange_info_report(market, body).instruments)


def build_symbol_map(instruments: list[Instrument], symbols: SymbolMap | None = None) -> SymbolMap:
    """Add ``instruments`` to ``symbols`` (a new map when ``None``) and return it.

    Raises:
        SymbolCollision: two native ids would share a canonical symbol in one market.
    """
    mapping = symbols if symbols is not None else SymbolMap(_VENUE)
    mapping.extend(instruments)
    return mapping


def _instrument(market: Market, entry: _Symbol) -> Instrument:
    """The instrument of one exchangeInfo entry.

    Raises:
        ValueError: The entry cannot become an instrument; the message says why
            (an :class:`~connector.errors.InvalidSymbol` for odd asset names).
    """
    status = _STATUS.get(entry.status)
    if status is None:
        raise ValueError(f"unknown status {entry.status!r}")
    if market is Market.SPOT:
        kind, expiry = SymbolKind.SPOT, None
    else:
        contract = entry.contractType or ""
        if contract == "PERPETUAL":
            kind, expiry = SymbolKind.PERP, None
        elif contract in _DATED:
            if not entry.deliveryDate:
                raise ValueError(f"{contract} contract without a deliveryDate")
            kind = SymbolKind.FUT
            expiry = _dt.datetime.fromtimestamp(entry.deliveryDate / 1000, tz=_dt.UTC).date()
        else:
            raise ValueError(f"unsupported contractType {contract!r}")
    symbol = Symbol(entry.baseAsset, entry.quoteAsset, kind, expiry)
    filters = {f.filterType: f for f in entry.filters}
    price = filters.get("PRICE_FILTER")
    lot = filters.get("LOT_SIZE")
    if price is None or lot is None:
        raise ValueError("no PRICE_FILTER or LOT_SIZE filter")
    tick = _positive(price.tickSize, "tickSize")
    step = _positive(lot.stepSize, "stepSize")
    min_qty = _non_negative(lot.minQty, "minQty")
    max_qty = _non_negative(lot.maxQty, "maxQty") if lot.maxQty is not None else None
    market_lot = filters.get("MARKET_LOT_SIZE")
    max_market_qty = (
        _non_negative(market_lot.maxQty, "MARKET_LOT_SIZE maxQty")
        if market_lot is not None and market_lot.maxQty is not None
        else None
    )
    min_notional = Decimal(0)
    notional = filters.get("MIN_NOTIONAL") or filters.get("NOTIONAL")
    if notional is not None:
        text = notional.minNotional if notional.minNotional is not None else notional.notional
        if text is not None:
            min_notional = _non_negative(text, "minNotional")
    return Instrument(
        venue=_VENUE,
        symbol=symbol,
        native_id=entry.symbol,
        market=market,
        tick_size=tick,
        lot_step=step,
        min_qty=min_qty,
        min_notional=min_notional,
        reduce_only_exempt_from_min_notional=market is Market.LINEAR,
        max_qty=max_qty if max_qty else None,
        max_market_qty=max_market_qty if max_market_qty else None,
        min_price=_bound(price.minPrice, "minPrice"),
        max_price=_bound(price.maxPrice, "maxPrice"),
        status=status,
    )


def _bound(text: str | None, name: str) -> Decimal | None:
    """A ``PRICE_FILTER`` bound; ``None`` when absent or 0 ("disabled on minPrice == 0")."""
    return None if text is None else _non_negative(text, name) or None


def _decimal(text: str | None, name: str) -> Decimal:
    if text is None:
        raise ValueError(f"missing {name}")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{name} {text!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"{name} {text!r} is not finite")
    return value


def _positive(text: str | None, name: str) -> Decimal:
    value = _decimal(text, name)
    if value <= 0:
        raise ValueError(f"{name} {text!r} is not positive")
    return value


def _non_negative(text: str | None, name: str) -> Decimal:
    value = _decimal(text, name)
    if value < 0:
        raise ValueError(f"{name} {text!r} is negative")
    return value
