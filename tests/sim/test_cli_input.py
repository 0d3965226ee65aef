"""What ``sim.run`` (and so ``connector sim`` and the Connector's simulator) refuses
before serving anything: a seed, rate or port out of range, a port for nothing served,
a front-end setting out of range; and a port it cannot bind, named."""

from __future__ import annotations

import socket
from collections.abc import Mapping
from typing import Any

import pytest
import trio

from connector import sim
from connector.errors import ConfigError, ConnectorError


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"seed": -1}, "sim: seed -1: expected an integer from 0 to 4294967295"),
        ({"seed": 2**64}, "sim: seed 18446744073709551616: expected an integer from 0 to"),
        ({"rate": 1e5}, "sim: rate 100000.0: expected 0 to 40000 book changes per second"),
        ({"rate": float("nan")}, "sim: rate nan: expected 0 to 40000"),
        (
            {"ports": {"binance.spot": 99999}},
            "sim: port binance.spot=99999: expected a port from 0 to 65535",
        ),
        ({"ports": {"kraken": 9000}}, "sim: port kraken=9000: 'kraken' is not a served venue"),
        (
            {"ports": {"binance.swap": 9000}},
            "sim: port binance.swap=9000: binance serves no market 'swap' (it serves spot, linear)",
        ),
    ],
)
async def test_run_refuses_an_option_it_cannot_serve_before_serving(
    options: Mapping[str, Any], problem: str
) -> None:
    with trio.fail_after(20), pytest.raises(ConfigError) as info:
        async with sim.run(venues=("binance",), **options):
            pass

    (line,) = info.value.problems
    assert line.startswith(problem), line


async def test_run_refuses_a_front_end_setting_out_of_range() -> None:
    with trio.fail_after(20), pytest.raises(ConfigError) as info:
        async with sim.run(venues=("bybit",), rate=20, settings={"bybit": {"send_buffer": -5}}):
            pass

    assert ("sim bybit: send_buffer must be an integer, more than 0; got -5",) == (
        info.value.problems
    )


async def test_a_port_in_use_is_named_with_its_venue_and_market() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with trio.fail_after(20), pytest.raises(BaseExceptionGroup) as info:
            async with sim.run(venues=("binance",), rate=20, ports={"binance.spot": port}):
                pass

    (error,) = info.value.exceptions
    assert isinstance(error, ConnectorError)
    assert f"sim: cannot serve binance on 127.0.0.1 (spot={port}): " in str(error)
    assert isinstance(error.__cause__, BaseExceptionGroup | OSError)
