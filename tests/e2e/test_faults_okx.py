"""OKX v5 market data through the simulator's faults, end to end.

OKX books resync by resubscribing; ``seqId`` is the engine's update id, so every
valid book is checked against the engine's book at that id (see ``helpers``).
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
    replaced_before_the_close,
    stale_then_replaced,
    swapped_frames_plan,
)

V = "okx"
BOOK = "books"


async def test_okx_book_recovers_from_dropped_book_frames() -> None:
    plan = FaultPlan(seed=3).drop(0.3, venue=V, stream=BOOK, max_count=3)
    async with harness(V, faults=plan) as h:
        await fault_then_recover(h, FaultKind.DROP, 3)
        assert 1 <= h.checker.invalidations
        assert 1 <= h.book().gaps
        assert 1 == h.connects()


async def test_okx_book_recovers_from_reordered_book_frames() -> None:
    # fraction 1 with max_count 3: frames 1, 3 and 5 each swap with the next one.
    plan = FaultPlan(seed=4).reorder(1.0, venue=V, stream=BOOK, max_count=3)
    async with harness(V, faults=plan) as h:
        await fault_then_recover(h, FaultKind.REORDER, 3)
        assert 3 == h.faults(FaultKind.REORDER)


async def test_okx_swapped_book_frames_are_held_and_applied_without_a_resync() -> None:
    async with harness(V, faults=swapped_frames_plan(V, BOOK, 3)) as h:
        await check_swapped_frames_are_held_without_a_resync(h, 3)


async def test_okx_gap_before_a_silent_stream_still_resyncs_after_the_window() -> None:
    async with harness(V, faults=lost_then_silent_plan(V, BOOK)) as h:
        await check_a_gap_before_a_silence_still_resyncs(h)


async def test_okx_duplicated_book_frames_are_dropped_without_a_resync() -> None:
    plan = FaultPlan(seed=5).duplicate(0.3, venue=V, stream=BOOK, max_count=4)
    async with harness(V, faults=plan) as h:
        await fault_then_recover(h, FaultKind.DUPLICATE, 4)
        assert 0 == h.checker.invalidations
        assert 1 <= h.book().dropped


async def test_okx_book_recovers_after_each_disconnect() -> None:
    plan = FaultPlan(seed=6).disconnect(after_frames=8, venue=V, max_count=2)
    async with harness(V, faults=plan) as h:
        await fault_then_recover(h, FaultKind.DISCONNECT, 2)
        assert 3 <= h.connects()
        assert 2 <= sum(1 for r in h.checker.reasons if r.startswith("disconnected"))


async def test_okx_stalled_stream_goes_stale_then_gets_a_new_socket() -> None:
    plan = FaultPlan(seed=7).stall(8.0, after_frames=5, venue=V, stream=BOOK, max_count=1)
    async with harness(V, faults=plan, stale_after=0.5) as h:
        await stale_then_replaced(h)


async def test_okx_corrupted_checksum_invalidates_then_resubscribes() -> None:
    plan = FaultPlan(seed=8).corrupt_checksum(0.2, venue=V, max_count=3)
    async with harness(V, faults=plan, okx_checksum=True) as h:
        await fault_then_recover(h, FaultKind.CORRUPT_CHECKSUM, 3)
        stats = h.book()
        assert 1 <= stats.checksums_failed <= 3
        assert 1 <= h.checker.invalidations
        checksum_reasons = [r for r in h.checker.reasons if "checksum" in r]
        assert stats.checksums_failed == len(checksum_reasons)
        assert stats.checksums_checked > stats.checksums_failed
        assert 1 == h.connects()


async def test_okx_malformed_frames_never_kill_the_connection() -> None:
    async with harness(V, faults=malformed_plan(9, V, BOOK)) as h:
        await check_malformed_frames_are_survived(h)


async def test_okx_refused_connections_are_retried_until_accepted() -> None:
    # The first two handshakes refused (by count: a loaded machine may try once in a window).
    plan = FaultPlan(seed=10).refuse_connections(60.0, venue=V, max_count=2)
    async with harness(V, faults=plan) as h:
        assert 2 == h.faults(FaultKind.REFUSE)
        assert 1 == h.connects()
        await h.recover()
        h.assert_never_wrong()


async def test_okx_clock_offset_follows_the_server_clock_skew() -> None:
    plan = FaultPlan(seed=11).clock_skew(2500, venue=V)
    async with harness(V, faults=plan) as h:
        assert abs(h.clock_offset_ns() / 1e6 - 2500) < 100
        await h.recover()
        h.assert_never_wrong()


async def test_okx_upgrade_notice_moves_the_book_to_a_new_connection_before_the_close() -> None:
    # OKX pushes its 64008 notice about 30 s before it closes the connection for a
    # service upgrade and asks for a new one ("Notification"): the session reconnects
    # now, and the book is the venue's again long before the announced close.
    plan = FaultPlan(seed=10).server_shutdown(at=(1.0,), seconds=30.0, venue=V)
    async with harness(V, faults=plan) as h:
        await replaced_before_the_close(h, "64008")


async def test_okx_book_recovers_after_a_reconnect_of_several_attempts() -> None:
    async with harness(V, faults=outage_plan(V)) as h:
        await check_an_outage_of_several_attempts_is_recovered(h)
