"""The event log on SQLite and PostgreSQL: durability, projections, group commit, migrations."""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from functools import partial
from pathlib import Path

import attrs
import pytest
import trio
import trio.testing

from connector.errors import StoreError
from connector.model import (
    Balance,
    Fill,
    Order,
    OrderAccepted,
    OrderFilled,
    OrderStatus,
    OrderSubmitted,
    OrderType,
    Position,
    Side,
    Symbol,
)
from connector.model.trading import OrderCanceled, OrderReport
from connector.store.log import Logged, encode
from connector.store.schema import MIGRATIONS, SCHEMA_VERSION
from connector.store.service import Replay, replay
from connector.store.sql import SqlEventLog
from connector.store.sqlite import SqliteDatabase, open_sqlite

SYM = Symbol.parse("BTC-USDT-PERP")
POSTGRES = os.environ.get("CONNECTOR_TEST_POSTGRES")
TIMEOUT = 30

Opener = Callable[[], Awaitable[SqlEventLog]]


def _order(cid: str, qty: str = "0.010") -> Order:
    return Order(
        venue="bybit",
        symbol=SYM,
        client_order_id=cid,
        side=Side.BUY,
        type=OrderType.LIMIT,
        qty=Decimal(qty),
        price=Decimal("60000.1"),
        ts_created_ns=1,
        ts_updated_ns=1,
    )


def _fill(cid: str, trade_id: str, qty: str, ts: int) -> Fill:
    return Fill(
        venue="bybit",
        symbol=SYM,
        client_order_id=cid,
        venue_order_id="v-" + cid,
        trade_id=trade_id,
        side=Side.BUY,
        qty=Decimal(qty),
        price=Decimal("60000.1"),
        fee=Decimal("0.01"),
        fee_asset="USDT",
        ts_event_ns=ts,
    )


def _lifecycle(cid: str) -> list[Logged]:
    fill = _fill(cid, "t-" + cid, "0.004", ts=50)
    return [
        OrderSubmitted(venue="bybit", symbol=SYM, client_order_id=cid, order=_order(cid)),
        OrderAccepted(venue="bybit", symbol=SYM, client_order_id=cid, venue_order_id="v-" + cid),
        OrderFilled(
            venue="bybit", symbol=SYM, client_order_id=cid, venue_order_id="v-" + cid, fill=fill
        ),
        fill,  # the same execution seen again (a REST fills page): stored once
        Position(
            venue="bybit", symbol=SYM, qty=Decimal("0.004"), avg_entry_price=Decimal("60000.1")
        ),
        Balance(venue="bybit", asset="USDT", free=Decimal("99759.99")),
    ]


@pytest.fixture(params=["sqlite", "postgres"])
async def opener(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Opener]:
    """Opens the same store again and again (as restarts do), on each database."""
    if request.param == "sqlite":
        path = tmp_path / "events.sqlite"

        async def open_sqlite_store() -> SqlEventLog:
            return await open_sqlite(path)

        yield open_sqlite_store
        return
    if not POSTGRES:
        pytest.skip("CONNECTOR_TEST_POSTGRES is not set")
    import psycopg

    from connector.store.postgres import open_postgres

    schema = "t_" + uuid.uuid4().hex[:16]

    async def open_postgres_store() -> SqlEventLog:
        return await open_postgres(POSTGRES, schema=schema)

    yield open_postgres_store
    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


async def test_appends_survive_a_reopen_with_their_projections(opener: Opener) -> None:
    with trio.fail_after(TIMEOUT):
        store = await opener()
        assert 6 == await store.append(_lifecycle("a1"), ts_ns=10)
        await store.close()

        store = await opener()
        entries = await store.read(0)
        orders = await store.orders()
        fills = await store.fills()
        positions = await store.positions()
        balances = await store.balances()
        check = await store.check()
        await store.close()

    assert _lifecycle("a1") == [e.event for e in entries]
    assert [("a1", OrderStatus.PARTIALLY_FILLED, Decimal("0.004"), "v-a1")] == [
        (o.client_order_id, o.status, o.filled_qty, o.venue_order_id) for o in orders
    ]
    assert ["t-a1"] == [f.trade_id for f in fills]
    assert [Decimal("0.004")] == [p.qty for p in positions]
    assert [Decimal("99759.99")] == [b.free for b in balances]
    assert check.ok, check.problems
    assert (SCHEMA_VERSION, 6) == (check.schema_version, check.events)


