"""Real Binance captures replayed through parse -> sync -> keeper."""

from __future__ import annotations

import gzip
from decimal import Decimal

import pytest

from connector.book.keeper import BookKeeper, KeeperAction
from connector.model import BookDelta, Instrument, Market, Quote, Symbol
from connector.venues.binance import (
    BinanceFuturesSync,
    BinanceSpotSync,
    build_symbol_map,
    decode_frame,
    parse_depth_snapshot,
    parse_exchange_info,
)
from connector.venues.common import SymbolMap
from tests.conftest import fixture_path

HFT = {
    Market.LINEAR: ("hftbacktest/examples/usdm/btcusdt_20240808.gz", "BTC-USDT-PERP", 6547, 629),
    Market.SPOT: ("hftbacktest/examples/spot/btcusdt_20240808.gz", "BTC-USDT-SPOT", 3449, 564),
}


def new_sync(market: Market) -> BinanceSpotSync | BinanceFuturesSync:
    return BinanceFuturesSync() if market is Market.LINEAR else BinanceSpotSync()


@pytest.mark.parametrize("market", [Market.LINEAR, Market.SPOT])
def test_hftbacktest_capture_rebuilds_a_book_matching_every_book_ticker(market: Market) -> None:
    path, canonical, expected_deltas, expected_matches = HFT[market]
    lines = gzip.decompress(fixture_path(path).read_bytes()).splitlines()
    symbol = Symbol.parse(canonical)
    symbols = SymbolMap("binance")
    symbols.add(
        Instrument(
            venue="binance",
            symbol=symbol,
            native_id="BTCUSDT",
            market=market,
            tick_size=Decimal("0.01"),
            lot_step=Decimal("0.00001"),
            min_qty=Decimal("0.00001"),
        )
    )
    keeper = BookKeeper("binance", market, symbol, new_sync(market), depth=None)
    tops: dict[int, tuple[Decimal | None, ...]] = {}
    quotes: list[Quote] = []
    for line in lines:
        ts, raw = line.split(b" ", 1)
        if raw.startswith(b'{"lastUpdateId"'):
            snap = parse_depth_snapshot(raw, market=market, symbol=symbol, ts_recv_ns=int(ts))
            result = keeper.on_snapshot(snap)
            assert result.update is not None and result.update.state.valid
            continue
        for event in decode_frame(raw, market=market, symbols=symbols, ts_recv_ns=int(ts)):
            if isinstance(event, BookDelta):
                result = keeper.on_delta(event)
                assert KeeperAction.RESYNC is not result.action, result.update
                if result.update is not None:
                    assert result.update.state.valid
                    bid, ask = result.update.best_bid, result.update.best_ask
                    assert bid is not None and ask is not None
                    tops[result.update.seq] = (bid.price, bid.qty, ask.price, ask.qty)
            elif isinstance(event, Quote):
                quotes.append(event)
    stats = keeper.statistics()
    assert keeper.state.valid
    assert (expected_deltas, 0, 0) == (stats.deltas_applied, stats.gaps, stats.crossed)
    compared = [q for q in quotes if q.seq in tops]
    mismatched = [q for q in compared if tops[q.seq] != (q.bid, q.bid_qty, q.ask, q.ask_qty)]
    assert expected_matches == len(compared)
    assert [] == mismatched


def _cryptofeed_lines(name: str) -> list[str]:
    return fixture_path(f"cryptofeed/master/sample_data/{name}").read_text().splitlines()


@pytest.mark.parametrize(
    ("name", "market", "expected"),
    [
        (
            "BINANCE",
            Market.SPOT,
            {"NKN-USDT-SPOT", "BLZ-ETH-SPOT", "LRC-BTC-SPOT", "RUNE-EUR-SPOT"},
        ),
        (
            "BINANCE_FUTURES",
            Market.LINEAR,
            {"SUSHI-USDT-PERP", "AKRO-USDT-PERP", "KEEP-USDT-PERP", "CTK-USDT-PERP"},
        ),
    ],
)
def test_cryptofeed_captures_chain_for_every_symbol(
    name: str, market: Market, expected: set[str]
) -> None:
    info = next(line for line in _cryptofeed_lines(f"{name}.0") if " -> " in line)
    symbols = build_symbol_map(parse_exchange_info(market, info.split(": ", 1)[1]))
    events: list[tuple[float, str | None, str]] = []
    for line in _cryptofeed_lines(f"{name}.ws.1.0"):
        if not line.strip() or " <-> " in line or " <- " in line:
            continue
        ts, raw = line.split(": ", 1)
        events.append((float(ts), None, raw))
    for line in _cryptofeed_lines(f"{name}.http.0.0"):
        if " -> " not in line:
            continue
        url, rest = line.split(" -> ", 1)
        ts, body = rest.split(": ", 1)
        events.append((float(ts), url.split("symbol=")[1].split("&")[0], body))
    events.sort(key=lambda e: e[0])

    keepers: dict[Symbol, BookKeeper] = {}

    def keeper(symbol: Symbol) -> BookKeeper:
        if symbol not in keepers:
            keepers[symbol] = BookKeeper("binance", market, symbol, new_sync(market), depth=None)
        return keepers[symbol]

    for ts, native, raw in events:
        if native is not None:
            symbol = symbols.by_native(market, native).symbol
            snap = parse_depth_snapshot(raw, market=market, symbol=symbol)
            assert KeeperAction.RESYNC is not keeper(symbol).on_snapshot(snap).action
            continue
        for event in decode_frame(raw, market=market, symbols=symbols, ts_recv_ns=int(ts * 1e9)):
            if isinstance(event, BookDelta):
                result = keeper(event.symbol).on_delta(event)
                assert KeeperAction.RESYNC is not result.action, result.update
    assert expected == {str(s) for s in keepers}
    for symbol, k in keepers.items():
        stats = k.statistics()
        assert k.state.valid, symbol
        assert stats.deltas_applied >= 1
        assert (0, 0) == (stats.gaps, stats.crossed)
