"""A venue session against the simulator entirely in memory (``sim_transports``)."""

from __future__ import annotations

import pytest
import trio

from connector import sim
from connector.bus import Bus
from connector.errors import ConnectionLost
from connector.model import BookUpdate, Symbol
from connector.testing import sim_transports
from connector.venues.registry import driver_for
from connector.venues.session import VenueSession

TIMEOUT = 20
SYMBOLS = (Symbol.parse("BTC-USDT-SPOT"), Symbol.parse("BTC-USDT-PERP"))


@pytest.mark.parametrize("venue", ["binance", "bybit", "okx"])
async def test_a_venue_session_makes_its_books_valid_over_in_memory_transports(
    venue: str,
) -> None:
    bus = Bus()
    with trio.fail_after(TIMEOUT):
        async with sim.run(venues=(venue,), rate=100.0) as simulated:
            transports = sim_transports(simulated)
            session = VenueSession(
                driver_for(venue),
                symbols=SYMBOLS,
                channels=("book", "trades"),
                bus=bus,
                urls=lambda: simulated.urls[venue],
                transport=transports.http,
                ws_transport=transports.ws,
            )
            valid: set[Symbol] = set()
            async with (
                bus.subscribe(f"orderbook.{venue}.>", buffer=100_000) as books,
                trio.open_nursery() as nursery,
            ):
                await nursery.start(session.supervisor.run)
                while valid != set(SYMBOLS):
                    update = await books.receive()
                    assert isinstance(update, BookUpdate)
                    if update.state.valid:
                        valid.add(update.symbol)
                stats = session.statistics()
                nursery.cancel_scope.cancel()
            await session.context.aclose()

    assert len(stats.connections) == transports.ws.connects
    assert sum(limiter.acquired for limiter in stats.limiters.values()) >= 2


async def test_a_url_the_simulator_does_not_serve_is_refused_with_its_host() -> None:
    with trio.fail_after(TIMEOUT):
        async with sim.run(venues=("okx",), rate=10.0) as simulated:
            transports = sim_transports(simulated)
            with pytest.raises(ConnectionLost, match=r"no simulated endpoint at 127\.0\.0\.1:1"):
                async with transports.ws.connect("ws://127.0.0.1:1/ws/v5/public"):
                    pass  # pragma: no cover
