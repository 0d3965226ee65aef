"""``connector sim``, ``stream`` and ``book``, and the book view they draw."""

from __future__ import annotations

import io
import json
import signal
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console

from connector.cli import main
from connector.cli.views import BookPanel, UpdateRate, format_number, render_book
from connector.model import BookLevel, BookState

PROCESS_TIMEOUT = 30

BINANCE_ONLY = """\
[venues.binance]
endpoint = "sim"
symbols = ["BTC-USDT-SPOT", "BTC-USDT-PERP"]

[logging]
level = "warning"
"""


@pytest.fixture
def binance_config(tmp_path: Path) -> Path:
    path = tmp_path / "binance.toml"
    path.write_text(BINANCE_ONLY, encoding="utf-8")
    return path


def _json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _render(renderable: object, width: int = 100) -> str:
    buffer = io.StringIO()
    Console(file=buffer, width=width, color_system=None).print(renderable)
    return buffer.getvalue()


# --------------------------------------------------------------------------- sim


def _sim_process(*args: str, probe: Callable[[dict[str, Any]], Any]) -> tuple[Any, int]:
    """Run ``connector sim ARGS``, call ``probe`` with its first JSON line, then Ctrl-C it.

    Returns:
        What ``probe`` returned and the process's exit code.
    """
    command = [sys.executable, "-m", "connector", "sim", *args]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    watchdog = threading.Timer(PROCESS_TIMEOUT, proc.kill)
    watchdog.start()
    try:
        assert proc.stdout is not None
        seen = probe(json.loads(proc.stdout.readline()))
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=PROCESS_TIMEOUT)
    finally:
        watchdog.cancel()
        proc.kill()
        proc.wait()
    return seen, code


def test_sim_process_prints_urls_that_answer_and_exits_0_on_ctrl_c() -> None:
    def probe(urls: dict[str, Any]) -> tuple[dict[str, Any], httpx.Response]:
        return urls, httpx.get(urls["binance"]["spot.rest"] + "/api/v3/ping", timeout=5)

    (urls, ping), code = _sim_process("--venues", "binance", "--rate", "20", probe=probe)

    assert {"spot.rest", "spot.ws", "linear.rest", "linear.ws"} <= set(urls["binance"])
    assert (200, {}) == (ping.status_code, ping.json())
    assert 0 == code


def test_sim_rejects_an_unknown_venue_and_a_bad_port_with_one_line_each(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["sim", "--venues", "kraken", "--port", "binance.spot", "--bases", "DOGE"])

    err = capsys.readouterr().err.splitlines()
    assert 2 == code
    assert 3 == len(err)
    assert "kraken" in err[0] and "DOGE" in err[1] and "binance.spot" in err[2]


