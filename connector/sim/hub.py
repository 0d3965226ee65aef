"""One simulated venue's exchange state: books, synthetic flow, stats, listeners.

:class:`SimVenue` owns, per instrument (keyed ``(market, native_id)``), a
:class:`~connector.sim.engine.MatchingEngine` and a
:class:`~connector.sim.flow.SyntheticFlow`, wrapped in a :class:`SimBook`
that also keeps 24 h ticker statistics, a ring of recent trades and an undo
log for stale snapshots. Its :meth:`SimVenue.run` task steps every flow at
``rate`` book changes per second per instrument, batched per trio tick.

Prices: every flow follows the reference price of its base asset from a
:class:`~connector.sim.reference.ReferenceMarket` (one per simulator run,
shared by all its venues, so the venues stay arbitraged: a consolidated book
is crossed only briefly and rarely). The driver reads the reference at the
trio clock; :meth:`SimVenue.step` advances this venue's reference time by one
step's worth (``1 / rate`` seconds) per step, so stepping a paused venue moves
its market as running it would.

Front-ends see the venue through:

* :meth:`SimVenue.listen` — a synchronous callback ``fn(batch)`` called with a
  :class:`BookBatch` (one instrument's engine results of one tick, with the
  venue timestamp) right after the engine produced them. Keep callbacks cheap;
  they run inside the driver task.
* :meth:`SimVenue.open_buffer` — a bounded async buffer of batches for code that
  prefers to pull (overflow: the oldest batch is dropped and counted).
* :meth:`SimVenue.book` — the :class:`SimBook` (engine, instrument, ticker,
  trades, :meth:`SimBook.depth` / :meth:`SimBook.depth_at`).
* :meth:`SimVenue.now_ms` / :meth:`SimVenue.now_ns` — the venue's clock (wall
  clock plus the plan's clock skew).

Hooks for tests and tools: :meth:`SimVenue.pause`, :meth:`SimVenue.resume`,
:meth:`SimVenue.step` (deterministic stepping while paused),
:meth:`SimVenue.move_market`, :meth:`SimVenue.add_liquidity`, and
:meth:`SimVenue.submit` / :meth:`SimVenue.cancel` / :meth:`SimVenue.amend`
(engine operations whose results are published like flow results).
"""

from __future__ import annotations

import contextlib
import itertools
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal

import attrs
import structlog
import trio

from connector.model import OrderType, Side, TimeInForce
from connector.sim.accounts import AccountBook, default_accounts
from connector.sim.desk import Desk
from connector.sim.engine import EngineOrder, EngineResult
from connector.sim.instruments import SimInstrument
from connector.sim.reference import ReferenceMarket
from connector.sim.simbook import BookBatch, SimBook, SimTrade, TickerStats

__all__ = [
    "MAX_RATE",
    "SEED_LIMIT",
    "BookBatch",
    "BookBuffer",
    "HubStatistics",
    "SimBook",
    "SimTrade",
    "SimVenue",
    "TickerStats",
]

log = structlog.get_logger(__name__)

_ZERO = Decimal(0)
BookKey = tuple[str, str]

MAX_RATE = 40_000.0
"""The most book changes per second per instrument a venue's driver is asked for.

About what one core makes for one instrument (docs/simulator.md, "Rate"): a
higher rate adds little flow, while every driver tick steps each flow
``rate / 100`` times without yielding, so the event loop (signals, timeouts,
every client) waits longer and longer."""

SEED_LIMIT = 2**32
"""Seeds are ``0 <= seed < SEED_LIMIT``, 32 bits: the reference prices use that many
(:mod:`connector.sim.reference`) and Bybit's message and connection ids put the seed
in the top bits of a 128-bit UUID."""


class BookBuffer:
    """A bounded async buffer of :class:`BookBatch` values for one consumer.

    Holds at most ``size`` batches; on overflow the oldest batch is dropped and
    counted in ``dropped``. Close it with :meth:`close` (or ``with``).
    """

    def __init__(self, venue: SimVenue, size: int) -> None:
        self._venue = venue
        self._items: deque[BookBatch] = deque()
        self._size = size
        self._event = trio.Event()
        self.dropped = 0
        self.closed = False

    def push(self, batch: BookBatch) -> None:
        """Add one batch (called by the venue)."""
        if len(self._items) >= self._size:
            self._items.popleft()
            self.dropped += 1
        self._items.append(batch)
        self._event.set()

    async def get(self) -> BookBatch:
        """The oldest buffered batch, waiting for one if needed."""
        while not self._items:
            self._event = trio.Event()
            await self._event.wait()
        return self._items.popleft()

    def close(self) -> None:
        """Stop receiving batches."""
        if not self.closed:
            self.closed = True
            self._venue._remove_listener(self.push)

    def __enter__(self) -> BookBuffer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@attrs.frozen(kw_only=True)
class HubStatistics:
    """Counters of one venue hub."""

    venue: str
    instruments: int
    results: int
    trades: int
    ticks: int
    listeners: int
    paused: bool


Listener = Callable[[BookBatch], None]


