"""The event log in a SQLite file: the embedded default (``[storage] sqlite_path``).

WAL journal, ``synchronous=FULL`` (a commit is on disk before it returns), one
writer connection, readers on connections of their own. One process writes a
file at a time: the writer holds an exclusive lock on ``<file>.lock`` for as long
as the store is open, and a second writer gets a :class:`~connector.errors.StoreError`
naming the file instead of interleaving its transactions with the first's.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import trio

from connector.errors import StoreError
from connector.store.sql import Cursor, Observer, SqlEventLog

__all__ = ["SqliteDatabase", "open_sqlite", "read_only"]


class SqliteDatabase:
    """Blocking connections to one SQLite file (see :class:`~connector.store.sql.Database`)."""

    bigint = "INTEGER"

    def __init__(self, path: Path, *, readers: int = 2, busy_timeout: float = 5.0) -> None:
        self.path = Path(path)
        self._busy_timeout = busy_timeout
        self.name = str(self.path)
        self._lock_fd = self._take_writer_lock()
        try:
            self._writer = self._connect()
            self._writer.execute("PRAGMA journal_mode=WAL")
        except sqlite3.Error as exc:
            os.close(self._lock_fd)
            raise StoreError(f"cannot open the event store {self.path}: {exc}") from exc
        self._readers = [self._connect() for _ in range(readers)]
        self._free = list(self._readers)
        self._guard = threading.Lock()

    def _take_writer_lock(self) -> int:
        lock_path = self.path.with_name(self.path.name + ".lock")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StoreError(f"cannot open the event store {self.path}: {exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise StoreError(
                f"the event store {self.path} is already open for writing by another process "
                f"(it holds {lock_path})"
            ) from None
        return fd

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=self._busy_timeout
        )
        conn.execute("PRAGMA synchronous=FULL")
        return conn

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        cur = self._writer.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            yield cur
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        cur.execute("COMMIT")

    @contextmanager
    def reading(self) -> Iterator[Cursor]:
        with self._guard:
            conn = self._free.pop()
        try:
            yield conn.cursor()
        finally:
            with self._guard:
                self._free.append(conn)

    def close(self) -> None:
        for conn in (self._writer, *self._readers):
            conn.close()
        os.close(self._lock_fd)


@contextmanager
def read_only(path: Path) -> Iterator[Cursor]:
    """A cursor on a read-only connection to the store in ``path`` (blocking): no writer
    lock, so a program may be writing the file meanwhile (WAL lets both).

    Raises:
        StoreError: the file cannot be opened.
    """
    try:
        conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, timeout=5.0)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open the event store {path}: {exc}") from exc
    try:
        yield conn.cursor()
    finally:
        conn.close()


async def open_sqlite(
    path: Path | str,
    *,
    readers: int = 2,
    busy_timeout: float = 5.0,
    observe: Observer | None = None,
) -> SqlEventLog:
    """Open (creating and migrating as needed) the event log in a SQLite file.

    Args:
        path: The file (created with its directory when missing).
        readers: Reader connections.
        busy_timeout: Seconds a statement waits for a lock another connection holds
            before it fails.
        observe: Given the log's pages as it loads (:meth:`SqlEventLog.open`).

    Raises:
        StoreError: another process writes the file, the file cannot be opened, or
            its schema is newer than this program's.
    """
    db = await trio.to_thread.run_sync(
        lambda: SqliteDatabase(Path(path), readers=readers, busy_timeout=busy_timeout)
    )
    return await SqlEventLog.open(db, readers=readers, observe=observe)
