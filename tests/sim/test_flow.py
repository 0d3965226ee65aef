"""Tests of the synthetic order flow, its generator, and the simulated instrument table."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.model import OrderStatus, OrderType, Side, TimeInForce
from connector.sim.engine import EngineOrder, EngineResult, MatchingEngine
from connector.sim.flow import Prng, SyntheticFlow
from connector.sim.instruments import SimInstrument, default_instruments, find_instrument
from tests.conftest import fixture_path

D = Decimal


def instrument(venue: str = "binance", market: str = "spot", base: str = "BTC") -> SimInstrument:
    found = [
        i for i in default_instruments() if (i.venue, i.market, i.base) == (venue, market, base)
    ]
    assert 1 == len(found)
    return found[0]


def make_flow(inst: SimInstrument, seed: int, levels: int = 25) -> SyntheticFlow:
    engine = MatchingEngine(tick_size=inst.tick_size, lot_step=inst.lot_step)
    return SyntheticFlow(engine, inst, seed=seed, levels=levels)


def summary(results: list[EngineResult]) -> list[tuple[object, ...]]:
    return [(r.order_id, r.status, r.changes, r.trades, r.update_id) for r in results]


# ---------------------------------------------------------------------- Prng


def test_prng_same_seed_gives_same_sequence_and_other_seeds_differ() -> None:
    a, b, c = Prng(7), Prng(7), Prng(8)
    seq_a = [a.next_u64() for _ in range(50)]
    assert seq_a == [b.next_u64() for _ in range(50)]
    assert seq_a != [c.next_u64() for _ in range(50)]


def test_prng_splitmix64_matches_the_reference_first_output() -> None:
    # splitmix64 seeded with 0 yields 0xE220A8397B1DCDAF first (Vigna's reference code).
    assert 0xE220A8397B1DCDAF == Prng(0).next_u64()


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=0, max_value=2**64 - 1), st.integers(-5, 5), st.integers(0, 9))
def test_prng_draws_stay_in_their_ranges(seed: int, a: int, width: int) -> None:
    prng = Prng(seed)
    for _ in range(100):
        assert 0.0 <= prng.random() < 1.0
        assert a <= prng.randint(a, a + width) <= a + width
        assert prng.choice("xyz") in "xyz"


def test_prng_gauss_has_roughly_the_asked_mean_and_spread() -> None:
    prng = Prng(123)
    draws = [prng.gauss(10.0, 2.0) for _ in range(20_000)]
    mean = sum(draws) / len(draws)
    var = sum((d - mean) ** 2 for d in draws) / len(draws)
    assert abs(mean - 10.0) < 0.1
    assert abs(var**0.5 - 2.0) < 0.1


def test_prng_rejects_empty_ranges() -> None:
    with pytest.raises(ValueError):
        Prng(1).randint(3, 2)
    with pytest.raises(IndexError):
        Prng(1).choice([])


# ---------------------------------------------------------------------- flow


def test_seed_book_fills_the_asked_levels_on_both_sides_around_the_mid() -> None:
    flow = make_flow(instrument(), seed=1, levels=10)
    results = flow.seed_book()
    bids, asks = flow.engine.depth()
    assert (10, 10) == (len(bids), len(asks))
    assert bids[0].price < flow.mid < asks[0].price
    assert all(r.status is OrderStatus.NEW for r in results)
    assert all(o.owner == "flow" for o in flow.engine.open_orders())


def test_same_seed_gives_identical_flow() -> None:
    inst = instrument("okx", "swap", "ETH")
    one, two = make_flow(inst, seed=99), make_flow(inst, seed=99)
    runs = []
    for flow in (one, two):
        out = flow.seed_book()
        for _ in range(1500):
            out.extend(flow.step())
        runs.append(summary(out))
    assert runs[0] == runs[1]
    assert one.mid == two.mid


def test_different_seeds_give_different_flow() -> None:
    inst = instrument("bybit", "linear", "SOL")
    runs = []
    for seed in (1, 2):
        flow = make_flow(inst, seed=seed)
        flow.seed_book()
        runs.append(summary([r for _ in range(300) for r in flow.step()]))
    assert runs[0] != runs[1]


def _on_grid(value: Decimal, step: Decimal) -> bool:
    return value % step == 0


@pytest.mark.parametrize(
    ("venue", "market", "base"),
    [("binance", "spot", "BTC"), ("okx", "swap", "SOL"), ("bybit", "linear", "ETH")],
)
def test_ten_thousand_steps_keep_a_sane_populated_book(venue: str, market: str, base: str) -> None:
    inst = instrument(venue, market, base)
    flow = make_flow(inst, seed=2024)
    engine = flow.engine
    flow.seed_book()
    trades = 0
    for n in range(10_000):
        update_id = engine.update_id
        results = flow.step()
        assert results, "every step does something"
        assert any(r.changes for r in results), "every step changes the book"
        for r in results:
            if r.changes:
                update_id += 1
            assert update_id == r.update_id
            for change in r.changes:
                assert _on_grid(change.price, inst.tick_size)
                assert _on_grid(change.qty, inst.lot_step)
            trades += len(r.trades)
        assert update_id == engine.update_id
        bid, ask = engine.best_bid(), engine.best_ask()
        assert bid is not None
        assert ask is not None
        assert bid.price < ask.price
        if n % 250 == 0:
            bids, asks = engine.depth()
            assert 25 // 2 <= len(bids) <= 26
            assert 25 // 2 <= len(asks) <= 26
            for level in bids + asks:
                assert level.price > 0
                assert _on_grid(level.price, inst.tick_size)
                assert _on_grid(level.qty, inst.lot_step)
    assert trades > 500, "takers trade regularly"
    # The flow's bookkeeping is exact: it knows every flow order that rests.
    assert len(engine.open_orders("flow")) == flow.flow_order_count()
    stats = flow.statistics()
    assert (10_000, flow.flow_order_count(), flow.mid) == (
        stats.steps,
        stats.flow_orders,
        stats.mid,
    )
    # The mid wandered but stayed in the neighbourhood of the start price.
    assert inst.start_price / 2 < flow.mid < inst.start_price * 2


def test_flow_orders_respect_minimum_size_and_notional() -> None:
    for inst in default_instruments():
        flow = make_flow(inst, seed=5)
        flow.seed_book()
        for _ in range(200):
            flow.step()
        for order in flow.engine.open_orders("flow"):
            assert order.qty >= inst.min_qty
            assert order.qty * order.price * inst.contract_size >= inst.min_notional


def test_move_up_fills_resting_user_asks_below_the_new_mid() -> None:
    inst = instrument("binance", "linear", "BTC")
    flow = make_flow(inst, seed=3)
    engine = flow.engine
    flow.seed_book()
    start_mid = flow.mid
    user_price = (start_mid * D("1.005")).quantize(inst.tick_size)
    placed = engine.submit(
        EngineOrder(
            order_id="user-1",
            side=Side.SELL,
            type=OrderType.LIMIT,
            qty=D("0.010"),
            price=user_price,
            time_in_force=TimeInForce.GTC,
            owner="alice",
        )
    )
    assert OrderStatus.NEW == placed.status
    results = flow.move(D("1"))
    assert (start_mid * D("1.01")).quantize(inst.tick_size) == flow.mid
    maker_fills = [t for r in results for t in r.trades if t.maker_order_id == "user-1"]
    assert D("0.010") == sum(t.qty for t in maker_fills)
    assert engine.order("user-1") is None
    bid, ask = engine.best_bid(), engine.best_ask()
    assert bid is not None
    assert ask is not None
    assert bid.price < flow.mid < ask.price
    assert 25 == engine.level_count(Side.BUY) == engine.level_count(Side.SELL)


def test_move_down_leaves_far_bids_alone_and_flow_never_cancels_other_owners() -> None:
    inst = instrument("okx", "spot", "ETH")
    flow = make_flow(inst, seed=4)
    engine = flow.engine
    flow.seed_book()
    far = (flow.mid * D("0.95")).quantize(inst.tick_size)
    engine.submit(
        EngineOrder(
            order_id="far-bid",
            side=Side.BUY,
            type=OrderType.LIMIT,
            qty=D("0.5"),
            price=far,
            owner="bob",
        )
    )
    flow.move(D("-2"))
    resting = engine.order("far-bid")
    assert resting is not None, "a bid 5 % down is untouched by a 2 % drop"
    assert D(0) == resting.filled
    for _ in range(200):
        flow.step()
    assert engine.order("far-bid") is not None, "the flow never cancels other owners' orders"


def test_deepen_continues_the_flows_grid_inside_other_owners_far_orders() -> None:
    inst = instrument("binance", "spot", "BTC")
    flow = make_flow(inst, seed=5)
    engine = flow.engine
    flow.seed_book()
    step = flow.spacing * inst.tick_size
    worst = engine.worst_level(Side.BUY)
    assert worst is not None
    grid = worst.price - 3 * step  # on the grid the deep levels take: not doubled
    far = (flow.mid * D("0.5")).quantize(inst.tick_size)  # far beyond 200 levels
    for order_id, price in (("grid-bid", grid), ("far-bid", far)):
        engine.submit(
            EngineOrder(
                order_id=order_id,
                side=Side.BUY,
                type=OrderType.LIMIT,
                qty=D("0.5"),
                price=price,
                owner="bob",
            )
        )

    flow.deepen(200)

    bids, _asks = engine.depth(None)
    assert 200 == len(bids)
    assert far == bids[-1].price, "the far bid stays beyond the deep levels"
    deep = [lv.price for lv in bids[:-1] if lv.price <= worst.price]
    assert [worst.price - k * step for k in range(len(deep))] == deep
    assert ["grid-bid"] == engine.order_ids_at(Side.BUY, grid)


# ---------------------------------------------------------------- instruments


def test_default_instruments_cover_every_venue_market_and_base() -> None:
    table = default_instruments()
    assert 18 == len(table)
    keys = {(i.venue, i.market, i.native_id) for i in table}
    assert ("binance", "linear", "BTCUSDT") in keys
    assert ("bybit", "spot", "SOLUSDT") in keys
    assert ("okx", "spot", "ETH-USDT") in keys
    assert ("okx", "swap", "BTC-USDT-SWAP") in keys
    for inst in table:
        assert _on_grid(inst.start_price, inst.tick_size)
        assert _on_grid(inst.min_qty, inst.lot_step)
        assert inst.source
    swaps = {i.base: i.contract_size for i in table if i.market == "swap"}
    assert {"BTC": D("0.01"), "ETH": D("0.1"), "SOL": D("1")} == swaps
    assert {D(1)} == {i.contract_size for i in table if i.market != "swap"}
    assert {D(60000), D(3000), D(150)} == {i.start_price for i in table}


def test_default_instruments_can_be_narrowed_and_rejects_unknown_names() -> None:
    assert ["ETHUSDT"] * 2 == [i.native_id for i in default_instruments(["bybit"], ["ETH"])]
    with pytest.raises(ValueError):
        default_instruments(["kraken"])
    with pytest.raises(ValueError):
        default_instruments(["okx"], ["DOGE"])


def test_find_instrument_looks_up_by_venue_market_and_native_id() -> None:
    table = default_instruments()
    found = find_instrument(table, "okx", "swap", "SOL-USDT-SWAP")
    assert found is not None
    assert D("1") == found.contract_size
    assert find_instrument(table, "okx", "spot", "SOL-USDT-SWAP") is None


# The instrument listings behind the table, read the way each venue publishes them.

Filters = dict[str, Decimal]


def _binance_filters(symbol: dict[str, Any]) -> Filters:
    f = {x["filterType"]: x for x in symbol["filters"]}
    notional = f.get("NOTIONAL") or f["MIN_NOTIONAL"]
    return {
        "tick_size": D(f["PRICE_FILTER"]["tickSize"]),
        "lot_step": D(f["LOT_SIZE"]["stepSize"]),
        "min_qty": D(f["LOT_SIZE"]["minQty"]),
        "max_qty": D(f["LOT_SIZE"]["maxQty"]),
        "min_notional": D(notional.get("minNotional") or notional["notional"]),
        "contract_size": D(1),
        "max_market_qty": D(f["MARKET_LOT_SIZE"]["maxQty"]),
        **_binance_band(f),
    }


def _binance_band(filters: dict[str, Any]) -> Filters:
    if "PERCENT_PRICE_BY_SIDE" in filters:  # spot: the same both sides in these listings
        by_side = filters["PERCENT_PRICE_BY_SIDE"]
        assert by_side["bidMultiplierUp"] == by_side["askMultiplierUp"]
        assert by_side["bidMultiplierDown"] == by_side["askMultiplierDown"]
        return {
            "band_down": D(by_side["bidMultiplierDown"]),
            "band_up": D(by_side["bidMultiplierUp"]),
        }
    band = filters["PERCENT_PRICE"]
    return {"band_down": D(band["multiplierDown"]), "band_up": D(band["multiplierUp"])}


def _okx_filters(item: dict[str, Any]) -> Filters:
    return {
        "tick_size": D(item["tickSz"]),
        "lot_step": D(item["lotSz"]),
        "min_qty": D(item["minSz"]),
        "max_qty": D(item["maxLmtSz"]),
        "min_notional": D(0),
        "contract_size": D(item["ctVal"] or "1"),
    }


def _bybit_filters(market: str, item: dict[str, Any]) -> Filters:
    lot = item["lotSizeFilter"]
    spot = market == "spot"
    return {
        "tick_size": D(item["priceFilter"]["tickSize"]),
        "lot_step": D(lot["basePrecision"] if spot else lot["qtyStep"]),
        "min_qty": D(lot["minOrderQty"]),
        "max_qty": D(lot["maxOrderQty"]),
        "min_notional": D(lot["minOrderAmt"] if spot else lot["minNotionalValue"]),
        "contract_size": D(1),
    }


def _cryptofeed_http_lines(path: str) -> Iterator[tuple[str, Any]]:
    """``<url> -> <ts>: <body>`` lines of a cryptofeed v1 capture."""
    with fixture_path(path).open(encoding="utf-8") as fh:
        for line in fh:
            url, _, rest = line.partition(" -> ")
            yield url, json.loads(rest.partition(": ")[2])


def _symbols_with_filters(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if "symbol" in node and "filters" in node:
            yield node
        for value in node.values():
            yield from _symbols_with_filters(value)
    elif isinstance(node, list):
        for value in node:
            yield from _symbols_with_filters(value)


def _listing(source: str, inst: SimInstrument) -> Filters | None:
    """The fixture's filters for ``inst``, or ``None`` when the file lacks it."""
    if source.startswith("gocryptotrader/"):
        routes = json.loads(fixture_path(source).read_text(encoding="utf-8"))["routes"]
        route = "/api/v3/exchangeInfo" if inst.market == "spot" else "/fapi/v1/exchangeInfo"
        for symbol in _symbols_with_filters(routes[route]):
            if symbol["symbol"] == inst.native_id and symbol.get("contractType") in (
                None,
                "PERPETUAL",
            ):
                return _binance_filters(symbol)
        return None
    if source.startswith("cryptofeed/master/sample_data/BINANCE"):
        for url, body in _cryptofeed_http_lines(source):
            if url.endswith("exchangeInfo"):
                for symbol in body["symbols"]:
                    if symbol["symbol"] == inst.native_id and symbol.get("contractType") in (
                        None,
                        "PERPETUAL",
                    ):
                        return _binance_filters(symbol)
        return None
    if source.endswith("OKX.0"):
        for url, body in _cryptofeed_http_lines(source):
            if "instruments" in url:
                for item in body["data"]:
                    if item["instId"] == inst.native_id:
                        return _okx_filters(item)
        return None
    if source.startswith("nautilus_trader/") and "okx" in source:
        body = json.loads(fixture_path(source).read_text(encoding="utf-8"))
        for item in body["data"]:
            if item["instId"] == inst.native_id:
                return _okx_filters(item)
        return None
    if source.endswith("BYBIT-dev.jsonl.zst"):
        with fixture_path(source).open("rb") as raw:
            reader = zstandard.ZstdDecompressor().stream_reader(raw)
            for line in io.TextIOWrapper(reader, encoding="utf-8"):
                record = json.loads(line)
                url = record.get("url") or ""
                if record.get("t") != "http" or f"category={inst.market}" not in url:
                    continue
                for item in json.loads(record["data"])["result"]["list"]:
                    if item["symbol"] == inst.native_id:
                        return _bybit_filters(inst.market, item)
        return None
    raise AssertionError(f"no reader for source {source}")


@pytest.mark.parametrize(
    "inst", default_instruments(), ids=lambda i: f"{i.venue}-{i.market}-{i.native_id}"
)
def test_instrument_filters_match_the_real_listing_they_name(inst: SimInstrument) -> None:
    listing = _listing(inst.source, inst)
    assert listing is not None, f"{inst.native_id} missing from {inst.source}"
    actual = {
        "tick_size": inst.tick_size,
        "lot_step": inst.lot_step,
        "min_qty": inst.min_qty,
        "max_qty": inst.max_qty,
        "min_notional": inst.min_notional,
        "contract_size": inst.contract_size,
    }
    if inst.venue == "binance":
        actual["max_market_qty"] = inst.max_market_qty
        assert inst.price_band is not None
        actual["band_down"], actual["band_up"] = inst.price_band
    assert listing == actual
