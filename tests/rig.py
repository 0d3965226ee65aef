"""A Connector trading one symbol on one simulated venue, for end-to-end tests.

``rig(venue, faults=...)`` runs ``connector.sim.run`` with a fault plan and a
``Connector`` pointed at it (``endpoint = "custom"``, the demo account's keys),
and yields once the symbol's book is valid.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import attrs
import trio

from connector import Connector, sim
from connector.account.service import AccountStatistics
from connector.bus import Subscription
from connector.config import AccountConfig, Config, RiskConfig, VenueConfig
from connector.model import Symbol
from connector.model.credentials import Credentials
from connector.sim import SimRun, Truth
from connector.sim.accounts import DEFAULT_CREDENTIALS
from connector.sim.faults import FaultPlan

PERP = Symbol.parse("BTC-USDT-PERP")
VENUES = ("binance", "bybit", "okx")


@attrs.frozen
class Rig:
    c: Connector
    run: SimRun
    venue: str

    @property
    def truth(self) -> Truth:
        return self.run.truth(self.venue)

    def stats(self) -> AccountStatistics:
        return self.c.statistics().accounts[self.venue]


def book_configs(
    running: SimRun, venue: str, symbols: Iterable[Symbol], **fields: Any
) -> dict[str, VenueConfig]:
    """``venue`` streaming the books of ``symbols`` from the simulator (``fields``: more
    of its ``VenueConfig``, keys included); the other venues off."""
    return {
        name: VenueConfig(
            name=name,
            endpoint="custom",
            urls=running.urls[name],
            symbols=tuple(symbols),
            channels=("book",),
            **fields,
        )
        if name == venue
        else VenueConfig(name=name, enabled=False)
        for name in VENUES
    }


def venue_configs(
    running: SimRun,
    venue: str,
    symbol: Symbol = PERP,
    order_entry: str = "rest",
    request_timeout: float = 10.0,
) -> dict[str, VenueConfig]:
    """``venue`` trading ``symbol`` on the simulator with the demo account's keys; the
    other venues off."""
    demo = DEFAULT_CREDENTIALS[venue]
    keys = Credentials(
        api_key=demo.api_key, api_secret=demo.secret, passphrase=demo.passphrase or None
    )
    return book_configs(
        running,
        venue,
        (symbol,),
        credentials=keys,
        order_entry=order_entry,
        request_timeout=request_timeout,
    )


@asynccontextmanager
async def rig(
    venue: str,
    *,
    faults: FaultPlan | None = None,
    interval: float = 60.0,
    risk: RiskConfig | None = None,
    symbol: Symbol = PERP,
    order_entry: str = "rest",
    settings: Mapping[str, Mapping[str, object]] | None = None,
    request_timeout: float = 10.0,
) -> AsyncIterator[Rig]:
    async with sim.run(venues=(venue,), rate=50.0, faults=faults, settings=settings) as running:
        venues = venue_configs(running, venue, symbol, order_entry, request_timeout)
        config = Config(
            venues=venues,
            account=AccountConfig(reconcile_interval=interval),
            risk=risk or RiskConfig(),
        )
        async with Connector(config) as c:
            view = c.order_book(venue, symbol)
            async with c.subscribe(f"orderbook.{venue}.>") as updates:
                while not view.valid or view.best_ask() is None:
                    await updates.receive()
            yield Rig(c=c, run=running, venue=venue)


async def first_bid(c: Connector, venue: str, symbol: Symbol = PERP) -> Decimal:
    """The best bid price of ``venue``'s book of ``symbol``, once the book has one."""
    view = c.order_book(venue, symbol)
    async with c.subscribe(f"orderbook.{venue}.>") as updates:
        while (bid := view.best_bid()) is None:
            await updates.receive()
    return bid.price


async def until(r: Rig, check: Callable[[], bool], seconds: float = 5.0) -> None:
    """Wait until ``check()`` holds, looking again at every book update (the
    simulated flow moves the book many times a second)."""
    with trio.fail_after(seconds):
        async with r.c.subscribe(f"orderbook.{r.venue}.>") as ticks:
            while not check():
                await ticks.receive()


async def until_order_sockets_ready(r: Rig) -> None:
    """Until every order socket of the venue is logged in (orders go over REST before)."""

    def ready() -> bool:
        sockets = r.c.statistics().orders[r.venue].order_sockets.values()
        return bool(sockets) and all(s.ready for s in sockets)

    with trio.fail_after(10):
        async with r.c.subscribe(f"connection.{r.venue}") as changes:
            while not ready():
                await changes.receive()


def buffered(subscription: Subscription) -> list[object]:
    """Every event a subscription holds now (without waiting)."""
    out = []
    while True:
        try:
            out.append(subscription.receive_nowait())
        except trio.WouldBlock:
            return out