class SimVenue:
    """One venue's books and synthetic flow, with hooks and listeners.

    Args:
        name: Venue name (``binance``, ``bybit``, ``okx``).
        instruments: The venue's instruments.
        seed: Seed for the flows (each instrument's flow gets a seed derived
            from it and the instrument), so runs are reproducible.
        rate: Book changes per second per instrument the driver aims for.
        clock_skew_ms: Offset of the venue clock from the wall clock.
        levels: Levels per side the flow keeps.
        reference: The run's reference prices, shared by its venues (``None``:
            one of this venue's own, seeded with ``seed``).
        accounts: The venue's accounts (``None``: its default demo account);
            the trading desk over them is :attr:`desk`.
    """

    def __init__(
        self,
        name: str,
        instruments: Sequence[SimInstrument],
        *,
        seed: int = 1,
        rate: float = 200.0,
        clock_skew_ms: int = 0,
        levels: int = 25,
        reference: ReferenceMarket | None = None,
        accounts: AccountBook | None = None,
    ) -> None:
        self.name = name
        self.seed = seed
        self.rate = rate
        self.reference = reference if reference is not None else ReferenceMarket(seed)
        # Seconds on the reference clock this venue's flows have reached.
        self._ref_time = 0.0
        self._step_time = 1.0 / rate if rate > 0 else 0.005
        self.clock_skew_ms = clock_skew_ms
        self._skew_ns = clock_skew_ms * 1_000_000
        self.books: dict[BookKey, SimBook] = {}
        for inst in instruments:
            key = (inst.market, inst.native_id)
            sub_seed = zlib.crc32(f"{seed}/{name}/{inst.market}/{inst.native_id}".encode())
            self.books[key] = SimBook(
                inst, seed=sub_seed, levels=levels, anchor=self.reference.anchor(inst, 0.0)
            )
        self._listeners: list[Listener] = []
        self._paused = False
        self._resumed = trio.Event()
        self._resumed.set()
        self._order_ids = itertools.count(1)
        self._results = 0
        self._trades = 0
        self._ticks = 0
        for book in self.books.values():
            book.apply(book.flow.seed_book(), self.now_ms())
        #: The trading desk: user orders, fills, balances, positions (connector.sim.desk).
        self.desk = Desk(
            name,
            self.books,
            accounts if accounts is not None else AccountBook(name, default_accounts()),
            reference=self.reference,
            ref_time=lambda: self._ref_time,
            publish=lambda market, native_id, results: self.publish(
                self.books[(market, native_id)], results
            ),
        )

    # ----------------------------------------------------------------- clock

    def now_ns(self) -> int:
        """The venue clock in ns (wall clock plus skew)."""
        return time.time_ns() + self._skew_ns

    def now_ms(self) -> int:
        """The venue clock in ms (wall clock plus skew)."""
        return (time.time_ns() + self._skew_ns) // 1_000_000

    # ------------------------------------------------------------- accessors

    def book(self, market: str, native_id: str) -> SimBook:
        """The book of one instrument; KeyError when unknown."""
        return self.books[(market, native_id)]

    def find(self, market: str, native_id: str) -> SimBook | None:
        """The book of one instrument, or None when unknown."""
        return self.books.get((market, native_id))

    def instruments(self, market: str | None = None) -> list[SimInstrument]:
        """The venue's instruments (of one market when given)."""
        return [b.instrument for b in self.books.values() if market is None or b.market == market]

    def markets(self) -> list[str]:
        """Markets with at least one instrument, in first-seen order."""
        seen: dict[str, None] = {}
        for book in self.books.values():
            seen.setdefault(book.market, None)
        return list(seen)

    # ------------------------------------------------------------- listeners

    def listen(self, fn: Listener) -> Callable[[], None]:
        """Call ``fn(batch)`` for every published batch; returns an unsubscribe function."""
        self._listeners.append(fn)
        return lambda: self._remove_listener(fn)

    def _remove_listener(self, fn: Listener) -> None:
        with contextlib.suppress(ValueError):
            self._listeners.remove(fn)

    def open_buffer(self, size: int = 10_000) -> BookBuffer:
        """A bounded buffer that receives every batch (drop-oldest on overflow)."""
        buf = BookBuffer(self, size)
        self._listeners.append(buf.push)
        return buf

    def publish(self, book: SimBook, results: Iterable[EngineResult]) -> BookBatch | None:
        """Record results of ``book`` and hand them to the listeners."""
        ts_ns = self.now_ns()
        kept = book.apply(results, ts_ns // 1_000_000)
        if not kept:
            return None
        self._results += len(kept)
        batch = BookBatch(
            market=book.market, native_id=book.native_id, results=tuple(kept), ts_ns=ts_ns
        )
        for fn in list(self._listeners):
            fn(batch)
        # Flow trades against resting user orders: settled after the public batch went out.
        self.desk.on_published(book.market, book.native_id, kept, ts_ns // 1_000_000)
        return batch

    # ----------------------------------------------------------------- hooks

    @property
    def paused(self) -> bool:
        """Whether the driver is paused."""
        return self._paused

    def pause(self) -> None:
        """Stop the driver from stepping the flows (hooks still work)."""
        if not self._paused:
            self._paused = True
            self._resumed = trio.Event()

    def resume(self) -> None:
        """Let the driver step the flows again (no catch-up burst)."""
        if self._paused:
            self._paused = False
            self._resumed.set()

    def step(
        self, n: int = 1, *, market: str | None = None, native_id: str | None = None
    ) -> list[BookBatch]:
        """Step the flows ``n`` times (all instruments, or one) and publish.

        The venue's reference time advances by ``n / rate`` seconds.
        """
        out: list[BookBatch] = []
        for book in self.books.values():
            if market is not None and book.market != market:
                continue
            if native_id is not None and book.native_id != native_id:
                continue
            results: list[EngineResult] = []
            t = self._ref_time
            for _ in range(n):
                t += self._step_time
                results.extend(book.flow.step(self.reference.anchor(book.instrument, t)))
            batch = self.publish(book, results)
            if batch is not None:
                out.append(batch)
        self._ref_time += n * self._step_time
        return out

    def move_market(
        self, market: str, native_id: str, pct: Decimal | float | str
    ) -> BookBatch | None:
        """Move one instrument's price by ``pct`` percent (trades through the book)."""
        book = self.book(market, native_id)
        return self.publish(book, book.flow.move(Decimal(str(pct))))

    def add_liquidity(
        self, market: str, native_id: str, side: Side, price: Decimal, qty: Decimal
    ) -> BookBatch | None:
        """Rest a GTC limit order (owner ``"hook"``) on one instrument."""
        order = EngineOrder(
            order_id=f"hook-{next(self._order_ids)}",
            side=side,
            type=OrderType.LIMIT,
            qty=qty,
            price=price,
            time_in_force=TimeInForce.GTC,
            owner="hook",
        )
        return self.submit(market, native_id, order)[1]

    def submit(
        self, market: str, native_id: str, order: EngineOrder
    ) -> tuple[EngineResult, BookBatch | None]:
        """Submit an order to one instrument's engine and publish its result."""
        book = self.book(market, native_id)
        result = book.engine.submit(order)
        return result, self.publish(book, (result,))

    def cancel(
        self, market: str, native_id: str, order_id: str
    ) -> tuple[EngineResult, BookBatch | None]:
        """Cancel a resting order and publish the result."""
        book = self.book(market, native_id)
        result = book.engine.cancel(order_id)
        return result, self.publish(book, (result,))

    def amend(
        self,
        market: str,
        native_id: str,
        order_id: str,
        *,
        qty: Decimal | None = None,
        price: Decimal | None = None,
    ) -> tuple[EngineResult, BookBatch | None]:
        """Amend a resting order and publish the result."""
        book = self.book(market, native_id)
        result = book.engine.amend(order_id, qty=qty, price=price)
        return result, self.publish(book, (result,))

    def statistics(self) -> HubStatistics:
        """A frozen snapshot of the hub's counters."""
        return HubStatistics(
            venue=self.name,
            instruments=len(self.books),
            results=self._results,
            trades=sum(b.ticker().count for b in self.books.values()),
            ticks=self._ticks,
            listeners=len(self._listeners),
            paused=self._paused,
        )

    # ---------------------------------------------------------------- driver

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Step the flows at ``rate`` changes/s per instrument until cancelled.

        Each tick computes how many changes are due since the last (re)start
        and steps each flow until it has produced them, then publishes them as
        one batch per instrument. Ticks keep a fixed cadence (the time spent
        producing a batch is not added to the wait). At most two ticks' worth
        are produced per tick and older debt is forgiven, so a CPU-starved
        process slows the flow down instead of bursting (and overflowing its
        clients).
        """
        task_status.started()
        if self.rate <= 0:
            await trio.sleep_forever()
        # Ticks of at least 5 ms leave the writers time to drain between bursts.
        interval = max(1.0 / self.rate, 0.005)
        max_burst = max(1, int(self.rate * interval * 2))
        books = list(self.books.values())
        reference = self.reference
        while True:
            if self._paused:
                await self._resumed.wait()
            start = trio.current_time()
            deadline = start
            done = 0
            while not self._paused:
                deadline += interval
                await trio.sleep_until(deadline)
                if self.paused:  # pause() may have been called during the sleep
                    break
                now = trio.current_time()
                if now - deadline > interval:
                    deadline = now  # fell behind: no burst of back-to-back ticks
                due = int((now - start) * self.rate) - done
                if due <= 0:
                    continue
                if due > max_burst:
                    done += due - max_burst
                    due = max_burst
                self._ticks += 1
                self._ref_time = max(self._ref_time, reference.clock(now))
                for book in books:
                    results: list[EngineResult] = []
                    produced = 0
                    guard = 0
                    step = book.flow.step
                    anchor = reference.anchor(book.instrument, self._ref_time)
                    while produced < due and guard < due * 4 + 4:
                        guard += 1
                        for result in step(anchor):
                            results.append(result)
                            if result.changes:
                                produced += 1
                    self.publish(book, results)
                done += due
