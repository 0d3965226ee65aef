"""The simulated venues' instruments, with the real venues' order filters.

The filters are facts taken from real instrument listings in the shared
fixtures (``../shared/fixtures``); each row names the file it came from in
:attr:`SimInstrument.source`, and ``tests/sim/test_engine.py`` checks the table
against those files. Where the newest capture lacks a symbol, an older capture
of the same venue supplies it, so filters within one venue may come from
different years (as they would on the real venue).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_DOWN, Decimal

import attrs

__all__ = [
    "SIMULATED_BASES",
    "VENUE_MARKETS",
    "PriceLimit",
    "SimInstrument",
    "default_instruments",
    "find_instrument",
]

#: The two markets each simulated venue offers, spot first.
VENUE_MARKETS: dict[str, tuple[str, str]] = {
    "binance": ("spot", "linear"),
    "bybit": ("spot", "linear"),
    "okx": ("spot", "swap"),
}

_START_PRICES: dict[str, Decimal] = {
    "BTC": Decimal("60000"),
    "ETH": Decimal("3000"),
    "SOL": Decimal("150"),
}

_OKX_SWAP_MARKET_MAX = Decimal(1600)

#: Binance ``MARKET_LOT_SIZE.maxQty`` by (market, base), copied verbatim from the
#: listing each instrument's other filters come from (``_FILTERS``' source): a market
#: order's maximum, far below ``LOT_SIZE.maxQty`` (spot BTC about 97 against 9,000).
_BINANCE_MARKET_MAX: dict[tuple[str, str], str] = {
    ("spot", "BTC"): "97.09521512",
    ("spot", "ETH"): "2357.34408702",
    ("spot", "SOL"): "52005.81284920",
    ("linear", "BTC"): "120",
    ("linear", "ETH"): "2000",
    ("linear", "SOL"): "20000",
}

#: Binance's price band by (market, base), (down, up) multipliers of the reference
#: price, from the same listings: spot ``PERCENT_PRICE_BY_SIDE`` (or the older
#: ``PERCENT_PRICE``), USDⓈ-M ``PERCENT_PRICE``.
_BINANCE_PRICE_BAND: dict[tuple[str, str], tuple[str, str]] = {
    ("spot", "BTC"): ("0.2", "5"),
    ("spot", "ETH"): ("0.2", "5"),
    ("spot", "SOL"): ("0.2", "5"),
    ("linear", "BTC"): ("0.9500", "1.0500"),
    ("linear", "ETH"): ("0.9500", "1.0500"),
    ("linear", "SOL"): ("0.8500", "1.1500"),
}

#: OKX's price limit, (lowest sell, highest buy) multipliers of the reference price:
#: the width of a real answer for BTC-USDT-SWAP (51006, "Maximum buy price: 26,899.6;
#: minimum sell price: 25,844.6": 2 % either side of their middle); OKX works the
#: limits out from the index and recent premiums, the simulator from its mark.
_OKX_PRICE_LIMIT = (Decimal("0.98"), Decimal("1.02"))


@attrs.frozen
class PriceLimit:
    """A venue's limit on a limit order's price, in multiples of the mark price.

    Attributes:
        down: The lowest price allowed, a sell's floor (both sides' with ``both_sides``).
        up: The highest price allowed, a buy's ceiling (both sides' with ``both_sides``).
        both_sides: Both ends hold for either side (Binance spot); otherwise only a
            buy's ceiling and a sell's floor (a far passive order rests).
        moves: A price beyond the limit is moved to it (Bybit linear) instead of
            refused.
    """

    down: Decimal
    up: Decimal
    both_sides: bool = False
    moves: bool = False


_GCT_BINANCE = "gocryptotrader/exchanges/binance/testdata/http.json"
_CF_BINANCE_SPOT = "cryptofeed/master/sample_data/BINANCE.0"
_CF_BINANCE_FUTURES = "cryptofeed/master/sample_data/BINANCE_FUTURES.0"
_CF_BYBIT = "cryptofeed/v3/sample_data/BYBIT-dev.jsonl.zst"
_CF_OKX = "cryptofeed/master/sample_data/OKX.0"
_NT_OKX_SWAP = "nautilus_trader/crates/adapters/okx/test_data/http_get_instruments_swap.json"


_BINANCE_MAX_PRICE = {"spot": Decimal(1000000), "linear": Decimal(4529764)}
"""``PRICE_FILTER.maxPrice`` of the simulated Binance markets (a real BTCUSDT's)."""


@attrs.frozen(kw_only=True)
class SimInstrument:
    """One instrument on one simulated venue.

    Attributes:
        venue: ``binance``, ``bybit`` or ``okx``.
        market: ``spot`` or ``linear`` (Binance, Bybit); ``spot`` or ``swap`` (OKX).
        native_id: The venue's id: ``BTCUSDT`` (Binance, Bybit), ``BTC-USDT``
            (OKX spot), ``BTC-USDT-SWAP`` (OKX swap).
        base: Base asset.
        quote: Quote asset.
        tick_size: Price increment.
        lot_step: Quantity increment (contracts on OKX swap).
        min_qty: Smallest order quantity.
        min_notional: Smallest ``price * qty * contract_size``; 0 where the venue has none.
        contract_size: Base units per contract (OKX swap ``ctVal``), else 1.
        start_price: Where the synthetic mid starts (on the tick grid).
        max_qty: Largest limit order quantity.
        source: The fixture file (under ``../shared/fixtures``) the filters come from.
    """

    venue: str
    market: str
    native_id: str
    base: str
    quote: str
    tick_size: Decimal
    lot_step: Decimal
    min_qty: Decimal
    min_notional: Decimal
    contract_size: Decimal
    start_price: Decimal
    max_qty: Decimal
    source: str = ""

    @property
    def max_market_qty(self) -> Decimal | None:
        """The largest market order (engine units) the venue's instrument list
        publishes: Binance ``MARKET_LOT_SIZE.maxQty`` (the listing's), Bybit
        linear ``maxMktOrderQty`` (a tenth of the limit maximum) and spot
        ``maxMarketOrderQty`` (half of it), OKX swap ``maxMktSz`` (1,600
        contracts); ``None`` for OKX spot, whose ``maxMktSz`` counts the quote
        asset."""
        if self.venue == "bybit":
            return (self.max_qty / (10 if self.market == "linear" else 2)).quantize(
                self.lot_step, rounding=ROUND_DOWN
            )
        if self.venue == "okx":
            return _OKX_SWAP_MARKET_MAX if self.market == "swap" else None
        return Decimal(_BINANCE_MARKET_MAX[(self.market, self.base)])

    @property
    def price_bounds(self) -> tuple[Decimal, Decimal] | None:
        """Binance's ``PRICE_FILTER`` (minPrice, maxPrice), which it publishes and
        enforces (spot -1013, USDⓈ-M -4013 and -4002); ``None`` elsewhere."""
        if self.venue != "binance":
            return None
        return self.tick_size, _BINANCE_MAX_PRICE[self.market]

    @property
    def price_band(self) -> tuple[Decimal, Decimal] | None:
        """Binance's listed (down, up) multipliers of the reference price (spot
        ``PERCENT_PRICE_BY_SIDE``, USDⓈ-M ``PERCENT_PRICE``); ``None`` elsewhere."""
        if self.venue != "binance":
            return None
        down, up = _BINANCE_PRICE_BAND[(self.market, self.base)]
        return Decimal(down), Decimal(up)

    @property
    def price_limit(self) -> PriceLimit:
        """The venue's limit on a limit order's price around the mark price:
        Binance's band (spot both ends for either side), OKX's limit, Bybit's
        ``mark × (1 ± priceLimitRatioX)`` (the venue's formula with the index at the
        mark and no premium), moved to on linear and refused on spot."""
        band = self.price_band
        if band is not None:
            return PriceLimit(down=band[0], up=band[1], both_sides=self.market == "spot")
        ratios = self.price_limit_ratios
        if ratios is not None:
            x = ratios[0]
            return PriceLimit(down=1 - x, up=1 + x, moves=self.market == "linear")
        down, up = _OKX_PRICE_LIMIT
        return PriceLimit(down=down, up=up)

    @property
    def price_limit_ratios(self) -> tuple[Decimal, Decimal] | None:
        """Bybit's ``riskParameters`` (``priceLimitRatioX``, ``priceLimitRatioY``), as
        the venue's instrument list publishes them (the docs' examples: linear 1 % and
        2 %, spot 0.5 % and 1 %); ``None`` elsewhere."""
        if self.venue != "bybit":
            return None
        if self.market == "linear":
            return Decimal("0.01"), Decimal("0.02")
        return Decimal("0.005"), Decimal("0.01")

    @property
    def max_post_only_qty(self) -> Decimal | None:
        """The largest post-only order where the venue allows more than
        :attr:`max_qty`: Bybit spot, five times its ``maxLimitOrderQty``
        (``postOnlyMaxLimitOrderSize``); ``None`` elsewhere."""
        if self.venue == "bybit" and self.market == "spot":
            return self.max_qty * 5
        return None


# (venue, market, base) -> (tick_size, lot_step, min_qty, min_notional, contract_size, max_qty,
# source). Values are copied verbatim from the named fixture file.
_FILTERS: dict[tuple[str, str, str], tuple[str, str, str, str, str, str, str]] = {
    # Binance spot exchangeInfo: PRICE_FILTER.tickSize, LOT_SIZE, NOTIONAL/MIN_NOTIONAL.
    ("binance", "spot", "BTC"): ("0.01", "0.00001", "0.00001", "5", "1", "9000", _GCT_BINANCE),
    ("binance", "spot", "ETH"): ("0.01", "0.0001", "0.0001", "5", "1", "9000", _GCT_BINANCE),
    ("binance", "spot", "SOL"): ("0.01", "0.01", "0.01", "10", "1", "90000", _CF_BINANCE_SPOT),
    # Binance USDⓈ-M exchangeInfo (PERPETUAL): PRICE_FILTER, LOT_SIZE, MIN_NOTIONAL.notional.
    ("binance", "linear", "BTC"): ("0.10", "0.001", "0.001", "100", "1", "1000", _GCT_BINANCE),
    ("binance", "linear", "ETH"): ("0.01", "0.001", "0.001", "20", "1", "10000", _GCT_BINANCE),
    ("binance", "linear", "SOL"): ("0.001", "1", "1", "5", "1", "10000000", _CF_BINANCE_FUTURES),
    # Bybit v5 instruments-info spot: tickSize, basePrecision, minOrderQty, minOrderAmt.
    ("bybit", "spot", "BTC"): ("0.1", "0.000001", "0.000001", "5", "1", "230", _CF_BYBIT),
    ("bybit", "spot", "ETH"): ("0.01", "0.00001", "0.00001", "5", "1", "8118", _CF_BYBIT),
    ("bybit", "spot", "SOL"): ("0.01", "0.0001", "0.0001", "5", "1", "26000", _CF_BYBIT),
    # Bybit v5 instruments-info linear: tickSize, qtyStep, minOrderQty, minNotionalValue.
    ("bybit", "linear", "BTC"): ("0.10", "0.001", "0.001", "5", "1", "1500", _CF_BYBIT),
    ("bybit", "linear", "ETH"): ("0.01", "0.01", "0.01", "5", "1", "10000", _CF_BYBIT),
    ("bybit", "linear", "SOL"): ("0.010", "0.1", "0.1", "5", "1", "96000", _CF_BYBIT),
    # OKX v5 public/instruments SPOT: tickSz, lotSz, minSz, maxLmtSz (OKX has no min notional).
    ("okx", "spot", "BTC"): ("0.1", "0.00000001", "0.00001", "0", "1", "9999999999", _CF_OKX),
    ("okx", "spot", "ETH"): ("0.01", "0.000001", "0.001", "0", "1", "999999999999", _CF_OKX),
    ("okx", "spot", "SOL"): ("0.001", "0.000001", "0.01", "0", "1", "999999999999", _CF_OKX),
    # OKX v5 public/instruments SWAP: tickSz, lotSz, minSz, ctVal, maxLmtSz (qty in contracts).
    ("okx", "swap", "BTC"): ("0.1", "0.01", "0.01", "0", "0.01", "100000000", _NT_OKX_SWAP),
    ("okx", "swap", "ETH"): ("0.01", "0.01", "0.01", "0", "0.1", "100000000", _NT_OKX_SWAP),
    ("okx", "swap", "SOL"): ("0.001", "1", "1", "0", "1", "100000000", _CF_OKX),
}


def _native_id(venue: str, market: str, base: str, quote: str) -> str:
    if venue == "okx":
        return f"{base}-{quote}-SWAP" if market == "swap" else f"{base}-{quote}"
    return f"{base}{quote}"


SIMULATED_BASES = ("BTC", "ETH", "SOL")
"""The base assets every simulated venue lists (against USDT, in each of its markets)."""


def default_instruments(
    venues: Iterable[str] = ("binance", "bybit", "okx"),
    bases: Iterable[str] = SIMULATED_BASES,
) -> list[SimInstrument]:
    """Every base against USDT on every venue, in both of the venue's markets.

    Args:
        venues: Any of ``binance``, ``bybit``, ``okx``.
        bases: Any of ``BTC``, ``ETH``, ``SOL``.

    Returns:
        Instruments ordered by venue, then market (spot first), then base.

    Raises:
        ValueError: For a venue or base the table does not know.
    """
    base_list = list(bases)
    out: list[SimInstrument] = []
    for venue in venues:
        if venue not in VENUE_MARKETS:
            raise ValueError(f"unknown simulated venue {venue!r}")
        for market in VENUE_MARKETS[venue]:
            for base in base_list:
                key = (venue, market, base)
                if key not in _FILTERS:
                    raise ValueError(f"no simulated instrument for base {base!r}")
                tick, step, min_qty, min_notional, contract, max_qty, source = _FILTERS[key]
                tick_size = Decimal(tick)
                out.append(
                    SimInstrument(
                        venue=venue,
                        market=market,
                        native_id=_native_id(venue, market, base, "USDT"),
                        base=base,
                        quote="USDT",
                        tick_size=tick_size,
                        lot_step=Decimal(step),
                        min_qty=Decimal(min_qty),
                        min_notional=Decimal(min_notional),
                        contract_size=Decimal(contract),
                        start_price=_START_PRICES[base].quantize(tick_size),
                        max_qty=Decimal(max_qty),
                        source=source,
                    )
                )
    return out


def find_instrument(
    instruments: Iterable[SimInstrument], venue: str, market: str, native_id: str
) -> SimInstrument | None:
    """The instrument with this venue, market and native id, or ``None``."""
    for inst in instruments:
        if inst.venue == venue and inst.market == market and inst.native_id == native_id:
            return inst
    return None
