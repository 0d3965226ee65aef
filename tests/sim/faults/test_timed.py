"""Timed faults (``at=``) of the simulated Binance, seen by a real websocket client.

A rule's times count from the start of the run; it fires on the first data
frame a connection sends at or after each time, and only on connections that
were already open at that time.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import pytest
import trio
from trio_websocket import ConnectionClosed, WebSocketConnection, open_websocket_url

from connector import sim
from connector.model import Side
from connector.sim.faults import FaultKind, FaultPlan

STREAM = "btcusdt@depth@0ms"


@asynccontextmanager
async def subscribed(s: sim.SimRun) -> AsyncIterator[WebSocketConnection]:
    async with open_websocket_url(s.urls["binance"]["spot.ws"] + "/ws") as ws:
        await ws.send_message(json.dumps({"method": "SUBSCRIBE", "params": [STREAM], "id": 1}))
        assert {"result": None, "id": 1} == json.loads(await ws.get_message())
        yield ws


def step_updates(s: sim.SimRun, n: int) -> list[int]:
    """Advance the spot BTCUSDT book by exactly ``n`` updates; their ids."""
    hub = s.venue("binance")
    start = s.update_id("binance", "spot", "BTCUSDT")
    for i in range(n):
        hub.add_liquidity("spot", "BTCUSDT", Side.BUY, Decimal("1000") + i, Decimal("1"))
    return list(range(start + 1, start + n + 1))


async def frame(ws: WebSocketConnection) -> Any:
    return json.loads(await ws.get_message())


async def until(s: sim.SimRun, at: float) -> None:
    """Sleep until ``at`` seconds into the run (and a little more)."""
    await trio.sleep(max(0.0, at - s.injector.elapsed()) + 0.05)


def logged(s: sim.SimRun, kind: FaultKind) -> list[sim.InjectedFault]:
    return [e for e in s.fault_log if e.kind is kind]


async def test_disconnect_at_a_time_closes_the_open_connection_on_its_next_frame() -> None:
    plan = FaultPlan().disconnect(at=(0.5,), venue="binance")
    with trio.fail_after(15):
        async with sim.run(venues=("binance",), faults=plan, paused=True) as s:
            async with subscribed(s) as ws:
                before = step_updates(s, 2)
                assert before == [(await frame(ws))["u"] for _ in before]
                await until(s, 0.5)
                trigger = step_updates(s, 1)
                assert trigger == [(await frame(ws))["u"]]
                with pytest.raises(ConnectionClosed) as info:
                    await ws.get_message()
            # A connection opened after the time is left alone.
            async with subscribed(s) as ws:
                after = step_updates(s, 3)
                assert after == [(await frame(ws))["u"] for _ in after]
                assert ws.closed is None

    assert info.value.reason is not None
    assert 1001 == info.value.reason.code
    [entry] = logged(s, FaultKind.DISCONNECT)
    assert ("binance", STREAM, "frame=3") == (entry.venue, entry.stream, entry.detail)


async def test_disconnect_at_two_times_drops_each_connection_open_at_that_time() -> None:
    plan = FaultPlan().disconnect(at=(0.4, 0.9), venue="binance")
    closes: list[int] = []
    with trio.fail_after(15):
        async with sim.run(venues=("binance",), faults=plan, paused=True) as s:
            for at in (0.4, 0.9):
                async with subscribed(s) as ws:
                    await until(s, at)
                    step_updates(s, 1)
                    await frame(ws)
                    with pytest.raises(ConnectionClosed) as info:
                        await ws.get_message()
                    assert info.value.reason is not None
                    closes.append(info.value.reason.code)
            async with subscribed(s) as ws:
                ids = step_updates(s, 2)
                assert ids == [(await frame(ws))["u"] for _ in ids]

    assert [1001, 1001] == closes
    entries = logged(s, FaultKind.DISCONNECT)
    assert 2 == len(entries)
    assert entries[0].conn_id != entries[1].conn_id
    assert entries[0].ts_ns < entries[1].ts_ns


async def test_stall_at_a_time_sends_silence_then_resumes_past_a_gap() -> None:
    plan = FaultPlan().stall(0.6, at=(0.4,), venue="binance")
    with trio.fail_after(15):
        async with (
            sim.run(venues=("binance",), faults=plan, paused=True) as s,
            subscribed(s) as ws,
        ):
            before = step_updates(s, 2)
            assert before == [(await frame(ws))["u"] for _ in before]
            await until(s, 0.4)
            trigger = step_updates(s, 1)
            assert trigger == [(await frame(ws))["u"]]
            stalled_at = trio.current_time()
            lost = step_updates(s, 3)
            with trio.move_on_after(0.3) as quiet:
                await ws.get_message()
            await trio.sleep(max(0.0, stalled_at + 0.65 - trio.current_time()))
            later = step_updates(s, 1)
            resumed = await frame(ws)
            assert ws.closed is None

    assert quiet.cancelled_caught
    assert later == [resumed["u"]]
    # What the stall swallowed shows up as a gap in the diff ids.
    assert trigger[0] + 1 + len(lost) == resumed["U"]
    [entry] = logged(s, FaultKind.STALL)
    assert "frame=3 seconds=0.6" == entry.detail
    assert not logged(s, FaultKind.DISCONNECT)


async def test_timed_stall_spares_a_connection_opened_after_its_time() -> None:
    plan = FaultPlan().stall(5.0, at=(0.2,), venue="binance")
    with trio.fail_after(15):
        async with sim.run(venues=("binance",), faults=plan, paused=True) as s:
            await until(s, 0.2)
            async with subscribed(s) as ws:
                ids = step_updates(s, 4)
                assert ids == [(await frame(ws))["u"] for _ in ids]

    assert [] == logged(s, FaultKind.STALL)
