"""The event log on PostgreSQL (``[storage] postgres_dsn``; the ``postgres`` extra).

Imported only when a DSN is configured (it needs the ``postgres`` extra). Sync
psycopg 3 through worker threads (its async API does not run under trio):
one writer connection of its own, readers from a ``psycopg_pool`` pool whose
size bounds the reader threads. The writer holds a session advisory lock keyed
by the schema for as long as the store is open, so a second writer on the same
database and schema gets a :class:`~connector.errors.StoreError`. A writer
connection that breaks (server restarted, backend terminated) is replaced, lock
and all, on the next write; the write that met the break fails with
``StoreError`` and nothing of it is kept.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
import psycopg_pool
import trio

from connector.errors import StoreError
from connector.store.sql import Cursor, Observer, SqlEventLog

__all__ = [
    "PostgresDatabase",
    "inspect_postgres",
    "open_postgres",
    "read_only",
    "redact_dsn",
    "store_name",
]

_LOCK_NAMESPACE = 0x636F6E6E  # "conn": the advisory lock's first key
_SCHEMA = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def store_name(dsn: str, schema: str) -> str:
    """How messages name a store: the DSN without its password, and the schema."""
    return f"{redact_dsn(dsn)} (schema {schema})"


def redact_dsn(dsn: str) -> str:
    """The DSN without its password, for messages and logs."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", re.sub(r"password=\S+", "password=***", dsn))


class _QmarkCursor:
    """A psycopg cursor that takes the store's ``?`` placeholders."""

    def __init__(self, cur: psycopg.Cursor[Any]) -> None:
        self._cur = cur

    def execute(self, sql: str, params: Sequence[object] = ()) -> object:
        return self._cur.execute(sql.replace("?", "%s"), params)

    def executemany(self, sql: str, params: Sequence[Sequence[object]]) -> object:
        self._cur.executemany(sql.replace("?", "%s"), params)
        return None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._cur.fetchall()


class PostgresDatabase:
    """Blocking connections to one PostgreSQL schema (see :class:`~connector.store.sql.Database`).

    Args:
        dsn: libpq connection string or URL.
        schema: The schema holding the tables; ``public`` by default.
        readers: Size of the readers' pool.
        create: Create the schema when missing; else refuse a schema that does not
            exist, creating nothing.

    Raises:
        StoreError: no such schema (``create=False``), another process writes it, or
            the server cannot be reached.
    """

    bigint = "BIGINT"

    def __init__(
        self, dsn: str, *, schema: str = "public", readers: int = 2, create: bool = True
    ) -> None:
        if not _SCHEMA.fullmatch(schema):
            raise StoreError(f"invalid PostgreSQL schema name {schema!r}")
        self.dsn = dsn
        self.schema = schema
        self.name = store_name(dsn, schema)
        self._create = create
        self._guard = threading.Lock()
        self._writer = self._connect_writer()
        self._pool: psycopg_pool.ConnectionPool[Any] = psycopg_pool.ConnectionPool(
            dsn,
            min_size=1,
            max_size=readers,
            configure=self._configure,
            check=psycopg_pool.ConnectionPool.check_connection,
            open=False,
        )
        try:
            self._pool.open(wait=True, timeout=10)
        except Exception as exc:
            self._writer.close()
            raise StoreError(f"cannot open the event store {self.name}: {exc}") from exc

    def _configure(self, conn: psycopg.Connection[Any]) -> None:
        conn.execute(f"SET search_path TO {self.schema}")
        conn.commit()

    def _connect_writer(self) -> psycopg.Connection[Any]:
        try:
            conn = psycopg.connect(self.dsn, connect_timeout=10)
            if self._create:
                conn.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema}")
            elif not _schema_exists(conn, self.schema):
                conn.close()
                raise StoreError(f"no event store at {self.name}")
            self._configure(conn)
            row = conn.execute(
                "SELECT pg_try_advisory_lock(%s, hashtext(%s))", (_LOCK_NAMESPACE, self.schema)
            ).fetchone()
            conn.commit()
        except psycopg.Error as exc:
            raise StoreError(f"cannot open the event store {self.name}: {exc}") from exc
        if not row or not row[0]:
            conn.close()
            raise StoreError(
                f"the event store {self.name} is already open for writing by another process"
            )
        return conn

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        with self._guard:
            if self._writer.closed or self._writer.broken:
                self._writer = self._connect_writer()
            conn = self._writer
        with conn.transaction(), conn.cursor() as cur:
            yield _QmarkCursor(cur)

    @contextmanager
    def reading(self) -> Iterator[Cursor]:
        with self._pool.connection(timeout=10) as conn, conn.cursor() as cur:
            yield _QmarkCursor(cur)

    def close(self) -> None:
        self._pool.close()
        self._writer.close()


@contextmanager
def read_only(dsn: str, *, schema: str = "public") -> Iterator[Cursor]:
    """A cursor on a read-only connection to the store in ``schema`` (blocking): no
    advisory lock, so a program may be writing the schema meanwhile.

    Raises:
        StoreError: the server cannot be reached, or the schema name is invalid.
    """
    if not _SCHEMA.fullmatch(schema):
        raise StoreError(f"invalid PostgreSQL schema name {schema!r}")
    try:
        conn = psycopg.connect(dsn, connect_timeout=10)
        conn.read_only = True
        exists = _schema_exists(conn, schema)
        conn.execute(f"SET search_path TO {schema}")
    except psycopg.Error as exc:
        raise StoreError(f"cannot open the event store {store_name(dsn, schema)}: {exc}") from exc
    if not exists:
        conn.close()
        raise StoreError(f"no event store at {store_name(dsn, schema)}")
    try:
        with conn.cursor() as cur:
            yield _QmarkCursor(cur)
    finally:
        conn.close()


def _schema_exists(conn: psycopg.Connection[Any], schema: str) -> bool:
    row = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone()
    return row is not None


async def open_postgres(
    dsn: str, *, schema: str = "public", readers: int = 2, observe: Observer | None = None
) -> SqlEventLog:
    """Open (creating and migrating as needed) the event log in a PostgreSQL schema
    (``observe``: given the log's pages as it loads, :meth:`SqlEventLog.open`).

    Raises:
        StoreError: psycopg is not installed, the server cannot be reached, another
            process writes the schema, or its version is newer than this program's.
    """
    db = await trio.to_thread.run_sync(
        lambda: PostgresDatabase(dsn, schema=schema, readers=readers)
    )
    return await SqlEventLog.open(db, readers=readers, observe=observe)


async def inspect_postgres(dsn: str, *, schema: str = "public", readers: int = 2) -> SqlEventLog:
    """The event log in an existing PostgreSQL schema, opened as its writer to check or
    export it (:meth:`SqlEventLog.inspect`): nothing is created, migrated or loaded.

    Raises:
        StoreError: no such schema, the server cannot be reached, another process
            writes the schema, or it holds no event store this program reads.
    """
    db = await trio.to_thread.run_sync(
        lambda: PostgresDatabase(dsn, schema=schema, readers=readers, create=False)
    )
    return await SqlEventLog.inspect(db, readers=readers)
