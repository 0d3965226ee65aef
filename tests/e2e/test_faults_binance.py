"""Binance market data through the simulator's faults, end to end.

Each test runs the simulated Binance with one fault plan and a Connector on it,
checks every book update marked valid against the engine (see ``helpers``), and
waits (bounded) for the book to equal the engine's again after the fault window.
"""

from __future__ import annotations

import httpx
import pytest
import structlog
import trio

from connector.sim.faults import FaultKind, FaultPlan
from tests.e2e.helpers import (
    RECOVERY_SECONDS,
    check_a_gap_before_a_silence_still_resyncs,
    check_an_outage_of_several_attempts_is_recovered,
    check_malformed_frames_are_survived,
    check_swapped_frames_are_held_without_a_resync,
    fault_then_recover,
    harness,
    lost_then_silent_plan,
    malformed_plan,
    outage_plan,
    replaced_before_the_close,
    stale_then_replaced,
    swapped_frames_plan,
)

V = "binance"


@pytest.mark.parametrize("symbol", ["BTC-USDT-SPOT", "BTC-USDT-PERP"])
async def test_binance_book_recovers_from_dropped_depth_frames(symbol: str) -> None:
    plan = FaultPlan(seed=3).drop(0.15, venue=V, stream="depth", max_count=3)
    async with harness(V, symbol=symbol, faults=plan) as h:
        await fault_then_recover(h, FaultKind.DROP, 3)
        book = h.book()
        assert 1 <= h.checker.invalidations
        assert 1 <= book.gaps
        assert 1 == h.connects()


async def test_binance_frames_swapped_around_the_first_snapshot_chain_without_a_resync() -> None:
    # fraction 1 with max_count 3: frames 1, 3 and 5 each swap with the next one, while
    # the diffs are buffered for the snapshot or once it is loaded: chained in order.
    plan = FaultPlan(seed=4).reorder(1.0, venue=V, stream="depth", max_count=3)
    async with harness(V, faults=plan) as h:
        await fault_then_recover(h, FaultKind.REORDER, 3)
        assert 0 == h.checker.invalidations
        assert (1, 0) == (h.book().snapshots_applied, h.book().gaps)


@pytest.mark.parametrize("symbol", ["BTC-USDT-SPOT", "BTC-USDT-PERP"])
async def test_binance_swapped_depth_frames_are_held_and_applied_without_a_resync(
    symbol: str,
) -> None:
    async with harness(V, symbol=symbol, faults=swapped_frames_plan(V, "depth", 3)) as h:
        await check_swapped_frames_are_held_without_a_resync(h, 3)


async def test_binance_gap_before_a_silent_stream_still_resyncs_after_the_window() -> None:
    async with harness(V, faults=lost_then_silent_plan(V, "depth")) as h:
        await check_a_gap_before_a_silence_still_resyncs(h)


async def test_binance_duplicated_depth_frames_are_dropped_without_a_resync() -> None:
    plan = FaultPlan(seed=5).duplicate(0.3, venue=V, stream="depth", max_count=4)
    async with harness(V, faults=plan) as h:
        await fault_then_recover(h, FaultKind.DUPLICATE, 4)
        book = h.book()
        assert 0 == h.checker.invalidations
        assert ["valid"] == h.checker.states
        # The duplicates, and the diffs the snapshot was newer than (dropped as the
        # documented sync says: how many depends on when the snapshot was taken).
        assert 1 <= book.dropped


async def test_binance_book_recovers_after_each_disconnect() -> None:
    plan = FaultPlan(seed=6).disconnect(after_frames=8, venue=V, max_count=2)
    async with harness(V, faults=plan) as h:
        await fault_then_recover(h, FaultKind.DISCONNECT, 2)
        assert 3 <= h.connects()
        disconnects = [r for r in h.checker.reasons if r.startswith("disconnected")]
        assert 2 <= len(disconnects)


async def test_binance_stalled_stream_goes_stale_then_gets_a_new_socket() -> None:
    plan = FaultPlan(seed=7).stall(8.0, after_frames=5, venue=V, stream="depth", max_count=1)
    async with harness(V, faults=plan, stale_after=0.5) as h:
        await stale_then_replaced(h)


