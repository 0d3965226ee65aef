"""The persistence subtree: root child ``persistence``, started before any venue.

A :class:`Persistence` is an ``all_for_one`` supervisor (3 restarts in 60 s) of
two children:

- ``writer`` opens the configured store (``[storage] kind``), replays the whole
  log into the order state of every trading venue (its
  :class:`~connector.oms.state.OrderBookkeeping` and fills), the positions and
  the balances, then lets appends through (:class:`DurableLog`). When a write
  fails, appends are refused at once (order commands raise
  :class:`~connector.errors.StoreError` before anything is sent), the health
  service shows it on every ``health.{venue}``, and the writer ends with the
  error: the subtree restarts by its strategy, reopens the store, replays it
  again (what was applied in memory but never became durable is dropped) and
  lets appends through again;
- ``reconciler``: after a restart of the subtree, asks every venue's account
  service to reconcile with the venue (what happened while the store was down is
  read back from the venue and logged) and the order state to query orders
  whose outcome is not durable yet. At the first start the venues are not
  running yet: each account service reconciles before its venue accepts orders.

The services write through one :class:`DurableLog` whose store the writer
swaps; a store injected by a program (``Connector(event_log=...)``) or the
in-memory log (``kind = "memory"``) is kept across restarts.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence

import attrs
import structlog
import trio

from connector.account.balances import BalanceBook
from connector.account.positions import PositionBook
from connector.account.service import AccountService
from connector.config import StorageConfig
from connector.errors import ReconcileIncomplete, StoreError
from connector.model import Balance, Fill, Order, OrderEvent, OrderFilled, OrderStatus, Position
from connector.model.trading import OrderReport
from connector.oms.state import OrderBookkeeping
from connector.oms.tracking import OrderStateService
from connector.store.log import EventLog, LogEntry, Logged, MemoryEventLog
from connector.store.open import open_store
from connector.store.sql import SqlEventLog
from connector.supervision import Backoff, ChildSpec, Restart, Strategy, Supervisor

__all__ = ["DurableLog", "Persistence", "Replay", "StoreStatus", "replay"]

log = structlog.get_logger(__name__)

_PAGE = 5000


@attrs.frozen(kw_only=True)
class StoreStatus:
    """The event store as ``connector status`` shows it.

    Attributes:
        kind: ``sqlite``, ``postgres`` or ``memory``.
        database: Its name (a path, a redacted DSN).
        open: Whether appends go through now.
        error: Why they do not (the last failure), else ``None``.
        appends: Batches appended; failed: batches refused or failed.
        replays: Times the log was replayed into the state.
        last_seq: The last durable entry.
    """

    kind: str
    database: str
    open: bool
    error: str | None
    appends: int
    failed: int
    replays: int
    last_seq: int

    def render(self) -> str:
        state = "open" if self.open else f"NOT WRITING ({self.error or 'not open'})"
        return (
            f"store {self.kind} {self.database}: {state}, {self.appends} appends, "
            f"{self.failed} failed, last seq {self.last_seq}"
        )


class DurableLog:
    """The :class:`~connector.store.log.EventLog` the services write to.

    It forwards to the store the ``writer`` holds. While there is none (not open
    yet, or a write failed and the subtree restarts) every append raises
    :class:`~connector.errors.StoreError` at once.
    """

    def __init__(self, database: str, on_failure: Callable[[str], None]) -> None:
        self.database = database
        self.store: EventLog | None = None
        self.error: str | None = None
        self.failed = trio.Event()
        self._on_failure = on_failure
        self.appends = 0
        self.refused = 0
        self.durable_seq = 0
        """The last durable entry: the log's when it was attached, then each append's."""

    def attach(self, store: EventLog, last_seq: int) -> None:
        self.store = store
        self.durable_seq = last_seq
        self.error = None
        self.failed = trio.Event()

    def detach(self, error: str | None) -> None:
        self.store = None
        if error is not None:
            self.error = error

    async def append(self, events: Sequence[Logged], *, ts_ns: int) -> int:
        store = self.store
        if store is None:
            self.refused += 1
            raise StoreError(
                f"the event store {self.database} cannot write now: {self.error or 'not open'}"
            )
        try:
            seq = await store.append(events, ts_ns=ts_ns)
        except StoreError as exc:
            self.refused += 1
            if self.store is store:
                self.detach(str(exc))
                self.failed.set()
                self._on_failure(str(exc))
            raise
        self.appends += 1
        self.durable_seq = max(self.durable_seq, seq)
        return seq

    async def read(self, after: int = 0, *, limit: int = 1000) -> Sequence[LogEntry]:
        store = self.store
        if store is None:
            raise StoreError(f"the event store {self.database} is not open: {self.error}")
        return await store.read(after, limit=limit)

    async def last_seq(self) -> int:
        store = self.store
        return 0 if store is None else await store.last_seq()

    async def close(self) -> None:
        """The writer owns the store: nothing to do here."""


@attrs.define
class Replay:
    """The state a log replays to: per venue order books and fills, positions, balances."""

    books: dict[str, OrderBookkeeping] = attrs.field(factory=dict)
    fills: dict[str, list[Fill]] = attrs.field(factory=dict)
    positions: PositionBook = attrs.field(factory=PositionBook)
    balances: BalanceBook = attrs.field(factory=BalanceBook)
    entries: int = 0

    def apply_all(self, events: Iterable[Logged]) -> None:
        """Log entries in order (a page of the log)."""
        for event in events:
            self.apply(event)

    def apply(self, event: Logged) -> None:
        """One log entry, as the services applied it when it was written."""
        self.entries += 1
        if isinstance(event, OrderEvent | OrderReport | Fill):
            book = self.books.get(event.venue)
            if book is None:
                book = self.books[event.venue] = OrderBookkeeping()
            item = OrderFilled.of(event) if isinstance(event, Fill) else event
            for out in book.apply(item):
                if isinstance(out, OrderFilled):
                    self.fills.setdefault(out.venue, []).append(out.fill)
                    self.positions.apply_fill(out.fill)
                    self.balances.apply_fill(out.fill)
        elif isinstance(event, Position):
            self.positions.apply_snapshot(event)
        elif isinstance(event, Balance):
            self.balances.apply(event)


Opened = tuple[EventLog, Replay | None]
"""An opened store, and the state its log replayed to as it was read while opening."""


async def replay(store: EventLog) -> Replay:
    """Read the whole log into a :class:`Replay`."""
    state = Replay()
    after = 0
    while True:
        page = await store.read(after, limit=_PAGE)
        for entry in page:
            state.apply(entry.event)
        if len(page) < _PAGE:
            return state
        after = page[-1].seq


class Persistence:
    """The persistence subtree (see the module docstring); run :attr:`supervisor`.

    Args:
        kind: ``sqlite``, ``postgres`` or ``memory`` (shown by ``status``).
        database: The store's name (shown by ``status`` and in errors).
        opener: Opens the store (a new connection each time the writer starts), with
            the state its log replays to when it was read while opening (else ``None``:
            the writer replays it).
        owned: Whether the writer closes what ``opener`` gave when it stops
            (``False`` for a store kept across restarts: memory, injected).
        states: Each trading venue's order-state service (filled before running).
        accounts: Each trading venue's account service (filled before running).
        positions: The positions every account service moves.
        balances: The balances every account service moves.
        on_store: Told the store's failure (its error) and recovery (``None``):
            the health service.
        restart_backoff: Delay before the subtree restarts after a failure.
        keeps_history: Whether the store answers ``orders_since`` and
            ``fills_since`` itself (an SQL store) rather than from the live state.
    """

    def __init__(
        self,
        *,
        kind: str,
        database: str,
        opener: Callable[[], Awaitable[Opened]],
        owned: bool,
        states: Mapping[str, OrderStateService],
        accounts: Mapping[str, AccountService],
        positions: PositionBook,
        balances: BalanceBook,
        on_store: Callable[[str | None], None] = lambda _error: None,
        restart_backoff: Backoff | None = None,
        keeps_history: bool = False,
    ) -> None:
        self.kind = kind
        self.keeps_history = keeps_history
        self.log = DurableLog(database, self._failed)
        self._opener = opener
        self._owned = owned
        self._states = states
        self._accounts = accounts
        self._positions = positions
        self._balances = balances
        self._on_store = on_store
        self._opened: Opened | None = None
        self._replays = 0
        self._runs = 0
        self.supervisor = Supervisor(
            "persistence",
            [
                ChildSpec("writer", _Writer(self), restart=Restart.PERMANENT),
                ChildSpec("reconciler", _Reconciler(self), restart=Restart.PERMANENT),
            ],
            strategy=Strategy.ALL_FOR_ONE,
            intensity=3,
            period=60.0,
            backoff=restart_backoff or Backoff(initial=0.5, maximum=10.0),
        )

    @classmethod
    def for_storage(
        cls,
        storage: StorageConfig,
        event_log: EventLog | None = None,
        *,
        states: Mapping[str, OrderStateService],
        accounts: Mapping[str, AccountService],
        positions: PositionBook,
        balances: BalanceBook,
        on_store: Callable[[str | None], None] = lambda _error: None,
    ) -> Persistence:
        """The subtree for ``[storage]`` (``storage.store``), or for a log the program gave."""
        opener: Callable[[], Awaitable[Opened]]
        if event_log is not None or storage.store == "memory":
            kept: EventLog = event_log if event_log is not None else MemoryEventLog()

            async def same() -> Opened:
                return kept, None

            kind = "memory" if isinstance(kept, MemoryEventLog) else type(kept).__name__
            opener, owned, database = same, False, kind
            keeps_history = isinstance(kept, SqlEventLog)
        else:
            if storage.store == "postgres":
                from connector.store.postgres import store_name  # the ``postgres`` extra

                database = store_name(storage.postgres_dsn or "", storage.postgres_schema)
            else:
                database = str(storage.sqlite_path)

            async def open_configured() -> Opened:
                # The log is read once, as the store loads it; a short busy timeout: an
                # order waits at most this long on a locked file.
                state = Replay()
                store = await open_store(storage, busy_timeout=2.0, observe=state.apply_all)
                return store, state

            kind, opener, owned = storage.store, open_configured, True
            keeps_history = True
        return cls(
            kind=kind,
            keeps_history=keeps_history,
            database=database,
            opener=opener,
            owned=owned,
            states=states,
            accounts=accounts,
            positions=positions,
            balances=balances,
            on_store=on_store,
        )

    async def open(self) -> None:
        """Open the store once, before the tree starts (the first writer adopts it).

        Raises:
            StoreError: it cannot be opened (a program sees this from
                ``async with Connector(...)``).
        """
        if self._opened is None:
            self._opened = await self._opener()

    async def reconcile(self) -> None:
        """Ask every venue's account service to reconcile now and return once each has
        completed a reconciliation that started after the call (one running then may
        have read the venue too early; a failed one is retried, as the account service
        retries it); bound it with a timeout."""
        async with trio.open_nursery() as nursery:
            for account in self._accounts.values():
                nursery.start_soon(self._reconcile_one, account)

    @staticmethod
    async def _reconcile_one(account: AccountService) -> None:
        while True:
            try:
                await account.reconcile_now(math.inf)
            except ReconcileIncomplete:
                continue  # that run failed: wait for the next
            return

    async def settled(self, *, poll: float = 0.05) -> None:
        """Return once no order is ``submitted`` or ``unknown`` and no venue is querying
        an order or waiting to (what a restart left to resolve is resolved, orders too
        young to judge at the last reconciliation included); bound it with a timeout."""
        while any(  # noqa: ASYNC110 (several services' state; no one event covers it)
            state.resolving
            or any(
                o.status in (OrderStatus.SUBMITTED, OrderStatus.UNKNOWN)
                for o in state.book.open(name)
            )
            for name, state in self._states.items()
        ):
            await trio.sleep(poll)

    async def discard(self) -> None:
        """Close the store :meth:`open` opened if no writer took it (a failed start)."""
        opened, self._opened = self._opened, None
        if opened is not None and self._owned:
            with trio.CancelScope(shield=True):
                await opened[0].close()

    def orders_since(self, since_ns: int) -> list[Order]:
        """Durable orders updated since ``since_ns`` (``c.orders.all(since=...)``): the
        store's projection; an in-memory log's are the order state itself.

        Raises:
            StoreError: the store cannot be read now.
        """
        store = self._history()
        if isinstance(store, SqlEventLog):
            return store.projected_orders(since_ns)
        found = [
            o for state in self._states.values() for o in state.book.all()
            if o.ts_updated_ns >= since_ns
        ]  # fmt: skip
        return sorted(found, key=lambda o: o.ts_updated_ns)

    def order_venue(self, client_order_id: str, venues: Iterable[str]) -> str | None:
        """The first of ``venues`` with a durable order of that client order id, from any
        run (an in-memory log holds this run's only: the order state knows them)."""
        store = self.log.store
        if not isinstance(store, SqlEventLog):
            return None
        return next((v for v in venues if store.holds_order(v, client_order_id)), None)

    def fills_since(self, since_ns: int) -> list[Fill]:
        """Durable fills executed since ``since_ns`` (``c.fills(since=...)``).

        Raises:
            StoreError: the store cannot be read now.
        """
        store = self._history()
        if isinstance(store, SqlEventLog):
            return store.projected_fills(since_ns)
        found = [f for state in self._states.values() for f in state.fills()
                 if f.ts_event_ns >= since_ns]  # fmt: skip
        return sorted(found, key=lambda f: f.ts_event_ns)

    def _history(self) -> EventLog:
        store = self.log.store
        if store is None:
            raise StoreError(
                f"the event store {self.log.database} cannot be read now: {self.log.error}"
            )
        return store

    def status(self) -> StoreStatus:
        return StoreStatus(
            kind=self.kind,
            database=self.log.database,
            open=self.log.store is not None,
            error=self.log.error,
            appends=self.log.appends,
            failed=self.log.refused,
            replays=self._replays,
            last_seq=self.log.durable_seq,
        )

    def _failed(self, error: str) -> None:
        log.error("store.failed", database=self.log.database, error=error)
        self._on_store(error)

    async def _take(self) -> Opened:
        opened, self._opened = self._opened, None
        if opened is not None:
            return opened
        return await self._opener()

    async def _restore(self, store: EventLog, replayed: Replay | None) -> None:
        """Replay ``store`` into the services' state, replacing what they held
        (``replayed``: what it replayed to as it was opened, nothing written since)."""
        started = time.perf_counter()
        state = replayed if replayed is not None else await replay(store)
        for venue, service in self._states.items():
            service.restore(state.books.get(venue, OrderBookkeeping()), state.fills.get(venue, []))
        self._positions.adopt(state.positions)
        self._balances.adopt(state.balances)
        self._replays += 1
        log.info(
            "store.replayed",
            database=self.log.database,
            entries=state.entries,
            orders=sum(len(b) for b in state.books.values()),
            seconds=round(time.perf_counter() - started, 3),
        )

    async def _run_writer(self, task_status: trio.TaskStatus[None]) -> None:
        self._runs += 1
        store, replayed = await self._take()
        try:
            await self._restore(store, replayed)
            self.log.attach(store, await store.last_seq())
            self._on_store(None)
            task_status.started()
            await self.log.failed.wait()
            raise StoreError(f"the event store {self.log.database} failed: {self.log.error}")
        finally:
            self.log.detach(None)
            if self.log.error is None:
                self.log.error = "restarting"
            if self._owned:
                with trio.CancelScope(shield=True), trio.move_on_after(10):
                    await store.close()

    async def _run_reconciler(self, task_status: trio.TaskStatus[None]) -> None:
        if self._runs > 1:
            # After a restart: what happened while the store could not write is read
            # back from the venues, and orders whose outcome is not durable queried.
            for name, account in self._accounts.items():
                account.request_reconcile("the event store is back")
                state = self._states.get(name)
                if state is not None:
                    for order in state.book.open(name):
                        if order.status in (OrderStatus.SUBMITTED, OrderStatus.UNKNOWN):
                            state.resolve(order.client_order_id)
        task_status.started()
        await trio.sleep_forever()


class _Writer:
    def __init__(self, owner: Persistence) -> None:
        self._owner = owner

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        await self._owner._run_writer(task_status)


class _Reconciler:
    def __init__(self, owner: Persistence) -> None:
        self._owner = owner

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        await self._owner._run_reconciler(task_status)
