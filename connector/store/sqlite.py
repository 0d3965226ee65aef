"""The event log in a SQLite file: the embedded default (``[storage] sqlite_path``).

WAL journal, ``synchronous=FULL`` (a commit is on disk before it returns), one
writer connection, readers on connections of their own. One process writes a
file at a time: the writer holds an exclusive ``flock`` on the file itself (which
SQLite's own POSIX record locks do not meet) for as long as the store is open,
and a second writer gets a :class:`~connector.errors.StoreError` naming the file
instead of interleaving its transactions with the first's.
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

__all__ = ["SqliteDatabase", "inspect_sqlite", "open_sqlite", "read_only"]


class SqliteDatabase:
    """Blocking connections to one SQLite file (see :class:`~connector.store.sql.Database`).

    Args:
        path: The file. The writer's lock is taken on the file itself, so a second
            program reaching it by another name (a symbolic or hard link) is
            refused too.
        readers: Reader connections.
        busy_timeout: Seconds a statement waits for a lock another connection holds.
        create: Create the file (and its directory) when missing; else refuse a
            file that does not exist, creating nothing.

    Raises:
        StoreError: no such file (``create=False``), another process writes it, or
            it cannot be opened.
    """

    bigint = "INTEGER"

    def __init__(
        self, path: Path, *, readers: int = 2, busy_timeout: float = 5.0, create: bool = True
    ) -> None:
        self.path = Path(path)
        self._busy_timeout = busy_timeout
        self._create = create
        self.name = str(self.path)
        if not create and not self.path.is_file():
            raise StoreError(f"no event store at {self.path}")
        try:
            if create:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            # The lock belongs to the file, not to the name this program knows it by.
            self._real = self.path.resolve()
        except OSError as exc:
            raise StoreError(f"cannot open the event store {self.path}: {exc}") from exc
        self._lock_fd = self._take_writer_lock()
        connections: list[sqlite3.Connection] = []
        try:
            connections.append(self._connect())
            connections[0].execute("PRAGMA journal_mode=WAL")
            connections.extend(self._connect() for _ in range(readers))
        except sqlite3.Error as exc:
            for conn in connections:
                conn.close()
            os.close(self._lock_fd)
            raise StoreError(f"cannot open the event store {self.path}: {exc}") from exc
        self._writer, *self._readers = connections
        self._free = list(self._readers)
        self._guard = threading.Lock()

    def _take_writer_lock(self) -> int:
        try:
            # Read-only is enough for flock, and leaves a read-only file to the write check.
            fd = os.open(self._real, os.O_RDONLY | (os.O_CREAT if self._create else 0), 0o644)
        except OSError as exc:
            raise StoreError(f"cannot open the event store {self.path}: {exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise StoreError(
                f"the event store {self.path} is already open for writing by another process "
                f"(it holds a lock on {self._real})"
            ) from None
        return fd

    def _connect(self) -> sqlite3.Connection:
        # ``mode=rw``: a file that has gone since ``create=False`` checked is not made.
        mode = "rwc" if self._create else "rw"
        conn = sqlite3.connect(
            f"{self._real.as_uri()}?mode={mode}",
            uri=True,
            isolation_level=None,
            check_same_thread=False,
            timeout=self._busy_timeout,
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

    A reader of a WAL file needs its ``-shm`` file, which SQLite creates beside it. In
    a directory this program may not write (a backup, another user's desk) with no
    ``-wal`` file, no writer can be running (it would have made one): the file is read
    as it is (``immutable``). With a ``-wal`` file there, its ``-shm`` must exist.

    Raises:
        StoreError: the file cannot be opened or read, naming why.
    """
    real = Path(path).resolve()
    wal = real.with_name(real.name + "-wal")
    unwritable = not os.access(real.parent, os.W_OK)
    query = "mode=ro&immutable=1" if unwritable and not wal.exists() else "mode=ro"
    try:
        conn = sqlite3.connect(f"{real.as_uri()}?{query}", uri=True, timeout=5.0)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open the event store {path}: {exc}") from exc
    try:
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchall()
        except sqlite3.Error as exc:
            why = f"cannot read the event store {path}: {exc}"
            if unwritable:
                why += (
                    f" (this program may not write {real.parent}, where SQLite needs to"
                    f" create {real.name}-shm to read {wal.name})"
                )
            raise StoreError(why) from exc
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


async def inspect_sqlite(path: Path | str, *, readers: int = 2) -> SqlEventLog:
    """The event log in an existing SQLite file, opened as its writer to check or export
    it (:meth:`SqlEventLog.inspect`): nothing is created, migrated or loaded.

    Raises:
        StoreError: no such file, another process writes it, or it holds no event
            store this program reads.
    """
    db = await trio.to_thread.run_sync(
        lambda: SqliteDatabase(Path(path), readers=readers, create=False)
    )
    return await SqlEventLog.inspect(db, readers=readers)
