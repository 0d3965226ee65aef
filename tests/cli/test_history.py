"""``connector orders [--history]`` and ``connector fills`` read the event store, also while
a program writes it."""

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
from connector.model import Fill, OrderAccepted, OrderFilled, OrderSubmitted, Side, Symbol
from connector.model.trading import Order, OrderType
from connector.store.sql import SqlEventLog
from connector.store.sqlite import SqliteDatabase, open_sqlite

SYM = Symbol.parse("BTC-USDT-PERP")
POSTGRES = os.environ.get("CONNECTOR_TEST_POSTGRES")


def _order(cid: str) -> Order:
    return Order(
        venue="okx",
        symbol=SYM,
        client_order_id=cid,
        side=Side.BUY,
        type=OrderType.LIMIT,
        qty=Decimal("0.01"),
        price=Decimal("60000"),
        ts_created_ns=1_000,
        ts_updated_ns=1_000,
    )


async def _write(path: Path) -> None:
    await _append(await open_sqlite(path))


async def _append(store: SqlEventLog) -> None:
    fill = Fill(
        venue="okx",
        symbol=SYM,
        client_order_id="done1",
        venue_order_id="v2",
        trade_id="t1",
        side=Side.BUY,
        qty=Decimal("0.01"),
        price=Decimal("60000"),
        fee=Decimal("0.3"),
        fee_asset="USDT",
        ts_event_ns=2_000_000_000_000_000_000,
    )
    await store.append(
        [
            OrderSubmitted(venue="okx", symbol=SYM, client_order_id="open1", order=_order("open1")),
            OrderAccepted(venue="okx", symbol=SYM, client_order_id="open1", venue_order_id="v1"),
            OrderSubmitted(venue="okx", symbol=SYM, client_order_id="done1", order=_order("done1")),
            OrderAccepted(venue="okx", symbol=SYM, client_order_id="done1", venue_order_id="v2"),
            OrderFilled(
                venue="okx", symbol=SYM, client_order_id="done1", venue_order_id="v2", fill=fill
            ),
        ],
        ts_ns=5,
    )
    await store.close()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    file = tmp_path / "c.toml"
    file.write_text('[storage]\nsqlite_path = "events.sqlite"\n', encoding="utf-8")
    trio.run(_write, tmp_path / "events.sqlite")
    return file


def test_orders_history_lists_every_order_of_the_store(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert 0 == main(["orders", "--history", "-c", str(config)])
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:3] == ["updated", "venue", "symbol"]
    assert {"open1", "done1"} == {line.split()[4] for line in table[1:]}

    assert 0 == main(["orders", "--history", "--json", "-c", str(config)])
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {"open1": "new", "done1": "filled"} == {r["client_order_id"]: r["status"] for r in rows}


def test_fills_with_since_and_json(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert 0 == main(["fills", "--json", "-c", str(config), "--since", "2033-05-18T03:33"])
    (row,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert ("t1", "0.01") == (row["trade_id"], row["qty"])

    assert 0 == main(["fills", "-c", str(config), "--since", "2033-05-18T03:34"])
    assert 1 == len(capsys.readouterr().out.splitlines())  # the header only

    # Times the store's 64-bit clock does not reach: from the first, and nothing yet.
    assert 0 == main(["fills", "--json", "-c", str(config), "--since", "0001-01-01"])
    assert ["t1"] == [json.loads(line)["trade_id"] for line in capsys.readouterr().out.splitlines()]
    assert 0 == main(["orders", "--history", "-c", str(config), "--since", "9999-12-31"])
    assert 1 == len(capsys.readouterr().out.splitlines())


def test_a_venue_no_driver_has_and_since_without_history_are_usage_mistakes(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert 2 == main(["fills", "--venue", "kraken", "-c", str(config)])
    assert "connector: error: --venue 'kraken': expected one of binance, bybit, okx" == (
        capsys.readouterr().err.strip()
    )
    assert 2 == main(["orders", "--since", "2033-05-18", "-c", str(config)])
    assert "--since reads the event store: add --history" in capsys.readouterr().err


def test_without_a_store_it_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert 2 == main(["fills"])
    assert "no event store configured" in capsys.readouterr().err
    file = tmp_path / "c.toml"
    file.write_text("", encoding="utf-8")
    assert 1 == main(["orders", "--history", "-c", str(file)])
    assert "no event store at" in capsys.readouterr().err


def test_history_is_read_while_a_program_writes_the_store(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A running program holds the file's writer lock: reading needs neither it nor a
    # load of the whole log.
    writer = SqliteDatabase(config.parent / "events.sqlite")
    try:
        assert 0 == main(["fills", "--json", "-c", str(config)])
        assert ["t1"] == [
            json.loads(line)["trade_id"] for line in capsys.readouterr().out.splitlines()
        ]
        assert 0 == main(["orders", "--history", "--json", "-c", str(config)])
        assert 2 == len(capsys.readouterr().out.splitlines())
    finally:
        writer.close()


@pytest.mark.skipif(not POSTGRES, reason="CONNECTOR_TEST_POSTGRES is not set")
def test_history_is_read_from_postgres_while_a_program_writes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import psycopg

    from connector.store.postgres import PostgresDatabase, open_postgres

    assert POSTGRES
    schema = "t_" + uuid.uuid4().hex[:16]

    async def write() -> None:
        await _append(await open_postgres(POSTGRES, schema=schema))

    trio.run(write)
    file = tmp_path / "c.toml"
    file.write_text(
        f'[storage]\nkind = "postgres"\npostgres_schema = "{schema}"\n', encoding="utf-8"
    )
    monkeypatch.setenv("CONNECTOR_STORAGE__POSTGRES_DSN", POSTGRES)
    writer = PostgresDatabase(POSTGRES, schema=schema)  # holds the schema's writer lock
    try:
        assert 0 == main(["fills", "--json", "-c", str(file)])
        assert ["t1"] == [
            json.loads(line)["trade_id"] for line in capsys.readouterr().out.splitlines()
        ]
    finally:
        writer.close()
        with psycopg.connect(POSTGRES, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def test_a_file_that_is_no_event_store_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "c.toml"
    file.write_text('[storage]\nsqlite_path = "other.sqlite"\n', encoding="utf-8")
    sqlite3.connect(tmp_path / "other.sqlite").execute("CREATE TABLE t (x)").connection.close()
    assert 1 == main(["fills", "-c", str(file)])
    assert "holds no connector tables" in capsys.readouterr().err
