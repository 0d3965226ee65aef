"""Keys the venue refuses, through the public API: the connector starts without
waiting out its start timeout, a new order is refused naming the venue's answer,
and a cancel-all or kill that cannot list the venue's orders says so.

The simulated venues check signatures as the real ones do: a secret that is not
the account's makes Bybit's ``auth`` and OKX's ``login`` fail, and every signed
REST request (the start's reconciliation) come back refused with the venue's code.
"""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest
import trio

from connector import (
    CancelAllIncomplete,
    Connector,
    RiskAlert,
    RiskAlertKind,
    ServiceUnavailable,
    sim,
)
from connector.config import Config
from tests.rig import PERP, buffered, venue_configs

# The code of each venue's refusal of a bad signature (their REST error tables).
SIGNATURE_REFUSED = {"binance": "-1022", "bybit": "10004", "okx": "50113"}
START_TIMEOUT = 15.0  # the account service's wait for its private streams


def wrong_secret(running: sim.SimRun, venue: str) -> Config:
    """The simulator's config of ``venue`` with a secret that is not the account's."""
    venues = venue_configs(running, venue)
    keys = venues[venue].credentials
    assert keys is not None
    wrong = attrs.evolve(keys, api_secret="0" * len(keys.api_secret))
    return Config(venues={**venues, venue: attrs.evolve(venues[venue], credentials=wrong)})


@pytest.mark.parametrize("venue", sorted(SIGNATURE_REFUSED))
async def test_a_wrong_secret_is_named_when_an_order_is_refused(
    venue: str, autojump_clock: trio.abc.Clock
) -> None:
    with trio.fail_after(60):  # virtual seconds
        async with sim.run(venues=(venue,), rate=50.0) as running:
            started = trio.current_time()
            async with Connector(wrong_secret(running, venue)) as c:
                # A refused login is not waited for (before: the whole start timeout).
                assert trio.current_time() - started < START_TIMEOUT / 2
                assert not c.status().reconciled[venue]
                why = c.status().unreconciled[venue]
                assert f"the last attempt failed: {SIGNATURE_REFUSED[venue]} " in why
                with pytest.raises(ServiceUnavailable) as refused:
                    await c.place_order(
                        venue, PERP, "buy", "limit", Decimal("0.01"), Decimal("50000")
                    )
                message = str(refused.value)
                assert message.startswith(f"{venue}: not reconciled with the venue")
                assert f"the last attempt failed: {SIGNATURE_REFUSED[venue]} " in message
                assert [] == c.orders.all()
            assert [] == running.truth(venue).orders()  # nothing reached the venue


@pytest.mark.parametrize("venue", sorted(SIGNATURE_REFUSED))
async def test_a_kill_that_cannot_list_the_venues_orders_says_so(
    venue: str, autojump_clock: trio.abc.Clock
) -> None:
    with trio.fail_after(60):  # virtual seconds
        async with sim.run(venues=(venue,), rate=50.0) as running:
            venues = venue_configs(running, venue)
            async with Connector(Config(venues=venues)) as c:  # the right keys: it rests
                resting = await c.place_order(
                    venue, PERP, "buy", "limit", Decimal("0.01"), Decimal("50000")
                )
            async with Connector(wrong_secret(running, venue)) as c:
                with pytest.raises(CancelAllIncomplete) as incomplete:
                    await c.cancel_all()
                why = incomplete.value.failures[venue]
                assert why.startswith("its open orders could not be listed")
                assert SIGNATURE_REFUSED[venue] in why
                async with c.subscribe("risk.alert") as alerts:
                    await c.risk.kill("wrong keys")
                    (killed,) = [
                        a
                        for a in buffered(alerts)
                        if isinstance(a, RiskAlert) and a.kind is RiskAlertKind.KILL_DONE
                    ]
                assert 1 == killed.failed  # not "0 orders canceled" and all well
                assert f"{venue}: its open orders could not be listed" in killed.message
            open_ = [o.client_order_id for o in running.truth(venue).open_orders()]
            assert [resting.client_order_id] == open_  # it is still there: said, not hidden
