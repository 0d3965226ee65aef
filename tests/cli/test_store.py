"""``connector store check`` and ``connector store export`` on a SQLite store."""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
import trio

from connector.cli import main
from connector.model import Balance, Order, OrderAccepted, OrderSubmitted, OrderType, Side, Symbol
from connector.store.schema import SCHEMA_VERSION
from connector.store.sqlite import open_sqlite

SYM = Symbol.parse("ETH-USDT-SPOT")
POSTGRES = os.environ.get("CONNECTOR_TEST_POSTGRES")


def _config(tmp_path: Path) -> tuple[Path, Path]:
    db = tmp_path / "state" / "events.sqlite"
    path = tmp_path / "c.toml"
    path.write_text(f'[storage]\nsqlite_path = "{db}"\n')
    return path, db


async def _fill_store(db: Path) -> None:
    order = Order(
        venue="okx",
        symbol=SYM,
        client_order_id="k1",
        side=Side.SELL,
        type=OrderType.LIMIT,
        qty=Decimal("2"),
        price=Decimal("3000"),
    )
    store = await open_sqlite(db)
    await store.append(
        [
            OrderSubmitted(venue="okx", symbol=SYM, client_order_id="k1", order=order),
            OrderAccepted(venue="okx", symbol=SYM, client_order_id="k1", venue_order_id="77"),
            Balance(venue="okx", asset="ETH", free=Decimal("8"), locked=Decimal("2")),
        ],
        ts_ns=42,
    )
    await store.close()


