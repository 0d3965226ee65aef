"""Instruments, symbol map and credentials for the OKX trading tests."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from connector.model import Instrument, Market, Symbol, SymbolKind
from connector.model.credentials import Credentials
from connector.venues.common import SymbolMap
from tests.conftest import fixture_path

NT = "nautilus_trader/crates/adapters/okx/test_data/"
# The OKX docs' example secret key (signatures.json okx-v5-rest-*-docs-secret).
CREDENTIALS = Credentials(
    api_key="985d5b66-57ce-40fb-b714-afc0b9787083",
    api_secret="22582BD0CFF14C41EDBF1AB98506286D",
    passphrase="123456",
)


def instrument(market: Market, native: str, base: str, lot: str, contract: str = "1") -> Instrument:
    kind = SymbolKind.SPOT if market is Market.SPOT else SymbolKind.PERP
    return Instrument(
        venue="okx",
        symbol=Symbol(base, "USDT", kind),
        native_id=native,
        market=market,
        tick_size=Decimal("0.01"),
        lot_step=Decimal(lot),
        min_qty=Decimal(lot),
        contract_size=Decimal(contract),
    )


BTC_SWAP = instrument(Market.SWAP, "BTC-USDT-SWAP", "BTC", lot="0.01", contract="0.01")
ETH_SWAP = instrument(Market.SWAP, "ETH-USDT-SWAP", "ETH", lot="0.01", contract="0.1")
BTC_SPOT = instrument(Market.SPOT, "BTC-USDT", "BTC", lot="0.00000001")


def symbols() -> SymbolMap:
    m = SymbolMap("okx")
    m.extend([BTC_SWAP, ETH_SWAP, BTC_SPOT])
    return m


def nt(name: str) -> bytes:
    return fixture_path(NT + name).read_bytes()


def gct_lines() -> list[str]:
    path: Path = fixture_path("gocryptotrader/exchanges/okx/testdata/wsOrders.json")
    return [line for line in path.read_text().splitlines() if line.strip()]


def body(obj: object) -> bytes:
    return json.dumps(obj).encode()
