"""The persistence subtree with a real store under a Connector on the built-in simulator.

Write-ahead and replay through the public API; a SQLite file another connection
locks and a PostgreSQL writer whose backend is terminated both refuse orders at
once (nothing is sent), show on ``health.{venue}`` and in ``status``, recover
when the store is back, and lose nothing.
"""

from __future__ import annotations

import os
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import trio

from connector import Connector, OrderOutcomeUnknown, OrderStatus
from connector.config import Config, StorageConfig, VenueConfig
from connector.errors import StoreError
from connector.health.service import HealthEvent
from connector.model import OrderAccepted, Symbol
from connector.store.log import LogEntry, Logged, MemoryEventLog
from connector.store.open import open_store
from connector.store.service import replay

VENUE = "bybit"
SYMBOL = "BTC-USDT-PERP"
QTY = Decimal("0.01")
POSTGRES = os.environ.get("CONNECTOR_TEST_POSTGRES")
TIMEOUT = 40


def _config(storage: StorageConfig) -> Config:
    venues = {
        name: VenueConfig(name=name, symbols=(Symbol.parse(SYMBOL),), channels=("book",))
        if name == VENUE
        else VenueConfig(name=name, enabled=False)
        for name in ("binance", "bybit", "okx")
    }
    return Config(venues=venues, storage=storage)


@asynccontextmanager
async def _trading(storage: StorageConfig) -> AsyncIterator[tuple[Connector, Decimal]]:
    async with Connector(_config(storage)) as c:
        view = c.order_book(VENUE, SYMBOL)
        async with c.subscribe(f"orderbook.{VENUE}.{SYMBOL}") as updates:
            while not view.valid or view.best_bid() is None:
                await updates.receive()
        bid = view.best_bid()
        assert bid is not None
        yield c, bid.price * Decimal("0.9")


def _venue_ids(c: Connector) -> set[str]:
    assert c.simulator is not None
    truth = c.simulator.truth(VENUE)
    return {o.client_order_id for o in truth.orders(truth.default_account())}


async def _until_open(c: Connector) -> None:
    while True:
        status = c.status().store
        assert status is not None
        if status.open:
            return
        await trio.sleep(0.05)


async def test_orders_are_written_ahead_and_replay_from_the_file(tmp_path: Path) -> None:
    storage = StorageConfig(kind="sqlite", sqlite_path=tmp_path / "events.sqlite")
    with trio.fail_after(TIMEOUT):
        async with _trading(storage) as (c, price):
            start = datetime.now(UTC)
            order = await c.place_order(VENUE, SYMBOL, "buy", "limit", QTY, price)
            await c.cancel_order(VENUE, SYMBOL, order.client_order_id)
            # History from the store: what is durable, since a time.
            assert [order.client_order_id] == [o.client_order_id for o in c.orders.all(since=start)]
            assert OrderStatus.CANCELED == c.orders.all(since=start)[0].status
            assert [] == c.orders.all(since=datetime.now(UTC) + timedelta(seconds=5))
            assert [] == c.fills(since=start)
            with pytest.raises(ValueError, match="no time zone"):
                c.orders.all(since=datetime.now())
            status = c.status()
            assert status.store is not None and status.store.open
            assert "store sqlite" in status.render()
            # The last durable entry as the log has it, not as it was at the start.
            assert 0 < status.store.last_seq == await c.event_log.last_seq()

        store = await open_store(storage)
        try:
            state = await replay(store)
            check = await store.check()
            history = await store.orders()
        finally:
            await store.close()
    replayed = state.books[VENUE].get(VENUE, order.client_order_id)
    assert replayed is not None and OrderStatus.CANCELED == replayed.status
    assert check.ok, check.problems
    assert [order.client_order_id] == [o.client_order_id for o in history]


async def test_a_locked_sqlite_file_refuses_orders_then_recovers(tmp_path: Path) -> None:
    path = tmp_path / "events.sqlite"
    storage = StorageConfig(kind="sqlite", sqlite_path=path)
    with trio.fail_after(TIMEOUT):
        async with _trading(storage) as (c, price), c.subscribe(f"health.{VENUE}") as health:
            before = await c.place_order(VENUE, SYMBOL, "buy", "limit", QTY, price)
            # Another process takes the write lock, once a commit of the store's in flight
            # (the private stream's news of the order) has ended, as any other would.
            other = sqlite3.connect(path, isolation_level=None, timeout=5)
            other.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
            try:
                with pytest.raises(StoreError, match=r"could not write|cannot write now"):
                    await c.place_order(
                        VENUE, SYMBOL, "buy", "limit", QTY, price, client_order_id="lockedA1"
                    )
                # Refused at once now, and nothing went to the venue.
                with trio.fail_after(0.5), pytest.raises(StoreError, match="cannot write now"):
                    await c.place_order(
                        VENUE, SYMBOL, "buy", "limit", QTY, price, client_order_id="lockedA2"
                    )
                event = await health.receive()
                assert isinstance(event, HealthEvent) and event.store_error
                status = c.status()
                assert status.store is not None and not status.store.open
                assert "NOT WRITING" in status.render()
            finally:
                other.execute("ROLLBACK")
                other.close()
            assert not {"lockedA1", "lockedA2"} & _venue_ids(c)
            await _until_open(c)
            after = await c.place_order(VENUE, SYMBOL, "buy", "limit", QTY, price)
            back = await health.receive()
            assert isinstance(back, HealthEvent) and back.store_error is None
            # The state was replayed from the file: what was durable is all there.
            assert c.orders.get(before.client_order_id) is not None
            assert {before.client_order_id, after.client_order_id} <= _venue_ids(c)
            await c.cancel_all(VENUE)
    store = await open_store(storage)
    try:
        ids = {o.client_order_id for o in await store.orders()}
        check = await store.check()
    finally:
        await store.close()
    assert {before.client_order_id, after.client_order_id} == ids
    assert check.ok, check.problems


