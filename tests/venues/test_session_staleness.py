"""The default staleness window respects the venue's documented book silences."""

from __future__ import annotations

import pytest
import trio

from connector import sim
from connector.bus import Bus
from connector.model import BookUpdate, Market, Symbol
from connector.testing import sim_transports
from connector.venues.registry import driver_for
from connector.venues.session import VenueSession

SYMBOL = Symbol.parse("BTC-USDT-SPOT")


async def _book_states_through_a_quiet_spell(venue: str, quiet: float) -> list[str]:
    """Book states published while the venue's book stays unchanged for ``quiet`` s."""
    bus = Bus()
    states: list[str] = []
    async with sim.run(venues=(venue,), rate=50.0) as simulated:
        transports = sim_transports(simulated)
        session = VenueSession(
            driver_for(venue),
            symbols=(SYMBOL,),
            channels=("book",),
            bus=bus,
            urls=lambda: simulated.urls[venue],
            transport=transports.http,
            ws_transport=transports.ws,
        )
        async with (
            bus.subscribe(f"orderbook.{venue}.>", buffer=100_000) as books,
            trio.open_nursery() as nursery,
        ):
            await nursery.start(session.supervisor.run)
            while True:
                update = await books.receive()
                assert isinstance(update, BookUpdate)
                if update.state.valid:
                    break
            simulated.venue(venue).pause()
            with trio.move_on_after(quiet):
                async for update in books:
                    assert isinstance(update, BookUpdate)
                    states.append(update.state.status.value)
            nursery.cancel_scope.cancel()
        await session.context.aclose()
    return states


async def test_a_quiet_okx_book_stays_valid_through_the_venues_60_s_silence(
    autojump_clock: trio.abc.Clock,
) -> None:
    states = await _book_states_through_a_quiet_spell("okx", quiet=50.0)

    assert "invalid" not in states


async def test_a_quiet_bybit_book_goes_stale_after_the_default_30_s(
    autojump_clock: trio.abc.Clock,
) -> None:
    states = await _book_states_through_a_quiet_spell("bybit", quiet=50.0)

    assert "invalid" in states


@pytest.mark.parametrize(("venue", "window"), [("okx", 75.0), ("bybit", 30.0), ("binance", 30.0)])
def test_the_default_staleness_window_per_venue(venue: str, window: float) -> None:
    driver = driver_for(venue)
    session = VenueSession(driver, symbols=(SYMBOL,), channels=("book",), bus=Bus(), urls=dict)

    heartbeat = driver.market_data.heartbeat(Market.SPOT)
    assert window == session.staleness_window(heartbeat)
