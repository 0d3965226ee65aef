"""``connector demo``: every venue on the built-in simulator, a live view, a summary."""

from __future__ import annotations

import io
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
from rich.console import Console

import connector.config
from connector.cli import main
from connector.cli.demo_strategy import MarketStats, QuotingStrategy, default_size
from connector.cli.demo_views import (
    MarketRow,
    TradingFrame,
    render_trading,
    render_trading_summary,
    trading_problems,
)
from connector.cli.views import DemoFrame, VenueRow, demo_problems, render_demo, render_demo_summary
from connector.config import Config
from connector.connector import Connector
from connector.health import BreakerState, VenueHealth
from connector.model import (
    BookLevel,
    BookState,
    ConsolidatedBook,
    Fill,
    Side,
    Symbol,
    VenueLevel,
)

PROCESS_TIMEOUT = 60

VENUES = ("binance", "bybit", "okx")


def _render(renderable: object) -> str:
    buffer = io.StringIO()
    Console(file=buffer, width=120, color_system=None).print(renderable)
    return buffer.getvalue()


def _row(venue: str, symbol: str, state: BookState, updates: int = 10) -> VenueRow:
    valid = state.valid
    return VenueRow(
        venue=venue,
        symbol=symbol,
        state=state,
        best_bid=BookLevel(Decimal("100.50"), Decimal("2")) if valid else None,
        best_ask=BookLevel(Decimal("100.70"), Decimal("1.5")) if valid else None,
        updates=updates,
        rate=9.5,
    )


def _consolidated(symbol: str) -> ConsolidatedBook:
    return ConsolidatedBook(
        symbol=Symbol.parse(symbol),
        bids=(
            VenueLevel("okx", Decimal("100.60"), Decimal("1")),
            VenueLevel("binance", Decimal("100.50"), Decimal("2")),
        ),
        asks=(VenueLevel("binance", Decimal("100.70"), Decimal("1.5")),),
        venues=("binance", "okx"),
    )


# --------------------------------------------------------------------------- the command


def test_demo_with_an_invalid_symbol_exits_2_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["demo", "--duration", "1", "--symbols", "BTC/USDT"])

    assert 2 == code
    assert "BTC/USDT" in capsys.readouterr().err


def test_demo_with_no_venue_enabled_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "none.toml"
    config.write_text("[venues.binance]\nenabled = false\n")

    code = main(["demo", "-c", str(config), "--duration", "1"])

    assert 2 == code
    assert "no enabled venue" in capsys.readouterr().err


# --------------------------------------------------------------------------- the views


def test_demo_problems_name_each_book_that_did_not_end_valid_and_why() -> None:
    frame = DemoFrame(
        elapsed=8.0,
        rows=(
            _row("binance", "BTC-USDT-SPOT", BookState.VALID),
            _row("bybit", "BTC-USDT-SPOT", BookState.invalid("gap: u 7 after 5"), updates=3),
            _row("okx", "BTC-USDT-SPOT", BookState.syncing(), updates=0),
        ),
    )

    assert [
        "bybit BTC-USDT-SPOT ended invalid: gap: u 7 after 5 (3 updates)",
        "okx BTC-USDT-SPOT ended syncing (no book updates)",
    ] == demo_problems(frame)


def test_demo_problems_are_empty_when_every_book_is_valid_but_not_for_no_books() -> None:
    frame = DemoFrame(elapsed=1.0, rows=(_row("okx", "ETH-USDT-PERP", BookState.VALID),))

    assert [] == demo_problems(frame)
    assert ["no venue book was configured"] == demo_problems(DemoFrame(elapsed=1.0, rows=()))


def test_demo_summary_shows_counts_states_consolidated_bbo_and_verdict() -> None:
    frame = DemoFrame(
        elapsed=8.04,
        rows=(
            _row("binance", "BTC-USDT-SPOT", BookState.VALID, updates=81),
            _row("okx", "BTC-USDT-SPOT", BookState.invalid("checksum mismatch")),
        ),
        consolidated=(_consolidated("BTC-USDT-SPOT"),),
    )

    text = _render(render_demo_summary(frame))

    assert "demo summary after 8.0 s" in text
    binance = next(line for line in text.splitlines() if "binance" in line and "81" in line)
    assert "valid" in binance and "100.5" in binance and "100.7" in binance
    assert "invalid (checksum mismatch)" in text
    bbo = next(line for line in text.splitlines() if "100.6 @ okx" in line)
    assert "100.7 @ binance" in bbo
    assert "result: FAILED" in text
    assert "okx BTC-USDT-SPOT ended invalid: checksum mismatch" in text


