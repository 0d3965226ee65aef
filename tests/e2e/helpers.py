"""End-to-end fault harness: the simulator with a fault plan, a Connector, and the truth.

``async with harness("binance", faults=plan) as h:`` starts ``connector.sim.run``
for one venue and one instrument, then a :class:`~connector.Connector` pointed at
it (``endpoint="custom"``, so the Connector starts no simulator of its own).

Two witnesses run alongside:

* :class:`TruthTracker` listens to the simulated venue's hub (a synchronous
  listener, called for every engine change) and keeps the engine's top ``depth``
  levels after each engine update id, for the last ``keep`` ids.
* :class:`BookChecker` follows ``orderbook.{venue}.{symbol}``, rebuilds the book
  from the published updates, and checks every update marked valid against the
  truth: Binance ``u`` and OKX ``seqId`` are the engine's update id, so the check
  is exact; Bybit's ``u`` is per topic, so the valid books must appear in the
  engine's history in order (each one equal to the engine's book at some id no
  earlier than the previous match).

:meth:`Harness.recover` pauses the flow and waits (bounded) until the client's
book is valid and equal to the engine's current book.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from decimal import Decimal

import attrs
import trio
from sortedcontainers import SortedDict

from connector import sim
from connector.book.keeper import KeeperStatistics
from connector.config import Config, VenueConfig
from connector.connector import Connector
from connector.model import BookLevel, BookUpdate, Symbol, SymbolKind
from connector.net.ratelimit import LimiterStatistics
from connector.sim.faults import FaultKind, FaultPlan
from connector.sim.hub import BookBatch, SimVenue
from connector.sim.instruments import SimInstrument, default_instruments
from connector.venues.session import VenueStatistics

__all__ = [
    "BookChecker",
    "Harness",
    "TruthTracker",
    "check_malformed_frames_are_survived",
    "fault_then_recover",
    "harness",
    "malformed_plan",
    "sim_instrument",
]

Top = tuple[tuple[tuple[Decimal, Decimal], ...], tuple[tuple[Decimal, Decimal], ...]]

DEPTH = 10
"""Levels per side compared with the engine."""

TEST_SECONDS = 40.0
"""Hard bound on one test's whole run."""

RECOVERY_SECONDS = 10.0
"""Bound on recovery after a fault window (generous: the machine is shared)."""

#: Venues whose book ``seq`` is the engine's update id (exact truth lookup).
EXACT_SEQ = frozenset({"binance", "okx"})


def sim_instrument(venue: str, symbol: Symbol) -> SimInstrument:
    """The simulator's instrument behind a canonical symbol on ``venue``."""
    spot = symbol.kind is SymbolKind.SPOT
    for inst in default_instruments((venue,), (symbol.base,)):
        if inst.quote == symbol.quote and (inst.market == "spot") == spot:
            return inst
    raise LookupError(f"the simulator lists no {symbol} on {venue}")


class TruthTracker:
    """The engine's top ``depth`` levels after each update id of one instrument.

    Keeps the last ``keep`` update ids (older ones are forgotten, FIFO). Attach
    it before the engine moves (right after ``sim.run`` yields, with no
    checkpoint in between), so that it sees every change.
    """

    def __init__(
        self, hub: SimVenue, market: str, native_id: str, *, depth: int = DEPTH, keep: int = 50_000
    ) -> None:
        self.depth = depth
        self._market = market
        self._native_id = native_id
        book = hub.book(market, native_id)
        bids, asks = book.engine.depth(None)
        self._bids: SortedDict[Decimal, Decimal] = SortedDict({lv.price: lv.qty for lv in bids})
        self._asks: SortedDict[Decimal, Decimal] = SortedDict({lv.price: lv.qty for lv in asks})
        self._history: dict[int, Top] = {}
        self._order: deque[int] = deque()
        self._keep = keep
        self.current_id = book.update_id
        self.noncontiguous = 0
        self._record(self.current_id)
        self._unlisten = hub.listen(self._on_batch)

    def close(self) -> None:
        self._unlisten()

    def at(self, update_id: int) -> Top | None:
        """The top levels after ``update_id`` (None when unknown or forgotten)."""
        return self._history.get(update_id)

    def current(self) -> Top:
        top = self._history[self.current_id]
        return top

    def first_match(self, top: Top, start: int) -> int | None:
        """The first update id ``>= start`` whose top levels equal ``top``."""
        for uid in self._order:
            if uid >= start and self._history[uid] == top:
                return uid
        return None

    def _on_batch(self, batch: BookBatch) -> None:
        if batch.market != self._market or batch.native_id != self._native_id:
            return
        for result in batch.results:
            if not result.changes:
                continue
            for side, price, qty in result.changes:
                levels = self._bids if side.value == "buy" else self._asks
                if qty:
                    levels[price] = qty
                else:
                    levels.pop(price, None)
            if result.update_id != self.current_id + 1:
                self.noncontiguous += 1
            self.current_id = result.update_id
            self._record(result.update_id)

    def _record(self, update_id: int) -> None:
        n = self.depth
        bid_keys = self._bids.keys()
        ask_keys = self._asks.keys()
        bids = tuple((p, self._bids[p]) for p in reversed(bid_keys[-n:])) if n else ()
        asks = tuple((p, self._asks[p]) for p in ask_keys[:n])
        self._history[update_id] = (bids, asks)
        self._order.append(update_id)
        while len(self._order) > self._keep:
            del self._history[self._order.popleft()]


