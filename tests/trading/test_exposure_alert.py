"""A position beyond ``max_position_qty`` that no refusal of ours caught (filled by
another program on the same account) is published on ``risk.alert`` as ``exposure``,
once, and as ``exposure_cleared`` when it is back within the limit."""

from __future__ import annotations

from decimal import Decimal

import pytest
import trio

from connector import Connector, RiskAlert, RiskAlertKind, sim
from connector.bus import Subscription
from connector.config import Config, RiskConfig
from tests.rig import PERP, VENUES, venue_configs

TIMEOUT = 40
LIMIT = Decimal("0.01")


async def _until(alerts: Subscription, kind: RiskAlertKind, seen: list[RiskAlert]) -> RiskAlert:
    """Alerts into ``seen`` until one of ``kind``; that one."""
    while True:
        alert = await alerts.receive()
        assert isinstance(alert, RiskAlert)
        seen.append(alert)
        if alert.kind is kind:
            return alert


@pytest.mark.parametrize("venue", VENUES)
async def test_a_position_beyond_the_limit_built_elsewhere_is_alerted(venue: str) -> None:
    with trio.fail_after(TIMEOUT):
        async with sim.run(venues=(venue,), rate=50.0) as running:
            venues = venue_configs(running, venue)
            watched = Config(venues=venues, risk=RiskConfig(max_position_qty=LIMIT))
            async with (
                Connector(watched) as guarded,
                guarded.subscribe("risk.alert") as alerts,
                Connector(Config(venues=venues)) as other,  # another program, same account
            ):
                seen: list[RiskAlert] = []
                await other.place_order(venue, PERP, "buy", "market", Decimal("0.03"))
                beyond = await _until(alerts, RiskAlertKind.EXPOSURE, seen)
                await other.place_order(venue, PERP, "buy", "market", Decimal("0.01"))
                await other.place_order(venue, PERP, "sell", "market", Decimal("0.04"))
                cleared = await _until(alerts, RiskAlertKind.EXPOSURE_CLEARED, seen)

    assert (venue, PERP, "max_position_qty") == (beyond.venue, beyond.symbol, beyond.limit)
    assert "beyond max_position_qty 0.01" in beyond.message
    assert (venue, PERP) == (cleared.venue, cleared.symbol)
    assert [RiskAlertKind.EXPOSURE, RiskAlertKind.EXPOSURE_CLEARED] == [a.kind for a in seen]
