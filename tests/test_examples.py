"""Smoke tests: every example in ``examples/`` runs to completion."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

DISABLED = "".join(f"[venues.{name}]\nenabled = false\n\n" for name in ("binance", "bybit", "okx"))


def test_status_example_prints_the_supervision_tree(tmp_path: Path) -> None:
    config = tmp_path / "connector.toml"
    config.write_text(DISABLED, encoding="utf-8")

    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "status.py"), str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        # This checkout's package (not whichever one is installed).
        env={"PATH": "/usr/bin:/bin", "PYTHONIOENCODING": "utf-8", "PYTHONPATH": str(ROOT)},
        check=False,
    )

    assert 0 == result.returncode, result.stderr
    *tree, store = result.stdout.splitlines()
    assert [
        "root  running  restarts=0  one_for_one",
        "├── health  running  restarts=0  permanent",
        "├── risk  running  restarts=0  permanent",
        "├── persistence  running  restarts=0  all_for_one",
        "│   ├── writer  running  restarts=0  permanent",
        "│   └── reconciler  running  restarts=0  permanent",
        "└── aggregator  running  restarts=0  transient",
    ] == tree
    # Nothing trades (every venue disabled): no store is opened, the log stays in memory.
    assert store.startswith("store memory memory: open")
    assert not (tmp_path / "connector.sqlite").exists()


def test_status_example_rejects_extra_arguments() -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "status.py"), "a.toml", "b.toml"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert 1 == result.returncode
    assert "usage:" in result.stderr


def test_best_prices_example_prints_consolidated_quotes_from_the_simulator() -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "best_prices.py"), "BTC-USDT-PERP", "4"],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )

    assert 0 == result.returncode, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("BTC-USDT-PERP  bid ") for line in lines), result.stdout
    tops = [line for line in lines if line.split()[0] in ("binance", "bybit", "okx")]
    assert 3 == len(tops)
    assert all(line.split()[1] == "valid" for line in tops), tops


def _run_example(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_market_making_example_quotes_both_sides_and_cancels_them_at_the_end() -> None:
    result = _run_example(str(EXAMPLES / "market_making.py"), "bybit", "BTC-USDT-PERP", "4")

    assert 0 == result.returncode, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("place  buy ") for line in lines), result.stdout
    assert any(line.startswith("place  sell ") for line in lines), result.stdout
    [summary] = [line for line in lines if line.startswith("summary bybit BTC-USDT-PERP:")]
    fills = int(summary.rsplit("fills ", 1)[1])
    assert fills == sum(1 for line in lines if line.startswith("fill "))


def test_cross_venue_example_hedges_every_fill_and_ends_flat() -> None:
    result = _run_example(str(EXAMPLES / "cross_venue.py"), "okx", "BTC-USDT-PERP", "4")

    assert 0 == result.returncode, result.stderr
    lines = result.stdout.splitlines()
    [net] = [line for line in lines if line.startswith("net position ")]
    assert Decimal(0) == Decimal(net.split()[-1]), result.stdout
    [positions] = [line for line in lines if line.startswith("positions ")]
    held = positions.removeprefix("positions ").split(", ")
    assert {"binance", "bybit", "okx"} == {entry.split()[0] for entry in held}
    hedged = [line for line in lines if line.startswith("  hedged on ")]
    assert all(line.split()[2] in ("binance:", "bybit:") for line in hedged), hedged