def top_of(bids: Mapping[Decimal, Decimal], asks: Mapping[Decimal, Decimal], depth: int) -> Top:
    """The best ``depth`` levels of two price -> qty maps."""
    b = sorted(bids.items(), reverse=True)[:depth]
    a = sorted(asks.items())[:depth]
    return tuple(b), tuple(a)


def levels(view_levels: list[BookLevel]) -> tuple[tuple[Decimal, Decimal], ...]:
    return tuple((lv.price, lv.qty) for lv in view_levels)


@attrs.define
class Violation:
    """A valid update that did not match the engine."""

    seq: int
    reason: str
    client: Top
    truth: Top | None


class BookChecker:
    """Rebuilds a book from its ``orderbook`` updates and checks every valid one.

    Counters: ``valid_updates`` (updates marked valid), ``checked`` (those
    compared with the truth), ``invalidations`` (changes into ``invalid``),
    ``states`` (every state change, in order), ``reasons`` (why it went
    invalid, in order), ``violations``.
    """

    def __init__(self, venue: str, truth: TruthTracker, *, depth: int = DEPTH) -> None:
        self.venue = venue
        self.truth = truth
        self.depth = depth
        self.exact = venue in EXACT_SEQ
        self._bids: dict[Decimal, Decimal] = {}
        self._asks: dict[Decimal, Decimal] = {}
        self.valid = False
        self.last_seq = 0
        self.last_match = -1
        self.valid_updates = 0
        self.checked = 0
        self.invalidations = 0
        self.states: list[str] = []
        self.reasons: list[str] = []
        self.violations: list[Violation] = []
        self.updates = 0
        self._changed = trio.Event()

    def top(self) -> Top:
        return top_of(self._bids, self._asks, self.depth)

    def on_update(self, update: BookUpdate) -> None:
        self.updates += 1
        status = update.state.status.value
        if not self.states or self.states[-1] != status:
            self.states.append(status)
            if status == "invalid":
                self.invalidations += 1
                self.reasons.append(update.state.reason or "")
        if not update.state.valid:
            self.valid = False
            self._bids.clear()
            self._asks.clear()
        else:
            self.valid_updates += 1
            if update.snapshot:
                self._bids.clear()
                self._asks.clear()
            for side, changes in ((self._bids, update.bids), (self._asks, update.asks)):
                for lv in changes:
                    if lv.qty:
                        side[lv.price] = lv.qty
                    else:
                        side.pop(lv.price, None)
            self.valid = True
            self.last_seq = update.seq
            self._check(update)
        self._changed.set()
        self._changed = trio.Event()

    def _check(self, update: BookUpdate) -> None:
        client = self.top()
        best_bid = client[0][0] if client[0] else None
        best_ask = client[1][0] if client[1] else None
        published = (
            (update.best_bid.price, update.best_bid.qty) if update.best_bid else None,
            (update.best_ask.price, update.best_ask.qty) if update.best_ask else None,
        )
        if published != (best_bid, best_ask):
            self._violate(update, "published best bid/ask differ from the book", client, None)
            return
        if self.exact:
            truth = self.truth.at(update.seq)
            if truth is None:
                self._violate(update, "no engine book at this update id", client, None)
            elif truth != client:
                self._violate(update, "valid book differs from the engine", client, truth)
            else:
                self.checked += 1
                self.last_match = update.seq
            return
        start = max(self.last_match, 0)
        found = self.truth.first_match(client, start)
        if found is None:
            self._violate(
                update,
                f"valid book matches no engine book at or after update id {start}",
                client,
                self.truth.at(start),
            )
            return
        self.last_match = found
        self.checked += 1

    def _violate(self, update: BookUpdate, reason: str, client: Top, truth: Top | None) -> None:
        self.violations.append(Violation(seq=update.seq, reason=reason, client=client, truth=truth))

    def converged(self) -> bool:
        """Valid and equal to the engine's current book (and, where exact, at its id)."""
        if not self.valid:
            return False
        if self.exact and self.last_seq != self.truth.current_id:
            return False
        return self.top() == self.truth.current()

    async def wait_until(self, predicate: Callable[[], bool], *, recheck: float = 0.1) -> None:
        """Return once ``predicate()`` holds; re-checked after every update.

        Conditions on the simulator side (its fault log) change without an
        update, so the predicate is also re-checked every ``recheck`` seconds.
        Bound the wait with ``trio.fail_after``.
        """
        while not predicate():
            with trio.move_on_after(recheck):
                await self._changed.wait()


