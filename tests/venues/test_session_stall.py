"""A stalled book stream: the watchdog, a resync, and then a new socket.

A venue can stop feeding an open socket (a stalled gateway) while it still
answers pings. The book's watchdog reports the silence (the book goes invalid,
then comes back valid from a REST snapshot or a resubscription); a book still
without one message of its stream a staleness window after that resync has a
stuck stream, and its socket is replaced: it is never left "valid" and frozen
while the venue's book moves on. A book whose stream speaks again between two
silences (a quiet book) keeps its socket, and so does a silent book whose
socket carries other books' messages (the socket is not stuck) unless its resync
moved it: the venue's book changed and its stream said nothing (the venue stopped
feeding that book alone).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import trio

from connector import sim
from connector.bus import Bus, Subscription
from connector.model import BookUpdate, Symbol
from connector.sim.faults import FaultKind, FaultPlan
from connector.testing import sim_transports
from connector.venues.registry import driver_for
from connector.venues.session import VenueSession

TIMEOUT = 15
VENUE = "binance"
BTC_SPOT = Symbol.parse("BTC-USDT-SPOT")
NATIVE = "BTCUSDT"


async def _next(books: Subscription, wanted: str, reason: str = "") -> BookUpdate:
    """The next update in state ``wanted`` whose reason contains ``reason``."""
    while True:
        update = await books.receive()
        assert isinstance(update, BookUpdate)
        if update.state.status.value == wanted and reason in (update.state.reason or ""):
            return update


@asynccontextmanager
async def _session(
    plan: FaultPlan | None = None,
    symbols: tuple[Symbol, ...] = (BTC_SPOT,),
    stale_after: float = 0.3,
    venue: str = VENUE,
    in_memory: bool = False,
) -> AsyncIterator[tuple[sim.SimulatedVenues, VenueSession, Subscription]]:
    """``in_memory``: the simulator's in-memory transports, not loopback sockets (for a
    test on the autojump clock, which never waits on real I/O)."""
    bus = Bus()
    async with sim.run(venues=(venue,), faults=plan, rate=100.0) as simulated:
        transports = sim_transports(simulated) if in_memory else None
        session = VenueSession(
            driver_for(venue),
            symbols=symbols,
            channels=("book",),
            bus=bus,
            urls=lambda: simulated.urls[venue],
            stale_after=stale_after,
            transport=transports.http if transports else None,
            ws_transport=transports.ws if transports else None,
        )
        async with (
            bus.subscribe(f"orderbook.{venue}.>", buffer=100_000) as books,
            trio.open_nursery() as nursery,
        ):
            await nursery.start(session.supervisor.run)
            yield simulated, session, books
            nursery.cancel_scope.cancel()
        await session.context.aclose()


def _connects(session: VenueSession) -> list[int]:
    return [c.statistics().connects for c in session.market_data.connections]


async def test_a_stream_still_silent_after_its_resync_gets_a_new_socket() -> None:
    # The stall outlasts the test: after three frames the socket stays open and silent.
    plan = FaultPlan(seed=7).stall(60.0, after_frames=3, venue=VENUE, stream="depth", max_count=1)
    with trio.fail_after(TIMEOUT):
        async with _session(plan) as (simulated, session, books):
            await _next(books, "invalid", reason="stale")
            while not any(f.kind is FaultKind.STALL for f in simulated.fault_log):
                # Stale before the stall began (a slow start on a busy machine): the
                # stall's own silence is the next one.
                await _next(books, "invalid", reason="stale")
            revalidated = await _next(books, "valid")  # REST snapshot, stream still silent
            hub = simulated.venue(VENUE)
            hub.pause()
            # The engine moves on; its diff goes out inside the stall and is lost.
            while simulated.update_id(VENUE, "spot", NATIVE) <= revalidated.seq:
                hub.step(1, market="spot", native_id=NATIVE)
            target = simulated.update_id(VENUE, "spot", NATIVE)

            stuck = await _next(books, "invalid")
            caught_up = await _next(books, "valid")
            connects = _connects(session)

    assert 1 == sum(1 for f in simulated.fault_log if f.kind is FaultKind.STALL)
    assert (stuck.state.reason or "").startswith("disconnected: stream stuck")
    assert [2] == connects  # the stuck socket was replaced
    assert target == caught_up.seq  # the new socket's book has the diff the stall ate
    assert caught_up.snapshot


async def test_a_quiet_stream_that_speaks_between_silences_keeps_its_socket() -> None:
    with trio.fail_after(TIMEOUT):
        async with _session() as (simulated, session, books):
            await _next(books, "valid")
            hub = simulated.venue(VENUE)
            for _ in range(2):
                hub.pause()  # nothing changes: the stream says nothing
                await _next(books, "invalid", reason="stale")
                await _next(books, "valid")  # the REST snapshot
                hub.resume()  # the stream speaks again
                await _next(books, "valid")  # a diff of the stream
            connects = _connects(session)

    assert [1] == connects


async def test_a_quiet_book_beside_a_busy_one_never_takes_their_socket_down(
    autojump_clock: trio.abc.Clock,
) -> None:
    eth = Symbol.parse("ETH-USDT-SPOT")
    with trio.fail_after(TIMEOUT):
        # In memory on the autojump clock: BTC's changes come 20 ms apart of the test's
        # time, whatever else the machine runs (on sockets, a loaded machine could hold
        # the test longer than the window and BTC would seem stale too).
        async with _session(symbols=(BTC_SPOT, eth), stale_after=0.6, in_memory=True) as (
            simulated,
            session,
            books,
        ):
            valid: set[str] = set()
            while len(valid) < 2:
                update = await _next(books, "valid")
                valid.add(str(update.symbol))
            hub = simulated.venue(VENUE)
            hub.pause()  # from now on only BTC changes: ETH is quiet
            stale: list[str] = []
            with trio.move_on_after(2.5):  # more than three of ETH's staleness windows
                while True:
                    hub.step(1, market="spot", native_id=NATIVE)
                    with trio.move_on_after(0.02):
                        while True:
                            update = await books.receive()
                            assert isinstance(update, BookUpdate)
                            if "stale" in (update.state.reason or ""):
                                stale.append(str(update.symbol))
            connects = _connects(session)

    assert "ETH-USDT-SPOT" in stale and "BTC-USDT-SPOT" not in stale
    assert [1] == connects  # BTC's messages show the socket works: ETH is only quiet


ETH_SPOT = Symbol.parse("ETH-USDT-SPOT")


async def _eth_replaced(plan: FaultPlan, venue: str) -> tuple[str, int]:
    """BTC and ETH on one socket, ``plan`` silencing ETH's stream alone: the reason ETH
    was reported stuck with, and the socket's connects once BTC is back on a new one."""
    with trio.fail_after(TIMEOUT):
        async with _session(plan, symbols=(BTC_SPOT, ETH_SPOT), venue=venue) as (_, session, books):
            stuck = None
            while stuck is None or stuck.symbol != ETH_SPOT:
                stuck = await _next(books, "invalid", reason="stream stuck")
            while True:  # BTC comes back on the new socket
                update = await _next(books, "valid")
                if update.symbol == BTC_SPOT and not update.snapshot:
                    break
            (connects,) = _connects(session)
    return stuck.state.reason or "", connects


async def test_a_book_whose_resync_moved_it_unsaid_beside_a_busy_one_gets_a_new_socket() -> None:
    # The venue stops feeding ETH's diffs alone: its book still changes and BTC's stream
    # goes on. A resync moves ETH's book and its stream still says nothing: the socket
    # is replaced (where a quiet book, above, keeps it).
    plan = FaultPlan(seed=3).drop(1.0, venue=VENUE, stream="ethusdt@depth", after_frames=30)

    reason, connects = await _eth_replaced(plan, VENUE)

    assert "no message for ETH-USDT-SPOT since a resync (its book moved from" in reason
    assert connects >= 2


async def test_a_stream_whose_resubscription_brings_nothing_beside_busy_ones_is_replaced() -> None:
    # Bybit resyncs a book by resubscribing, which the venue answers with a snapshot:
    # ETH's stream, fed no more, answers nothing, though BTC's goes on: the socket is
    # replaced.
    stream = "orderbook.200.ETHUSDT"
    plan = FaultPlan(seed=3).drop(1.0, venue="bybit", stream=stream, after_frames=30)

    reason, connects = await _eth_replaced(plan, "bybit")

    assert "no message for ETH-USDT-SPOT since a resync (its resubscription brought" in reason
    assert connects >= 2
