"""Opening a SQLite store that cannot be used: damaged, or reached by another name."""

from __future__ import annotations

import os
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
import trio

from connector import Connector, load_config
from connector.errors import StoreError
from connector.model import Balance
from connector.store.sqlite import open_sqlite
from tests.store.configs import okx_config

TIMEOUT = 30


async def _store_of_4000_entries(path: Path) -> None:
    store = await open_sqlite(path)
    for i in range(40):
        batch = [
            Balance(venue="okx", asset="USDT", free=Decimal(i), ts_event_ns=i * 100 + j + 1)
            for j in range(100)
        ]
        await store.append(batch, ts_ns=i + 1)
    await store.close()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


async def _start(config: Path) -> None:
    with trio.fail_after(TIMEOUT):
        async with Connector(load_config(config)):
            pass


@pytest.mark.parametrize(
    ("data", "why"),
    [
        ("{not json", "JSON is malformed"),
        ('{"type": "Lunch", "data": {}}', "not a stored event"),
        ('{"type": "Balance", "data": {"venue": "okx"}}', "not a stored Balance"),
    ],
)
def test_a_connector_refuses_a_store_with_an_unreadable_entry_naming_it(
    tmp_path: Path, data: str, why: str
) -> None:
    config = okx_config(tmp_path)
    db = tmp_path / "store.sqlite"
    trio.run(_store_of_4000_entries, db)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE events SET data = ? WHERE seq = 1234", (data,))

    with pytest.raises(StoreError) as raised:
        trio.run(_start, config)

    assert str(raised.value).startswith(f"the event store {db} cannot read its entry seq 1234: ")
    assert why in str(raised.value)


def test_a_connector_refuses_a_store_with_a_damaged_page_naming_where_the_log_stops(
    tmp_path: Path,
) -> None:
    config = okx_config(tmp_path)
    db = tmp_path / "store.sqlite"
    trio.run(_store_of_4000_entries, db)
    with db.open("r+b") as f:  # a page in the middle of the log, the header intact
        f.seek(db.stat().st_size // 2 // 4096 * 4096)
        f.write(b"\xff" * 4096)

    with pytest.raises(StoreError) as raised:
        trio.run(_start, config)

    message = str(raised.value)
    assert message.startswith(f"the event store {db} cannot be read after seq ")
    assert message.endswith(": database disk image is malformed")
    assert 0 < int(message.split("after seq ")[1].split(":")[0]) < 4000


def test_a_connector_refuses_a_file_that_is_no_sqlite_database(tmp_path: Path) -> None:
    config = okx_config(tmp_path)
    (tmp_path / "store.sqlite").write_bytes(b"this is not a database" * 300)

    with pytest.raises(StoreError, match=r"cannot open the event store .*store\.sqlite: "):
        trio.run(_start, config)


async def test_a_second_writer_reaching_the_file_through_a_symlink_is_refused(
    tmp_path: Path,
) -> None:
    real = tmp_path / "data" / "store.sqlite"
    link = tmp_path / "link.sqlite"
    with trio.fail_after(TIMEOUT):
        store = await open_sqlite(real)
        os.symlink(real, link)
        with pytest.raises(StoreError) as raised:
            await open_sqlite(link)
        await store.append([Balance(venue="okx", asset="USDT", free=Decimal(1))], ts_ns=1)
        await store.close()
        again = await open_sqlite(link)  # released on close: the same file, by its link
        seq = await again.append([Balance(venue="okx", asset="USDT", free=Decimal(2))], ts_ns=2)
        await again.close()

    assert (
        f"the event store {link} is already open for writing by another process "
        f"(it holds a lock on {real})"
    ) == str(raised.value)
    assert 2 == seq


async def test_a_second_writer_reaching_the_file_through_a_hard_link_is_refused(
    tmp_path: Path,
) -> None:
    real = tmp_path / "store.sqlite"
    with trio.fail_after(TIMEOUT):
        store = await open_sqlite(real)
        os.link(real, tmp_path / "other.sqlite")
        with pytest.raises(StoreError, match="already open for writing by another process"):
            await open_sqlite(tmp_path / "other.sqlite")
        await store.close()
