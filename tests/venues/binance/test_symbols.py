from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from connector.errors import ConfigError, MalformedMessage, RemoteError, SymbolCollision
from connector.model import Instrument, InstrumentStatus, Market, Symbol
from connector.venues.binance import (
    build_symbol_map,
    parse_exchange_info,
    parse_exchange_info_report,
)
from tests.conftest import fixture_path


def cryptofeed_body(name: str) -> str:
    line = fixture_path(f"cryptofeed/master/sample_data/{name}").read_text().splitlines()[0]
    return line.split(" -> ", 1)[1].split(": ", 1)[1]


def gocryptotrader_body(path: str) -> str:
    routes = json.loads(
        fixture_path("gocryptotrader/exchanges/binance/testdata/http.json").read_text()
    )["routes"]
    return json.dumps(routes[path]["GET"][0]["data"])


def by_native(instruments: list[Instrument], native: str) -> Instrument:
    return next(i for i in instruments if i.native_id == native)


def test_spot_exchange_info_maps_every_symbol_with_its_filters() -> None:
    report = parse_exchange_info_report(Market.SPOT, cryptofeed_body("BINANCE.0"))
    assert (1695, ()) == (len(report.instruments), report.skipped)
    btc = by_native(list(report.instruments), "BTCUSDT")
    assert (
        Instrument(
            venue="binance",
            symbol=Symbol.parse("BTC-USDT-SPOT"),
            native_id="BTCUSDT",
            market=Market.SPOT,
            tick_size=Decimal("0.01"),
            lot_step=Decimal("0.00001"),
            min_qty=Decimal("0.00001"),
            min_notional=Decimal("10"),
            max_qty=Decimal("9000"),
            max_market_qty=Decimal("100.05381873"),  # MARKET_LOT_SIZE, far below LOT_SIZE
            min_price=Decimal("0.01"),
            max_price=Decimal("1000000"),  # PRICE_FILTER
        )
        == btc
    )
    statuses = {i.status for i in report.instruments}
    assert {InstrumentStatus.TRADING, InstrumentStatus.HALTED} == statuses  # BREAK -> halted
    assert 1695 == len(build_symbol_map(list(report.instruments)))


def test_futures_exchange_info_maps_perpetuals_and_quarterlies_and_skips_odd_entries() -> None:
    report = parse_exchange_info_report(Market.LINEAR, cryptofeed_body("BINANCE_FUTURES.0"))
    instruments = list(report.instruments)
    assert 121 == len(instruments)
    assert ("BTCSTUSDT: unsupported contractType ''",) == report.skipped
    perp = by_native(instruments, "BTCUSDT")
    assert (Symbol.parse("BTC-USDT-PERP"), Decimal("0.01"), Decimal("5")) == (
        perp.symbol,
        perp.tick_size,
        perp.min_notional,
    )
    assert (Decimal("556.72"), Decimal("1000000")) == (perp.min_price, perp.max_price)
    quarterly = by_native(instruments, "BTCUSDT_210924")
    assert Symbol.parse("BTC-USDT-FUT-20210924") == quarterly.symbol
    assert dt.date(2021, 9, 24) == quarterly.symbol.expiry
    symbols = build_symbol_map(instruments)
    assert "BTCUSDT_210924" == symbols.by_symbol(Market.LINEAR, quarterly.symbol).native_id


def test_newer_exchange_info_reads_the_notional_filter() -> None:
    spot = parse_exchange_info(Market.SPOT, gocryptotrader_body("/api/v3/exchangeInfo"))
    eth = by_native(spot, "ETHBTC")
    assert (Decimal("0.0001"), Decimal("0.00001")) == (eth.min_notional, eth.tick_size)
    futures = parse_exchange_info(Market.LINEAR, gocryptotrader_body("/fapi/v1/exchangeInfo"))
    assert 25 == len(futures)
    assert Decimal("100") == by_native(futures, "BTCUSDT").min_notional