@pytest.mark.skipif(not POSTGRES, reason="CONNECTOR_TEST_POSTGRES is not set")
async def test_a_terminated_postgres_writer_refuses_orders_then_recovers() -> None:
    import psycopg

    assert POSTGRES is not None
    schema = "t_" + uuid.uuid4().hex[:16]
    storage = StorageConfig(kind="postgres", postgres_dsn=POSTGRES, postgres_schema=schema)
    try:
        with trio.fail_after(TIMEOUT):
            async with _trading(storage) as (c, price):
                before = await c.place_order(VENUE, SYMBOL, "buy", "limit", QTY, price)
                await trio.sleep(1)  # the private stream's news of it is written too
                with psycopg.connect(POSTGRES, autocommit=True) as admin:
                    # The writer holds the schema's advisory lock (namespace "conn").
                    killed = admin.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype ="
                        " 'advisory' AND classid = 1668247150 AND objid::bigint ="
                        " (hashtext(%s)::bigint + 4294967296) %% 4294967296",
                        (schema,),
                    ).fetchall()
                assert [(True,)] == killed
                with pytest.raises(StoreError):
                    await c.place_order(
                        VENUE, SYMBOL, "buy", "limit", QTY, price, client_order_id="pgdownA1"
                    )
                assert "pgdownA1" not in _venue_ids(c)
                await _until_open(c)
                after = await c.place_order(VENUE, SYMBOL, "buy", "limit", QTY, price)
                assert c.orders.get(before.client_order_id) is not None
                await c.cancel_all(VENUE)
            store = await open_store(storage)
            try:
                ids = {o.client_order_id for o in await store.orders()}
                check = await store.check()
            finally:
                await store.close()
        assert {before.client_order_id, after.client_order_id} == ids
        assert check.ok, check.problems
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


async def test_history_since_on_the_in_memory_log_and_its_fills() -> None:
    with trio.fail_after(TIMEOUT):
        async with _trading(StorageConfig()) as (c, _price):
            status = c.status().store
            assert status is not None and "memory" == status.kind
            # Venues stamp fills in whole milliseconds: one in this millisecond is stamped
            # at its start, so "since" counts from there.
            start = time.time_ns() // 1_000_000 * 1_000_000
            # The fill comes on the private stream, maybe after the order's answer.
            async with c.subscribe(f"fill.{VENUE}.{SYMBOL}") as fill_events:
                order = await c.place_order(VENUE, SYMBOL, "buy", "market", QTY)
                await c.orders.wait(order.client_order_id, timeout=5)
                await fill_events.receive()
            fills = c.fills(since=start)
            assert fills and {order.client_order_id} == {f.client_order_id for f in fills}
            assert fills == c.fills(VENUE, SYMBOL, since=start)
            assert [order.client_order_id] == [o.client_order_id for o in c.orders.all(since=start)]


class _FailsOnce:
    """An in-memory log whose next append holding an ``OrderAccepted`` fails once."""

    def __init__(self) -> None:
        self.inner = MemoryEventLog()
        self.armed = False

    async def append(self, events: Sequence[Logged], *, ts_ns: int) -> int:
        if self.armed and any(isinstance(e, OrderAccepted) for e in events):
            self.armed = False
            raise StoreError("disk full (test)")
        return await self.inner.append(events, ts_ns=ts_ns)

    async def read(self, after: int = 0, *, limit: int = 1000) -> Sequence[LogEntry]:
        return await self.inner.read(after, limit=limit)

    async def last_seq(self) -> int:
        return await self.inner.last_seq()

    async def close(self) -> None:
        await self.inner.close()


async def test_a_placement_whose_outcome_cannot_be_written_is_unknown_then_resolved() -> None:
    log = _FailsOnce()
    with trio.fail_after(TIMEOUT):
        async with Connector(_config(StorageConfig()), event_log=log) as c:
            view = c.order_book(VENUE, SYMBOL)
            async with c.subscribe(f"orderbook.{VENUE}.{SYMBOL}") as updates:
                while not view.valid or view.best_bid() is None:
                    await updates.receive()
            bid = view.best_bid()
            assert bid is not None
            log.armed = True
            with pytest.raises(OrderOutcomeUnknown, match="could not be written") as lost:
                await c.place_order(VENUE, SYMBOL, "buy", "limit", QTY, bid.price * Decimal("0.9"))
            cid = lost.value.client_order_id
            assert cid in _venue_ids(c)  # it was placed
            # The subtree restarts, replays (the order is submitted) and queries it.
            order = await c.orders.wait(cid, status="new", timeout=TIMEOUT / 2)
            assert OrderStatus.NEW == order.status
            await c.persistence.settled()
            assert OrderStatus.NEW == c.orders.open(VENUE)[0].status
            # The store is back after its restart's backoff; until then a cancel-all
            # cannot record the listing it reads (CancelAllIncomplete says so).
            while not ((store := c.status().store) and store.open):  # noqa: ASYNC110
                await trio.sleep(0.05)
            await c.cancel_all(VENUE)


async def test_a_second_connector_on_the_same_file_is_refused_at_start(tmp_path: Path) -> None:
    storage = StorageConfig(kind="sqlite", sqlite_path=tmp_path / "events.sqlite")
    config = _config(storage)  # a venue that trades: the store is opened
    with trio.fail_after(TIMEOUT):
        async with Connector(config):
            with pytest.raises(StoreError, match="already open for writing"):
                async with Connector(config):
                    pass  # pragma: no cover
        # The first one closed it: it opens again.
        async with Connector(config) as c:
            status = c.status().store
            assert status is not None and status.open
