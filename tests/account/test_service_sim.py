"""The account service end to end against the simulator, through the public API only.

A ``Connector`` trades one perpetual on one simulated venue (``endpoint = "custom"``
pointed at a ``connector.sim.run`` with the demo account's keys, so a test can
give the simulator a fault plan); after each step the positions and balances
the connector shows must equal the simulator's truth (``connector.sim.Truth``).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import trio

from connector import OrderStatus, RiskRejected
from connector.account.positions import same_price
from connector.config import RiskConfig
from connector.model import Balance, ConnectionEvent, ConnectionStatus, Position, Symbol
from connector.sim.faults import FaultPlan
from tests.rig import PERP, Rig, buffered, rig, until

TIMEOUT = 30
QTY = Decimal("0.01")
VENUES = ("binance", "bybit", "okx")


def truth_position(r: Rig) -> tuple[Decimal, Decimal | None]:
    open_ = [p for p in r.truth.positions()]
    if not open_:
        return Decimal(0), None
    (p,) = open_
    return p.size, p.entry_price


def local_position(r: Rig) -> tuple[Decimal, Decimal | None]:
    p = r.c.positions.get(r.venue, PERP)
    if p is None or p.qty == 0:
        return Decimal(0), None
    return p.qty, p.avg_entry_price


def local_usdt(r: Rig) -> Decimal | None:
    b = r.c.balances.get(r.venue, "USDT")
    return None if b is None else b.total


WIRE = Decimal("1e-8")
"""Binance sends balances with 8 decimals; the simulator keeps 10."""


def agree(r: Rig) -> bool:
    usdt = local_usdt(r)
    return (
        local_position(r) == truth_position(r)
        and usdt is not None
        and abs(usdt - r.truth.balance("USDT").total) <= WIRE
    )


@pytest.mark.parametrize("venue", VENUES)
async def test_positions_and_balances_follow_fills_and_equal_the_truth(venue: str) -> None:
    with trio.fail_after(TIMEOUT):
        async with rig(venue, interval=0.5) as r:
            # At start: the venue's balances, no position.
            assert agree(r)
            assert r.c.positions.get(venue, PERP) is None
            assert 1 <= r.stats().reconciliations
            async with (
                r.c.subscribe(f"position.{venue}.>") as positions,
                r.c.subscribe(f"balance.{venue}.>") as balances,
            ):
                order = await r.c.place_order(venue, PERP, "buy", "market", QTY)
                assert OrderStatus.FILLED == (await r.c.orders.wait(order.client_order_id)).status
                await until(r, lambda: agree(r))
                assert QTY == local_position(r)[0]
                position = await positions.receive()
                assert isinstance(position, Position) and venue == position.venue
                assert isinstance(await balances.receive(), Balance)

            held = r.c.positions.get(venue, PERP)
            assert held is not None and held.realized_pnl < 0  # the taker fee
            truth_pos = r.truth.positions()[0]
            assert truth_pos.realised_pnl == held.realized_pnl
            pnl = r.c.positions.unrealized_pnl(venue, PERP)
            assert pnl is not None and abs(pnl) < QTY * held.avg_entry_price  # type: ignore[operator]

            close = await r.c.place_order(venue, PERP, "sell", "market", QTY, reduce_only=True)
            assert OrderStatus.FILLED == (await r.c.orders.wait(close.client_order_id)).status
            await until(r, lambda: agree(r))
            assert Decimal(0) == local_position(r)[0]
            # Fills counted once, each with its trade id.
            fills = r.c.fills(venue)
            assert len(fills) == len({f.trade_id for f in fills})
            assert sum(f.qty for f in fills) == 2 * QTY
            # Periodic reconciliations ran and found nothing to correct.
            start = r.stats().reconciliations
            await until(r, lambda: r.stats().reconciliations >= start + 2)
            assert agree(r)
            stats = r.stats()
            assert 0 == stats.reconcile_failures
            assert {} == {k: n for k, n in stats.discrepancies.items() if k != "balance"}
            (stream,) = stats.streams
            assert 1 == stream.logins and 0 == stream.malformed


@pytest.mark.parametrize("venue", VENUES)
async def test_realised_pnl_of_orders_of_several_fills_equals_the_venues(venue: str) -> None:
    # Market orders larger than the top levels fill in several trades of one time; the
    # venue's position update comes between them: every fill's P&L counts all the same.
    # (The venues send an entry price rounded, and the simulator keeps 10 decimals: P&L
    # is compared to 1e-8.)
    with trio.fail_after(TIMEOUT):
        async with rig(venue) as r:
            for side, qty in (("buy", 20 * QTY), ("buy", 20 * QTY), ("sell", 30 * QTY)):
                order = await r.c.place_order(venue, PERP, side, "market", qty)
                done = await r.c.orders.wait(order.client_order_id, timeout=5)
                assert OrderStatus.FILLED == done.status
            await until(r, lambda: 10 * QTY == local_position(r)[0] == truth_position(r)[0])
            assert len(r.c.fills(venue)) > 3  # orders of several fills, or this shows nothing
            held = r.c.positions.get(venue, PERP)
            assert held is not None
            truth = r.truth.positions()[0]
            assert abs(truth.realised_pnl - held.realized_pnl) < Decimal("1e-8"), (truth, held)
            assert same_price(held.avg_entry_price, truth.entry_price.quantize(Decimal("1e-9")))


SPOT = Symbol.parse("BTC-USDT-SPOT")


@pytest.mark.parametrize(
    ("venue", "symbol", "stream"),
    [
        pytest.param("binance", PERP, "userData", id="binance-usdm"),
        pytest.param("binance", SPOT, "userData", id="binance-spot"),
        pytest.param("bybit", PERP, "wallet", id="bybit"),
        pytest.param("okx", PERP, "orders", id="okx"),
    ],
)
async def test_a_dropped_private_stream_logs_in_again_and_reconciliation_recovers_the_gap(
    venue: str, symbol: Symbol, stream: str
) -> None:
    # The private socket is closed right after its first order event: what happens
    # next is only known once the client is back, logged in and reconciled.
    plan = FaultPlan().disconnect(after_frames=1, venue=venue, stream=stream, max_count=1)
    with trio.fail_after(TIMEOUT):
        async with rig(venue, faults=plan, symbol=symbol) as r:
            bid = r.c.order_book(venue, symbol).best_bid()
            assert bid is not None
            resting = await r.c.place_order(
                venue, symbol, "buy", "limit", QTY, bid.price * Decimal("0.9")
            )
            # Filled while the private stream is down: its fill never comes by stream.
            order = await r.c.place_order(venue, symbol, "buy", "market", QTY)
            done = await r.c.orders.wait(order.client_order_id, timeout=5)
            assert OrderStatus.FILLED == done.status

            # Logged in again, and the reconciliation that follows (the second) is done.
            await until(r, lambda: r.stats().streams[0].logins >= 2)
            await until(r, lambda: r.stats().reconciliations >= 2)
            await until(r, lambda: agree(r))
            if symbol is PERP:
                assert QTY == local_position(r)[0]
            fills = r.c.fills(venue)
            assert {order.client_order_id} == {f.client_order_id for f in fills}
            assert "reconcile" in {f.source for f in fills}
            assert sum(f.qty for f in fills) == QTY
            assert 1 <= r.stats().discrepancies.get("fill_missing", 0)
            # The resting order is still known, as the venue knows it.
            known = r.c.orders.get(resting.client_order_id)
            assert known is not None and OrderStatus.NEW == known.status
            # Subscribed again: the next fill comes by the stream (no reconciliation is due).
            done_before = r.stats().reconciliations
            sell = await r.c.place_order(venue, symbol, "sell", "market", QTY)
            await until(
                r,
                lambda: any(
                    f.client_order_id == sell.client_order_id and f.source is None
                    for f in r.c.fills(venue)
                ),
            )
            assert done_before == r.stats().reconciliations
            await until(r, lambda: agree(r))
            await r.c.cancel_all(venue)


@pytest.mark.parametrize(
    ("venue", "plan", "symbol"),
    [
        pytest.param(
            "binance", FaultPlan().listen_key_expired(at=(2.0,)), PERP, id="listen_key_expired"
        ),
        pytest.param(
            "binance", FaultPlan().stream_terminated(at=(2.0,)), SPOT, id="stream_terminated"
        ),
        pytest.param(
            "binance",
            FaultPlan().server_shutdown(at=(2.0,), seconds=0.5),
            SPOT,
            id="server_shutdown",
        ),
        pytest.param(
            "okx",
            FaultPlan().server_shutdown(at=(2.0,), seconds=5.0, venue="okx"),
            PERP,
            id="okx_upgrade_notice",
        ),
    ],
)
async def test_a_stream_the_venue_ends_comes_back_and_carries_the_next_fill(
    venue: str, plan: FaultPlan, symbol: Symbol
) -> None:
    with trio.fail_after(TIMEOUT):
        async with rig(venue, faults=plan, symbol=symbol) as r:
            connections = r.c.subscribe(f"connection.{venue}")
            await until(r, lambda: bool(r.run.fault_log), seconds=10)
            await until(r, lambda: r.stats().streams[0].logins >= 2)
            (fault,) = r.run.fault_log
            assert plan.rules[0].kind is fault.kind
            # The venue ended it: replaced on purpose, no failure for the health breaker.
            dropped = [
                e
                for e in buffered(connections)
                if isinstance(e, ConnectionEvent)
                and "private" in e.conn_id
                and e.status is ConnectionStatus.DISCONNECTED
            ]
            assert dropped and all(e.planned for e in dropped), dropped
            if venue == "binance" and symbol is PERP:
                assert 2 == r.stats().listen_keys  # a new key, on a new socket
            # The reconciliation the new login asked for is done (on a busy machine it
            # could otherwise list the next fill before the stream brings it).
            await until(r, lambda: r.stats().reconciliations >= 2)
            # Subscribed again: the next fill comes by the stream.
            order = await r.c.place_order(venue, symbol, "buy", "market", QTY)
            await until(
                r,
                lambda: any(
                    f.client_order_id == order.client_order_id and f.source is None
                    for f in r.c.fills(venue)
                ),
            )
            await until(r, lambda: agree(r))


async def test_the_position_limit_counts_the_position_the_fills_built() -> None:
    risk = RiskConfig(max_position_qty=Decimal("0.015"))
    with trio.fail_after(TIMEOUT):
        async with rig("binance", risk=risk) as r:
            order = await r.c.place_order("binance", PERP, "buy", "market", QTY)
            await r.c.orders.wait(order.client_order_id, timeout=5)
            await until(r, lambda: QTY == local_position(r)[0])
            with pytest.raises(RiskRejected) as refused:
                await r.c.place_order("binance", PERP, "buy", "market", QTY)
            assert "max_position_qty" == refused.value.limit
            close = await r.c.place_order("binance", PERP, "sell", "market", QTY)
            assert OrderStatus.FILLED == (await r.c.orders.wait(close.client_order_id)).status


@pytest.mark.parametrize("venue", VENUES)
async def test_spot_fills_move_both_assets_and_equal_the_truth(venue: str) -> None:
    spot = SPOT
    with trio.fail_after(TIMEOUT):
        async with rig(venue, symbol=spot) as r:

            def spot_agrees() -> bool:
                return all(
                    (b := r.c.balances.get(venue, asset)) is not None
                    and abs(b.total - r.truth.balance(asset).total) <= WIRE
                    for asset in ("BTC", "USDT")
                )

            assert spot_agrees()
            start_btc = r.truth.balance("BTC").total
            order = await r.c.place_order(venue, spot, "buy", "market", QTY)
            assert OrderStatus.FILLED == (await r.c.orders.wait(order.client_order_id)).status
            await until(r, lambda: r.truth.balance("BTC").total > start_btc and spot_agrees())
            assert r.c.positions.get(venue, spot) is None  # spot holds no position
