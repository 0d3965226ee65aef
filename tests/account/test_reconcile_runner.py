"""The reconciliation runner: a REST failure is counted, logged and retried soon.

The account service runs as a ``Connector`` runs it, against the simulator in
memory (``tests/account/helpers.py``); an httpx transport answers the first
position reads with a 503, as a venue under maintenance does.
"""

from __future__ import annotations

from decimal import Decimal

import httpx
import trio

from tests.account.helpers import session_rig

POSITIONS_PATH = "/fapi/v3/positionRisk"


class Unavailable(httpx.AsyncBaseTransport):
    """Forwards every request; answers the first ``fail`` position reads with a 503."""

    def __init__(self, inner: httpx.AsyncBaseTransport, fail: int) -> None:
        self._inner = inner
        self.fail = fail
        self.reads = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == POSITIONS_PATH:
            self.reads += 1
            if self.fail > 0:
                self.fail -= 1
                return httpx.Response(503, text="Service Unavailable")
        return await self._inner.handle_async_request(request)


async def test_a_failed_reconciliation_is_counted_and_retried_after_the_retry_delay() -> None:
    with trio.fail_after(20):
        async with session_rig(
            "binance",
            http=lambda inner: Unavailable(inner, 2),
            retry_after=0.2,
            reconcile_interval=30.0,
        ) as r:
            while r.account.statistics().reconciliations < 1:
                await r.account.next_reconciliation()
            stats = r.account.statistics()
            assert 2 == stats.reconcile_failures
            assert 1 == stats.reconciliations
            assert isinstance(r.http, Unavailable) and 3 == r.http.reads
            # The balances are loaded once the venue answers.
            usdt = r.account.balances.get("binance", "USDT")
            assert usdt is not None
            truth = r.run.truth("binance").balance("USDT").total
            assert abs(truth - usdt.total) <= Decimal("1e-8")  # Binance sends 8 decimals
