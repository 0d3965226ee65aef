"""The kill switch end to end: every venue's open orders are canceled, new orders refused,
reduce-only orders still pass, and every step is published on ``risk.alert``."""

from __future__ import annotations

from decimal import Decimal

import pytest
import trio

from connector import Connector, OrderStatus, RiskAlert, RiskAlertKind, RiskRejected
from connector.config import Config, RiskConfig, VenueConfig
from connector.model import Symbol
from connector.venues.registry import TRADERS
from tests.trading.helpers import assert_agrees_with_venue

TIMEOUT = 30

MARKETS = {
    "binance": ("BTC-USDT-PERP", Decimal("0.01")),
    "bybit": ("BTC-USDT-PERP", Decimal("0.01")),
    "okx": ("BTC-USDT-PERP", Decimal("0.01")),
}
"""Per venue whose simulated order entry exists: a symbol and a small quantity."""


def config() -> Config:
    venues = {
        name: VenueConfig(name=name, symbols=(Symbol.parse(MARKETS[name][0]),), channels=("book",))
        if name in MARKETS and name in TRADERS
        else VenueConfig(name=name, enabled=False)
        for name in ("binance", "bybit", "okx")
    }
    return Config(venues=venues, risk=RiskConfig())


async def bids(c: Connector, venues: list[str]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    async with c.subscribe("orderbook.>") as updates:
        while len(out) < len(venues):
            for venue in venues:
                view = c.order_book(venue, MARKETS[venue][0])
                best = view.best_bid() if view.valid else None
                if best is not None:
                    out[venue] = best.price
            if len(out) < len(venues):
                await updates.receive()
    return out


async def test_kill_cancels_everything_refuses_new_orders_and_lets_reduce_only_pass() -> None:
    venues = [v for v in MARKETS if v in TRADERS]
    if not venues:
        pytest.skip("no venue trades on the simulator yet")
    with trio.fail_after(TIMEOUT):
        async with Connector(config()) as c, c.subscribe("risk.alert") as alerts:
            with trio.fail_after(10):
                prices = await bids(c, venues)
            for venue in venues:
                symbol, qty = MARKETS[venue]
                for step in ("0.90", "0.91"):
                    await c.place_order(
                        venue, symbol, "buy", "limit", qty, prices[venue] * Decimal(step)
                    )
                opened = await c.place_order(venue, symbol, "buy", "market", qty)
                assert OrderStatus.FILLED == opened.status
            assert 2 * len(venues) == len(c.orders.open())

            state = await c.risk.kill("test")
            assert state.killed and "test" == state.reason
            assert state == c.risk.state
            assert [] == c.orders.open()
            # The venues agree: their open-order listings are empty too.
            assert [] == await c.cancel_all()
            assert [] == c.orders.open()

            for venue in venues:
                symbol, qty = MARKETS[venue]
                with pytest.raises(RiskRejected) as refused:
                    await c.place_order(venue, symbol, "buy", "limit", qty, prices[venue] / 2)
                assert "kill_switch" == refused.value.limit
                closed = await c.place_order(venue, symbol, "sell", "market", qty, reduce_only=True)
                assert OrderStatus.FILLED == closed.status

            c.risk.resume()
            assert not c.risk.state.killed
            for venue in venues:
                symbol, qty = MARKETS[venue]
                order = await c.place_order(venue, symbol, "buy", "limit", qty, prices[venue] / 2)
                assert OrderStatus.NEW == order.status
            await c.cancel_all()
            for venue in venues:
                assert_agrees_with_venue(c, venue)

            seen: list[RiskAlert] = []
            while True:
                try:
                    alert = alerts.receive_nowait()
                except trio.WouldBlock:
                    break
                assert isinstance(alert, RiskAlert)
                seen.append(alert)
    kinds = [a.kind for a in seen]
    assert [RiskAlertKind.KILL, RiskAlertKind.KILL_DONE] == kinds[:2]
    assert 2 * len(venues) == seen[1].canceled and 0 == seen[1].failed
    assert [RiskAlertKind.BREACH] * len(venues) + [RiskAlertKind.RESUME] == kinds[2:]
    assert all("kill_switch" == a.limit for a in seen)