def test_usdm_spares_reduce_only_orders_the_minimum_notional_and_spot_has_none() -> None:
    # -4164 "Order's notional must be no smaller than %s (unless you choose reduce only)"
    # (USDⓈ-M error codes, checked 2026-12-06).
    futures = parse_exchange_info(Market.LINEAR, gocryptotrader_body("/fapi/v1/exchangeInfo"))
    spot = parse_exchange_info(Market.SPOT, gocryptotrader_body("/api/v3/exchangeInfo"))
    assert {True} == {i.reduce_only_exempt_from_min_notional for i in futures}
    assert {False} == {i.reduce_only_exempt_from_min_notional for i in spot}


def test_a_price_bound_of_0_is_none() -> None:
    # "minPrice ... Disabled on minPrice == 0" (the filters' documentation).
    filters = [
        {"filterType": "PRICE_FILTER", "tickSize": "0.01", "minPrice": "0", "maxPrice": "0.00"},
        {"filterType": "LOT_SIZE", "stepSize": "0.001", "minQty": "0.001"},
    ]
    (found,) = parse_exchange_info(Market.SPOT, json.dumps({"symbols": [entry(filters=filters)]}))
    assert (None, None) == (found.min_price, found.max_price)


def entry(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "symbol": "BTCUSDT",
        "status": "TRADING",
        "baseAsset": "BTC",
        "quoteAsset": "USDT",
        "filters": [
            {"filterType": "PRICE_FILTER", "tickSize": "0.01"},
            {"filterType": "LOT_SIZE", "stepSize": "0.001", "minQty": "0.001", "maxQty": "9"},
        ],
    }
    base.update(changes)
    return base


def test_exchange_info_skips_odd_entries_with_reasons() -> None:
    body = json.dumps(
        {
            "symbols": [
                entry(),
                entry(
                    symbol="ZEROTICK",
                    baseAsset="ZT",
                    filters=[
                        {"filterType": "PRICE_FILTER", "tickSize": "0"},
                        {"filterType": "LOT_SIZE", "stepSize": "1", "minQty": "1"},
                    ],
                ),
                entry(symbol="weird", baseAsset="wé"),
                entry(symbol="NOFILTERS", baseAsset="NF", filters=[]),
                entry(symbol="ODDSTATUS", baseAsset="OS", status="MOON"),
            ]
        }
    )
    report = parse_exchange_info_report(Market.SPOT, body)
    assert ["BTCUSDT"] == [i.native_id for i in report.instruments]
    assert [
        "ZEROTICK: tickSize '0' is not positive",
        "NOFILTERS: no PRICE_FILTER or LOT_SIZE filter",
        "ODDSTATUS: unknown status 'MOON'",
    ] == [r for r in report.skipped if not r.startswith("weird")]
    assert any(r.startswith("weird: symbol") for r in report.skipped)


def test_symbol_map_collision_is_an_error() -> None:
    body = json.dumps({"symbols": [entry(), entry(symbol="BTCUSDT2")]})
    instruments = parse_exchange_info(Market.SPOT, body)
    with pytest.raises(SymbolCollision, match="BTC-USDT-SPOT") as info:
        build_symbol_map(instruments)
    # Found in the venue's own list at run time: a remote problem, not a config one.
    assert isinstance(info.value, RemoteError)
    assert not isinstance(info.value, ConfigError)
    assert "binance" == info.value.venue


def test_exchange_info_rejects_a_body_that_is_not_exchange_info() -> None:
    with pytest.raises(MalformedMessage):
        parse_exchange_info(Market.SPOT, '{"code":-1000}')
    with pytest.raises(ConfigError):
        parse_exchange_info(Market.SWAP, "{}")


def test_a_cancel_only_symbol_is_kept_and_halted() -> None:
    # Binance spot's symbolStatus CANCEL_ONLY (changelog 2026-07-01): no new orders, open ones
    # can still be canceled, so the instrument stays known (its orders can be followed).
    body = json.dumps({"symbols": [entry(status="CANCEL_ONLY")]})
    report = parse_exchange_info_report(Market.SPOT, body)
    assert [] == list(report.skipped)
    assert [InstrumentStatus.HALTED] == [i.status for i in report.instruments]
