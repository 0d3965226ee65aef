"""The ``connector`` command line, in-process (``main([...])``) and as a real process."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import attrs
import pytest

from connector import __version__
from connector.cli import main
from connector.config import Config, load_config

PROCESS_TIMEOUT = 60

DISABLED = "".join(f"[venues.{name}]\nenabled = false\n\n" for name in ("binance", "bybit", "okx"))

INVALID = """\
[venues.binance]
endpoint = "mainnet"
book_depth = -5

[logging]
level = "loud"
"""


@pytest.fixture
def disabled_config(tmp_path: Path) -> Path:
    path = tmp_path / "disabled.toml"
    path.write_text(DISABLED, encoding="utf-8")
    return path


@pytest.fixture
def invalid_config(tmp_path: Path) -> Path:
    path = tmp_path / "invalid.toml"
    path.write_text(INVALID, encoding="utf-8")
    return path


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-m", "connector", *args],
        capture_output=True,
        text=True,
        timeout=PROCESS_TIMEOUT,
        env=env,
        check=False,
    )


# --------------------------------------------------------------------------- --version


def test_version_flag_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])

    assert 0 == info.value.code
    assert f"connector {__version__}\n" == capsys.readouterr().out


def test_version_flag_in_a_process_prints_the_version() -> None:
    result = _run("--version")

    assert (0, f"connector {__version__}\n") == (result.returncode, result.stdout)


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert 2 == main([])
    assert "usage: connector" in capsys.readouterr().out


# --------------------------------------------------------------------------- config check


def test_config_check_of_valid_file_prints_ok_and_exits_0(
    disabled_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert 0 == main(["config", "check", str(disabled_config)])

    out = capsys.readouterr()
    assert f"{disabled_config}: ok; venues: none enabled\n" == out.out
    assert "" == out.err


def test_config_check_names_enabled_venues(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "one.toml"
    path.write_text(
        '[venues.okx]\nendpoint = "testnet"\nsymbols = ["BTC-USDT-SPOT"]\n', encoding="utf-8"
    )

    assert 0 == main(["config", "check", str(path)])
    assert f"{path}: ok; venues: okx (testnet, 1 symbols)\n" == capsys.readouterr().out
    # -c FILE, as every other command takes it
    assert 0 == main(["config", "check", "-c", str(path)])
    assert f"{path}: ok; venues: okx (testnet, 1 symbols)\n" == capsys.readouterr().out


def test_config_check_of_invalid_file_prints_one_line_per_problem_and_exits_2(
    invalid_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert 2 == main(["config", "check", str(invalid_config)])

    out = capsys.readouterr()
    assert "" == out.out
    lines = out.err.splitlines()
    assert 3 == len(lines)
    assert all(line.startswith("connector: config error: ") for line in lines)
    by_key = {line.split(": ", 2)[2].split(" = ")[0]: line for line in lines}
    assert {"venues.binance.endpoint", "venues.binance.book_depth", "logging.level"} == set(by_key)
    # Each line names the key, the bad value and what was expected.
    assert "'mainnet'" in by_key["venues.binance.endpoint"]
    assert "expected one of live, testnet, sim, custom" in by_key["venues.binance.endpoint"]
    assert "-5" in by_key["venues.binance.book_depth"]
    assert "expected an integer >= 0" in by_key["venues.binance.book_depth"]
    assert "'loud'" in by_key["logging.level"]
    assert "expected one of debug, info, warning, error, critical" in by_key["logging.level"]


def test_config_check_of_invalid_file_in_a_process_has_no_traceback(
    invalid_config: Path,
) -> None:
    result = _run("config", "check", str(invalid_config))

    assert 2 == result.returncode
    assert "" == result.stdout
    assert 3 == len(result.stderr.splitlines())
    assert "Traceback" not in result.stderr


def test_config_check_of_missing_file_prints_one_clear_line_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.toml"

    assert 2 == main(["config", "check", str(missing)])

    err = capsys.readouterr().err
    assert [f"connector: config error: config file {str(missing)!r} not found"] == (
        err.splitlines()
    )


def test_config_check_of_missing_file_in_a_process_has_no_traceback(tmp_path: Path) -> None:
    result = _run("config", "check", str(tmp_path / "nope.toml"))

    assert 2 == result.returncode
    assert 1 == len(result.stderr.splitlines())
    assert "not found" in result.stderr
    assert "Traceback" not in result.stderr


def test_config_check_of_broken_toml_names_line_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[logging]\nlevel = \n", encoding="utf-8")

    assert 2 == main(["config", "check", str(path)])

    (line,) = capsys.readouterr().err.splitlines()
    assert "invalid TOML at line 2, column" in line


def test_config_check_without_a_file_argument_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["config", "check"])

    assert 2 == info.value.code
    assert "file" in capsys.readouterr().err


# --------------------------------------------------------------------------- config example


def test_config_example_output_loads_to_the_default_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert 0 == main(["config", "example"])
    path = tmp_path / "example.toml"
    path.write_text(capsys.readouterr().out, encoding="utf-8")

    loaded = load_config(path, env={})
    assert Config() == attrs.evolve(loaded, storage=attrs.evolve(loaded.storage, kind=None,
                                    sqlite_path=Path("connector.sqlite")))  # fmt: skip


def test_config_example_in_a_process_passes_config_check(tmp_path: Path) -> None:
    example = _run("config", "example")
    assert 0 == example.returncode
    path = tmp_path / "example.toml"
    path.write_text(example.stdout, encoding="utf-8")

    check = _run("config", "check", str(path))

    assert (0, "") == (check.returncode, check.stderr)
    assert "ok; venues: binance (sim, 4 symbols)" in check.stdout


# --------------------------------------------------------------------------- status


def test_status_prints_the_tree_and_exits_0(
    disabled_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert 0 == main(["status", "-c", str(disabled_config), "--wait", "0"])

    out = capsys.readouterr().out
    *tree, store = out.splitlines()
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
    assert store.startswith("store memory memory: open, 0 appends")
    assert not (disabled_config.parent / "connector.sqlite").exists()


def test_status_in_a_process_prints_the_tree_and_exits_0(disabled_config: Path) -> None:
    result = _run("status", "--config", str(disabled_config), "--wait", "0")

    assert 0 == result.returncode, result.stderr
    assert result.stdout.startswith("root  running  restarts=0  one_for_one\n")
    assert "├── health  running" in result.stdout
    assert "Traceback" not in result.stderr


@pytest.fixture
def unreachable_config(tmp_path: Path) -> Path:
    """OKX at a loopback port nothing listens on (its keys are never checked)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"127.0.0.1:{port}"
    urls = {"swap.rest": f"http://{base}", "swap.ws": f"ws://{base}"}
    path = tmp_path / "unreachable.toml"
    path.write_text(
        "[venues.binance]\nenabled = false\n[venues.bybit]\nenabled = false\n"
        '[venues.okx]\nendpoint = "custom"\nsymbols = ["BTC-USDT-PERP"]\nchannels = ["book"]\n'
        "[venues.okx.urls]\n"
        + "".join(f'"{k}" = "{v}"\n' for k, v in urls.items())
        + '[storage]\nkind = "memory"\n',
        encoding="utf-8",
    )
    return path


