"""``connector reconcile`` against one standalone ``connector sim`` process.

Two installs (two config folders, so two event stores) trade the same simulated
account: what one placed is, to the other, an order placed behind its back.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.cli import main
from tests.cli.test_trading import FAR_ASK, SYMBOL, standalone_sim, write_config

PROCESS_TIMEOUT = 60
VENUE = "okx"


@pytest.fixture(scope="module")
def sim_line() -> Iterator[dict[str, Any]]:
    with standalone_sim() as line:
        yield line


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main([*argv, "--timeout", str(PROCESS_TIMEOUT)])
    out, err = capsys.readouterr()
    return code, out, err


def test_reconcile_reports_at_start_what_the_store_did_not_know(
    sim_line: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "other").mkdir()
    mine = write_config(tmp_path / "mine", sim_line, [VENUE])
    other = write_config(tmp_path / "other", sim_line, [VENUE])
    code, _, err = _run(
        capsys, "order", "place", VENUE, SYMBOL, "sell", "limit", "0.01", FAR_ASK,
        "--client-id", "elsewhere1", "-c", str(other),
    )  # fmt: skip
    assert 0 == code, err

    # My store never heard of it: the start-up reconciliation finds it, the one after does not.
    code, out, err = _run(capsys, "reconcile", "--venue", VENUE, "--json", "-c", str(mine))
    assert 0 == code, err
    [line] = [json.loads(text) for text in out.splitlines()]
    assert VENUE == line["venue"]
    assert 1 == line["at_start"].get("order_unknown"), line
    assert {} == line["discrepancies"]
    assert "requested" in line["reasons"] and line["number"] >= 2 and line["completed_ns"] > 0

    # The order is in my store now: nothing is news at the next start.
    code, out, err = _run(capsys, "reconcile", "-c", str(mine))
    assert 0 == code, err
    assert ["venue  kind  at start  now", f"{VENUE}    none         0    0"] == out.splitlines()


def test_reconcile_of_a_venue_the_config_does_not_enable_is_a_usage_error(
    sim_line: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, sim_line, [VENUE])
    code, out, err = _run(capsys, "reconcile", "--venue", "kraken", "-c", str(config))
    assert 2 == code
    assert "" == out
    assert "venue 'kraken' is not enabled in the config" in err


def test_a_venue_whose_reconciliation_fails_is_named_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    faults = tmp_path / "faults.toml"
    faults.write_text(
        '[[fault]]\nkind = "rest_error"\nfraction = 1.0\nvenue = "okx"\n'
        'path = "/api/v5/trade/orders-pending"\n',
        encoding="utf-8",
    )
    with standalone_sim("--faults", str(faults)) as line:
        config = write_config(tmp_path, line, ["binance", VENUE])
        code, out, err = _run(capsys, "reconcile", "--json", "-c", str(config))
    assert 1 == code
    lines = {entry["venue"]: entry for entry in map(json.loads, out.splitlines())}
    assert ["binance", VENUE] == sorted(lines)
    assert {} == lines["binance"]["discrepancies"] and "error" not in lines["binance"]
    assert "/api/v5/trade/orders-pending: HTTP 503" in lines[VENUE]["error"]
    assert "number" not in lines[VENUE]
    assert f"connector: reconcile: {VENUE}: GET /api/v5/trade/orders-pending: HTTP 503" in err
