"""``connector demo``: every venue on the built-in simulator, a live view, a summary."""

from __future__ import annotations

import io
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from rich.console import Console

from connector.cli import main
from connector.cli.views import DemoFrame, VenueRow, demo_problems, render_demo, render_demo_summary
from connector.health import BreakerState, VenueHealth
from connector.model import BookLevel, BookState, ConsolidatedBook, Symbol, VenueLevel

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


def test_demo_process_runs_every_venue_and_ends_valid() -> None:
    venues = list(VENUES)
    args = [sys.executable, "-m", "connector", "demo", "--duration", "8"]

    result = subprocess.run(
        args, capture_output=True, text=True, timeout=PROCESS_TIMEOUT, check=False
    )

    out = result.stdout
    assert 0 == result.returncode, out + result.stderr[-3000:]
    assert "demo summary after" in out
    assert f"result: ok, all {4 * len(venues)} books valid" in out
    summary_rows = [line for line in out.splitlines() if line.count("│") == 7]
    for venue in venues:
        for symbol in ("BTC-USDT-SPOT", "ETH-USDT-SPOT", "BTC-USDT-PERP", "ETH-USDT-PERP"):
            [row] = [r for r in summary_rows if venue in r and symbol in r]
            assert "valid" in row
    assert "consolidated best bid/offer" in out


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