@attrs.define
class Harness:
    """What ``harness()`` yields."""

    venue: str
    symbol: Symbol
    instrument: SimInstrument
    sim: sim.SimRun
    hub: SimVenue
    connector: Connector
    truth: TruthTracker
    checker: BookChecker

    def statistics(self) -> VenueStatistics:
        """The venue's counters, as the facade reports them."""
        return self.connector.statistics().venues[self.venue]

    def book(self) -> KeeperStatistics:
        """The client's counters and state of the followed book."""
        return self.statistics().books[self.symbol]

    def clock_offset_ns(self) -> int:
        """The client's estimate of the venue clock's offset."""
        clock = self.statistics().clock
        assert clock is not None, "no clock sample yet"
        return clock.offset_ns

    def limiter(self) -> LimiterStatistics:
        """The REST limiter of the one host the followed symbol's market uses."""
        (limiter,) = self.statistics().limiters.values()
        return limiter

    def connects(self) -> int:
        """Websocket connections made so far, over all shards."""
        return sum(c.connects for c in self.statistics().connections)

    def faults(self, kind: FaultKind) -> int:
        """How many faults of ``kind`` the simulator injected so far."""
        return sum(1 for f in self.sim.fault_log if f.kind is kind)

    async def wait_faults(self, kind: FaultKind, count: int) -> None:
        """Wait until ``count`` faults of ``kind`` were injected (bound it yourself)."""
        await self.checker.wait_until(lambda: self.faults(kind) >= count)

    async def wait_valid_updates(self, count: int) -> None:
        """Wait until ``count`` more valid updates arrived."""
        target = self.checker.valid_updates + count
        await self.checker.wait_until(lambda: self.checker.valid_updates >= target)

    async def recover(self, bound: float = RECOVERY_SECONDS) -> float:
        """Wait for the client's book to equal the engine's again; the seconds taken.

        A lost last message is only noticed when the next one comes, so the flow
        runs on until a valid update shows an engine state newer than now; then
        the flow is paused and the book must equal the engine's current book
        (which the live view ``Connector.order_book`` must show too).
        """
        started = trio.current_time()
        mark = self.truth.current_id
        checker = self.checker
        with trio.fail_after(bound):
            await checker.wait_until(lambda: checker.valid and checker.last_match > mark)
            self.hub.pause()
            await checker.wait_until(checker.converged)
        view = self.connector.order_book(self.venue, self.symbol)
        bids, asks = self.sim.engine_book(
            self.venue, self.instrument.market, self.instrument.native_id, DEPTH
        )
        assert view.valid
        assert (levels(list(bids)), levels(list(asks))) == (
            levels(view.bids(DEPTH)),
            levels(view.asks(DEPTH)),
        )
        return trio.current_time() - started

    def assert_never_wrong(self) -> None:
        """Every valid update matched the engine, and the checker saw them all."""
        assert [] == self.checker.violations
        assert self.checker.checked == self.checker.valid_updates
        assert self.checker.checked > 0


