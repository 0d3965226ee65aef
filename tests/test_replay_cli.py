"""``connector record`` and ``connector replay``: a live capture, and real captures."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from connector.cli import main
from connector.logs import reset_logging
from tests.conftest import fixture_path

BINANCE_ONLY = """\
[venues.binance]
endpoint = "sim"
symbols = ["BTC-USDT-SPOT", "ETH-USDT-PERP"]

[logging]
level = "warning"
"""

SAMPLES_OKX = "cryptofeed/master/sample_data/OKX-dev.ws.1.0"

EVENT_KEYS = {
    "topic",
    "type",
    "venue",
    "market",
    "symbol",
    "seq",
    "state",
    "ts_event_ns",
    "ts_recv_ns",
}


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    yield
    reset_logging()


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Three seconds of the simulated Binance, recorded compressed; (file, stderr)."""
    folder = tmp_path_factory.mktemp("record")
    config = folder / "binance.toml"
    config.write_text(BINANCE_ONLY, encoding="utf-8")
    capture = folder / "binance.jsonl.zst"
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["record", str(capture), "-c", str(config), "--duration", "3"])
    reset_logging()
    assert 0 == code
    return capture, err.getvalue()


def _summary(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    code = main(["replay", *args, "--summary"])
    out = capsys.readouterr().out
    assert 0 == code
    assert 1 == len(out.splitlines()), "--summary prints exactly one JSON object"
    summary: dict[str, object] = json.loads(out)
    return summary


def _books(summary: dict[str, object]) -> list[dict[str, object]]:
    books = summary["books"]
    assert isinstance(books, list)
    return books


@pytest.mark.timeout(30)
def test_record_prints_how_many_records_it_wrote(recorded: tuple[Path, str]) -> None:
    capture, err = recorded

    line = next(line for line in err.splitlines() if line.startswith("connector: recorded"))
    assert capture.stat().st_size > 0
    assert int(line.split()[2]) > 100


@pytest.mark.timeout(30)
def test_replay_summary_of_a_recording_has_valid_books_and_no_gaps(
    recorded: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    capture, err = recorded
    written = int(next(x for x in err.splitlines() if "recorded" in x).split()[2])

    summary = _summary(capsys, str(capture))

    books = _books(summary)
    assert written == summary["records"]
    assert 0 == summary["malformed"]
    assert {("binance", "spot", "BTC-USDT-SPOT"), ("binance", "linear", "ETH-USDT-PERP")} == {
        (b["venue"], b["market"], b["symbol"]) for b in books
    }
    assert [(0, "valid")] * 2 == [(b["gaps"], b["final_state"]) for b in books]
    assert all(int(str(b["deltas_applied"])) > 5 for b in books)


@pytest.mark.timeout(30)
def test_replay_prints_one_event_per_line_with_book_levels_best_first(
    recorded: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    capture, _ = recorded

    code = main(["replay", str(capture), "--depth", "3"])

    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    books = [e for e in events if e["type"] == "book"]
    assert 0 == code
    assert all(EVENT_KEYS <= set(e) for e in events)
    assert {"book", "trade", "quote"} <= {e["type"] for e in events}
    valid = [e for e in books if e["state"] == "valid"]
    assert valid
    for event in valid:
        bids = [Decimal(p) for p, _ in event["bids"]]
        asks = [Decimal(p) for p, _ in event["asks"]]
        assert 3 == len(bids) == len(asks)
        assert sorted(bids, reverse=True) == bids
        assert sorted(asks) == asks
        assert bids[0] < asks[0]


@pytest.mark.timeout(60)
def test_replay_of_the_real_binance_usdm_capture_ends_valid_without_gaps(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = fixture_path("hftbacktest/examples/usdm/btcusdt_20240808.gz")

    summary = _summary(capsys, str(path), "--venue", "binance", "--market", "linear")

    [book] = _books(summary)
    assert ("binance", "linear", "BTC-USDT-PERP") == (book["venue"], book["market"], book["symbol"])
    assert (0, 0, "valid") == (book["gaps"], book["crossed"], book["final_state"])
    assert int(str(book["deltas_applied"])) > 1000


@pytest.mark.timeout(30)
def test_replay_of_the_real_bybit_cryptofeed_capture_ends_valid_without_gaps(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = fixture_path("cryptofeed/v3/sample_data/BYBIT-dev.jsonl.zst")

    summary = _summary(capsys, str(path))

    books = _books(summary)
    assert books
    assert {"bybit"} == {b["venue"] for b in books}
    assert all((0, "valid") == (b["gaps"], b["final_state"]) for b in books), books


def test_replay_of_a_missing_file_exits_2_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["replay", str(tmp_path / "nope.jsonl")])

    assert 2 == code
    assert "nope.jsonl" in capsys.readouterr().err


def test_replay_rejects_an_unknown_venue_and_market_with_one_line_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["replay", str(tmp_path / "x.gz"), "--venue", "kraken", "--market", "perp"])

    err = capsys.readouterr().err.splitlines()
    assert 2 == code
    assert 2 == len(err)
    assert "kraken" in err[0] and "perp" in err[1]


def test_record_into_a_missing_directory_exits_2_before_connecting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["record", str(tmp_path / "no" / "such" / "dir.jsonl"), "--duration", "1"])

    assert 2 == code
    assert "does not exist" in capsys.readouterr().err


def test_replay_of_a_capture_without_urls_asks_for_venue_and_market(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = fixture_path("hftbacktest/examples/spot/btcusdt_20240808.gz")

    code = main(["replay", str(path), "--summary"])

    assert 2 == code
    err = capsys.readouterr().err
    assert "pass --venue and --market" in err


def _replay_with_engine(engine: str, *args: str) -> str:
    """``connector replay ARGS`` in a process whose books use ``engine``."""
    done = subprocess.run(
        [sys.executable, "-m", "connector", "replay", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "CONNECTOR_BOOK_ENGINE": engine},
        check=False,
    )
    assert 0 == done.returncode, done.stderr
    return done.stdout


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "args",
    [
        ("cryptofeed/v3/sample_data/BYBIT-dev.jsonl.zst",),
        (SAMPLES_OKX,),
        ("hftbacktest/examples/spot/btcusdt_20240808.gz", "--venue", "binance", "--market", "spot"),
    ],
    ids=["bybit", "okx", "binance-spot"],
)
def test_replay_prints_the_same_events_with_either_book_engine(args: tuple[str, ...]) -> None:
    path, *rest = args
    argv = (str(fixture_path(path)), *rest, "--depth", "10")

    native = _replay_with_engine("native", *argv)
    python = _replay_with_engine("python", *argv)

    assert native.count("\n") > 100
    assert native == python


def test_an_unknown_book_engine_is_refused_naming_the_variable() -> None:
    # The books' package checks it when imported (``import connector`` alone loads no book).
    done = subprocess.run(
        [sys.executable, "-c", "import connector.book"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "CONNECTOR_BOOK_ENGINE": "fast"},
        check=False,
    )
    assert 0 != done.returncode
    assert "CONNECTOR_BOOK_ENGINE='fast': expected 'native' or 'python'" in done.stderr


_REPLAY_LOADS = """
import sys
from connector.cli import main
code = main(["replay", "--summary", sys.argv[1]])
print(code, " ".join(sorted(sys.modules)))
"""


def test_replay_starts_without_trio_the_network_the_trading_half_or_the_simulator(
    tmp_path: Path,
) -> None:
    capture = tmp_path / "one-frame.jsonl"
    frame = json.dumps({"e": "trade", "E": 1, "s": "BTCUSDT", "t": 1, "p": "1", "q": "1"})
    record = {
        "t": "recv",
        "conn": "1",
        "ts_ns": 1,
        "venue": "binance",
        "market": "spot",
        "url": "wss://stream.binance.com:9443/ws/btcusdt@trade",
        "data": frame,
    }
    capture.write_text(json.dumps(record) + "\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-c", _REPLAY_LOADS, str(capture)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    summary, last = done.stdout.splitlines()
    code, *loaded = last.split(" ")

    assert "0" == code
    assert 1 == json.loads(summary)["records"]
    assert "connector.replay" in loaded
    heavy = ("trio", "httpx", "connector.net", "connector.trading", "connector.sim")
    heavy += ("connector.account", "connector.oms", "connector.connector", "connector.config")
    heavy += ("connector.venues.binance.trading", "connector.venues.bybit", "connector.venues.okx")
    assert [] == [m for m in loaded if m in heavy or m.startswith(tuple(h + "." for h in heavy))]
