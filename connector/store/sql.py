"""The event log on a SQL database: group commit, projections, migrations, history.

:class:`SqlEventLog` is the :class:`~connector.store.log.EventLog` both stores
share; a :class:`Database` (``sqlite.py``, ``postgres.py``) supplies blocking
connections, and every database call runs in a thread, so the event loop never
waits on a disk or a server: reads in worker threads (``trio.to_thread.run_sync``),
everything on the writer's connection in one thread of its own (:class:`_WriterThread`),
which is handed a write without a pass through the scheduler and wakes its caller
in one pass once it has committed (cheaper than a ``to_thread`` round trip, on the
write-ahead of every order).

Group commit: appends that arrive while a write is in flight are queued and
written together, in one transaction, as soon as it finishes; each append
returns once the transaction holding its batch has committed. The projection
rows a batch changes (:class:`~connector.store.projection.Projector`) are
written in the same transaction. A write that fails raises
:class:`~connector.errors.StoreError` to every append in it, nothing of it is
kept, and the next write rebuilds the projector from the log first; the store
stays usable and succeeds again once the database is back.

Only one writer may hold a store: the databases refuse a second one with a clear
:class:`~connector.errors.StoreError` (a lock file beside a SQLite file, an
advisory lock on PostgreSQL).
"""

from __future__ import annotations

import json
import queue
import socket
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, suppress
from functools import partial
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast

import attrs
import structlog
import trio

from connector.errors import StoreError
from connector.model import Balance, Fill, Order, Position
from connector.model.convert import converter
from connector.oms.state import order_key
from connector.store.log import LogEntry, Logged, decode, dump_json, encode, load_json
from connector.store.projection import ProjectionChanges, Projector
from connector.store.schema import FILLS_BY_SIDE, MIGRATIONS, SCHEMA_VERSION

__all__ = ["Cursor", "Database", "SqlEventLog", "StoreCheck", "StoreStatistics"]

log = structlog.get_logger(__name__)

_T = TypeVar("_T")
_READ_PAGE = 5000


class Cursor(Protocol):
    """The part of a DB-API cursor the store uses (``?`` placeholders)."""

    def execute(self, sql: str, params: Sequence[object] = ...) -> object: ...

    def executemany(self, sql: str, params: Sequence[Sequence[object]]) -> object: ...

    def fetchall(self) -> list[tuple[Any, ...]]: ...


class Database(Protocol):
    """Blocking access to one database; every method runs in a worker thread."""

    name: str
    bigint: str
    """The dialect's 64-bit integer type, for the schema."""

    def transaction(self) -> AbstractContextManager[Cursor]:
        """The writer's connection in a transaction: committed on exit, rolled back on error."""
        ...

    def reading(self) -> AbstractContextManager[Cursor]:
        """A cursor on a reader connection (not the writer's)."""
        ...

    def close(self) -> None:
        """Close every connection and release the writer's lock."""
        ...


@attrs.frozen(kw_only=True)
class StoreCheck:
    """What ``connector store check`` found: ``ok`` when ``problems`` is empty."""

    database: str
    schema_version: int
    events: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


@attrs.frozen(kw_only=True)
class StoreStatistics:
    """Counters of one store since it was opened."""

    last_seq: int
    appends: int
    events: int
    transactions: int
    failed_transactions: int
    largest_group: int


@attrs.define
class _Pending:
    events: Sequence[Logged]
    encoded: list[tuple[str, str]]
    ts_ns: int
    done: trio.Event = attrs.field(factory=trio.Event)
    last_seq: int = 0
    error: BaseException | None = None


class _Call:
    """One function the writer thread runs, and what it gave."""

    __slots__ = ("done", "error", "fn", "result")

    def __init__(self, fn: Callable[[], object]) -> None:
        self.fn = fn
        self.done = False
        self.result: object = None
        self.error: BaseException | None = None


