"""OKX v5 instruments: ``/api/v5/public/instruments`` to :class:`Instrument`.

Canonical symbols: ``SPOT`` ``BTC-USDT`` -> ``BTC-USDT-SPOT``; ``SWAP`` linear
``BTC-USDT-SWAP`` -> ``BTC-USDT-PERP`` (quote = settlement currency), inverse
``BTC-USD-SWAP`` -> ``BTC-USD-PERP``; ``FUTURES`` ``BTC-USD-220527`` ->
``BTC-USD-FUT-20220527`` (date from ``expTime``). Options are skipped.

Native ids stay in this module and the :class:`SymbolMap` it builds.

Fixture: ``cryptofeed/master/sample_data/OKX.0`` (SPOT, SWAP, FUTURES, OPTION
answers from 2022, when derivatives had empty ``baseCcy``/``quoteCcy``).
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

__all__ = ["INST_TYPES", "VENUE", "build_symbol_map", "inst_type", "market_of", "parse_instruments"]

log = structlog.get_logger(__name__)

VENUE = "okx"

INST_TYPES: dict[Market, str] = {
    Market.SPOT: "SPOT",
    Market.SWAP: "SWAP",
    Market.FUTURES: "FUTURES",
}
"""The ``instType`` of each market this library trades on OKX."""

_STATUS = {
    "live": InstrumentStatus.TRADING,
    "suspend": InstrumentStatus.HALTED,
    "preopen": InstrumentStatus.PRE_TRADING,
    "test": InstrumentStatus.PRE_TRADING,
    "expired": InstrumentStatus.DELISTED,
}


class _Item(msgspec.Struct):
    instId: str
    instType: str
    tickSz: str
    lotSz: str
    minSz: str
    state: str
    baseCcy: str = ""
    quoteCcy: str = ""
    settleCcy: str = ""
    ctVal: str = ""
    ctType: str = ""
    expTime: str = ""
    uly: str = ""
    instFamily: str = ""
    maxLmtSz: str = ""
    maxMktSz: str = ""
    instIdCode: int | None = None


class _Body(msgspec.Struct):
    code: str
    msg: str = ""
    data: list[_Item] = []


_body_decoder = msgspec.json.Decoder(_Body)


def inst_type(market: Market) -> str:
    """The OKX ``instType`` for a market.

    Raises:
        ValueError: OKX is not traded in that market by this library.
    """
    return market_code(VENUE, INST_TYPES, market)


def market_of(inst_id: str) -> Market:
    """The market of an OKX instrument id, from its shape alone.

    ``BTC-USDT`` is spot, ``BTC-USDT-SWAP`` a swap, ``BTC-USD-220527`` a future.

    Raises:
        ValueError: The id is none of those (an option, or not an OKX id).
    """
    parts = inst_id.split("-")
    if len(parts) == 2:
        return Market.SPOT
    if len(parts) == 3:
        if parts[2] == "SWAP":
            return Market.SWAP
        if parts[2].isdigit():
            return Market.FUTURES
    raise ValueError(f"okx instrument id {inst_id!r} is not spot, swap or futures")


def parse_instruments(market: Market, body: str | bytes) -> list[Instrument]:
    """Parse one ``/api/v5/public/instruments`` response body.

    Instruments this library cannot represent (options, names that are not
    canonical) are skipped and logged, not errors.

    Args:
        market: The market whose ``instType`` was requested.
        body: The raw response body.

    Raises:
        MalformedMessage: The body is not an instruments answer, or ``code`` is not 0.
    """
    inst_type(market)
    try:
        parsed = _body_decoder.decode(body)
    except msgspec.DecodeError as exc:
        raise MalformedMessage(f"okx instruments: {exc}", raw=body, venue=VENUE) from exc
    if parsed.code != "0":
        raise MalformedMessage(
            f"okx instruments: code {parsed.code} {parsed.msg}", raw=body, venue=VENUE
        )
    out: list[Instrument] = []
    for item in parsed.data:
        try:
            instrument = _instrument(market, item)
        except (InvalidSymbol, InvalidOperation, ValueError) as exc:
            log.info("okx.instrument.skipped", native_id=item.instId, reason=str(exc))
            continue
        out.append(instrument)
    return out


def build_symbol_map(instruments: Iterable[Instrument]) -> SymbolMap:
    """A :class:`SymbolMap` for OKX holding ``instruments`` (all markets at once).

    Raises:
        SymbolCollision: two instruments of one market share a canonical symbol.
    """
    symbols = SymbolMap(VENUE)
    symbols.extend(instruments)
    return symbols


def _instrument(market: Market, item: _Item) -> Instrument:
    if item.instType != INST_TYPES[market]:
        raise ValueError(f"instType {item.instType!r} is not {INST_TYPES[market]}")
    contract_size = Decimal(1)
    if market is Market.SPOT:
        symbol = Symbol(item.baseCcy, item.quoteCcy, SymbolKind.SPOT)
    else:
        family = item.instFamily or item.uly
        base, _, index_quote = family.partition("-")
        if item.ctType == "linear":
            quote = item.settleCcy
        elif item.ctType == "inverse":
            quote = index_quote
        else:
            raise ValueError(f"contract type {item.ctType!r}")
        if market is Market.SWAP:
            symbol = Symbol(base, quote, SymbolKind.PERP)
        else:
            expiry = dt.datetime.fromtimestamp(int(item.expTime) / 1000, tz=dt.UTC).date()
            symbol = Symbol(base, quote, SymbolKind.FUT, expiry)
        contract_size = _positive(item.ctVal, "ctVal")
    return Instrument(
        venue=VENUE,
        symbol=symbol,
        native_id=item.instId,
        market=market,
        tick_size=_positive(item.tickSz, "tickSz"),
        lot_step=_positive(item.lotSz, "lotSz"),
        min_qty=_positive(item.minSz, "minSz"),
        max_qty=_positive(item.maxLmtSz, "maxLmtSz") if item.maxLmtSz else None,
        # A spot maxMktSz counts USDT, not base units: the venue checks that one.
        max_market_qty=_positive(item.maxMktSz, "maxMktSz")
        if item.maxMktSz and market is not Market.SPOT
        else None,
        contract_size=contract_size,
        status=_STATUS.get(item.state, InstrumentStatus.HALTED),
        inverse=item.ctType == "inverse",
        venue_code=item.instIdCode,
    )


def _positive(text: str, name: str) -> Decimal:
    value = Decimal(text)
    if not value.is_finite() or value <= 0:
        raise ValueError(f"{name} {text!r} must be a positive number")
    return value
