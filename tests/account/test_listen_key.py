"""The Binance USDⓈ-M listenKey: kept alive, and renewed when a keepalive says -1125.

The account service runs as a ``Connector`` runs it (session, order state,
account), against the simulator in memory (``connector.testing.sim_transports``)
through an httpx transport that answers chosen keepalives with Binance's -1125
("This listenKey does not exist."), as the venue does for a key it dropped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

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
from connector.sim.accounts import DEFAULT_CREDENTIALS
from connector.store.log import MemoryEventLog
from connector.testing import sim_transports
from connector.venues.registry import driver_for
from connector.venues.session import VenueSession

TIMEOUT = 20
PERP = Symbol.parse("BTC-USDT-PERP")
KEY_PATH = "/fapi/v1/listenKey"


class KeyGone(httpx.AsyncBaseTransport):
    """Forwards every request; answers the first ``gone`` keepalives with -1125."""

    def __init__(self, inner: httpx.AsyncBaseTransport, gone: int) -> None:
        self._inner = inner
        self.gone = gone
        self.calls: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == KEY_PATH:
            self.calls.append(request.method)
            if request.method == "PUT" and self.gone > 0:
                self.gone -= 1
                body = {"code": -1125, "msg": "This listenKey does not exist."}
                return httpx.Response(400, json=body)
        return await self._inner.handle_async_request(request)


@attrs.frozen
class Rig:
    account: AccountService
    transport: KeyGone


@asynccontextmanager
async def rig(*, gone: int, keepalive: float) -> AsyncIterator[Rig]:
    bus = Bus()
    async with sim.run(venues=("binance",), rate=20.0) as simulated:
        transports = sim_transports(simulated)
        http = KeyGone(transports.http, gone)
        demo = DEFAULT_CREDENTIALS["binance"]
        keys = Credentials(api_key=demo.api_key, api_secret=demo.secret)
        driver = driver_for("binance", credentials=keys)
        assert driver.trading is not None
        session = VenueSession(
            driver,
            symbols=(PERP,),
            channels=("book",),
            bus=bus,
            urls=lambda: simulated.urls["binance"],
            transport=http,
            ws_transport=transports.ws,
        )
        state = OrderStateService(session, driver.trading, bus=bus, event_log=MemoryEventLog())
        account = AccountService(
            session,
            state,
            bus=bus,
            positions=PositionBook(),
            balances=BalanceBook(),
            listen_key_keepalive=keepalive,
        )
        async with trio.open_nursery() as nursery:
            await nursery.start(session.supervisor.run)
            await nursery.start(state.run)
            await nursery.start(account.run)
            yield Rig(account=account, transport=http)
            nursery.cancel_scope.cancel()
        await session.context.aclose()


async def test_keepalives_keep_the_same_key_and_socket() -> None:
    with trio.fail_after(TIMEOUT):
        async with rig(gone=0, keepalive=0.2) as r:
            await trio.sleep(1.0)  # five keepalive periods
            stats = r.account.statistics()
            assert 2 <= stats.keepalives
            assert 1 == stats.listen_keys
            assert 1 == stats.streams[0].logins
            assert ["POST", "PUT", "PUT"] == r.transport.calls[:3]


async def test_a_keepalive_answered_1125_takes_a_new_key_and_a_new_socket() -> None:
    with trio.fail_after(TIMEOUT):
        async with rig(gone=1, keepalive=0.2) as r:
            conn = r.account.connections["linear"]
            first_url = conn.url
            while r.account.statistics().streams[0].logins < 2:
                await r.account.next_reconciliation()  # one follows every login
            stats = r.account.statistics()
            assert 2 == stats.listen_keys  # created again after the -1125
            assert ["POST", "PUT", "POST"] == r.transport.calls[:3]
            assert "listenKey=" in conn.url and first_url.split("?")[0] == conn.url.split("?")[0]
            # The start and the reconnect were each followed by a reconciliation.
            assert 2 <= stats.reconciliations
