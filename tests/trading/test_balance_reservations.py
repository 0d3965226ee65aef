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
from connector.sim.faults import FaultKind, FaultPlan
from tests.rig import VENUES, Rig, first_bid, rig, until

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


WALLETS = {
    "okx": ("account", "/api/v5/account/balance"),
    "bybit": ("wallet", "/v5/account/wallet-balance"),
}


def _held_reads(r: Rig) -> int:
    return sum(1 for f in r.run.fault_log if f.kind is FaultKind.REST_LATE)


@pytest.mark.parametrize("venue", sorted(WALLETS))
async def test_a_balance_read_asked_before_the_order_leaves_its_reservation(venue: str) -> None:
    # The wallet pushes are lost and a deposit made the venue's balance differ: the
    # reconciliation's read, sent before the order and answered after it, applies the
    # deposit but shows no lock of the order: its reservation stays.
    stream, path = WALLETS[venue]
    plan = FaultPlan().drop(1.0, venue=venue, stream=stream).late_rest(1.0, 1.5, path=path)
    with trio.fail_after(60):
        async with rig(
            venue, symbol=SPOT, faults=plan, interval=600.0, risk=RiskConfig(check_balance=True)
        ) as r:
            c = r.c
            price = (await first_bid(c, venue, SPOT) * D("0.9")).quantize(D("0.1"))
            hub = r.run.venue(venue)
            account = hub.desk.default_account()
            assert account is not None
            hub.desk.transfer(account, "USDT", D("1000"), now_ms=hub.now_ms())  # unpushed
            held = _held_reads(r)
            async with trio.open_nursery() as nursery:
                nursery.start_soon(c.reconcile, venue)
                await until(r, lambda: _held_reads(r) > held)  # the read is on the wire
                start = c.balances.get(venue, "USDT")
                assert start is not None
                qty = (start.free * D("0.6") / price).quantize(D("0.001"))
                await c.place_order(venue, SPOT, "buy", "limit", qty, price)
            need = price * qty

            assert need == c.balances.reserved(venue, "USDT")
            truth = r.truth.balance("USDT")
            local = c.balances.get(venue, "USDT")
            assert local is not None and truth.total == local.free  # the deposit, no lock
            with pytest.raises(RiskRejected, match="check_balance"):
                await c.place_order(venue, SPOT, "buy", "limit", qty, price)
