"""Book frames swapped or lost in a running stream, through a session on the simulator
(in memory, autojump clock).

A swap is held and filled within the reorder window: no resync. A lost frame is a gap
no later frame fills: the window ends, even with no frame to end it, and the book
resyncs naming the gap. With a window of 0 every gap resyncs at once, as before.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import trio

from connector import sim
from connector.book.keeper import KeeperStatistics
from connector.bus import Bus, Subscription
from connector.model import BookUpdate, Symbol
from connector.sim.faults import FaultPlan
from connector.testing import sim_transports
from connector.venues.registry import driver_for
from connector.venues.session import VenueSession

TIMEOUT = 120
SYMBOL = Symbol.parse("BTC-USDT-PERP")
STREAM = {"binance": "depth", "bybit": "orderbook", "okx": "books"}
RUNNING = 30
"""Frames a connection sends before the faults: the book is valid long before."""


@asynccontextmanager
async def _session(
    venue: str, plan: FaultPlan, reorder_window: float
) -> AsyncIterator[tuple[VenueSession, Subscription]]:
    bus = Bus()
    async with sim.run(venues=(venue,), faults=plan, rate=50.0) as simulated:
        transports = sim_transports(simulated)
        session = VenueSession(
            driver_for(venue),
            symbols=(SYMBOL,),
            channels=("book",),
            bus=bus,
            urls=lambda: simulated.urls[venue],
            transport=transports.http,
            ws_transport=transports.ws,
            reorder_window=reorder_window,
        )
        async with (
            bus.subscribe(f"orderbook.{venue}.>", buffer=100_000) as books,
            trio.open_nursery() as nursery,
        ):
            await nursery.start(session.supervisor.run)
            yield session, books
            nursery.cancel_scope.cancel()
        await session.context.aclose()


def _book(session: VenueSession) -> KeeperStatistics | None:
    return session.statistics().books.get(SYMBOL)


async def _first_invalid(books: Subscription) -> str:
    """The reason of the first update that says the book is invalid."""
    while True:
        update = await books.receive()
        assert isinstance(update, BookUpdate)
        if update.state.status.value == "invalid":
            return update.state.reason or ""


@pytest.mark.parametrize("venue", sorted(STREAM))
async def test_swapped_book_frames_are_held_and_filled_without_a_resync(
    venue: str, autojump_clock: trio.abc.Clock
) -> None:
    plan = FaultPlan(seed=4).reorder(
        1.0, venue=venue, stream=STREAM[venue], max_count=3, after_frames=RUNNING
    )
    states: list[str] = []
    with trio.fail_after(TIMEOUT):
        async with _session(venue, plan, 0.05) as (session, books):
            while (stats := _book(session)) is None or stats.gaps_filled < 3:
                update = await books.receive()
                assert isinstance(update, BookUpdate)
                states.append(update.state.status.value)
    assert "invalid" not in states
    assert (0, 3, 3, 1) == (stats.gaps, stats.held, stats.gaps_filled, stats.snapshots_applied)


@pytest.mark.parametrize("venue", sorted(STREAM))
async def test_a_gap_no_frame_follows_resyncs_when_the_window_ends(
    venue: str, autojump_clock: trio.abc.Clock
) -> None:
    # Frame 31 lost, 32 sent (held), then the socket stays silent for longer than the
    # staleness window (30 s): only the reorder window can end the wait in time.
    stream = STREAM[venue]
    plan = (
        FaultPlan(seed=9)
        .drop(1.0, venue=venue, stream=stream, max_count=1, after_frames=RUNNING)
        .stall(60.0, after_frames=RUNNING + 2, venue=venue, stream=stream, max_count=1)
    )
    with trio.fail_after(TIMEOUT):
        async with _session(venue, plan, 0.05) as (session, books):
            reason = await _first_invalid(books)
            stats = _book(session)
    assert reason.startswith("gap")
    assert stats is not None
    assert (1, 1, 0) == (stats.held, stats.gaps, stats.gaps_filled)


async def test_a_reorder_window_of_zero_resyncs_a_swap_at_once(
    autojump_clock: trio.abc.Clock,
) -> None:
    plan = FaultPlan(seed=4).reorder(
        1.0, venue="binance", stream="depth", max_count=1, after_frames=RUNNING
    )
    with trio.fail_after(TIMEOUT):
        async with _session("binance", plan, 0.0) as (session, books):
            reason = await _first_invalid(books)
            stats = _book(session)
    assert reason.startswith("gap")
    assert stats is not None
    assert (0, 1, 0) == (stats.held, stats.gaps, stats.gaps_filled)