async def test_concurrent_appends_share_transactions_and_keep_every_sequence(
    opener: Opener,
) -> None:
    with trio.fail_after(TIMEOUT):
        store = await opener()
        results: list[tuple[int, int]] = []

        async def appender(i: int) -> None:
            for j in range(5):
                seq = await store.append(_lifecycle(f"c{i}x{j}")[:2], ts_ns=i)
                results.append((i, seq))

        async with trio.open_nursery() as nursery:
            for i in range(20):
                nursery.start_soon(appender, i)
        stats = store.statistics()
        entries = await store.read(0, limit=10_000)
        await store.close()

    assert 200 == stats.events == len(entries)
    assert list(range(1, 201)) == [e.seq for e in entries]
    assert sorted(seq for _, seq in results) == sorted({seq for _, seq in results})
    assert stats.transactions < stats.appends  # appends that arrived together shared a commit
    assert stats.largest_group > 1


async def test_an_empty_append_returns_once_the_appends_in_flight_are_durable(
    opener: Opener,
) -> None:
    # The order state applies news twice (the private stream's and the REST answer's):
    # the second, with nothing new, must not let its caller go before the first is in.
    with trio.fail_after(TIMEOUT):
        store = await opener()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(partial(store.append, _lifecycle("e1")[:2], ts_ns=1))
            await trio.testing.wait_all_tasks_blocked()
            seq = await store.append([], ts_ns=2)
            orders = store.projected_orders()
        await store.close()

    assert 2 == seq
    assert ["e1"] == [o.client_order_id for o in orders]


async def test_history_in_memory_answers_what_is_committed_while_writes_are_in_flight(
    opener: Opener,
) -> None:
    # ``c.orders.all(since=)`` and ``c.fills(since=)`` read this while the program
    # trades: a write in flight must neither make them fail nor show its batch early.
    with trio.fail_after(TIMEOUT):
        store = await opener()
        committed = started = 0
        seen: list[tuple[int, int, int]] = []

        async def write() -> None:
            nonlocal committed, started
            for i in range(60):
                started += 1
                await store.append(_lifecycle(f"w{i}")[:3], ts_ns=i)
                committed += 1

        async def read() -> None:
            while committed < 60:
                before = committed
                orders, fills = store.projected_orders(), store.projected_fills()
                seen.append((before, len(orders), started))
                # Each order's one fill with it; the writer thread may commit the next
                # batch between the two reads (they are two calls), never before either.
                assert len(orders) <= len(fills) <= started
                await trio.lowlevel.checkpoint()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(write)
            nursery.start_soon(read)
        await store.close()

    assert len(seen) > 60  # read during the writes, not only between them
    assert all(before <= n <= started for before, n, started in seen), seen


async def test_the_state_read_while_opening_is_what_replaying_the_log_gives(
    tmp_path: Path,
) -> None:
    # A restart reads the log once: the store hands each page it loads to the
    # services' replay as well. Over 5,000 events: more than one page, in order.
    path = tmp_path / "events.sqlite"
    with trio.fail_after(TIMEOUT):
        store = await open_sqlite(path)
        for i in range(900):
            await store.append(_lifecycle(f"p{i}"), ts_ns=i)
        await store.close()

        while_opening = Replay()
        store = await open_sqlite(path, observe=while_opening.apply_all)
        after = await replay(store)
        await store.close()

    assert 5400 == while_opening.entries == after.entries
    assert after.books["bybit"].all() == while_opening.books["bybit"].all()
    assert after.fills == while_opening.fills
    assert after.positions.all() == while_opening.positions.all()
    assert after.balances.all() == while_opening.balances.all()


async def test_history_reads_filter_by_time(opener: Opener) -> None:
    with trio.fail_after(TIMEOUT):
        store = await opener()
        await store.append(
            [_fill("h1", "t1", "0.001", ts=100), _fill("h1", "t2", "0.001", ts=200)], ts_ns=1
        )
        late = await store.fills(since_ns=150)
        await store.close()

    assert ["t2"] == [f.trade_id for f in late]