def test_status_of_a_venue_that_cannot_connect_prints_the_tree_and_why(
    unreachable_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # What one runs `status` for: it used to wait for the start forever.
    assert 1 == main(["status", "-c", str(unreachable_config), "--timeout", "2"])

    out, err = capsys.readouterr()
    assert out.startswith("root  starting")
    assert "venue okx: breaker" in out
    line = err.strip().splitlines()[-1]  # after the config's logs
    assert line.startswith("connector: error: not started after 2 s: okx: "), line
    assert "cannot connect to 127.0.0.1:" in line


def test_a_trading_command_that_gives_up_names_the_venue_that_kept_it(
    unreachable_config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONNECTOR_OKX_API_KEY", "k")
    monkeypatch.setenv("CONNECTOR_OKX_API_SECRET", "s")
    monkeypatch.setenv("CONNECTOR_OKX_PASSPHRASE", "p")
    assert 1 == main(["orders", "-c", str(unreachable_config), "--timeout", "2"])

    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("connector: error: gave up after 2 s (see --timeout): okx: "), line
    assert "cannot connect to 127.0.0.1:" in line


def test_status_with_invalid_config_exits_2_without_starting(
    invalid_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert 2 == main(["status", "-c", str(invalid_config), "--wait", "0"])

    out = capsys.readouterr()
    assert "" == out.out
    assert 3 == len(out.err.splitlines())


def test_configuration_doc_shows_the_current_config_example(
    capsys: pytest.CaptureFixture[str],
) -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text("utf-8")
    assert 0 == main(["config", "example"])
    example = capsys.readouterr().out

    last_block = doc.rsplit("```toml\n", 1)[1].split("```", 1)[0]
    assert example == last_block
