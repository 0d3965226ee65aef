"""Opening the configured event store: ``[storage] kind`` (SQLite or PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import trio

from connector.config import StorageConfig
from connector.errors import StoreError
from connector.store import sqlite
from connector.store.sql import Cursor, Observer, SqlEventLog, check_readable
from connector.store.sqlite import inspect_sqlite, open_sqlite

__all__ = ["inspect_store", "open_store", "read_store"]

_T = TypeVar("_T")


async def open_store(
    storage: StorageConfig, *, busy_timeout: float = 5.0, observe: Observer | None = None
) -> SqlEventLog:
    """The event log ``[storage]`` names, migrated and loaded.

    ``kind = "postgres"`` (or no kind and a DSN): PostgreSQL; otherwise SQLite at
    ``sqlite_path`` (a ``memory`` config has no database to open).

    Args:
        storage: The ``[storage]`` table.
        busy_timeout: SQLite: seconds a write waits for a lock another
            connection holds before it fails.
        observe: Given the log's pages as it loads (:meth:`SqlEventLog.open`).

    Raises:
        StoreError: it cannot be opened (see :func:`~connector.store.sqlite.open_sqlite`
            and :func:`~connector.store.postgres.open_postgres`).
    """
    kind = storage.kind or ("postgres" if storage.postgres_dsn else "sqlite")
    if kind == "postgres":
        if not storage.postgres_dsn:
            raise StoreError("[storage] kind is postgres but no postgres_dsn is set")
        # Imported here: psycopg comes with the ``postgres`` extra only.
        from connector.store.postgres import open_postgres

        return await open_postgres(
            storage.postgres_dsn, schema=storage.postgres_schema, observe=observe
        )
    return await open_sqlite(storage.sqlite_path, busy_timeout=busy_timeout, observe=observe)


async def inspect_store(storage: StorageConfig) -> SqlEventLog:
    """The existing event log ``[storage]`` names, opened as its writer to check or
    export it (``connector store check|export``): nothing is created or migrated, its
    log is not loaded, and appends are refused (:meth:`SqlEventLog.inspect`).

    Raises:
        StoreError: no store there (a file or PostgreSQL schema that does not exist,
            or one without connector tables), another program writes it, or its
            schema is newer than this program's.
    """
    kind = storage.kind or ("postgres" if storage.postgres_dsn else "sqlite")
    if kind == "postgres":
        if not storage.postgres_dsn:
            raise StoreError("[storage] kind is postgres but no postgres_dsn is set")
        from connector.store.postgres import inspect_postgres  # the ``postgres`` extra

        return await inspect_postgres(storage.postgres_dsn, schema=storage.postgres_schema)
    return await inspect_sqlite(storage.sqlite_path)


async def read_store(storage: StorageConfig, read: Callable[[Cursor], _T]) -> _T:
    """``read`` on a read-only connection to the store ``[storage]`` names, in a worker
    thread: no writer's lock and no loading of the log, so a running program may be
    writing the store meanwhile (``connector orders --history``, ``connector fills``).

    Raises:
        StoreError: it cannot be opened or read, holds no connector tables, or has
            another schema version than this program's.
    """

    def run() -> _T:
        if storage.store == "postgres":
            if not storage.postgres_dsn:
                raise StoreError("[storage] kind is postgres but no postgres_dsn is set")
            from connector.store import postgres  # the ``postgres`` extra

            name = postgres.store_name(storage.postgres_dsn, storage.postgres_schema)
            opened = postgres.read_only(storage.postgres_dsn, schema=storage.postgres_schema)
        else:
            name = str(storage.sqlite_path)
            opened = sqlite.read_only(storage.sqlite_path)
        with opened as cur:
            check_readable(cur, name)
            try:
                return read(cur)
            except StoreError:
                raise
            except Exception as exc:
                raise StoreError(f"the event store {name} could not be read: {exc}") from exc

    return await trio.to_thread.run_sync(run)
