"""``await c.reconcile()``: one reconciliation now, through the public API.

Each test runs the simulator with a fault plan and a ``Connector`` on it
(``tests.rig``); the venue's state is changed behind the connector's back (an
order placed straight on the simulator's desk, a deposit) while the pushes that
would tell it are dropped, so only a reconciliation can find the change.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import ROUND_DOWN, ROUND_UP, Decimal

import pytest
import trio

from connector import (
    ConfigError,
    Connector,
    OrderStatus,
    ReconcileIncomplete,
    ReconcileReport,
    sim,
)
from connector.config import AccountConfig, Config
from connector.model import OrderType, Side, Symbol
from connector.sim import SimRun
from connector.sim.faults import FaultKind, FaultPlan
from tests.e2e.helpers import sim_instrument
from tests.rig import PERP, Rig, first_bid, rig, until, venue_configs

ORDER_STREAMS = {"binance": "userData", "bybit": "order", "okx": "orders"}
"""The private stream that carries each venue's order updates."""

OKX_OPEN_ORDERS = "/api/v5/trade/orders-pending"
OKX_BALANCE = "/api/v5/account/balance"
SPOT = Symbol.parse("BTC-USDT-SPOT")


def place_behind_its_back(run: SimRun, venue: str, client_order_id: str) -> None:
    """A resting buy placed straight on the simulator's desk for the default account
    (as an operator on the venue's web page would)."""
    hub = run.venue(venue)
    inst = sim_instrument(venue, PERP)
    mark = hub.desk.mark_price(inst.market, inst.native_id)
    price = (mark * Decimal("0.9") / inst.tick_size).to_integral_value(ROUND_DOWN) * inst.tick_size
    # Above the minimum notional (OKX swap: in contracts of ``contract_size`` base).
    least = inst.min_notional * 2 / (price * inst.contract_size)
    qty = max(inst.min_qty, (least / inst.lot_step).to_integral_value(ROUND_UP) * inst.lot_step)
    account = hub.desk.default_account()
    assert account is not None
    placed = hub.desk.place(
        account,
        inst.market,
        inst.native_id,
        side=Side.BUY,
        type=OrderType.LIMIT,
        qty=qty,
        price=price,
        client_order_id=client_order_id,
        now_ms=hub.now_ms(),
    )
    assert getattr(placed, "client_order_id", None) == client_order_id, placed


def open_at_venue(r: Rig) -> set[str]:
    truth = r.truth
    return {o.client_order_id for o in truth.orders(truth.default_account()) if o.state.is_open}


@pytest.mark.parametrize("venue", ["binance", "bybit", "okx"])
async def test_reconcile_finds_an_order_placed_behind_the_connectors_back(venue: str) -> None:
    plan = FaultPlan().drop(1.0, venue=venue, stream=ORDER_STREAMS[venue])
    with trio.fail_after(40):
        async with rig(venue, faults=plan, interval=600.0) as r:
            place_behind_its_back(r.run, venue, "webui1")
            assert r.c.orders.get("webui1") is None  # its push was dropped

            reports = await r.c.reconcile()

            assert [venue] == list(reports)
            report = reports[venue]
            assert isinstance(report, ReconcileReport) and venue == report.venue
            assert 1 == report.discrepancies.get("order_unknown"), report
            assert "requested" in report.reasons
            order = r.c.orders.get("webui1")
            assert order is not None and OrderStatus.NEW == order.status
            assert open_at_venue(r) == {o.client_order_id for o in r.c.orders.open(venue)}

            again = (await r.c.reconcile(venue))[venue]
            assert 0 == again.total, again
            assert report.number < again.number
            assert report.completed_ns <= again.completed_ns
            assert r.stats().discrepancies.get("order_unknown") == 1


async def test_reconcile_finds_a_deposit_whose_push_was_lost() -> None:
    plan = FaultPlan().drop(1.0, venue="binance", stream="userData")
    with trio.fail_after(40):
        async with rig("binance", faults=plan, interval=600.0) as r:
            hub = r.run.venue("binance")
            account = hub.desk.default_account()
            assert account is not None
            hub.desk.transfer(account, "USDT", Decimal("1234.5"), now_ms=hub.now_ms())
            truth = r.truth.balance("USDT").total
            local = r.c.balances.get("binance", "USDT")
            assert local is not None and local.total != truth

            report = (await r.c.reconcile("binance"))["binance"]

            assert 1 == report.discrepancies.get("balance"), report
            local = r.c.balances.get("binance", "USDT")
            assert local is not None and abs(truth - local.total) <= Decimal("1e-8")
            assert 0 == (await r.c.reconcile("binance"))["binance"].total


async def test_a_request_during_a_running_reconciliation_gets_the_next_one() -> None:
    """The running one may have read the open orders before the change: the caller
    waits for the one after it, which sees the change; callers at the same time share it."""
    plan = (
        FaultPlan()
        .drop(1.0, venue="okx", stream="orders")
        .late_rest(1.0, 1.0, path=OKX_BALANCE, venue="okx")  # each one lasts a second
    )
    with trio.fail_after(45):
        async with rig("okx", faults=plan, interval=0.2) as r:
            await until(r, lambda: r.stats().reconciling is not None, seconds=10)
            running = r.stats().reconciling
            assert running is not None
            place_behind_its_back(r.run, "okx", "webui2")
            reports: list[ReconcileReport] = []

            async def ask() -> None:
                reports.append((await r.c.reconcile("okx"))["okx"])

            async with trio.open_nursery() as nursery:
                nursery.start_soon(ask)
                nursery.start_soon(ask)

            assert 2 == len(reports)
            assert reports[0] == reports[1]  # one run answered both
            assert running < reports[0].number
            order = r.c.orders.get("webui2")
            assert order is not None and OrderStatus.NEW == order.status