async def test_a_report_for_an_order_we_never_placed_creates_it_in_the_projection(
    opener: Opener,
) -> None:
    report = OrderReport(
        venue="bybit",
        symbol=SYM,
        client_order_id="elsewhere",
        venue_order_id="v9",
        side=Side.SELL,
        type=OrderType.LIMIT,
        qty=Decimal("1"),
        price=Decimal("10"),
        status=OrderStatus.NEW,
        filled_qty=Decimal(0),
    )
    with trio.fail_after(TIMEOUT):
        store = await opener()
        await store.append(
            [report, OrderCanceled(venue="bybit", symbol=SYM, client_order_id="elsewhere")],
            ts_ns=5,
        )
        orders = await store.orders()
        await store.close()

    assert [("elsewhere", OrderStatus.CANCELED)] == [(o.client_order_id, o.status) for o in orders]


async def test_a_second_writer_is_refused_with_a_clear_error(opener: Opener) -> None:
    with trio.fail_after(TIMEOUT):
        store = await opener()
        with pytest.raises(StoreError, match="already open for writing"):
            await opener()
        await store.close()
        again = await opener()  # released on close
        await again.close()


async def test_export_writes_the_log_as_json_lines(opener: Opener, tmp_path: Path) -> None:
    out = tmp_path / "log.jsonl"
    with trio.fail_after(TIMEOUT):
        store = await opener()
        await store.append(_lifecycle("e1"), ts_ns=7)
        count = await store.export(out)
        await store.close()

    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert 6 == count == len(lines)
    assert {"seq": 1, "ts_ns": 7, "type": "OrderSubmitted"} == {
        k: lines[0][k] for k in ("seq", "ts_ns", "type")
    }
    assert "0.010" == lines[0]["data"]["order"]["qty"]


async def test_closed_store_refuses_appends_and_reads(opener: Opener) -> None:
    with trio.fail_after(TIMEOUT):
        store = await opener()
        await store.close()
        await store.close()
        with pytest.raises(StoreError, match="closed"):
            await store.append(_lifecycle("z")[:1], ts_ns=1)
        with pytest.raises(StoreError, match="closed"):
            await store.orders()


async def test_projection_rows_are_stored_as_json_dumps_writes_them(tmp_path: Path) -> None:
    # The projections keep the log's format: sorted keys, no spaces, ASCII (escaped).
    path = tmp_path / "events.sqlite"
    events = [
        *_lifecycle("p1"),
        Balance(venue="bybit", asset="\u20acUR\x7f", free=Decimal("1")),  # not ASCII
    ]
    with trio.fail_after(TIMEOUT):
        store = await open_sqlite(path)
        await store.append(events, ts_ns=1)
        await store.close()

    conn = sqlite3.connect(path)
    rows = [
        (table, data)
        for table in ("orders", "fills", "positions", "balances")
        for (data,) in conn.execute(f"SELECT data FROM {table}")
    ]
    conn.close()
    assert ["balances", "balances", "fills", "orders", "positions"] == sorted(t for t, _ in rows)
    for _, data in rows:
        assert json.dumps(json.loads(data), separators=(",", ":"), sort_keys=True) == data
    assert any("\\u20acUR\\u007f" in data for _, data in rows)


async def test_a_database_of_the_first_schema_version_opens_and_migrates(tmp_path: Path) -> None:
    path = tmp_path / "v1.sqlite"
    conn = sqlite3.connect(path)
    for statement in MIGRATIONS[0].sql("INTEGER"):
        conn.execute(statement)
    conn.execute("INSERT INTO connector_meta (name, value) VALUES ('schema_version', '1')")
    conn.execute(
        "INSERT INTO events (seq, ts_ns, type, data) VALUES (1, 3, 'Balance', ?)",
        (
            json.dumps(
                {
                    "type": "Balance",
                    "data": {
                        "venue": "okx",
                        "asset": "BTC",
                        "free": "1.5",
                        "locked": "0",
                        "ts_event_ns": 0,
                    },
                }
            ),
        ),
    )
    conn.commit()
    conn.close()

    with trio.fail_after(TIMEOUT):
        store = await open_sqlite(path)
        seq = await store.append(_lifecycle("m1"), ts_ns=9)
        check = await store.check()
        await store.close()

    indexes = {
        row[0]
        for row in sqlite3.connect(path).execute(
            "SELECT name FROM sqlite_master WHERE type = 'index'"
        )
    }
    assert 7 == seq
    assert SCHEMA_VERSION == check.schema_version
    assert {"orders_by_update", "fills_by_time"} <= indexes
    # the version-1 balance was in the log but not in its projection: check says so
    assert any("balance ('okx', 'BTC')" in problem for problem in check.problems)