@asynccontextmanager
async def harness(
    venue: str,
    *,
    symbol: str = "BTC-USDT-SPOT",
    faults: FaultPlan | None = None,
    seed: int = 1,
    rate: float = 50.0,
    okx_checksum: bool = False,
    settings: Mapping[str, Mapping[str, object]] | None = None,
    stale_after: float = 30.0,
    wait_valid: bool = True,
) -> AsyncIterator[Harness]:
    """The simulator (one venue, one instrument) with ``faults``, and a Connector on it.

    Yields once the client's book was valid at least once (``wait_valid``).
    """
    sym = Symbol.parse(symbol)
    inst = sim_instrument(venue, sym)
    with trio.fail_after(TEST_SECONDS):
        async with _running(
            venue, sym, inst, faults, seed, rate, okx_checksum, settings, stale_after, wait_valid
        ) as h:
            yield h


@asynccontextmanager
async def _running(
    venue: str,
    sym: Symbol,
    inst: SimInstrument,
    faults: FaultPlan | None,
    seed: int,
    rate: float,
    okx_checksum: bool,
    settings: Mapping[str, Mapping[str, object]] | None,
    stale_after: float,
    wait_valid: bool,
) -> AsyncIterator[Harness]:
    async with (
        sim.run(
            venues=(venue,),
            seed=seed,
            faults=faults,
            rate=rate,
            instruments=[inst],
            okx_checksum=okx_checksum,
            settings=settings,
        ) as running,
        trio.open_nursery() as nursery,
    ):
        hub = running.venue(venue)
        truth = TruthTracker(hub, inst.market, inst.native_id)
        checker = BookChecker(venue, truth)
        config = Config(
            venues={
                venue: VenueConfig(
                    name=venue,
                    endpoint="custom",
                    urls=running.urls[venue],
                    symbols=(sym,),
                    channels=("book",),
                )
            }
        )
        connector = Connector(config, stale_after=stale_after, stop_timeout=5.0)
        sub = connector.subscribe(f"orderbook.{venue}.>", buffer=1_000_000)

        async def follow() -> None:
            async for update in sub:
                assert isinstance(update, BookUpdate)
                checker.on_update(update)

        nursery.start_soon(follow)
        try:
            async with connector:
                h = Harness(
                    venue=venue,
                    symbol=sym,
                    instrument=inst,
                    sim=running,
                    hub=hub,
                    connector=connector,
                    truth=truth,
                    checker=checker,
                )
                if wait_valid:
                    with trio.fail_after(RECOVERY_SECONDS):
                        await checker.wait_until(lambda: checker.valid_updates > 0)
                yield h
            assert 0 == sub.statistics().dropped
        finally:
            truth.close()
            nursery.cancel_scope.cancel()


async def fault_then_recover(h: Harness, kind: FaultKind, count: int) -> float:
    """Wait for ``count`` injected faults of ``kind``, then for recovery; the recovery time.

    Also checks that no valid update was wrong.
    """
    with trio.fail_after(RECOVERY_SECONDS):
        await h.wait_faults(kind, count)
    took = await h.recover()
    h.assert_never_wrong()
    return took


SWAPS_AFTER_FRAMES = 30
"""Frames a connection sends before the swaps of :func:`swapped_frames_plan` start: the
book is valid long before (a running stream, not the frames around its first snapshot)."""


def swapped_frames_plan(venue: str, stream: str, swaps: int) -> FaultPlan:
    """``swaps`` pairs of book frames swapped in a running stream (every other frame)."""
    return FaultPlan(seed=4).reorder(
        1.0, venue=venue, stream=stream, max_count=swaps, after_frames=SWAPS_AFTER_FRAMES
    )


async def check_swapped_frames_are_held_without_a_resync(h: Harness, swaps: int) -> None:
    """Each swap of :func:`swapped_frames_plan` is held and filled within the reorder
    window: the book never left ``valid``, fetched no snapshot, and was never wrong."""
    before = h.book()
    await fault_then_recover(h, FaultKind.REORDER, swaps)
    after = h.book()
    assert 0 == h.checker.invalidations
    assert (before.snapshots_applied, before.resyncs) == (after.snapshots_applied, after.resyncs)
    assert (0, swaps, swaps) == (after.gaps, after.held, after.gaps_filled)


