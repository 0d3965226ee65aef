"""A stalled Binance depth stream: the book's watchdog keeps watching after a REST resync.

Regression test for a flaky end-to-end fault test: the watchdog reported a
silent book once and re-armed only when a book message arrived on the socket.
A REST snapshot made the book valid again during the stall, and the changes
the engine made after that snapshot went out inside the stall (discarded), so
the book stayed "valid" at an old update id for as long as the stream was
silent. The REST snapshot now restarts the book's staleness window.
"""

from __future__ import annotations

import trio

from connector import sim
from connector.bus import Bus, Subscription
from connector.model import BookUpdate, Symbol
from connector.sim.faults import FaultKind, FaultPlan
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


async def test_book_made_valid_by_rest_in_a_stall_goes_stale_again_and_catches_up() -> None:
    # The stall outlasts the test: after three frames the socket stays open and silent.
    plan = FaultPlan(seed=7).stall(60.0, after_frames=3, venue=VENUE, stream="depth", max_count=1)
    bus = Bus()
    with trio.fail_after(TIMEOUT):
        async with sim.run(venues=(VENUE,), faults=plan, rate=100.0) as simulated:
            session = VenueSession(
                driver_for(VENUE),
                symbols=(BTC_SPOT,),
                channels=("book",),
                bus=bus,
                urls=lambda: simulated.urls[VENUE],
                stale_after=0.3,
            )
            async with (
                bus.subscribe(f"orderbook.{VENUE}.>", buffer=100_000) as books,
                trio.open_nursery() as nursery,
            ):
                await nursery.start(session.supervisor.run)
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

                stale_again = await _next(books, "invalid", reason="stale")
                caught_up = await _next(books, "valid")
                connects = [c.statistics().connects for c in session.market_data.connections]
                nursery.cancel_scope.cancel()
            await session.context.aclose()

    stalls = [f for f in simulated.fault_log if f.kind is FaultKind.STALL]
    assert 1 == len(stalls)
    assert [1] == connects  # the watchdog, not a reconnect, caught both silences
    assert "stale stream: no update in time" == stale_again.state.reason
    assert target == caught_up.seq
    assert caught_up.snapshot
