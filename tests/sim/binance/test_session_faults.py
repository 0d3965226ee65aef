"""Timed private-session faults of the simulated Binance: what goes on the wire."""

from __future__ import annotations

import json

import trio
from trio_websocket import ConnectionClosed, open_websocket_url

from connector import sim
from connector.sim.faults import FaultKind, FaultPlan

TIMEOUT = 10


async def test_server_shutdown_is_announced_on_websocket_api_sessions_then_they_close() -> None:
    plan = FaultPlan().server_shutdown(at=(0.5,), seconds=0.2)
    with trio.fail_after(TIMEOUT):
        async with sim.run(venues=("binance",), faults=plan, rate=20.0) as s:
            url = s.urls["binance"]["spot.ws"] + "/ws-api/v3"
            async with open_websocket_url(url) as ws:
                announced = json.loads(await ws.get_message())
                try:
                    while True:
                        await ws.get_message()
                except ConnectionClosed as closed:
                    code = closed.reason.code
    assert "serverShutdown" == announced["event"]["e"]
    assert isinstance(announced["event"]["E"], int)
    assert 1001 == code
    assert [(FaultKind.SERVER_SHUTDOWN, "sessions=1")] == [(f.kind, f.detail) for f in s.fault_log]