async def test_binance_rest_429_then_418_stops_snapshots_until_the_ban_ends() -> None:
    window = 3.0
    settings = {
        V: {
            "spot_weight_limit": 200,
            "weight_window": window,
            "strikes_before_ban": 1,
            "ban_seconds": 4.0,
        }
    }
    with structlog.testing.capture_logs() as logs:
        async with harness(V, settings=settings, stale_after=0.5) as h:
            url = h.sim.urls[V]["spot.rest"] + "/api/v3/depth"
            params: dict[str, str | int] = {"symbol": h.instrument.native_id, "limit": 1000}
            async with httpx.AsyncClient() as other:  # another program on the same IP
                # Start in a fresh weight window, then use it all up.
                await trio.sleep_until((trio.current_time() // window + 1) * window + 0.05)
                while (await other.get(url, params=params)).status_code == 200:
                    pass
                # Silence the stream: the watchdog marks the book stale and resyncs it;
                # the snapshot request is over the limit (429, Retry-After).
                before = h.limiter().rate_limited
                h.hub.pause()
                with trio.fail_after(RECOVERY_SECONDS):
                    await h.checker.wait_until(lambda: h.limiter().rate_limited > before)
                # The other program keeps going and gets the IP banned (418).
                statuses = [(await other.get(url, params=params)).status_code for _ in range(3)]
                assert 418 in statuses
            h.hub.resume()
            await h.recover()
            h.assert_never_wrong()
            assert h.limiter().banned_until is None
    events = [e["event"] for e in logs if e.get("venue", "").startswith("binance")]
    assert 1 <= events.count("ratelimit.paused")
    # One 418 answer banned the venue; no request went out during the ban.
    assert 1 == events.count("ratelimit.banned")


async def test_binance_clock_offset_follows_the_server_clock_skew() -> None:
    plan = FaultPlan(seed=8).clock_skew(1500, venue=V)
    async with harness(V, faults=plan) as h:
        offset_ms = h.clock_offset_ns() / 1e6
        assert 1 == h.faults(FaultKind.CLOCK_SKEW)
        assert abs(offset_ms - 1500) < 100
        await h.recover()
        h.assert_never_wrong()


async def test_binance_malformed_frames_never_kill_the_connection() -> None:
    async with harness(V, faults=malformed_plan(9, V, "depth")) as h:
        await check_malformed_frames_are_survived(h)


async def test_binance_refused_connections_are_retried_until_accepted() -> None:
    # The first two handshakes refused (by count: a loaded machine may try once in a window).
    plan = FaultPlan(seed=10).refuse_connections(60.0, venue=V, max_count=2)
    async with harness(V, faults=plan) as h:
        assert 2 == h.faults(FaultKind.REFUSE)
        assert 1 == h.connects()
        await h.recover()
        h.assert_never_wrong()


async def test_binance_slow_and_stale_snapshots_never_make_a_wrong_book_valid() -> None:
    plan = (
        FaultPlan(seed=11)
        .slow_rest(1.0, 1.0, venue=V, path="/api/v3/depth", max_count=1)
        .stale_snapshot(40, venue=V, path="/api/v3/depth", max_count=1)
    )
    started = trio.current_time()
    async with harness(V, faults=plan) as h:
        assert 1.0 <= trio.current_time() - started
        assert 1 == h.faults(FaultKind.REST_SLOW)
        assert 1 == h.faults(FaultKind.STALE_SNAPSHOT)
        await h.recover()
        h.assert_never_wrong()


async def test_binance_server_shutdown_moves_the_book_to_a_new_connection_before_close() -> None:
    # Spot's market streams send serverShutdown before the server goes down and ask
    # for a new connection "as soon as possible" (WebSocket Streams, "General WSS
    # information"): the session reconnects now, not when the close comes.
    plan = FaultPlan(seed=10).server_shutdown(at=(1.0,), seconds=30.0)
    async with harness(V, faults=plan) as h:
        await replaced_before_the_close(h, "serverShutdown")


async def test_binance_book_recovers_after_a_reconnect_of_several_attempts() -> None:
    async with harness(V, faults=outage_plan(V)) as h:
        await check_an_outage_of_several_attempts_is_recovered(h)
