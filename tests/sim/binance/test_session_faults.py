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
    assert [(FaultKind.SERVER_SHUTDOWN, "sessions=1 streams=0")] == [
        (f.kind, f.detail) for f in s.fault_log
    ]


async def test_server_shutdown_is_announced_on_spot_market_streams_then_they_close() -> None:
    # Spot WebSocket Streams, "General WSS information": "A serverShutdown event will be
    # sent when the server is about to shutdown, resulting in disconnection."
    plan = FaultPlan().server_shutdown(at=(0.5,), seconds=0.2)
    with trio.fail_after(TIMEOUT):
        async with sim.run(venues=("binance",), faults=plan, rate=20.0) as s:
            url = s.urls["binance"]["spot.ws"] + "/ws/btcusdt@trade"
            async with open_websocket_url(url) as ws:
                frames = []
                try:
                    while True:
                        frames.append(json.loads(await ws.get_message()))
                except ConnectionClosed as closed:
                    code = closed.reason.code
    (announced,) = [f for f in frames if f.get("e") == "serverShutdown"]
    assert isinstance(announced["E"], int)
    assert 1001 == code
    assert [(FaultKind.SERVER_SHUTDOWN, "sessions=0 streams=1")] == [
        (f.kind, f.detail) for f in s.fault_log
    ]