@pytest.mark.parametrize(
    "argv",
    [
        ["sim", "--rate", "nan"],
        ["sim", "--rate", "-5"],
        ["status", "--wait", "nan"],
        ["status", "--wait", "-1"],
        ["status", "--timeout", "inf"],
    ],
)
def test_a_number_argument_out_of_range_is_a_usage_error(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as usage:
        main(argv)

    [line] = capsys.readouterr().err.splitlines()[-1:]
    assert 2 == usage.value.code
    assert f"argument {argv[1]}: '{argv[2]}' must be a" in line, line


def test_sim_process_with_tls_and_a_fault_file_serves_both(tmp_path: Path) -> None:
    faults = tmp_path / "faults.toml"
    faults.write_text(
        '[[fault]]\nkind = "rest_error"\nfraction = 1\nstatus = 502\npath = "/api/v3/ping"\n',
        encoding="utf-8",
    )

    def probe(first: dict[str, Any]) -> tuple[dict[str, Any], httpx.Response, httpx.Response]:
        context = ssl.create_default_context(cafile=first["ca_file"])
        rest = first["binance"]["spot.rest"]
        ping = httpx.get(rest + "/api/v3/ping", timeout=5, verify=context)
        return first, ping, httpx.get(rest + "/api/v3/time", timeout=5, verify=context)

    (first, ping, clock), code = _sim_process(
        "--venues", "binance", "--rate", "20", "--tls", "--faults", str(faults), probe=probe
    )
    rest = first["binance"]["spot.rest"]

    assert rest.startswith("https://")
    assert first["binance"]["spot.ws"].startswith("wss://")
    assert (502, 200) == (ping.status_code, clock.status_code)
    assert 0 == code


def test_sim_process_with_a_latency_setting_answers_no_sooner() -> None:
    def probe(urls: dict[str, Any]) -> httpx.Response:
        return httpx.get(urls["bybit"]["linear.rest"] + "/v5/market/time", timeout=5)

    clock, code = _sim_process(
        "--venues", "bybit", "--rate", "20", "--setting", "bybit.latency=0.3", probe=probe
    )

    assert 200 == clock.status_code
    assert clock.elapsed.total_seconds() >= 0.3
    assert 0 == code


def test_sim_refuses_a_malformed_setting_and_one_for_a_venue_not_served(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["sim", "--venues", "bybit", "--setting", "bybit.latency", "--setting", "okx.x=1"])

    err = capsys.readouterr().err.splitlines()
    assert 2 == code
    assert 2 == len(err)
    assert "--setting 'bybit.latency': expected VENUE.NAME=VALUE" in err[0]
    assert "--setting 'okx.x=1': 'okx' is not a served venue" in err[1]


def test_sim_refuses_a_bad_fault_file_naming_each_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    faults = tmp_path / "faults.toml"
    faults.write_text('[[fault]]\nkind = "drop"\nfraction = 3\nvenue = "kraken"\n')

    code = main(["sim", "--venues", "binance", "--faults", str(faults)])

    err = capsys.readouterr().err.splitlines()
    assert 2 == code
    assert 2 == len(err)
    assert "fault[0] (drop): fraction = 3: expected a fraction from 0 to 1" in err[0]
    assert "fault[0] (drop): venue = 'kraken': expected one of binance, bybit, okx" in err[1]


def test_sim_refuses_each_option_out_of_range_with_one_line_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    faults = tmp_path / "faults.toml"
    faults.write_text('[[fault]]\nkind = "clock_skew"\nms = 99999999999999999999\n')

    ports = ["--port", "binance.spot=99999", "--port", "kraken=9000", "--port", "binance.linear=1"]
    code = main(
        [
            *("sim", "--venues", "binance", "--markets", "spot", "spt"),
            *("--seed", "-1", "--rate", "1e5", *ports, "--faults", str(faults)),
        ]
    )

    err = capsys.readouterr().err.splitlines()
    assert 2 == code
    assert [
        "connector: config error: sim: --markets 'spt': expected any of spot, linear",
        "connector: config error: sim: --seed -1: expected an integer from 0 to 4294967295",
        "connector: config error: sim: --rate 100000.0: expected 0 to 40000 book changes per "
        "second per instrument, about what the simulator makes on one core (docs/simulator.md)",
        "connector: config error: sim: --port 'binance.spot=99999': expected a port from 0 to "
        "65535 (0: any free port)",
        "connector: config error: sim: --port 'kraken=9000': 'kraken' is not a served venue",
        "connector: config error: sim: --port 'binance.linear=1': binance serves no market "
        "'linear' (it serves spot)",
        f"connector: config error: {faults}: fault[0] (clock_skew): ms = 99999999999999999999: "
        "expected an integer from -86400000 to 86400000 (a day)",
    ] == err


def test_sim_refuses_markets_that_leave_a_venue_nothing_to_serve(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["sim", "--venues", "binance", "okx", "--markets", "swap", "--port", "okx=99999"])

    err = capsys.readouterr().err.splitlines()
    assert 2 == code
    assert [
        "connector: config error: sim: binance serves nothing: --markets swap names none of its "
        "markets (spot, linear)",
        "connector: config error: sim: --port 'okx=99999': expected a port from 0 to 65535 "
        "(0: any free port)",
    ] == err


def test_sim_on_a_port_in_use_prints_one_line_and_exits_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = main(["sim", "--venues", "okx", "--rate", "20", "--port", f"okx={port}"])

    err = [line for line in capsys.readouterr().err.splitlines() if not line.startswith("{")]
    assert 1 == code
    assert [f"connector: error: sim: cannot serve okx on 127.0.0.1 (spot={port}): "] == [
        line[: line.index("): ") + 3] for line in err
    ]


# --------------------------------------------------------------------------- config check


def test_config_check_refuses_a_key_with_a_newline_naming_the_file_not_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = "JQXSKDKRyMlAtXZ7IZHhNu1DdDHx50quqzm6mShThoj8eWOyogsZSrC9IoqAn6hC"
    secrets = tmp_path / "s.toml"
    secrets.write_text(f'[binance]\napi_key = "{key}\\n"\napi_secret = "x-secret"\n')
    config = tmp_path / "c.toml"
    config.write_text('secrets_file = "s.toml"\n[venues.binance]\nsymbols = ["BTC-USDT-PERP"]\n')

    code = main(["config", "check", str(config)])

    out, err = capsys.readouterr()
    assert (2, "") == (code, out)
    assert [
        f"connector: config error: binance credentials: api_key (from secrets file "
        f"{str(secrets)!r} [binance]) has a line break at its end; keys, HMAC secrets and "
        "passphrases hold no whitespace or control characters"
    ] == err.splitlines()
    assert key not in err


def test_config_check_refuses_an_enabled_venue_without_symbols(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[venues.okx]\nsymbols = []\n[venues.bybit]\nenabled = false\nsymbols = []\n")

    code = main(["config", "check", str(config)])

    assert 2 == code
    assert [
        "connector: config error: venues.okx.symbols = []: an enabled venue streams at least "
        "one symbol; set enabled = false to keep it idle"
    ] == capsys.readouterr().err.splitlines()


# --------------------------------------------------------------------------- stream


@pytest.mark.timeout(30)
def test_stream_prints_json_lines_whose_books_become_valid(
    binance_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["stream", "-c", str(binance_config), "--duration", "3"])

    events = _json_lines(capsys.readouterr().out)
    books = [e for e in events if e["type"] == "BookUpdate"]
    assert 0 == code
    assert {"BookUpdate", "Trade", "Quote", "ConnectionEvent"} <= {e["type"] for e in events}
    assert {"BTC-USDT-SPOT", "BTC-USDT-PERP"} == {e["symbol"] for e in books}
    assert all(e["topic"] == f"orderbook.binance.{e['symbol']}" for e in books)
    valid = [e for e in books if e["state"] == {"status": "valid", "reason": None}]
    assert valid, "no book update reached the valid state"
    # Money is exact text, never a float.
    best_bid = valid[-1]["best_bid"]
    assert isinstance(best_bid, list)
    assert [str, str] == [type(x) for x in best_bid]
    assert Decimal(best_bid[0]) > 0


@pytest.mark.timeout(30)
def test_stream_count_stops_after_exactly_n_events_of_the_topics_asked(
    binance_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["stream", "-c", str(binance_config), "--topics", "trade.>", "--count", "7"])

    events = _json_lines(capsys.readouterr().out)
    assert 0 == code
    assert 7 == len(events)
    assert {"Trade"} == {e["type"] for e in events}


def test_stream_rejects_an_invalid_topic_pattern_with_exit_2(
    binance_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["stream", "-c", str(binance_config), "--topics", "orderbook.>.x"])

    assert 2 == code
    assert "orderbook.>.x" in capsys.readouterr().err


# --------------------------------------------------------------------------- book


@pytest.mark.timeout(30)
def test_book_with_duration_prints_a_final_table_of_a_valid_book(
    binance_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "book",
            "binance",
            "BTC-USDT-SPOT",
            "-c",
            str(binance_config),
            "--duration",
            "3",
            "--depth",
            "4",
        ]
    )

    out = capsys.readouterr().out
    final = out[out.rindex("binance BTC-USDT-SPOT") :]
    assert 0 == code
    assert "state valid" in " ".join(final.split())
    # Without a terminal it also printed a plain snapshot about once a second.
    assert out.count("binance BTC-USDT-SPOT") >= 2
    rows = [line for line in final.splitlines() if line.count("│") == 5]
    assert 4 == len(rows)


@pytest.mark.timeout(30)
def test_book_of_a_symbol_the_config_does_not_stream_exits_1_with_the_reason(
    binance_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["book", "binance", "SOL-USDT-SPOT", "-c", str(binance_config)])

    assert 1 == code
    assert "SOL-USDT-SPOT" in capsys.readouterr().err


def test_book_rejects_a_malformed_symbol_with_exit_2(
    binance_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["book", "binance", "BTCUSDT", "-c", str(binance_config)])

    assert 2 == code
    assert "BTCUSDT" in capsys.readouterr().err


# --------------------------------------------------------------------------- views


def test_render_book_shows_levels_best_first_with_state_seq_and_rate() -> None:
    panel = BookPanel(
        venue="okx",
        symbol="ETH-USDT-PERP",
        state=BookState.VALID,
        seq=42,
        bids=(
            BookLevel(Decimal("3000.10"), Decimal("2")),
            BookLevel(Decimal("2999"), Decimal("1")),
        ),
        asks=(BookLevel(Decimal("3000.5"), Decimal("0.50")),),
        updates=17,
        rate=8.25,
    )

    text = _render(render_book(panel))

    assert "okx ETH-USDT-PERP" in text
    assert "state valid  seq 42  8.2/s  17 updates" in text
    first, second = (line for line in text.splitlines() if "3000.1" in line or "2999" in line)
    assert "3000.1" in first and "3000.5" in first and "0.5" in first
    assert "2999" in second


def test_render_book_of_an_invalid_book_names_the_reason_and_has_no_levels() -> None:
    panel = BookPanel(
        venue="binance",
        symbol="BTC-USDT-SPOT",
        state=BookState.invalid("gap: expected 8 got 10"),
        seq=7,
        bids=(),
        asks=(),
    )

    text = _render(render_book(panel))

    assert "invalid (gap: expected 8 got 10)" in text
    assert "(no levels)" in text


def test_format_number_drops_trailing_zeros_but_keeps_integers_whole() -> None:
    actual = [
        format_number(Decimal(x)) for x in ("60001.70000000", "60000", "6E+4", "0.00100", "5.0")
    ]

    assert ["60001.7", "60000", "60000", "0.001", "5"] == actual
    assert "-" == format_number(None)


def test_update_rate_averages_over_the_window_and_forgets_older_events() -> None:
    meter = UpdateRate(window=2.0, resolution=0.5)
    for i in range(40):  # 10 per second from t=100 to t=104
        meter.add(100.0 + i * 0.1)

    assert 40 == meter.total
    assert 10.0 == pytest.approx(meter.rate(103.95), abs=1.0)
    assert 0.0 == meter.rate(110.0)


def test_update_rate_before_a_full_window_uses_the_time_since_the_first_event() -> None:
    meter = UpdateRate(window=5.0, resolution=0.25)
    meter.add(10.0, 5)
    meter.add(10.5, 5)

    assert 10 / 1.0 == pytest.approx(meter.rate(11.0))
    assert 0.0 == UpdateRate().rate(3.0)


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["stream", "--topics", "tickr.>"], "no topic is of type 'tickr'"),
        (["stream", "--topics", "orderbook.okx.>", "fill.binanse.>"], "venue 'binanse'"),
        (["book", "binanse", "BTC-USDT-PERP"], "venue 'binanse' is not enabled here"),
        (["book", "Binance", "BTC-USDT-PERP"], "venue 'Binance' is not enabled here"),
    ],
)
def test_a_pattern_no_topic_can_match_is_a_usage_error_before_anything_starts(
    argv: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(argv)

    err = capsys.readouterr().err.splitlines()
    assert 2 == code
    assert 1 == len(err)
    assert err[0].startswith(f"connector: error: {argv[0]}: invalid pattern ")
    assert named in err[0]