class _WriterThread:
    """A thread that runs the writer connection's calls one after another, in order.

    :meth:`run` puts the call on the thread's queue at once (no capacity limiter,
    no pass through the scheduler before the thread has it) and sleeps until the
    thread, done, writes a byte to a socket pair the caller waits on. One task at
    a time may call :meth:`run` (the store's flush, its open and its close are
    never concurrent).
    """

    def __init__(self, name: str) -> None:
        self._calls: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        self._wake_read, self._wake_write = socket.socketpair()
        self._wake_read.setblocking(False)
        self._stopped = False
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    async def run(self, fn: Callable[[], _T]) -> _T:
        """``fn()`` in the thread; its result, or what it raised.

        Not cancellable: the call runs to its end once queued (as a transaction must).
        """
        if self._stopped:
            raise RuntimeError("the writer thread has stopped")
        call = _Call(fn)
        self._calls.put(call)
        with trio.CancelScope(shield=True):
            while not call.done:
                await trio.lowlevel.wait_readable(self._wake_read)
                with suppress(BlockingIOError):
                    self._wake_read.recv(64)
        if call.error is not None:
            raise call.error
        return cast("_T", call.result)

    def stop(self) -> None:
        """End the thread once the calls queued before have run."""
        self._stopped = True
        self._calls.put(None)

    def _serve(self) -> None:
        try:
            while (call := self._calls.get()) is not None:
                try:
                    call.result = call.fn()
                except BaseException as exc:  # handed to the caller
                    call.error = exc
                call.done = True
                self._wake_write.send(b"\0")
        finally:
            self._wake_read.close()
            self._wake_write.close()


def _dump(value: object) -> str:
    return dump_json(converter.unstructure(value))


Observer = Callable[[Sequence[Logged]], None]
"""Told each page of the log as a store loads it (:meth:`SqlEventLog.open`)."""


def read_orders(cur: Cursor, *, since_ns: int | None = None) -> list[Order]:
    """The ``orders`` table's rows, oldest update first (``since_ns``: updated since)."""
    cur.execute(
        "SELECT data FROM orders WHERE ts_updated_ns >= ? ORDER BY ts_updated_ns, seq",
        (since_ns or 0,),
    )
    return [_load(data, Order) for (data,) in cur.fetchall()]


def read_fills(cur: Cursor, *, since_ns: int | None = None) -> list[Fill]:
    """The ``fills`` table's rows, oldest first (``since_ns``: executed since)."""
    cur.execute(
        "SELECT data FROM fills WHERE ts_event_ns >= ? ORDER BY ts_event_ns, seq",
        (since_ns or 0,),
    )
    return [_load(data, Fill) for (data,) in cur.fetchall()]


def check_readable(cur: Cursor, name: str) -> None:
    """Refuse a store whose tables this program does not read: none yet, or another
    schema version (a program writing it may be older or newer).

    Raises:
        StoreError: naming the store and why.
    """
    version = _schema_version(cur, name)
    if version != SCHEMA_VERSION:
        raise StoreError(
            f"the event store {name} has schema version {version}, this program reads"
            f" {SCHEMA_VERSION}: read it with the version that writes it"
        )


def _schema_version(cur: Cursor, name: str) -> int:
    """The schema version the store ``cur`` reads says it has.

    Raises:
        StoreError: it holds no connector tables, or they cannot be read.
    """
    try:
        cur.execute("SELECT value FROM connector_meta WHERE name = 'schema_version'")
        found = cur.fetchall()
    except Exception as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "connector_meta" in reason:  # no such table (SQLite), no such relation (PostgreSQL)
            raise StoreError(f"the event store {name} holds no connector tables") from exc
        raise StoreError(f"the event store {name} cannot be read: {reason}") from exc
    if not found:
        raise StoreError(f"the event store {name} holds no connector tables")
    try:
        return int(found[0][0])
    except ValueError:
        raise StoreError(
            f"the event store {name} has an unreadable schema version {found[0][0]!r}"
        ) from None


def _order_row_key(order: Order) -> tuple[str, str]:
    """An order's key in the ``orders`` table."""
    return (order.venue, order_key(order.client_order_id, order.venue_order_id))


def _fill_row_key(fill: Fill) -> tuple[str, str, str, str]:
    """A fill's key in the ``fills`` table (``Fill.key`` as the table holds it)."""
    return (fill.venue, str(fill.symbol), fill.trade_id, fill.side.value)


def _load(text: str, cls: type[_T]) -> _T:
    return converter.structure(load_json(text), cls)


