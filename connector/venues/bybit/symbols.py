"""Bybit v5 instruments: ``/v5/market/instruments-info`` to :class:`Instrument`.

Native ids (``BTCUSDT``, ``BTCPERP``, ``BTCUSDT-14AUG26``) stay in this module and
the :class:`~connector.venues.common.SymbolMap` it builds; the rest of the library
sees canonical symbols (``BTC-USDT-SPOT``, ``BTC-USDC-PERP``, ``BTC-USDT-FUT-20260814``).

Fixture: ``cryptofeed/v3/sample_data/BYBIT-dev.jsonl.zst`` (the two ``http`` records).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

import msgspec
import structlog

from connector.errors import InvalidSymbol, MalformedMessage
from connector.model import Instrument, InstrumentStatus, Market, Symbol, SymbolKind
from connector.venues.common import SymbolMap, market_code

__all__ = [
    "CATEGORIES",
    "VENUE",
    "build_symbol_map",
    "category",
    "next_page_cursor",
    "parse_instruments",
]

log = structlog.get_logger(__name__)

VENUE = "bybit"

CATEGORIES: dict[Market, str] = {Market.SPOT: "spot", Market.LINEAR: "linear"}
"""The ``category`` query value of each market this library trades on Bybit."""

_STATUS = {
    "Trading": InstrumentStatus.TRADING,
    "PreLaunch": InstrumentStatus.PRE_TRADING,
    "Delivering": InstrumentStatus.HALTED,
    "Closed": InstrumentStatus.DELISTED,
}


#: Bybit spot: "for post-only and RPI orders, the maximum limit order quantity is 5x
#: ``maxLimitOrderQty``" (Get Instruments Info).
_POST_ONLY_FACTOR = 5


class _PriceFilter(msgspec.Struct):
    tickSize: str
    minPrice: str = ""
    maxPrice: str = ""


class _LotSizeFilter(msgspec.Struct):
    minOrderQty: str = ""
    maxOrderQty: str = ""
    maxLimitOrderQty: str = ""
    maxMarketOrderQty: str = ""
    maxMktOrderQty: str = ""
    basePrecision: str = ""
    qtyStep: str = ""
    minOrderAmt: str = ""
    minNotionalValue: str = ""


class _Item(msgspec.Struct):
    symbol: str
    baseCoin: str
    quoteCoin: str
    status: str
    priceFilter: _PriceFilter
    lotSizeFilter: _LotSizeFilter
    contractType: str = ""
    deliveryTime: str = "0"
    settleCoin: str = ""


class _Result(msgspec.Struct):
    items: list[_Item] = msgspec.field(name="list")
    category: str = ""
    nextPageCursor: str | None = None


class _Body(msgspec.Struct):
    retCode: int
    retMsg: str = ""
    result: _Result | None = None


_body_decoder = msgspec.json.Decoder(_Body)


def category(market: Market) -> str:
    """The Bybit ``category`` for a market (``spot`` or ``linear``).

    Raises:
        ValueError: Bybit is not traded in that market by this library.
    """
    return market_code(VENUE, CATEGORIES, market)


def parse_instruments(market: Market, body: str | bytes) -> list[Instrument]:
    """Parse one ``/v5/market/instruments-info`` response body.

    Instruments this library cannot represent (options, inverse contracts, assets
    whose names are not canonical) are skipped and logged, not errors.

    Args:
        market: ``Market.SPOT`` or ``Market.LINEAR``: the ``category`` requested.
        body: The raw response body.

    Returns:
        The instruments, in the venue's order.

    Raises:
        MalformedMessage: The body is not an instruments-info answer, or the venue
            answered with a non-zero ``retCode``.
    """
    category(market)
    try:
        parsed = _body_decoder.decode(body)
    except msgspec.DecodeError as exc:
        raise MalformedMessage(f"bybit instruments-info: {exc}", raw=body, venue=VENUE) from exc
    if parsed.retCode != 0 or parsed.result is None:
        raise MalformedMessage(
            f"bybit instruments-info: retCode {parsed.retCode} {parsed.retMsg}",
            raw=body,
            venue=VENUE,
        )
    out: list[Instrument] = []
    for item in parsed.result.items:
        try:
            instrument = _instrument(market, item)
        except (InvalidSymbol, InvalidOperation, ValueError) as exc:
            log.info("bybit.instrument.skipped", native_id=item.symbol, reason=str(exc))
            continue
        if instrument is not None:
            out.append(instrument)
    return out


class _PageResult(msgspec.Struct):
    nextPageCursor: str | None = None


class _Page(msgspec.Struct):
    retCode: int = -1
    result: _PageResult | None = None


_page_decoder = msgspec.json.Decoder(_Page)


def next_page_cursor(body: str | bytes) -> str | None:
    """``result.nextPageCursor`` of an instruments-info answer (``None`` when empty,
    absent, or the body is not a successful answer)."""
    try:
        page = _page_decoder.decode(body)
    except msgspec.DecodeError:
        return None
    if page.retCode != 0 or page.result is None:
        return None
    return page.result.nextPageCursor or None


def build_symbol_map(instruments: Iterable[Instrument]) -> SymbolMap:
    """A :class:`SymbolMap` for Bybit holding ``instruments`` (all markets at once).

    Raises:
        SymbolCollision: two instruments of one market share a canonical symbol.
    """
    symbols = SymbolMap(VENUE)
    symbols.extend(instruments)
    return symbols


def _instrument(market: Market, item: _Item) -> Instrument | None:
    lot = item.lotSizeFilter
    if market is Market.SPOT:
        # Spot's minOrderQty and maxOrderQty are deprecated: the venue checks the
        # order value against minOrderAmt instead, and a limit order's size against
        # maxLimitOrderQty (a post-only one's against five times as much), a market
        # order's against maxMarketOrderQty. The post-only maximum is read from that
        # rule, not from postOnlyMaxLimitOrderSize, whose unit the docs leave open
        # (their example lists 60000 beside a maxLimitOrderQty of 83 BTC).
        symbol = Symbol(item.baseCoin, item.quoteCoin, SymbolKind.SPOT)
        step = lot.basePrecision or lot.qtyStep
        notional = lot.minOrderAmt
        min_qty = "0"
        max_qty = lot.maxLimitOrderQty or lot.maxOrderQty
        max_market_qty = lot.maxMarketOrderQty
        post_only_larger = bool(lot.maxLimitOrderQty)
    else:
        if item.contractType == "LinearPerpetual":
            symbol = Symbol(item.baseCoin, item.quoteCoin, SymbolKind.PERP)
        elif item.contractType == "LinearFutures":
            expiry = dt.datetime.fromtimestamp(int(item.deliveryTime) / 1000, tz=dt.UTC).date()
            symbol = Symbol(item.baseCoin, item.quoteCoin, SymbolKind.FUT, expiry)
        else:
            log.info(
                "bybit.instrument.skipped",
                native_id=item.symbol,
                reason=f"contract type {item.contractType!r}",
            )
            return None
        step = lot.qtyStep
        notional = lot.minNotionalValue
        min_qty = lot.minOrderQty
        max_qty = lot.maxOrderQty
        max_market_qty = lot.maxMktOrderQty
        post_only_larger = False  # postOnlyMaxOrderQty is deprecated: maxOrderQty covers them
    limit_max = _decimal(max_qty, "max order qty") if max_qty else None
    prices = item.priceFilter
    return Instrument(
        venue=VENUE,
        symbol=symbol,
        native_id=item.symbol,
        market=market,
        tick_size=_positive(prices.tickSize, "tickSize"),
        lot_step=_positive(step, "qty step"),
        min_qty=_decimal(min_qty, "minOrderQty"),
        min_notional=_decimal(notional or "0", "min notional"),
        # "Closing orders are exempt from notional value but still adhere to minimum
        # size" (help center, Derivatives Trading Rules; docs/venues/bybit.md).
        reduce_only_exempt_from_min_notional=market is Market.LINEAR,
        max_qty=limit_max,
        max_market_qty=_decimal(max_market_qty, "max market order qty") if max_market_qty else None,
        max_post_only_qty=limit_max * _POST_ONLY_FACTOR
        if post_only_larger and limit_max is not None
        else None,
        min_price=_bound(prices.minPrice, "minPrice"),
        max_price=_bound(prices.maxPrice, "maxPrice"),
        status=_STATUS.get(item.status, InstrumentStatus.HALTED),
    )


def _bound(text: str, name: str) -> Decimal | None:
    """A ``priceFilter`` bound; ``None`` where the market has none (spot) or it is 0."""
    return _decimal(text, name) or None if text else None


def _decimal(text: str, name: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{name} {text!r} is not a number") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"{name} {text!r} is not a non-negative number")
    return value


def _positive(text: str, name: str) -> Decimal:
    value = _decimal(text, name)
    if not value:
        raise ValueError(f"{name} {text!r} must be positive")
    return value
