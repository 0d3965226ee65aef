"""Instruments and a symbol map for the Binance trading tests (the fixtures' symbols)."""

from __future__ import annotations

from decimal import Decimal

from connector.model import Instrument, Market, Symbol, SymbolKind
from connector.venues.common import SymbolMap
from tests.conftest import fixture_path

NT = "nautilus_trader/crates/adapters/binance/test_data"
NT_PY = "nautilus_trader/tests/integration_tests/adapters/binance/resources"
MS = 1_000_000


def instrument(native_id: str, base: str, quote: str, market: Market) -> Instrument:
    kind = SymbolKind.SPOT if market is Market.SPOT else SymbolKind.PERP
    return Instrument(
        venue="binance",
        symbol=Symbol(base, quote, kind),
        native_id=native_id,
        market=market,
        tick_size=Decimal("0.01"),
        lot_step=Decimal("0.001"),
        min_qty=Decimal("0.001"),
    )


SPOT_PAIRS = [
    ("BTCUSDT", "BTC", "USDT"),
    ("ETHUSDT", "ETH", "USDT"),
    ("LTCBTC", "LTC", "BTC"),
    ("BNBBTC", "BNB", "BTC"),
    ("ETHBTC", "ETH", "BTC"),
]
LINEAR_PAIRS = [("BTCUSDT", "BTC", "USDT"), ("ETHUSDT", "ETH", "USDT")]


def symbol_map() -> SymbolMap:
    table = SymbolMap("binance")
    table.extend(instrument(n, b, q, Market.SPOT) for n, b, q in SPOT_PAIRS)
    table.extend(instrument(n, b, q, Market.LINEAR) for n, b, q in LINEAR_PAIRS)
    return table


def fixture_bytes(relative: str) -> bytes:
    """A fixture file's bytes (the test is skipped when ``../shared/fixtures`` is absent)."""
    return fixture_path(relative).read_bytes()


SPOT_BTC = instrument("BTCUSDT", "BTC", "USDT", Market.SPOT)
LINEAR_BTC = instrument("BTCUSDT", "BTC", "USDT", Market.LINEAR)
