"""``connector status`` (and the demo's health line) show each venue's health status
(healthy, degraded, down) and why."""

from __future__ import annotations

import io
import socket
from pathlib import Path

import pytest
from rich.console import Console

from connector.cli import main
from connector.cli.views import DemoFrame, render_demo
from connector.health import BreakerState, VenueHealth
from connector.model import HealthStatus

SIM_BYBIT = """\
[venues.binance]
enabled = false
[venues.okx]
enabled = false
[venues.bybit]
endpoint = "sim"
symbols = ["BTC-USDT-PERP"]
channels = ["book"]
[storage]
kind = "memory"
[logging]
level = "warning"
"""


def _status_line(out: str, venue: str) -> str:
    [line] = [line for line in out.splitlines() if line.startswith(f"venue {venue}: ")]
    return line


def test_status_of_a_venue_that_cannot_connect_says_it_is_down(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        base = f"127.0.0.1:{probe.getsockname()[1]}"
    config = tmp_path / "unreachable.toml"
    config.write_text(
        "[venues.binance]\nenabled = false\n[venues.bybit]\nenabled = false\n"
        '[venues.okx]\nendpoint = "custom"\nsymbols = ["BTC-USDT-PERP"]\nchannels = ["book"]\n'
        f'[venues.okx.urls]\n"swap.rest" = "http://{base}"\n"swap.ws" = "ws://{base}"\n'
        '[storage]\nkind = "memory"\n',
        encoding="utf-8",
    )

    assert 1 == main(["status", "-c", str(config), "--timeout", "2"])

    # Its websocket never connects, and its REST host neither: the breaker opens when
    # three requests have failed, which may take longer than the two seconds.
    line = _status_line(capsys.readouterr().out, "okx")
    assert line.endswith(("; down (breaker open)", "; down (no websocket connected (0 of 1))")), (
        line
    )


def test_status_of_a_connected_venue_says_it_is_healthy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "bybit.toml"
    config.write_text(SIM_BYBIT, encoding="utf-8")

    assert 0 == main(["status", "-c", str(config), "--wait", "3", "--timeout", "20"])

    line = _status_line(capsys.readouterr().out, "bybit")
    assert line.startswith("venue bybit: breaker closed, "), line
    assert "; healthy" in line, line


def test_demo_health_line_shows_each_venue_status_unless_healthy() -> None:
    frame = DemoFrame(
        elapsed=1.0,
        rows=(),
        health=(
            VenueHealth(
                venue="binance",
                state=BreakerState.CLOSED,
                connected=2,
                consecutive_failures=0,
                sockets=2,
            ),
            VenueHealth(
                venue="bybit",
                state=BreakerState.CLOSED,
                connected=1,
                consecutive_failures=0,
                sockets=2,
                status=HealthStatus.DEGRADED,
                status_reason="1 of 2 websockets down",
            ),
        ),
    )
    buffer = io.StringIO()
    Console(file=buffer, width=160, color_system=None).print(render_demo(frame))

    line = next(line for line in buffer.getvalue().splitlines() if line.startswith("venues: "))
    assert (
        "venues: binance closed (2 connected)  bybit closed (1 connected) degraded: "
        "1 of 2 websockets down"
    ) == line.rstrip()