def lost_then_silent_plan(venue: str, stream: str) -> FaultPlan:
    """One book frame lost in a running stream, the next one sent, then every frame of
    the connection dropped for longer than the test waits (``stall``)."""
    lost = SWAPS_AFTER_FRAMES
    return (
        FaultPlan(seed=9)
        .drop(1.0, venue=venue, stream=stream, max_count=1, after_frames=lost)
        .stall(TEST_SECONDS, after_frames=lost + 2, venue=venue, stream=stream, max_count=1)
    )


async def check_a_gap_before_a_silence_still_resyncs(h: Harness) -> None:
    """With :func:`lost_then_silent_plan` the frame after the lost one is held, and no
    frame comes to end its reorder window: the window ends all the same and the book
    resyncs, naming the gap."""
    with trio.fail_after(RECOVERY_SECONDS):
        await h.checker.wait_until(lambda: h.checker.invalidations >= 1)
    assert h.checker.reasons[0].startswith("gap")
    book = h.book()
    assert (1, 1, 0) == (book.held, book.gaps, book.gaps_filled)
    assert [] == h.checker.violations


async def stale_then_replaced(h: Harness) -> None:
    """A stream stalled for longer than two staleness windows: the watchdog catches the
    silence first (the socket stays open), the book is resynced, and the stream, still
    silent a window after that resync, gets a new socket; then the book is the venue's
    again and was never wrong."""
    with trio.fail_after(RECOVERY_SECONDS):
        await h.checker.wait_until(lambda: any("stale" in r for r in h.checker.reasons))
        await h.wait_faults(FaultKind.STALL, 1)
    assert 1 == h.connects()
    with trio.fail_after(RECOVERY_SECONDS):
        await h.checker.wait_until(lambda: h.connects() >= 2)
    await h.recover()
    h.assert_never_wrong()
    assert 2 == h.connects()


async def replaced_before_the_close(h: Harness, notice: str) -> None:
    """The venue announced a close ``server_shutdown`` seconds ahead (far more than
    the bound here): the session connects again now, the book is the venue's again
    long before the close, and the reconnect names the notice."""
    with trio.fail_after(RECOVERY_SECONDS):
        await h.wait_faults(FaultKind.SERVER_SHUTDOWN, 1)
        await h.checker.wait_until(lambda: h.connects() >= 2)
    await h.recover()
    h.assert_never_wrong()
    assert 2 == h.connects()
    assert any(f"venue closing the connection: {notice}" in r for r in h.checker.reasons)


MALFORMED_VARIANTS = ("truncated", "extra_field", "wrong_type")


def malformed_plan(seed: int, venue: str, stream: str) -> FaultPlan:
    """One malformed frame of each variant on ``stream`` (each rule fires once)."""
    plan = FaultPlan(seed=seed)
    for variant in MALFORMED_VARIANTS:
        plan = plan.malformed(
            0.3,
            variant=variant,  # type: ignore[arg-type]
            venue=venue,
            stream=stream,
            max_count=1,
        )
    return plan


def unreadable_frames(h: Harness) -> int:
    """Frames the simulator made unreadable: truncated or retyped (distinct frames)."""
    frames = {
        (f.conn_id, f.detail.split()[0])
        for f in h.sim.fault_log
        if f.kind is FaultKind.MALFORMED and "extra_field" not in f.detail
    }
    return len(frames)


def outage_plan(venue: str) -> FaultPlan:
    """The socket dropped once the book is valid, then its next two handshakes refused:
    the reconnect takes several attempts, each of which fails (and closes) again. (Two
    refusals by count, not a window of time: a loaded machine's backoff may try only
    once in a short window.)"""
    return (
        FaultPlan(seed=12)
        .disconnect(at=(1.0,), venue=venue)
        .refuse_connections(30.0, start=1.0, venue=venue, max_count=2)
    )


async def check_an_outage_of_several_attempts_is_recovered(h: Harness) -> None:
    """The book resyncs once the socket is back, however many attempts that took."""
    with trio.fail_after(RECOVERY_SECONDS):
        await h.wait_faults(FaultKind.REFUSE, 2)
    await h.recover()
    h.assert_never_wrong()
    assert 2 == h.connects()


async def check_malformed_frames_are_survived(h: Harness) -> None:
    """The three variants were injected, the socket never dropped, bad frames were counted."""
    await fault_then_recover(h, FaultKind.MALFORMED, len(MALFORMED_VARIANTS))
    assert 1 == h.connects()
    assert unreadable_frames(h) == h.statistics().feed.malformed
