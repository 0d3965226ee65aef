"""Spot orders reserve their funds at once: ``c.balances.available`` and ``check_balance``.

Against each venue's simulated spot market: a resting buy lowers ``available`` by
price x qty the moment it is submitted, before the venue's balance push; once the
push shows the lock, nothing is reserved and ``available`` is the venue's ``free``.
With ``[risk] check_balance`` a second buy that would over-commit is refused while
the venue's free balance (not yet showing the first) would still have covered it.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import trio

from connector.config import RiskConfig
from connector.errors import RiskRejected
from connector.model import Balance, Order, OrderStatus, RiskAlert, Symbol
from tests.rig import VENUES, first_bid, rig

SPOT = Symbol.parse("BTC-USDT-SPOT")
D = Decimal


@pytest.mark.parametrize("venue", VENUES)
async def test_spot_buy_reserves_at_once_until_the_venue_shows_the_lock(venue: str) -> None:
    with trio.fail_after(60):
        async with rig(venue, symbol=SPOT, risk=RiskConfig(check_balance=True)) as r:
            c = r.c
            price = (await first_bid(c, venue, SPOT) * D("0.9")).quantize(D("0.1"))
            start = c.balances.get(venue, "USDT")
            assert start is not None and start.locked == 0
            assert start.free == c.balances.available(venue, "USDT")
            qty = (start.free * D("0.6") / price).quantize(D("0.001"))
            need = price * qty  # the venue can fund one such buy, not two

            placed: list[Order] = []
            async with (
                c.subscribe(f"order.{venue}.submitted") as submitted,
                c.subscribe(f"balance.{venue}.USDT") as pushes,
                c.subscribe("risk.alert") as alerts,
            ):

                async def first() -> None:
                    placed.append(await c.place_order(venue, SPOT, "buy", "limit", qty, price))

                async with trio.open_nursery() as nursery:
                    nursery.start_soon(first)
                    await submitted.receive()  # written ahead, not yet answered
                    free_then = c.balances.get(venue, "USDT")
                    assert free_then is not None and start.free == free_then.free
                    assert need == c.balances.reserved(venue, "USDT")
                    assert start.free - need == c.balances.available(venue, "USDT")
                    # The venue's free still covers a second buy; what is available not.
                    with pytest.raises(RiskRejected) as refused:
                        await c.place_order(venue, SPOT, "buy", "limit", qty, price)
                [order] = placed
                assert OrderStatus.NEW == order.status

                expected = (
                    f"risk limit check_balance: needs {need.normalize():f} USDT,"
                    f" available {(start.free - need).normalize():f} USDT on {venue}"
                )
                assert expected == str(refused.value)
                assert "check_balance" == refused.value.limit
                alert = await alerts.receive()
                assert isinstance(alert, RiskAlert)
                assert ("check_balance", venue) == (alert.limit, alert.venue)

                # The venue's push shows the lock: nothing is reserved any more.
                balance = c.balances.get(venue, "USDT")
                while balance is None or balance.locked < need:
                    assert isinstance(await pushes.receive(), Balance)
                    balance = c.balances.get(venue, "USDT")
                assert D(0) == c.balances.reserved(venue, "USDT")
                assert balance.free == c.balances.available(venue, "USDT")
                assert start.free - need == balance.free
                assert need == balance.locked

                # A buy that fits what is available passes the check.
                small = await c.place_order(venue, SPOT, "buy", "limit", "0.001", price)
                assert price * D("0.001") == c.balances.reserved(venue, "USDT")

                for o in (order, small):
                    canceled = await c.cancel_order(venue, SPOT, o.client_order_id)
                    assert OrderStatus.CANCELED == canceled.status
                assert D(0) == c.balances.reserved(venue, "USDT")
                while balance.locked != 0:
                    await pushes.receive()
                    balance = c.balances.get(venue, "USDT")
                    assert balance is not None
                assert start.free == balance.free == c.balances.available(venue, "USDT")
