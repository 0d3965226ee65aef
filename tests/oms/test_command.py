"""Command-path pieces that need no venue: base units, the trading routes, client ids."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from connector.bus import Bus
from connector.config import RiskConfig, StorageConfig, load_config
from connector.errors import ConfigError, InvalidOrder
from connector.model import Instrument, Market, Symbol
from connector.oms.service import base_units
from connector.oms.validate import place_order
from connector.risk.service import RiskService
from connector.trading import Trading, client_order_ids

SWAP = Instrument(
    venue="okx",
    symbol=Symbol.parse("BTC-USDT-PERP"),
    native_id="BTC-USDT-SWAP",
    market=Market.SWAP,
    tick_size=Decimal("0.1"),
    lot_step=Decimal("1"),
    min_qty=Decimal("1"),
    max_qty=Decimal("1000"),
    contract_size=Decimal("0.01"),
)


def test_contract_instruments_are_checked_in_base_units() -> None:
    base = base_units(SWAP)
    assert (Decimal("0.01"), Decimal("0.01"), Decimal("10"), Decimal(1)) == (
        base.lot_step,
        base.min_qty,
        base.max_qty,
        base.contract_size,
    )
    order = place_order(
        base, side="buy", type="limit", qty="0.03", price="60000", client_order_id="a"
    )
    assert Decimal("0.03") == order.qty  # three contracts, in base units
    with pytest.raises(InvalidOrder, match=r"lot_step: 0\.037 is not a whole number of lots"):
        place_order(base, side="buy", type="limit", qty="0.037", price="1", client_order_id="c")
    with pytest.raises(InvalidOrder, match="lot_step"):
        place_order(base, side="buy", type="limit", qty="0.005", price="1", client_order_id="b")
    assert base_units(base) is base


def test_a_venue_that_does_not_trade_is_named_with_those_that_do() -> None:
    trading = Trading(RiskService(RiskConfig(), Bus()))
    with pytest.raises(ConfigError, match=r"'nowhere' does not trade here.*trading venues: none"):
        trading.venue("nowhere")


def test_client_ids_keep_the_install_prefix_between_runs(tmp_path: Path) -> None:
    storage = StorageConfig(sqlite_path=tmp_path / "events.sqlite")
    first, second = client_order_ids(storage), client_order_ids(storage)
    assert first.prefix == second.prefix
    a, b = first.next(), second.next()
    assert a != b and first.is_ours(b) and second.is_ours(a)
    other = client_order_ids(StorageConfig(sqlite_path=tmp_path / "other.sqlite"))
    assert other.prefix != first.prefix
    fixed = client_order_ids(StorageConfig(client_id_prefix="Desk1"))
    assert fixed.next().startswith("Desk1")


def test_a_postgres_install_takes_its_prefix_from_its_dsn_and_schema(tmp_path: Path) -> None:
    def prefix(**storage: str) -> str:
        return client_order_ids(StorageConfig(sqlite_path=tmp_path / "unused", **storage)).prefix

    dsn = "postgresql://desk@db/trading"
    one = prefix(postgres_dsn=dsn, postgres_schema="bot_a")
    assert one == prefix(postgres_dsn=dsn, postgres_schema="bot_a")
    assert one != prefix(postgres_dsn=dsn, postgres_schema="bot_b")
    assert one != prefix(postgres_dsn="postgresql://desk@db/other", postgres_schema="bot_a")


def test_the_prefix_is_configured_under_storage(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[storage]\nclient_id_prefix = "Desk1"\n', encoding="utf-8")
    assert "Desk1" == load_config(path, env={}).storage.client_id_prefix
    path.write_text('[storage]\nclient_id_prefix = "1-bad"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as bad:
        load_config(path, env={})
    assert any("storage.client_id_prefix" in line for line in bad.value.problems)
