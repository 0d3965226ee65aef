"""``connector store check`` and ``connector store export`` on a SQLite store."""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
import trio

from connector.cli import main
from connector.model import Balance, Order, OrderAccepted, OrderSubmitted, OrderType, Side, Symbol
from connector.store.sqlite import open_sqlite

SYM = Symbol.parse("ETH-USDT-SPOT")


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
    assert "ok; schema version 2, 3 events" in capsys.readouterr().out

    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM balances")
    assert 1 == main(["store", "check", "-c", str(config)])
    out = capsys.readouterr().out
    assert "balance ('okx', 'ETH') is in the log but not in its projection" in out
    assert "1 problems" in out


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