class SqlEventLog:
    """An :class:`~connector.store.log.EventLog` with projections on a :class:`Database`.

    Build one with :meth:`open` (migrates the schema and replays the log into the
    projector, in a worker thread); :meth:`close` when done.
    """

    def __init__(self, db: Database, *, readers: int = 2) -> None:
        self._db = db
        self._projector = Projector()
        self._projector_stale = False
        # What ``projected_*`` answer: the projection tables' rows as last committed,
        # kept by the writer thread under this lock. The projector itself runs ahead
        # of them while a transaction is in flight (and after a failed one).
        self._committed = threading.Lock()
        self._orders_view: dict[tuple[str, str], Order] = {}
        self._fills_view: dict[tuple[str, str, str, str], Fill] = {}
        self._last_seq = 0
        self._pending: list[_Pending] = []
        self._flushing = False
        self._flushed = trio.Event()
        self._closed = False
        self._inspecting = False
        self._readers = trio.CapacityLimiter(readers)
        self._writer = _WriterThread(f"store writer {db.name}")
        # Stops the thread at close, or when the store is dropped unclosed.
        self._stop_writer = weakref.finalize(self, self._writer.stop)
        self._appends = 0
        self._events = 0
        self._transactions = 0
        self._failed = 0
        self._largest_group = 0

    @classmethod
    async def open(
        cls, db: Database, *, readers: int = 2, observe: Observer | None = None
    ) -> SqlEventLog:
        """Migrate ``db`` to the current schema and load the log.

        Args:
            db: The database.
            readers: Reader connections.
            observe: Also given every page of the log as it is loaded, in order (in
                the store's writer thread): a program's state is rebuilt in the same
                pass, with no second read of the whole log.

        Raises:
            StoreError: the database's schema is newer than this code, it cannot be
                written, or it cannot be read (a damaged page; an entry that is not a
                stored event, named by its seq).
        """
        return await cls._opened(db, readers, partial(cls._open_sync, observe=observe))

    @classmethod
    async def inspect(cls, db: Database, *, readers: int = 2) -> SqlEventLog:
        """``db`` as it is, to :meth:`check` or :meth:`export` it: its schema neither
        created nor migrated and its log not loaded (a damaged entry is for
        :meth:`check` to report, not a reason to refuse it); appends are refused.

        Raises:
            StoreError: ``db`` holds no connector tables, or its schema is newer than
                this code.
        """
        store = await cls._opened(db, readers, cls._inspect_sync)
        store._inspecting = True
        return store

    @classmethod
    async def _opened(
        cls, db: Database, readers: int, start: Callable[[SqlEventLog], None]
    ) -> SqlEventLog:
        store = cls(db, readers=readers)
        try:
            await store._writer.run(partial(start, store))
        except BaseException as exc:
            await store._writer.run(db.close)
            store._stop_writer()
            if isinstance(exc, Exception) and not isinstance(exc, StoreError):
                raise StoreError(f"cannot open the event store {db.name}: {exc}") from exc
            raise
        return store

    @property
    def database(self) -> str:
        """The database's name (a path or a redacted DSN)."""
        return self._db.name

    # -- the EventLog protocol ------------------------------------------------

    async def append(self, events: Sequence[Logged], *, ts_ns: int) -> int:
        """Store ``events`` as one batch; return once its transaction has committed
        (with no events: once every append in flight has).

        Raises:
            TypeError: a value the log does not store (nothing is written).
            StoreError: the store is closed, or the transaction failed.
        """
        if self._closed:
            raise StoreError(f"the event store {self._db.name} is closed")
        if self._inspecting:
            raise StoreError(f"the event store {self._db.name} is open to be checked, not written")
        encoded = [(type(event).__name__, encode(event)) for event in events]
        if not encoded:
            # Nothing new; what is in flight must still be durable before the caller
            # goes on (it may hold state an earlier append of another task made).
            if self._flushing:
                failed = self._failed
                await self._flushed.wait()
                if self._failed != failed:
                    raise StoreError(
                        f"the event store {self._db.name} could not write what was in flight"
                    )
            return self._last_seq
        pending = _Pending(events=events, encoded=encoded, ts_ns=ts_ns)
        self._pending.append(pending)
        self._appends += 1
        if self._flushing:
            await pending.done.wait()
        else:
            await self._flush()
        if pending.error is not None:
            raise StoreError(
                f"the event store {self._db.name} could not write: {pending.error}"
            ) from pending.error
        return pending.last_seq

    async def read(self, after: int = 0, *, limit: int = 1000) -> Sequence[LogEntry]:
        if limit < 1:
            raise ValueError(f"limit must be >= 1, got {limit}")
        rows = await self._query(
            "SELECT seq, ts_ns, data FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
            (max(after, 0), limit),
        )
        return [LogEntry(seq=int(s), ts_ns=int(t), event=decode(d)) for s, t, d in rows]

    async def last_seq(self) -> int:
        return self._last_seq

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._flushing:  # no append starts a flush once closed
            await self._flushed.wait()
        try:
            await self._writer.run(self._db.close)
        finally:
            self._stop_writer()

    # -- history and projections ----------------------------------------------

    async def orders(self, *, since_ns: int | None = None) -> list[Order]:
        """Orders from the projection, oldest update first (``since_ns``: updated since)."""
        return await self._run_reader(partial(read_orders, since_ns=since_ns))

    async def fills(self, *, since_ns: int | None = None) -> list[Fill]:
        """Fills from the projection, oldest first (``since_ns``: executed since)."""
        return await self._run_reader(partial(read_fills, since_ns=since_ns))

    async def positions(self) -> list[Position]:
        """The latest position of each venue and symbol."""
        rows = await self._query("SELECT data FROM positions ORDER BY venue, symbol", ())
        return [_load(data, Position) for (data,) in rows]

    async def balances(self) -> list[Balance]:
        """The latest balance of each venue and asset."""
        rows = await self._query("SELECT data FROM balances ORDER BY venue, asset", ())
        return [_load(data, Balance) for (data,) in rows]

    def projected_orders(self, since_ns: int = 0) -> list[Order]:
        """Every durable order updated since ``since_ns``, oldest update first, from the
        projection this store keeps in memory (the ``orders`` table's rows as last
        committed, also while a write is in flight; no I/O)."""
        if self._closed:
            raise StoreError(f"the event store {self._db.name} is closed")
        with self._committed:
            found = [o for o in self._orders_view.values() if o.ts_updated_ns >= since_ns]
        return sorted(found, key=lambda o: o.ts_updated_ns)

    def holds_order(self, venue: str, client_order_id: str) -> bool:
        """Whether a durable order of ``venue`` has that client order id (no I/O)."""
        with self._committed:
            return (venue, client_order_id) in self._orders_view

    def projected_fills(self, since_ns: int = 0) -> list[Fill]:
        """Every durable fill executed since ``since_ns``, oldest first (no I/O)."""
        if self._closed:
            raise StoreError(f"the event store {self._db.name} is closed")
        with self._committed:
            found = [f for f in self._fills_view.values() if f.ts_event_ns >= since_ns]
        return sorted(found, key=lambda f: f.ts_event_ns)

    async def check(self) -> StoreCheck:
        """Replay the whole log and compare it with the projection tables and the schema."""
        return await self._run_reader(self._check_sync)

    async def export(self, path: Path) -> int:
        """Write the log as JSON Lines (``{"seq","ts_ns","type","data"}``); return the count."""
        return await self._run_reader(lambda cur: self._export_sync(cur, path))

    def statistics(self) -> StoreStatistics:
        return StoreStatistics(
            last_seq=self._last_seq,
            appends=self._appends,
            events=self._events,
            transactions=self._transactions,
            failed_transactions=self._failed,
            largest_group=self._largest_group,
        )

    # -- writing ----------------------------------------------------------------

    async def _flush(self) -> None:
        self._flushing = True
        self._flushed = trio.Event()
        try:
            # Shielded: appends queued behind this one wait on it, so it must finish.
            with trio.CancelScope(shield=True):
                while self._pending:
                    group, self._pending = self._pending, []
                    try:
                        await self._writer.run(partial(self._write_sync, group))
                    except Exception as exc:
                        self._failed += 1
                        self._projector_stale = True
                        log.error("store.write_failed", database=self._db.name, error=str(exc))
                        for pending in group:
                            pending.error = exc
                    for pending in group:
                        pending.done.set()
        finally:
            self._flushing = False
            self._flushed.set()

    def _write_sync(self, group: list[_Pending]) -> None:
        if self._projector_stale:
            self._rebuild_sync()
        seq = self._last_seq
        rows: list[tuple[int, int, str, str]] = []
        for pending in group:
            for name, text in pending.encoded:
                seq += 1
                rows.append((seq, pending.ts_ns, name, text))
            pending.last_seq = seq
        self._projector_stale = True  # until the transaction has committed
        changes = self._projector.apply(event for pending in group for event in pending.events)
        with self._db.transaction() as cur:
            cur.executemany("INSERT INTO events (seq, ts_ns, type, data) VALUES (?, ?, ?, ?)", rows)
            self._write_projections(cur, changes, seq)
        with self._committed:
            for order in changes.orders:
                self._orders_view[_order_row_key(order)] = order
            for fill in changes.fills:
                self._fills_view[_fill_row_key(fill)] = fill
        self._projector_stale = False
        self._last_seq = seq
        self._events += len(rows)
        self._transactions += 1
        self._largest_group = max(self._largest_group, len(group))

    @staticmethod
    def _write_projections(cur: Cursor, changes: ProjectionChanges, seq: int) -> None:
        if changes.orders:
            cur.executemany(
                "INSERT INTO orders (venue, order_key, client_order_id, venue_order_id, symbol,"
                " status, ts_updated_ns, seq, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (venue, order_key) DO UPDATE SET"
                " venue_order_id = excluded.venue_order_id, status = excluded.status,"
                " ts_updated_ns = excluded.ts_updated_ns, seq = excluded.seq, data = excluded.data",
                [
                    (
                        o.venue,
                        order_key(o.client_order_id, o.venue_order_id),
                        *_column_values(o),
                        seq,
                        _dump(o),
                    )
                    for o in changes.orders
                ],
            )
        if changes.fills:
            cur.executemany(
                "INSERT INTO fills (venue, symbol, trade_id, side, client_order_id, ts_event_ns,"
                " seq, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (venue, symbol, trade_id, side) DO NOTHING",
                [(*_fill_row_key(f), *_column_values(f), seq, _dump(f)) for f in changes.fills],
            )
        if changes.positions:
            cur.executemany(
                "INSERT INTO positions (venue, symbol, seq, data) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (venue, symbol) DO UPDATE SET"
                " seq = excluded.seq, data = excluded.data",
                [(p.venue, str(p.symbol), seq, _dump(p)) for p in changes.positions],
            )
        if changes.balances:
            cur.executemany(
                "INSERT INTO balances (venue, asset, seq, data) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (venue, asset) DO UPDATE SET"
                " seq = excluded.seq, data = excluded.data",
                [(b.venue, b.asset, seq, _dump(b)) for b in changes.balances],
            )

    # -- opening, replay, checks ------------------------------------------------

    def _open_sync(self, observe: Observer | None) -> None:
        with self._db.transaction() as cur:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS connector_meta"
                " (name TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )
            cur.execute("SELECT value FROM connector_meta WHERE name = 'schema_version'")
            found = cur.fetchall()
            version = int(found[0][0]) if found else 0
            self._refuse_newer(version)
            # A real write: a database that takes reads but no writes (a read-only
            # file, a read-only server) is refused now, not at the first order.
            try:
                cur.execute(
                    "INSERT INTO connector_meta (name, value) VALUES ('opened_ns', ?)"
                    " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                    (str(time.time_ns()),),
                )
            except Exception as exc:
                raise StoreError(
                    f"the event store {self._db.name} cannot be written: {exc}"
                ) from exc
        for migration in MIGRATIONS:
            if migration.version <= version:
                continue
            with self._db.transaction() as cur:
                for statement in migration.sql(self._db.bigint):
                    if statement.startswith("CREATE TABLE connector_meta"):
                        continue  # made above, before the version could be read
                    cur.execute(statement)
                cur.execute(
                    "INSERT INTO connector_meta (name, value) VALUES ('schema_version', ?)"
                    " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                    (str(migration.version),),
                )
            log.info(
                "store.migrated",
                database=self._db.name,
                version=migration.version,
                description=migration.description,
            )
        self._rebuild_sync(observe)
        if 0 < version < FILLS_BY_SIDE:
            # The fills table was made again, keyed by side too: filled from the log.
            with self._db.transaction() as cur:
                fills = ProjectionChanges(fills=tuple(self._projector.fills()))
                self._write_projections(cur, fills, self._last_seq)

    def _refuse_newer(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"the event store {self._db.name} has schema version {version}, newer than "
                f"this program's {SCHEMA_VERSION}: upgrade connector to open it"
            )

    def _inspect_sync(self) -> None:
        with self._db.transaction() as cur:
            version = _schema_version(cur, self._db.name)
        self._refuse_newer(version)

    def _rebuild_sync(self, observe: Observer | None = None) -> None:
        """The projector and last seq from the whole log (at open, and after a failed write).

        Raises:
            StoreError: the log cannot be read to its end, or holds an entry that is
                not a stored event (naming its seq).
        """
        projector = Projector()
        last = 0
        with self._db.transaction() as cur:
            pages = _pages(cur)
            while True:
                try:
                    entries = next(pages, None)
                except Exception as exc:
                    raise StoreError(
                        f"the event store {self._db.name} cannot be read after seq {last}: {exc}"
                    ) from exc
                if entries is None:
                    break
                events = []
                for seq, data in entries:
                    try:
                        events.append(decode(data))
                    except ValueError as exc:
                        raise StoreError(
                            f"the event store {self._db.name} cannot read its entry seq {seq}:"
                            f" {exc}"
                        ) from exc
                projector.apply(events)
                if observe is not None:
                    observe(events)
                last = entries[-1][0]
        self._projector = projector
        with self._committed:
            self._orders_view = {_order_row_key(o): o for o in projector.orders.all()}
            self._fills_view = {_fill_row_key(f): f for f in projector.fills()}
        self._last_seq = last
        self._projector_stale = False

    def _check_sync(self, cur: Cursor) -> StoreCheck:
        """What ``connector store check`` reports: every problem found, going on past
        each entry or row it cannot read (one that cannot be read is a problem)."""
        problems: list[str] = []
        version = _schema_version(cur, self._db.name)
        if version != SCHEMA_VERSION:
            problems.append(f"schema version {version}, this program writes {SCHEMA_VERSION}")
        projector = Projector()
        count = 0
        expected = 1
        pages = _pages(cur)
        while True:
            try:
                entries = next(pages, None)
            except Exception as exc:
                problems.append(f"the log cannot be read after seq {expected - 1}: {exc}")
                problems.append(
                    "the projections were not compared: the log was not read to its end"
                )
                break
            if entries is None:
                problems.extend(self._compare_projections(cur, projector))
                break
            events: list[Logged] = []
            for seq, data in entries:
                if seq != expected:
                    problems.append(f"the log jumps from seq {expected - 1} to {seq}")
                expected = seq + 1
                count += 1
                try:
                    events.append(decode(data))
                except ValueError as exc:
                    problems.append(f"seq {seq} cannot be read: {exc}")
            projector.apply(events)
        return StoreCheck(
            database=self._db.name, schema_version=version, events=count, problems=tuple(problems)
        )

    @staticmethod
    def _compare_projections(cur: Cursor, projector: Projector) -> list[str]:
        """How the projection tables differ from what the log replays to."""
        want: dict[str, dict[Any, Any]] = {
            "order": {
                (o.venue, order_key(o.client_order_id, o.venue_order_id)): o
                for o in projector.orders.all()
            },
            "fill": {_fill_row_key(f): f for f in projector.fills()},
            "position": {(p.venue, str(p.symbol)): p for p in projector.positions()},
            "balance": {(b.venue, b.asset): b for b in projector.balances()},
        }
        # Per table: the key's columns, the class of its data, and the columns that
        # repeat the data for queries (each must say what the log's object says).
        tables: dict[str, tuple[str, str, type[Any], tuple[str, ...]]] = {
            "order": ("orders", "venue, order_key", Order, _ORDER_COLUMNS),
            "fill": ("fills", "venue, symbol, trade_id, side", Fill, _FILL_COLUMNS),
            "position": ("positions", "venue, symbol", Position, ()),
            "balance": ("balances", "venue, asset", Balance, ()),
        }
        problems: list[str] = []
        for kind, (table, key_columns, cls, columns) in tables.items():
            keys = key_columns.count(",") + 1
            try:
                cur.execute(f"SELECT {', '.join((key_columns, *columns))}, data FROM {table}")
                rows = cur.fetchall()
            except Exception as exc:
                problems.append(f"the {kind} projection cannot be read: {exc}")
                continue
            have: dict[Any, Any] = {}
            for *values, data in rows:
                key = tuple(values[:keys])
                try:
                    have[key] = _load(data, cls)
                except Exception as exc:  # not JSON, or not the class's fields
                    problems.append(f"{kind} {key} in the projection cannot be read: {exc}")
                logged = want[kind].get(key)
                if logged is None:
                    continue
                for column, value, expected in zip(
                    columns, values[keys:], _column_values(logged), strict=True
                ):
                    if value != expected:
                        problems.append(
                            f"{kind} {key} has {column} {value!r} in the projection,"
                            f" the log says {expected!r}"
                        )
            problems.extend(_differences(kind, want[kind], have))
        return problems

    def _export_sync(self, cur: Cursor, path: Path) -> int:
        count, last = 0, 0
        with path.open("w", encoding="utf-8") as out:
            pages = _log_pages(cur, "seq, ts_ns, type, data")
            while True:
                try:
                    rows = next(pages, None)
                except Exception as exc:
                    raise StoreError(
                        f"the event store {self._db.name} cannot be read after seq {last}"
                        f" ({count} entries written to {path}): {exc}"
                    ) from exc
                if rows is None:
                    return count
                for seq, ts_ns, name, data in rows:
                    try:
                        stored = load_json(data)["data"]
                    except ValueError as exc:  # not JSON
                        raise self._unexported(seq, count, path, str(exc)) from exc
                    except (TypeError, KeyError) as exc:
                        why = f"not a stored event: {data[:200]!r}"
                        raise self._unexported(seq, count, path, why) from exc
                    record = {"seq": seq, "ts_ns": ts_ns, "type": name, "data": stored}
                    out.write(json.dumps(record, separators=(",", ":")) + "\n")
                    count += 1
                    last = seq

    def _unexported(self, seq: int, count: int, path: Path, why: str) -> StoreError:
        return StoreError(
            f"the event store {self._db.name} cannot read its entry seq {seq}"
            f" ({count} entries before it written to {path}): {why}"
        )

    # -- reading ------------------------------------------------------------------

    async def _query(self, sql: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
        def run(cur: Cursor) -> list[tuple[Any, ...]]:
            cur.execute(sql, params)
            return cur.fetchall()

        return await self._run_reader(run)

    async def _run_reader(self, fn: Callable[[Cursor], _T]) -> _T:
        if self._closed:
            raise StoreError(f"the event store {self._db.name} is closed")

        def run() -> _T:
            with self._db.reading() as cur:
                return fn(cur)

        async with self._readers:
            try:
                return await trio.to_thread.run_sync(run)
            except StoreError:
                raise
            except Exception as exc:
                raise StoreError(f"the event store {self._db.name} could not read: {exc}") from exc


def _pages(cur: Cursor) -> Iterator[list[tuple[int, str]]]:
    """The log's ``(seq, data)`` rows, a page at a time (see :func:`_log_pages`)."""
    for rows in _log_pages(cur, "seq, data"):
        yield [(int(seq), str(data)) for seq, data in rows]


def _log_pages(cur: Cursor, columns: str) -> Iterator[list[tuple[Any, ...]]]:
    """The log's rows (``columns``, ``seq`` first), a page at a time. A page that cannot
    be read (a damaged database page) is read again row by row up to the failing one,
    so what meets the error knows the last readable seq."""
    after, limit = 0, _READ_PAGE
    failed: tuple[int, Exception] | None = None
    while True:
        try:
            cur.execute(
                f"SELECT {columns} FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (after, limit)
            )
            rows = cur.fetchall()
        except Exception as exc:
            if failed is None:
                failed, limit = (after, exc), 1
                continue
            # The first error, not what a retry met (PostgreSQL: an aborted transaction).
            raise (failed[1] if failed[0] == after else exc) from None
        if rows:
            yield rows
        if len(rows) < limit:
            return
        after = int(rows[-1][0])


_ORDER_COLUMNS = ("client_order_id", "venue_order_id", "symbol", "status", "ts_updated_ns")
_FILL_COLUMNS = ("client_order_id", "ts_event_ns")


def _column_values(item: Order | Fill | Position | Balance) -> tuple[object, ...]:
    """The values of the columns that repeat ``item``'s data, as they are written."""
    if isinstance(item, Order):
        return (
            item.client_order_id,
            item.venue_order_id,
            str(item.symbol),
            item.status.value,
            item.ts_updated_ns,
        )
    if isinstance(item, Fill):
        return (item.client_order_id, item.ts_event_ns)
    return ()


def _differences(kind: str, want: dict[Any, Any], have: dict[Any, Any]) -> list[str]:
    out = [
        f"{kind} {key} is in the log but not in its projection" for key in want.keys() - have.keys()
    ]
    out += [
        f"{kind} {key} is in the projection but not in the log" for key in have.keys() - want.keys()
    ]
    out += [
        f"{kind} {key} differs: log {want[key]!r}, projection {have[key]!r}"
        for key in want.keys() & have.keys()
        if want[key] != have[key]
    ]
    return sorted(out)
