"""A venue's account service as a ``Connector`` runs it, on the simulator in memory.

``async with session_rig("binance") as r`` starts ``connector.sim.run`` for one
venue, then a venue session (market data), its order state and its account
service, reaching the simulator through ``connector.testing.sim_transports``;
``http`` wraps the REST transport (a test passes one that changes answers).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import attrs
import httpx
import trio

from connector import sim
from connector.account.balances import BalanceBook
from connector.account.positions import PositionBook
from connector.account.service import AccountService
from connector.bus import Bus
from connector.model import Symbol
from connector.model.credentials import Credentials
from connector.oms.tracking import OrderStateService
from connector.sim import SimRun
from connector.sim.accounts import DEFAULT_CREDENTIALS
from connector.store.log import MemoryEventLog
from connector.testing import sim_transports
from connector.venues.registry import driver_for
from connector.venues.session import VenueSession

__all__ = ["SessionRig", "demo_credentials", "session_rig"]

PERP = Symbol.parse("BTC-USDT-PERP")


def demo_credentials(venue: str) -> Credentials:
    """The simulator's default account keys of ``venue``."""
    demo = DEFAULT_CREDENTIALS[venue]
    return Credentials(
        api_key=demo.api_key, api_secret=demo.secret, passphrase=demo.passphrase or None
    )


@attrs.frozen
class SessionRig:
    account: AccountService
    state: OrderStateService
    run: SimRun
    http: httpx.AsyncBaseTransport


@asynccontextmanager
async def session_rig(
    venue: str,
    *,
    credentials: Credentials | None = None,
    http: Callable[[httpx.AsyncBaseTransport], httpx.AsyncBaseTransport] | None = None,
    **account: Any,
) -> AsyncIterator[SessionRig]:
    """The account service of ``venue`` trading BTC-USDT-PERP (``account``: its options)."""
    bus = Bus()
    async with sim.run(venues=(venue,), rate=20.0) as simulated:
        transports = sim_transports(simulated)
        transport = http(transports.http) if http is not None else transports.http
        driver = driver_for(venue, credentials=credentials or demo_credentials(venue))
        assert driver.trading is not None
        session = VenueSession(
            driver,
            symbols=(PERP,),
            channels=("book",),
            bus=bus,
            urls=lambda: simulated.urls[venue],
            transport=transport,
            ws_transport=transports.ws,
        )
        state = OrderStateService(session, driver.trading, bus=bus, event_log=MemoryEventLog())
        service = AccountService(
            session, state, bus=bus, positions=PositionBook(), balances=BalanceBook(), **account
        )
        async with trio.open_nursery() as nursery:
            await nursery.start(session.supervisor.run)
            await nursery.start(state.run)
            await nursery.start(service.run)
            yield SessionRig(account=service, state=state, run=simulated, http=transport)
            nursery.cancel_scope.cancel()
        await session.context.aclose()
