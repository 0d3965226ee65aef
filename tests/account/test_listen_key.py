"""The Binance USDⓈ-M listenKey: kept alive, and renewed when a keepalive says -1125.

The account service runs as a ``Connector`` runs it (session, order state,
account), against the simulator in memory (``tests/account/helpers.py``)
through an httpx transport that answers chosen keepalives with Binance's -1125
("This listenKey does not exist."), as the venue does for a key it dropped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import trio

from tests.account.helpers import SessionRig, session_rig

TIMEOUT = 20
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


@asynccontextmanager
async def rig(*, gone: int, keepalive: float) -> AsyncIterator[SessionRig]:
    async with session_rig(
        "binance", http=lambda inner: KeyGone(inner, gone), listen_key_keepalive=keepalive
    ) as r:
        yield r


def calls(r: SessionRig) -> list[str]:
    assert isinstance(r.http, KeyGone)
    return r.http.calls


async def test_keepalives_keep_the_same_key_and_socket() -> None:
    with trio.fail_after(TIMEOUT):
        async with rig(gone=0, keepalive=0.2) as r:
            for _ in range(100):  # five periods take 1 s; a loaded machine, longer
                if r.account.statistics().keepalives >= 2:
                    break
                await trio.sleep(0.1)
            stats = r.account.statistics()
            assert 2 <= stats.keepalives
            assert 1 == stats.listen_keys
            assert 1 == stats.streams[0].logins
            assert ["POST", "PUT", "PUT"] == calls(r)[:3]


async def test_a_keepalive_answered_1125_takes_a_new_key_and_a_new_socket() -> None:
    with trio.fail_after(TIMEOUT):
        async with rig(gone=1, keepalive=0.2) as r:
            conn = r.account.connections["linear"]
            first_url = conn.url
            while r.account.statistics().streams[0].logins < 2:
                await r.account.next_reconciliation()  # one follows every login
            stats = r.account.statistics()
            assert 2 == stats.listen_keys  # created again after the -1125
            assert ["POST", "PUT", "POST"] == calls(r)[:3]
            assert "listenKey=" in conn.url and first_url.split("?")[0] == conn.url.split("?")[0]
            # The start and the reconnect were each followed by a reconciliation.
            assert 2 <= stats.reconciliations
