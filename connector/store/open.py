"""Opening the configured event store: PostgreSQL when a DSN is set, else SQLite."""

from __future__ import annotations

from connector.config import StorageConfig
from connector.store.sql import SqlEventLog
from connector.store.sqlite import open_sqlite

__all__ = ["open_store"]


async def open_store(storage: StorageConfig) -> SqlEventLog:
    """The event log ``[storage]`` names, migrated and loaded.

    Raises:
        StoreError: it cannot be opened (see :func:`~connector.store.sqlite.open_sqlite`
            and :func:`~connector.store.postgres.open_postgres`).
    """
    if storage.postgres_dsn:
        # Imported here: psycopg comes with the ``postgres`` extra only.
        from connector.store.postgres import open_postgres

        return await open_postgres(storage.postgres_dsn)
    return await open_sqlite(storage.sqlite_path)