async def test_a_version_2_database_gets_its_fills_keyed_by_side_from_its_log(
    tmp_path: Path,
) -> None:
    # Version 3 keys fills by side too: the buy and the sell of a trade of the account
    # with itself share the venue's trade id. The table is made again from the log.
    path = tmp_path / "v2.sqlite"
    buy = _fill("s1", "t-self", "0.004", ts=50)
    sell = attrs.evolve(buy, client_order_id="s2", venue_order_id="v-s2", side=Side.SELL)
    events: list[Logged] = [*_lifecycle("s1")[:2], *_lifecycle("s2")[:2]]
    events[2] = attrs.evolve(
        events[2],
        order=attrs.evolve(_order("s2"), side=Side.SELL),  # type: ignore[arg-type]
    )
    for leg in (buy, sell):
        events.append(
            OrderFilled(
                venue="bybit",
                symbol=SYM,
                client_order_id=leg.client_order_id,
                venue_order_id=leg.venue_order_id,
                fill=leg,
            )
        )
    conn = sqlite3.connect(path)
    for migration in MIGRATIONS[:2]:
        for statement in migration.sql("INTEGER"):
            conn.execute(statement)
    conn.execute("INSERT INTO connector_meta (name, value) VALUES ('schema_version', '2')")
    for seq, event in enumerate(events, start=1):
        conn.execute(
            "INSERT INTO events (seq, ts_ns, type, data) VALUES (?, 1, ?, ?)",
            (seq, type(event).__name__, encode(event)),
        )
    conn.commit()
    conn.close()

    with trio.fail_after(TIMEOUT):
        store = await open_sqlite(path)
        fills = await store.fills()
        check = await store.check()
        await store.close()

    assert [(Side.BUY, "s1"), (Side.SELL, "s2")] == sorted(
        (f.side, f.client_order_id) for f in fills
    )
    # (The orders were written without their projection here; the fills agree.)
    assert [] == [p for p in check.problems if p.startswith("fill")]


async def test_a_database_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite"
    with trio.fail_after(TIMEOUT):
        store = await open_sqlite(path)
        await store.close()
    conn = sqlite3.connect(path)
    conn.execute(
        "UPDATE connector_meta SET value = ? WHERE name = 'schema_version'",
        (str(SCHEMA_VERSION + 1),),
    )
    conn.commit()
    conn.close()

    with trio.fail_after(TIMEOUT), pytest.raises(StoreError, match="newer than this program"):
        await open_sqlite(path)
    again = SqliteDatabase(path)  # the refused open released the writer's lock
    again.close()


async def test_an_unwritable_file_fails_appends_cleanly_and_recovers(tmp_path: Path) -> None:
    path = tmp_path / "ro.sqlite"
    with trio.fail_after(TIMEOUT):
        store = await open_sqlite(path, busy_timeout=0.2)
        await store.append(_lifecycle("r1")[:2], ts_ns=1)
        # Another connection holds the write lock: our writes time out and fail.
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        try:
            with pytest.raises(StoreError, match="could not write"):
                await store.append(_lifecycle("r2")[:2], ts_ns=2)
            # The history in memory still answers, without what failed.
            assert ["r1"] == [o.client_order_id for o in store.projected_orders()]
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        seq = await store.append(_lifecycle("r3")[:2], ts_ns=3)
        check = await store.check()
        orders = await store.orders()
        await store.close()

    assert 4 == seq  # nothing of the failed batch was kept
    assert check.ok, check.problems
    assert ["r1", "r3"] == sorted(o.client_order_id for o in orders)