def test_render_demo_shows_health_venue_rows_and_merged_levels_with_their_venues() -> None:
    frame = DemoFrame(
        elapsed=3.0,
        rows=(
            _row("binance", "BTC-USDT-SPOT", BookState.VALID),
            _row("okx", "BTC-USDT-SPOT", BookState.VALID),
            _row("okx", "ETH-USDT-PERP", BookState.syncing("snapshot pending"), updates=0),
        ),
        consolidated=(_consolidated("BTC-USDT-SPOT"),),
        health=(
            VenueHealth(
                venue="binance", state=BreakerState.CLOSED, connected=2, consecutive_failures=0
            ),
            VenueHealth(
                venue="okx",
                state=BreakerState.OPEN,
                connected=0,
                consecutive_failures=3,
                last_reason="connect refused",
            ),
        ),
    )

    text = _render(render_demo(frame, depth=2))

    assert "binance closed (2 connected)" in text
    assert "okx open (0 connected, connect refused)" in text
    assert "consolidated best bid 100.6 @ okx  best ask 100.7 @ binance" in text
    merged = [line for line in text.splitlines() if "100.6" in line and "okx" in line]
    assert merged, text
    assert "syncing (snapshot pending)" in text
    assert "ETH-USDT-PERP" in text and "no valid venue book yet" in text


# --------------------------------------------------------------------------- trading


def _market(venue: str, placed: int, pnl: Decimal | None = Decimal("-1.234")) -> MarketRow:
    return MarketRow(
        venue=venue,
        symbol="BTC-USDT-PERP",
        bid=Decimal("59990.5"),
        ask=Decimal("60010"),
        placed=placed,
        filled=1,
        canceled=placed - 1 if placed else 0,
        refused=0,
        fills=2,
        position=Decimal("-0.01"),
        pnl=pnl,
    )


def test_trading_problems_name_venues_that_placed_nothing_and_each_difference() -> None:
    frame = TradingFrame(
        rows=(_market("binance", 3), _market("okx", 0)),
        differences=("okx balance USDT: 1 here, 2 at the venue",),
        checked=True,
        trading_venues=("binance", "okx"),
    )

    assert [
        "okx: the strategy placed no order",
        "okx balance USDT: 1 here, 2 at the venue",
    ] == trading_problems(frame)
    text = _render(render_trading_summary(frame))
    assert "trading: FAILED" in text and "okx: the strategy placed no order" in text


def test_trading_summary_counts_totals_pnl_and_the_verdict() -> None:
    frame = TradingFrame(
        rows=(_market("binance", 3), _market("bybit", 2, Decimal("0.5"))),
        open_orders=0,
        checked=True,
        trading_venues=("binance", "bybit"),
    )

    text = _render(render_trading_summary(frame))

    assert "orders placed 5, filled 2, canceled 3, refused 0; fills 4; open now 0" in text
    assert "P&L -0.73 (quote currency)" in text
    assert "trading: ok, local orders, positions and balances equal the simulator's" in text
    live = _render(
        render_trading(attrs.evolve(frame, recent_fills=("okx BTC-USDT-PERP buy 0.01 @ 60000",)))
    )
    assert "latest fills: okx BTC-USDT-PERP buy 0.01 @ 60000" in live
    assert "59990.5" in live


def test_a_market_without_a_mid_has_no_pnl_while_holding_inventory() -> None:
    stats = MarketStats(venue="okx", symbol=Symbol.parse("BTC-USDT-PERP"))
    assert Decimal(0) == stats.pnl(None)
    stats.inventory, stats.cash = Decimal("0.01"), Decimal("-600")
    assert stats.pnl(None) is None
    assert Decimal("1") == stats.pnl(Decimal("60100"))


