"""``connector status`` when the event store cannot be opened: one line, exit 1."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import trio

from connector.cli import main
from connector.store.schema import SCHEMA_VERSION
from connector.store.sqlite import open_sqlite
from tests.store.configs import STORE_NAME, okx_config


def _config(tmp_path: Path) -> tuple[Path, Path]:
    return okx_config(tmp_path), tmp_path / STORE_NAME


async def _make_store(db: Path) -> None:
    store = await open_sqlite(db)
    await store.close()


def test_status_names_a_store_of_a_newer_schema_on_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, db = _config(tmp_path)
    trio.run(_make_store, db)
    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE connector_meta SET value = ? WHERE name = 'schema_version'",
            (str(SCHEMA_VERSION + 1),),
        )

    assert 1 == main(["status", "-c", str(config), "--timeout", "10"])

    assert (
        f"connector: error: the event store {db} has schema version {SCHEMA_VERSION + 1}, "
        f"newer than this program's {SCHEMA_VERSION}: upgrade connector to open it\n"
    ) == capsys.readouterr().err


def test_status_names_a_store_another_process_writes_on_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, db = _config(tmp_path)

    async def hold_and_ask() -> int:
        store = await open_sqlite(db)
        try:
            return await trio.to_thread.run_sync(
                main, ["status", "-c", str(config), "--timeout", "10"]
            )
        finally:
            await store.close()

    assert 1 == trio.run(hold_and_ask)

    err = capsys.readouterr().err
    assert [f"connector: error: the event store {db} is already open for writing"] == [
        line.split(" by another process")[0] for line in err.splitlines()
    ]


def test_status_names_a_file_that_is_no_store_on_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, db = _config(tmp_path)
    db.write_bytes(b"not a database" * 500)

    assert 1 == main(["status", "-c", str(config), "--timeout", "10"])

    assert (
        f"connector: error: cannot open the event store {db}: file is not a database\n"
    ) == capsys.readouterr().err