def test_store_check_passes_on_a_consistent_store_and_names_each_problem_otherwise(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, db = _config(tmp_path)
    trio.run(_fill_store, db)

    assert 0 == main(["store", "check", "-c", str(config)])
    assert f"ok; schema version {SCHEMA_VERSION}, 3 events" in capsys.readouterr().out

    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM balances")
    assert 1 == main(["store", "check", "-c", str(config)])
    out = capsys.readouterr().out
    assert "balance ('okx', 'ETH') is in the log but not in its projection" in out
    assert "1 problems" in out


def test_store_check_compares_the_columns_queries_read_with_the_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, db = _config(tmp_path)
    trio.run(_fill_store, db)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE orders SET status = 'filled', ts_updated_ns = 7")

    assert 1 == main(["store", "check", "-c", str(config)])

    out = capsys.readouterr().out.splitlines()
    assert [
        f"{db}: order ('okx', 'k1') has status 'filled' in the projection, the log says 'new'",
        f"{db}: order ('okx', 'k1') has ts_updated_ns 7 in the projection, the log says 0",
        f"{db}: 2 problems; schema version {SCHEMA_VERSION}, 3 events",
    ] == out


def test_store_export_writes_json_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config, db = _config(tmp_path)
    trio.run(_fill_store, db)
    out = tmp_path / "log.jsonl"

    assert 0 == main(["store", "export", str(out), "-c", str(config)])

    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert ["OrderSubmitted", "OrderAccepted", "Balance"] == [r["type"] for r in records]
    assert f"{out}: 3 events" in capsys.readouterr().out


def test_store_check_refuses_a_store_another_process_writes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, db = _config(tmp_path)

    async def hold_and_check() -> int:
        store = await open_sqlite(db)
        try:
            return await trio.to_thread.run_sync(main, ["store", "check", "-c", str(config)])
        finally:
            await store.close()

    assert 1 == trio.run(hold_and_check)
    assert "already open for writing by another process" in capsys.readouterr().err


def test_store_check_names_each_unreadable_entry_and_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, db = _config(tmp_path)
    trio.run(_fill_store, db)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE events SET data = '{not json' WHERE seq = 1")
        conn.execute(
            "UPDATE events SET data = '{\"type\": \"Lunch\"}', type = 'Lunch' WHERE seq = 2"
        )

    assert 1 == main(["store", "check", "-c", str(config)])

    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{db}: seq 1 cannot be read: JSON is malformed")
    assert out[1].startswith(f"{db}: seq 2 cannot be read: not a stored event")
    # what the unreadable entries made is in the projection but no longer in the log
    assert f"{db}: order ('okx', 'k1') is in the projection but not in the log" == out[2]
    assert f"{db}: 3 problems; schema version {SCHEMA_VERSION}, 3 events" == out[-1]


def test_store_check_names_a_damaged_page_and_where_the_log_stops(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, db = _config(tmp_path)

    async def fill() -> None:
        store = await open_sqlite(db)
        for i in range(40):
            batch = [Balance(venue="okx", asset="USDT", free=Decimal(i)) for _ in range(100)]
            await store.append(batch, ts_ns=i + 1)
        await store.close()

    trio.run(fill)
    with db.open("r+b") as f:  # a page in the middle of the log, the header intact
        f.seek(db.stat().st_size // 2 // 4096 * 4096)
        f.write(b"\xff" * 4096)

    assert 1 == main(["store", "check", "-c", str(config)])

    out = capsys.readouterr().out.splitlines()
    assert 3 == len(out), out
    assert out[0].startswith(f"{db}: the log cannot be read after seq ")
    assert out[0].endswith(": database disk image is malformed")
    last = int(out[0].split("after seq ")[1].split(":")[0])
    assert f"{db}: the projections were not compared: the log was not read to its end" == out[1]
    assert f"{db}: 2 problems; schema version {SCHEMA_VERSION}, {last} events" == out[2]
    assert 0 < last < 4000


def test_store_export_names_the_entry_it_cannot_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, db = _config(tmp_path)
    trio.run(_fill_store, db)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE events SET data = '{not json' WHERE seq = 2")
    out = tmp_path / "log.jsonl"

    assert 1 == main(["store", "export", str(out), "-c", str(config)])

    err = capsys.readouterr().err
    assert err.startswith(
        f"connector: error: the event store {db} cannot read its entry seq 2"
        f" (1 entries before it written to {out}): JSON is malformed"
    )
    assert 1 == len(err.splitlines())


@pytest.mark.parametrize("command", [["check"], ["export", "log.jsonl"]])
def test_store_commands_refuse_a_store_that_does_not_exist_and_create_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    config, db = _config(tmp_path)  # db is in a directory that does not exist either

    assert 1 == main(["store", *command, "-c", str(config)])

    assert f"connector: error: no event store at {db}\n" == capsys.readouterr().err
    assert not db.parent.exists()


def test_store_check_refuses_a_file_without_connector_tables_and_leaves_it_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, db = _config(tmp_path)
    db.parent.mkdir()
    sqlite3.connect(db).close()  # an empty database: no connector tables

    assert 1 == main(["store", "check", "-c", str(config)])

    assert f"connector: error: the event store {db} holds no connector tables\n" == (
        capsys.readouterr().err
    )
    with sqlite3.connect(db) as conn:
        assert [] == conn.execute("SELECT name FROM sqlite_master").fetchall()


@pytest.mark.skipif(not POSTGRES, reason="CONNECTOR_TEST_POSTGRES is not set")
@pytest.mark.parametrize("command", [["check"], ["export", "log.jsonl"]])
def test_store_commands_refuse_a_postgres_schema_that_does_not_exist_and_create_nothing(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: list[str],
) -> None:
    import psycopg

    from connector.store.postgres import store_name

    assert POSTGRES is not None
    schema = "t_" + uuid.uuid4().hex[:16]
    config = tmp_path / "c.toml"
    config.write_text(f'[storage]\nkind = "postgres"\npostgres_schema = "{schema}"\n')
    monkeypatch.setenv("CONNECTOR_STORAGE__POSTGRES_DSN", POSTGRES)

    assert 1 == main(["store", *command, "-c", str(config)])

    expected = f"connector: error: no event store at {store_name(POSTGRES, schema)}\n"
    assert expected == capsys.readouterr().err
    with psycopg.connect(POSTGRES) as conn:
        found = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,))
        assert found.fetchone() is None