def test_strategy_pnl_counts_each_fill_of_its_own_orders_once_with_fees() -> None:
    perp = Symbol.parse("BTC-USDT-PERP")
    spot = Symbol.parse("ETH-USDT-SPOT")
    strategy = QuotingStrategy(Connector(Config()), [("okx", perp), ("bybit", spot)])
    strategy._ours.update({"a1", "b1"})  # as if the strategy had placed them

    def fill(trade: str, cid: str, symbol: Symbol, side: Side, fee: str, asset: str) -> Fill:
        return Fill(
            venue="okx" if symbol == perp else "bybit",
            symbol=symbol,
            client_order_id=cid,
            venue_order_id="1",
            trade_id=trade,
            side=side,
            qty=Decimal("0.01") if symbol == perp else Decimal("0.1"),
            price=Decimal(60000) if symbol == perp else Decimal(3000),
            fee=Decimal(fee),
            fee_asset=asset,
        )

    strategy.on_fill(fill("t1", "a1", perp, Side.BUY, "0.3", "USDT"))
    strategy.on_fill(fill("t1", "a1", perp, Side.BUY, "0.3", "USDT"))  # the same fill again
    strategy.on_fill(fill("t9", "zz", perp, Side.BUY, "0", "USDT"))  # not ours
    strategy.on_fill(fill("t2", "b1", spot, Side.BUY, "0.0001", "ETH"))  # fee in base

    okx = strategy.markets["okx", perp]
    bybit = strategy.markets["bybit", spot]
    assert (okx.fills, okx.inventory, okx.cash) == (1, Decimal("0.01"), Decimal("-600.3"))
    assert (bybit.inventory, bybit.cash) == (Decimal("0.0999"), Decimal("-300"))
    assert Decimal("0.7") == okx.pnl(Decimal(60100))
    assert 2 == strategy.totals().fills
    assert default_size(Symbol.parse("DOGE-USDT-PERP")) is None


def _check_demo_output(out: str) -> None:
    """Every book of every venue ended valid, the consolidated view showed, and the
    strategy traded on every venue with local state equal to the simulator's."""
    assert "demo summary after" in out
    assert f"result: ok, all {4 * len(VENUES)} books valid" in out
    summary_rows = [line for line in out.splitlines() if line.count("│") == 7]
    for venue in VENUES:
        for symbol in ("BTC-USDT-SPOT", "ETH-USDT-SPOT", "BTC-USDT-PERP", "ETH-USDT-PERP"):
            [row] = [r for r in summary_rows if venue in r and symbol in r]
            assert "valid" in row
    assert "consolidated best bid/offer" in out
    assert "trading: ok, local orders, positions and balances equal the simulator's" in out
    summary = out.split("demo trading summary", 1)[1]
    trading_rows = [line.split() for line in summary.splitlines() if "/" in line]
    for venue in VENUES:
        placed = [int(cells[4].split("/")[0]) for cells in trading_rows if cells[0] == venue]
        assert 4 == len(placed) and sum(placed) > 0, out


def test_demo_process_trades_on_every_venue_and_ends_valid_run_after_run(
    tmp_path: Path,
) -> None:
    """Three runs. First the README's command (no config file: an in-memory event log).
    Then twice with one config file (the example's, so a SQLite event log): REST order
    entry, then websocket order entry on every venue, its log replaying the previous
    run's orders, which the new simulator never held. Each run ends with every book
    valid, trades on every venue, and ends with local state equal to the simulator's."""
    example = (Path(connector.config.__file__).parent / "example.toml").read_text()
    websocket = example.replace('order_entry = "rest" ', 'order_entry = "websocket" ')
    assert 3 == websocket.count('order_entry = "websocket"')
    path = tmp_path / "connector.toml"
    demo = [sys.executable, "-m", "connector", "demo", "--duration", "6"]

    for run, text in ((1, None), (2, example), (3, websocket)):
        args = demo
        if text is not None:
            path.write_text(text)
            args = [*demo, "-c", str(path)]
        result = subprocess.run(
            args, capture_output=True, text=True, timeout=PROCESS_TIMEOUT, check=False,
            cwd=tmp_path,
        )  # fmt: skip
        out = result.stdout
        assert 0 == result.returncode, f"run {run}: " + out[-3000:] + result.stderr[-3000:]
        _check_demo_output(out)
    assert (tmp_path / "connector.sqlite").exists()