def held_reads(run: SimRun) -> int:
    """Balance reads the simulator is holding or held (``late_rest``): one more means the
    next is on the wire, so the reconciliation that sent it has listed its orders."""
    return sum(1 for f in run.fault_log if f.kind is FaultKind.REST_LATE)


async def test_persistence_reconcile_waits_for_a_run_started_after_the_call() -> None:
    # A change made after the running reconciliation listed the open orders is seen:
    # the call returns after the next run, not after the one it found running.
    plan = (
        FaultPlan()
        .drop(1.0, venue="okx", stream="orders")
        .late_rest(1.0, 1.0, path=OKX_BALANCE, venue="okx")
    )
    with trio.fail_after(45):
        async with rig("okx", faults=plan, interval=0.2) as r:
            before = held_reads(r.run)
            # A run's balance read is held now: that run has listed the open orders.
            await until(r, lambda: held_reads(r.run) > before, seconds=10)
            place_behind_its_back(r.run, "okx", "webui3")

            await r.c.persistence.reconcile()

            order = r.c.orders.get("webui3")
            assert order is not None and OrderStatus.NEW == order.status


async def test_a_balance_read_a_newer_push_overtook_is_no_discrepancy() -> None:
    # The read is sent, an order's lock is pushed and applied, the read's older answer
    # comes: the balance book keeps the push, and nothing differed.
    plan = FaultPlan().late_rest(1.0, 1.5, path=OKX_BALANCE, venue="okx")
    with trio.fail_after(45):
        async with rig("okx", symbol=SPOT, faults=plan, interval=600.0) as r:
            price = (await first_bid(r.c, "okx", SPOT) * Decimal("0.9")).quantize(Decimal("0.1"))
            before = held_reads(r.run)
            async with trio.open_nursery() as nursery, r.c.subscribe("balance.okx.USDT") as pushes:
                reports: list[ReconcileReport] = []

                async def ask() -> None:
                    reports.append((await r.c.reconcile("okx"))["okx"])

                nursery.start_soon(ask)
                await until(r, lambda: held_reads(r.run) > before, seconds=10)
                await r.c.place_order("okx", SPOT, "buy", "limit", "0.1", price)
                await pushes.receive()  # the lock, applied while the read is held

            assert "balance" not in reports[0].discrepancies, reports[0]
            assert 0 == r.stats().discrepancies.get("balance", 0)
            local, truth = r.c.balances.get("okx", "USDT"), r.truth.balance("USDT")
            assert local is not None and (local.free, local.locked) == (truth.free, truth.locked)


async def test_a_reconciliation_that_outlasts_the_timeout_fails_naming_it() -> None:
    plan = FaultPlan().late_rest(1.0, 5.0, path=OKX_BALANCE, venue="okx", max_count=2)
    with trio.fail_after(45):
        async with rig("okx", faults=plan, interval=600.0) as r:
            with pytest.raises(ReconcileIncomplete) as caught:
                await r.c.reconcile(timeout=0.5)
    assert {} == caught.value.reports
    assert ["okx"] == list(caught.value.failures)
    assert "within 0.5 s" in caught.value.failures["okx"]
    assert "okx" in str(caught.value)


@asynccontextmanager
async def two_venues(plan: FaultPlan) -> AsyncIterator[Connector]:
    """Binance and OKX trading on one simulator with ``plan``."""
    async with sim.run(venues=("binance", "okx"), rate=50.0, faults=plan) as running:
        venues = venue_configs(running, "binance")
        venues["okx"] = venue_configs(running, "okx")["okx"]
        config = Config(venues=venues, account=AccountConfig(reconcile_interval=600.0))
        async with Connector(config) as c:
            yield c


async def test_a_venue_failing_rest_is_named_while_the_others_complete() -> None:
    plan = FaultPlan().rest_error(1.0, status=503, path=OKX_OPEN_ORDERS, venue="okx")
    with trio.fail_after(45):
        async with two_venues(plan) as c:
            with pytest.raises(ReconcileIncomplete) as caught:
                await c.reconcile()
            with pytest.raises(ReconcileIncomplete) as only_okx:
                await c.reconcile("okx")
            binance = (await c.reconcile("binance"))["binance"]
            with pytest.raises(ConfigError, match="'bybit' does not trade here"):
                await c.reconcile("bybit")
            with pytest.raises(ValueError, match="timeout"):
                await c.reconcile(timeout=0)
    error = caught.value
    assert ["okx"] == list(error.failures)
    assert OKX_OPEN_ORDERS in error.failures["okx"] and "503" in error.failures["okx"]
    assert str(error) == f"reconcile did not complete: okx: {error.failures['okx']}"
    assert ["binance"] == list(error.reports)
    assert error.reports["binance"].number < binance.number
    assert {} == only_okx.value.reports and ["okx"] == list(only_okx.value.failures)
