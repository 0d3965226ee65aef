"""Opening the configured event store: ``[storage] kind`` (SQLite or PostgreSQL)."""

from __future__ import annotations

from connector.config import StorageConfig
from connector.errors import StoreError
from connector.store.sql import Observer, SqlEventLog
from connector.store.sqlite import open_sqlite

__all__ = ["open_store"]


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
