"""The simulated OKX the route tests talk to: a paused simulator and a signed client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import trio

from connector.sim import SimRun
from connector.sim.standalone import run
from tests.sim.okx.okx_client import Okx


@pytest.fixture
async def okx() -> AsyncIterator[tuple[Okx, SimRun]]:
    """A signed client of a paused simulated OKX (its demo account), and the simulator."""
    with trio.fail_after(30):
        async with (
            run(venues=("okx",), paused=True) as sim,
            httpx.AsyncClient(base_url=sim.urls["okx"]["spot.rest"]) as client,
        ):
            yield Okx(client), sim
