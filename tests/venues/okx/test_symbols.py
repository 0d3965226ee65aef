from __future__ import annotations

from decimal import Decimal

import pytest

from connector.errors import MalformedMessage
from connector.model import Market, Symbol
from connector.oms.service import base_units
from connector.venues.okx import market_of, parse_instruments
from tests.conftest import fixture_path
from tests.venues.okx.captures import instruments, symbol_map

NAUTILUS = "nautilus_trader/crates/adapters/okx/test_data/"


def test_okx_instruments_from_capture_parse_for_spot_swap_futures() -> None:
    assert {Market.SPOT: 513, Market.SWAP: 166, Market.FUTURES: 104} == {
        m: len(v) for m, v in instruments().items()
    }


def test_okx_canonical_symbols_and_contract_sizes() -> None:
    symbols = symbol_map()
    cases = {
        (Market.SPOT, "BTC-USDT"): ("BTC-USDT-SPOT", Decimal(1)),
        (Market.SWAP, "BTC-USDT-SWAP"): ("BTC-USDT-PERP", Decimal("0.01")),
        (Market.SWAP, "BTC-USD-SWAP"): ("BTC-USD-PERP", Decimal(100)),
        (Market.FUTURES, "BTC-USD-220527"): ("BTC-USD-FUT-20220527", Decimal(100)),
        (Market.FUTURES, "BTC-USDT-220520"): ("BTC-USDT-FUT-20220520", Decimal("0.01")),
    }
    for (market, native), (text, size) in cases.items():
        instrument = symbols.by_native(market, native)
        assert (Symbol.parse(text), size) == (instrument.symbol, instrument.contract_size)


def test_okx_swap_market_maximum_is_in_contracts_and_spot_one_in_usdt_is_left_out() -> None:
    swap = fixture_path(NAUTILUS + "http_get_instruments_swap.json").read_bytes()
    btc = next(i for i in parse_instruments(Market.SWAP, swap) if i.native_id == "BTC-USDT-SWAP")
    assert (Decimal(12000), Decimal("0.01")) == (btc.max_market_qty, btc.contract_size)
    # In base units: 12,000 contracts of 0.01 BTC.
    assert Decimal(120) == base_units(btc).max_market_qty
    spot = fixture_path(NAUTILUS + "http_get_instruments_spot.json").read_bytes()
    assert all(i.max_market_qty is None for i in parse_instruments(Market.SPOT, spot))


def test_okx_spot_filters_come_from_tick_lot_and_min_size() -> None:
    btc = symbol_map().by_native(Market.SPOT, "BTC-USDT")
    assert (Decimal("0.1"), Decimal("0.00000001"), Decimal("0.00001")) == (
        btc.tick_size,
        btc.lot_step,
        btc.min_qty,
    )


@pytest.mark.parametrize(
    ("name", "market"),
    [
        ("http_get_instruments_spot.json", Market.SPOT),
        ("http_get_instruments_swap.json", Market.SWAP),
        ("http_get_instruments_futures.json", Market.FUTURES),
    ],
)
def test_okx_current_instrument_answers_parse(name: str, market: Market) -> None:
    body = fixture_path(NAUTILUS + name).read_text()
    parsed = parse_instruments(market, body)
    assert parsed
    assert all(i.market is market and market_of(i.native_id) is market for i in parsed)


def test_okx_market_of_reads_the_instrument_id_shape() -> None:
    assert Market.SPOT is market_of("BTC-USDT")
    assert Market.SWAP is market_of("BTC-USDT-SWAP")
    assert Market.FUTURES is market_of("BTC-USD-220527")
    with pytest.raises(ValueError):
        market_of("BTC-USD-220527-30000-C")


def test_okx_instruments_error_answer_is_malformed() -> None:
    with pytest.raises(MalformedMessage):
        parse_instruments(Market.SPOT, '{"code":"51001","msg":"Instrument ID does not exist"}')
