"""Instruments, symbol map and credentials for the Bybit trading tests."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from connector.model import Instrument, Market, Symbol, SymbolKind
from connector.model.credentials import Credentials
from connector.venues.common import SymbolMap
from tests.conftest import fixture_path

NT = "nautilus_trader/crates/adapters/bybit/test_data/"
# pybit's dummy test credentials (bybit-exchange/pybit tests/test_pybit.py).
CREDENTIALS = Credentials(
    api_key="CFEJUGQEQPPHGOHGHM", api_secret="VDFZSSPUTKRJMXAVMJXBHEXIPZNZJIZUBVRQ"
)


def instrument(market: Market, native: str, base: str, lot: str = "0.001") -> Instrument:
    kind = SymbolKind.SPOT if market is Market.SPOT else SymbolKind.PERP
    return Instrument(
        venue="bybit",
        symbol=Symbol(base, "USDT", kind),
        native_id=native,
        market=market,
        tick_size=Decimal("0.01"),
        lot_step=Decimal(lot),
        min_qty=Decimal(lot),
    )


BTC_LINEAR = instrument(Market.LINEAR, "BTCUSDT", "BTC")
ETH_LINEAR = instrument(Market.LINEAR, "ETHUSDT", "ETH")
XRP_LINEAR = instrument(Market.LINEAR, "XRPUSDT", "XRP", lot="1")
SOL_LINEAR = instrument(Market.LINEAR, "SOLUSDT", "SOL", lot="0.1")
BTC_SPOT = instrument(Market.SPOT, "BTCUSDT", "BTC", lot="0.000001")


def symbols() -> SymbolMap:
    m = SymbolMap("bybit")
    m.extend([BTC_LINEAR, ETH_LINEAR, XRP_LINEAR, SOL_LINEAR, BTC_SPOT])
    return m


def nt(name: str) -> bytes:
    return fixture_path(NT + name).read_bytes()


def gct_lines() -> list[str]:
    path: Path = fixture_path("gocryptotrader/exchanges/bybit/testdata/wsAuth.json")
    return [line for line in path.read_text().splitlines() if line.strip()]


def body(obj: object) -> bytes:
    return json.dumps(obj).encode()
