"""Bybit v5 market data through the simulator's faults, end to end.

Bybit books resync by resubscribing (a fresh ``snapshot``); ``u`` counts the
topic's messages, so valid books are checked against the engine's history in
order (see ``helpers``). The linear book pushes every 100 ms.
"""

from __future__ import annotations

from connector.sim.faults import FaultKind, FaultPlan
from tests.e2e.helpers import (
    check_a_gap_before_a_silence_still_resyncs,
    check_an_outage_of_several_attempts_is_recovered,
    check_malformed_frames_are_survived,
    check_swapped_frames_are_held_without_a_resync,
    fault_then_recover,
    harness,
    lost_then_silent_plan,
    malformed_plan,
    outage_plan,
    stale_then_replaced,
    swapped_frames_plan,
)

V = "bybit"
SYMBOL = "BTC-USDT-PERP"
BOOK = "orderbook"


async def test_bybit_book_recovers_from_dropped_book_frames() -> None:
    plan = FaultPlan(seed=3).drop(0.3, venue=V, stream=BOOK, max_count=3)
    async with harness(V, symbol=SYMBOL, faults=plan) as h:
        await fault_then_recover(h, FaultKind.DROP, 3)
        assert 1 <= h.checker.invalidations
        assert 1 <= h.book().gaps
        assert 1 == h.connects()


async def test_bybit_book_recovers_from_reordered_book_frames() -> None:
    # fraction 1 with max_count 3: frames 1, 3 and 5 each swap with the next one.
    plan = FaultPlan(seed=4).reorder(1.0, venue=V, stream=BOOK, max_count=3)
    async with harness(V, symbol=SYMBOL, faults=plan) as h:
        await fault_then_recover(h, FaultKind.REORDER, 3)
        assert 3 == h.faults(FaultKind.REORDER)


async def test_bybit_swapped_book_frames_are_held_and_applied_without_a_resync() -> None:
    async with harness(V, symbol=SYMBOL, faults=swapped_frames_plan(V, BOOK, 3)) as h:
        await check_swapped_frames_are_held_without_a_resync(h, 3)


async def test_bybit_gap_before_a_silent_stream_still_resyncs_after_the_window() -> None:
    async with harness(V, symbol=SYMBOL, faults=lost_then_silent_plan(V, BOOK)) as h:
        await check_a_gap_before_a_silence_still_resyncs(h)


async def test_bybit_duplicated_book_frames_are_dropped_without_a_resync() -> None:
    plan = FaultPlan(seed=5).duplicate(0.3, venue=V, stream=BOOK, max_count=4)
    async with harness(V, symbol=SYMBOL, faults=plan) as h:
        await fault_then_recover(h, FaultKind.DUPLICATE, 4)
        assert 0 == h.checker.invalidations
        assert 1 <= h.book().dropped


async def test_bybit_book_recovers_after_each_disconnect() -> None:
    plan = FaultPlan(seed=6).disconnect(after_frames=8, venue=V, max_count=2)
    async with harness(V, symbol=SYMBOL, faults=plan) as h:
        await fault_then_recover(h, FaultKind.DISCONNECT, 2)
        assert 3 <= h.connects()
        assert 2 <= sum(1 for r in h.checker.reasons if r.startswith("disconnected"))


async def test_bybit_stalled_stream_goes_stale_then_gets_a_new_socket() -> None:
    plan = FaultPlan(seed=7).stall(8.0, after_frames=5, venue=V, stream=BOOK, max_count=1)
    async with harness(V, symbol=SYMBOL, faults=plan, stale_after=0.5) as h:
        await stale_then_replaced(h)


async def test_bybit_restart_snapshot_with_u_1_replaces_the_book() -> None:
    plan = FaultPlan(seed=8).restart_snapshot(after_frames=10, venue=V, max_count=1)
    async with harness(V, symbol=SYMBOL, faults=plan) as h:
        await fault_then_recover(h, FaultKind.RESTART_SNAPSHOT, 1)
        # A u=1 snapshot is the venue restarting: it replaces the book, no resync needed.
        assert 1 == h.book().sequencer.restarts  # type: ignore[attr-defined]
        assert 0 == h.checker.invalidations
        assert 1 == h.connects()


async def test_bybit_malformed_frames_never_kill_the_connection() -> None:
    async with harness(V, symbol=SYMBOL, faults=malformed_plan(9, V, BOOK)) as h:
        await check_malformed_frames_are_survived(h)


async def test_bybit_refused_connections_are_retried_until_accepted() -> None:
    # The first two handshakes refused (by count: a loaded machine may try once in a window).
    plan = FaultPlan(seed=10).refuse_connections(60.0, venue=V, max_count=2)
    async with harness(V, symbol=SYMBOL, faults=plan) as h:
        assert 2 == h.faults(FaultKind.REFUSE)
        assert 1 == h.connects()
        await h.recover()
        h.assert_never_wrong()


async def test_bybit_clock_offset_follows_the_server_clock_skew() -> None:
    plan = FaultPlan(seed=11).clock_skew(-2000, venue=V)
    async with harness(V, symbol=SYMBOL, faults=plan) as h:
        assert abs(h.clock_offset_ns() / 1e6 + 2000) < 100
        await h.recover()
        h.assert_never_wrong()


async def test_bybit_book_recovers_after_a_reconnect_of_several_attempts() -> None:
    async with harness(V, faults=outage_plan(V)) as h:
        await check_an_outage_of_several_attempts_is_recovered(h)
