from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from connector.errors import InvalidOrder, MalformedMessage
from connector.model import InstrumentStatus, Market, Symbol
from connector.oms.validate import place_order
from connector.venues.bybit import build_symbol_map, parse_instruments
from tests.conftest import fixture_path
from tests.venues.bybit.captures import load_v3

NAUTILUS = "nautilus_trader/crates/adapters/bybit/test_data/"


def test_bybit_instruments_from_capture_parse_for_both_markets() -> None:
    capture = load_v3()
    assert {Market.LINEAR: 800, Market.SPOT: 557} == {
        m: len(v) for m, v in capture.instruments.items()
    }
    symbols = capture.symbols
    spot = symbols.by_native(Market.SPOT, "BTCUSDT")
    assert Symbol.parse("BTC-USDT-SPOT") == spot.symbol
    assert (Decimal("0.1"), Decimal("0.000001"), Decimal("5")) == (
        spot.tick_size,
        spot.lot_step,
        spot.min_notional,
    )
    perp = symbols.by_native(Market.LINEAR, "BTCUSDT")
    assert Symbol.parse("BTC-USDT-PERP") == perp.symbol
    # "Closing orders are exempt from notional value" (derivatives trading rules).
    assert (True, False) == (
        perp.reduce_only_exempt_from_min_notional,
        spot.reduce_only_exempt_from_min_notional,
    )
    assert Symbol.parse("BTC-USDC-PERP") == symbols.by_native(Market.LINEAR, "BTCPERP").symbol


def test_bybit_linear_futures_get_expiry_from_delivery_time() -> None:
    symbols = load_v3().symbols
    future = symbols.by_native(Market.LINEAR, "BTCUSDT-14AUG26")
    assert Symbol.parse("BTC-USDT-FUT-20260814") == future.symbol
    assert dt.date(2026, 8, 14) == future.symbol.expiry


def test_bybit_linear_instrument_uses_qty_step_and_min_notional_value() -> None:
    body = fixture_path(NAUTILUS + "http_get_instruments_linear.json").read_text()
    (btc, eth) = parse_instruments(Market.LINEAR, body)
    assert "BTCUSDT" == btc.native_id
    assert (Decimal("0.5"), Decimal("0.001"), Decimal("0.001"), Decimal("5"), Decimal("100.0")) == (
        btc.tick_size,
        btc.lot_step,
        btc.min_qty,
        btc.min_notional,
        btc.max_qty,
    )
    assert Decimal("50.0") == btc.max_market_qty  # maxMktOrderQty: half the limit maximum
    assert (Decimal(1), Decimal(1000000)) == (btc.min_price, btc.max_price)  # priceFilter
    with pytest.raises(InvalidOrder, match=r"max_price: 1000000.5 is above the maximum 1000000"):
        place_order(
            btc, side="sell", type="limit", qty="1", price="1000000.5", client_order_id="c3"
        )
    with pytest.raises(InvalidOrder, match="max_market_qty"):
        place_order(btc, side="buy", type="market", qty="60", client_order_id="c1")
    assert Decimal(60) == place_order(btc, side="buy", type="limit", qty="60", price="60000",
                                      client_order_id="c2").qty  # fmt: skip
    assert InstrumentStatus.TRADING == eth.status


def test_bybit_spot_checks_order_value_not_the_deprecated_quantity_filters() -> None:
    # The venue no longer checks spot's minOrderQty (minOrderAmt instead) and replaced
    # maxOrderQty with maxLimitOrderQty (Get Instruments Info, checked 2026-12-05).
    body = fixture_path(NAUTILUS + "http_get_instruments_spot.json").read_text()
    btc = next(i for i in parse_instruments(Market.SPOT, body) if i.native_id == "BTCUSDT")
    assert "0.001" == json.loads(body)["result"]["list"][0]["lotSizeFilter"]["minOrderQty"]
    assert (Decimal(0), Decimal("0.0001"), Decimal("10"), Decimal("100.0")) == (
        btc.min_qty,
        btc.lot_step,
        btc.min_notional,
        btc.max_qty,  # no maxLimitOrderQty in this capture: maxOrderQty
    )
    # 0.0005 BTC is under the old minOrderQty but worth 30 USDT: the venue takes it.
    order = place_order(btc, side="buy", type="limit", qty="0.0005", price="60000",
                        client_order_id="c1")  # fmt: skip
    assert Decimal("0.0005") == order.qty
    with pytest.raises(InvalidOrder, match="min_notional"):
        place_order(btc, side="buy", type="limit", qty="0.0001", price="60000",
                    client_order_id="c2")  # fmt: skip

    # Today's answer (the docs' example): maxLimitOrderQty is the limit orders' maximum.
    item = json.loads(body)["result"]["list"][0]
    item["lotSizeFilter"].update(maxOrderQty="90", maxLimitOrderQty="83", maxMarketOrderQty="41.5")
    answer = {"retCode": 0, "retMsg": "OK", "result": {"category": "spot", "list": [item]}}
    (today,) = parse_instruments(Market.SPOT, json.dumps(answer))
    assert (Decimal("83"), Decimal("41.5")) == (today.max_qty, today.max_market_qty)
    # "For post-only and RPI orders, the maximum limit order quantity is 5x
    # maxLimitOrderQty": 400 BTC passes post-only, not as a plain limit order.
    assert Decimal(415) == today.max_post_only_qty
    big = {"side": "sell", "type": "limit", "qty": "400", "price": "60000"}
    assert Decimal(400) == place_order(today, **big, time_in_force="post_only",
                                       client_order_id="c3").qty  # fmt: skip
    with pytest.raises(InvalidOrder, match=r"max_qty: 400\.0000 is above the maximum 83$"):
        place_order(today, **big, client_order_id="c4")
    with pytest.raises(InvalidOrder, match=r"max_qty: 416\.0000 is above the maximum 415$"):
        place_order(today, **{**big, "qty": "416"}, time_in_force="post_only",
                    client_order_id="c5")  # fmt: skip
    # Without maxLimitOrderQty (the deprecated maxOrderQty only) nothing is assumed.
    assert btc.max_post_only_qty is None


def test_bybit_instruments_skip_unsupported_contract_types() -> None:
    body = json.dumps(
        {
            "retCode": 0,
            "result": {
                "list": [
                    {
                        "symbol": "BTCUSD",
                        "contractType": "InversePerpetual",
                        "status": "Trading",
                        "baseCoin": "BTC",
                        "quoteCoin": "USD",
                        "priceFilter": {"tickSize": "0.5"},
                        "lotSizeFilter": {"minOrderQty": "1", "qtyStep": "1"},
                    }
                ]
            },
        }
    )
    assert [] == parse_instruments(Market.LINEAR, body)


def test_bybit_instruments_error_answer_is_malformed() -> None:
    with pytest.raises(MalformedMessage):
        parse_instruments(Market.SPOT, '{"retCode":10001,"retMsg":"params error"}')
    with pytest.raises(MalformedMessage):
        parse_instruments(Market.SPOT, "not json")


def test_bybit_symbol_map_keeps_same_native_id_apart_per_market() -> None:
    capture = load_v3()
    symbols = build_symbol_map(
        capture.instruments[Market.SPOT] + capture.instruments[Market.LINEAR]
    )
    assert Symbol.parse("BTC-USDT-SPOT") == symbols.by_native(Market.SPOT, "BTCUSDT").symbol
    assert Symbol.parse("BTC-USDT-PERP") == symbols.by_native(Market.LINEAR, "BTCUSDT").symbol
