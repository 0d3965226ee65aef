"""Supervisors: Erlang-style restart policies on top of trio nurseries.

A :class:`Supervisor` runs its children, each a :class:`Service`, in a nursery
of its own, every child inside its own cancel scope. When a child ends, the
child's :class:`Restart` type decides whether it comes back and the
supervisor's :class:`Strategy` decides which siblings come back with it. More
than ``intensity`` restarts within ``period`` seconds make the supervisor give
up: it stops its children and raises :class:`~connector.errors.SupervisorGaveUp`,
which its own parent counts as a failure of that child (escalation)::

    root = Supervisor("root", [
        ChildSpec("health", health, restart=Restart.PERMANENT),
        ChildSpec("venue:okx", Supervisor("venue:okx", [...], intensity=10, period=60)),
    ])
    async with trio.open_nursery() as nursery:
        await nursery.start(root.run)   # returns once every child is ready
        ...
        nursery.cancel_scope.cancel()   # stops the whole tree; no task is left behind
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Sequence
from typing import Protocol

import attrs
import structlog
import trio

from connector.errors import SupervisorGaveUp
from connector.supervision.backoff import Backoff
from connector.supervision.snapshot import (
    ChildSnapshot,
    ChildState,
    Restart,
    Strategy,
    SupervisorSnapshot,
    describe_error,
)

__all__ = ["ChildSpec", "Service", "Supervisor"]

log = structlog.get_logger(__name__)

_LIVE = (ChildState.STARTING, ChildState.RUNNING, ChildState.RESTARTING)


class Service(Protocol):
    """Anything a supervisor can run: a long-lived task that reports when it is ready.

    ``run`` calls ``task_status.started()`` exactly once, when it is ready to be
    used, then runs until cancelled (or returns, or raises). A supervisor calls
    ``run`` again on the same object for every restart.
    """

    async def run(self, *, task_status: trio.TaskStatus[None] = ...) -> None:
        """Run until cancelled; call ``task_status.started()`` once ready."""
        ...


@attrs.frozen
class ChildSpec:
    """How a supervisor runs one child.

    Args:
        name: Unique among its siblings; shown in snapshots and logs.
        service: Its ``run`` is called at the first start and again on each restart.
        restart: When the child is restarted after it ends.
        shutdown_timeout: Seconds a stopped child may take to finish after being
            cancelled before ``supervisor.child_slow_to_stop`` is logged (the
            supervisor still waits for it: trio cannot abandon a task).
        backoff: Delay policy before restarts of this child; ``None`` uses the
            supervisor's.
    """

    name: str
    service: Service
    restart: Restart = attrs.field(default=Restart.PERMANENT, kw_only=True, converter=Restart)
    shutdown_timeout: float = attrs.field(default=5.0, kw_only=True)
    backoff: Backoff | None = attrs.field(default=None, kw_only=True)


@attrs.frozen
class _Exit:
    """How one run of a child ended: ``error`` is ``None`` for a clean return."""

    generation: int
    error: Exception | None


@attrs.define(eq=False)
class _Child:
    """A supervisor's mutable record of one child (owned by the supervisor)."""

    spec: ChildSpec
    index: int
    state: ChildState = ChildState.STOPPED
    restarts: int = 0
    last_error: str | None = None
    # Per run of the supervisor:
    attempts: int = 0
    consecutive: int = 0
    # Per run of the child (one "generation"):
    generation: int = 0
    scope: trio.CancelScope | None = None
    finished: trio.Event | None = None
    stopping: bool = False
    started_at: float | None = None
    pending: _Exit | None = None


class _ChildStatus(trio.TaskStatus[None]):
    """The ``task_status`` a child sees: records readiness, then tells the supervisor."""

    def __init__(self, child: _Child, outer: trio.TaskStatus[_Exit | None]) -> None:
        self._child = child
        self._outer = outer
        self.is_started = False

    def started(self, value: None = None) -> None:
        if self.is_started:
            raise RuntimeError("called 'started' twice on the same task status")
        self.is_started = True
        self._child.state = ChildState.RUNNING
        self._child.started_at = trio.current_time()
        self._outer.started(None)


class Supervisor:
    """Runs child services and restarts them by policy; itself a :class:`Service`.

    Children start one after another, in the given order, each with
    ``nursery.start``; ``run`` reports started only when all of them have. A
    child that raises or returns before it is ready counts as ended (and is
    restarted per policy) just like one that ends later.

    Intensity: a restart at time ``t`` is refused, and the supervisor gives up,
    when ``intensity`` restarts already happened in the window ``(t - period, t]``
    (trio clock). A group restart (all_for_one, rest_for_one) counts as one.
    Giving up stops every child in reverse start order and raises
    :class:`~connector.errors.SupervisorGaveUp` out of ``run``; if that happens
    before ``run`` reported started, it propagates out of the caller's
    ``nursery.start``.

    Cancelling the scope around ``run`` stops every child; nothing is left running.
    Each ``run`` starts with a fresh restart window and backoff counts; restart
    totals and last errors in :meth:`snapshot` accumulate over runs.

    Args:
        name: Shown in snapshots, logs and ``SupervisorGaveUp``.
        children: Unique names; started in this order.
        strategy: Which children restart when one ends.
        intensity: Restarts allowed within ``period``.
        period: Length of the sliding window, in seconds.
        backoff: Delay before restarts of children whose spec has none;
            ``None`` restarts immediately.
        rng: Source of backoff jitter (seed it in tests); defaults to a fresh
            ``random.Random()``.

    Raises:
        ValueError: For duplicate child names, negative intensity or a period <= 0.
    """

    def __init__(
        self,
        name: str,
        children: Sequence[ChildSpec],
        *,
        strategy: Strategy = Strategy.ONE_FOR_ONE,
        intensity: int = 5,
        period: float = 10.0,
        backoff: Backoff | None = None,
        rng: random.Random | None = None,
    ) -> None:
        names = [spec.name for spec in children]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"supervisor {name!r}: duplicate child names {duplicates}")
        if intensity < 0:
            raise ValueError(f"supervisor {name!r}: intensity must be >= 0, got {intensity}")
        if period <= 0:
            raise ValueError(f"supervisor {name!r}: period must be > 0, got {period}")
        self.name = name
        self.strategy = Strategy(strategy)
        self.intensity = intensity
        self.period = period
        self.backoff = backoff
        self._rng = rng if rng is not None else random.Random()
        self._children = [_Child(spec, i) for i, spec in enumerate(children)]
        self._state = ChildState.STOPPED
        self._last_error: str | None = None
        self._runs = 0
        self._running = False
        # At most intensity + 1 entries: older ones leave before a new one is added.
        self._window: deque[float] = deque()
        self._nursery: trio.Nursery | None = None
        self._wake = trio.Event()

    @property
    def state(self) -> ChildState:
        """The supervisor's own state."""
        return self._state

    def snapshot(self) -> SupervisorSnapshot:
        """A frozen view of this supervisor and its whole subtree.

        A child whose service is a supervisor appears as that supervisor's own
        snapshot (its state and children) under the child's name, with the
        restart count and last error this supervisor recorded for it.
        """
        nodes: list[ChildSnapshot | SupervisorSnapshot] = []
        for child in self._children:
            service = child.spec.service
            if isinstance(service, Supervisor):
                nodes.append(
                    attrs.evolve(
                        service.snapshot(),
                        name=child.spec.name,
                        restarts=child.restarts,
                        last_error=child.last_error,
                    )
                )
            else:
                nodes.append(
                    ChildSnapshot(
                        name=child.spec.name,
                        state=child.state,
                        restarts=child.restarts,
                        last_error=child.last_error,
                        restart=child.spec.restart,
                    )
                )
        return SupervisorSnapshot(
            name=self.name,
            strategy=self.strategy,
            state=self._state,
            restarts=max(0, self._runs - 1),
            last_error=self._last_error,
            children=tuple(nodes),
        )

    def statistics(self) -> SupervisorSnapshot:
        """Same as :meth:`snapshot` (the name every stateful part offers)."""
        return self.snapshot()

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Start the children, report started, then supervise until cancelled.

        Raises:
            SupervisorGaveUp: When restart intensity is exceeded.
            RuntimeError: When this supervisor is already running.
        """
        if self._running:
            raise RuntimeError(f"supervisor {self.name!r} is already running")
        self._running = True
        self._runs += 1
        self._window.clear()
        for child in self._children:
            child.attempts = 0
            child.consecutive = 0
            child.pending = None
            child.state = ChildState.STOPPED
        self._state = ChildState.STARTING
        self._wake = trio.Event()
        gave_up: SupervisorGaveUp | None = None
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                try:
                    await self._start_in_order(self._children)
                    self._state = ChildState.RUNNING
                    task_status.started()
                    await self._supervise()
                except SupervisorGaveUp as error:
                    # Only _count_restart raises it here: a child's own errors (a
                    # nested supervisor's SupervisorGaveUp too) end in _run_child.
                    gave_up = error
                    await self._stop(self._children)
                    nursery.cancel_scope.cancel()
        finally:
            self._running = False
            self._nursery = None
            for child in self._children:
                if child.state in _LIVE:
                    child.state = ChildState.STOPPED
            self._state = ChildState.STOPPED if gave_up is None else ChildState.GAVE_UP
        if gave_up is not None:
            # Raised outside the nursery so the parent sees it bare, not in a group.
            raise gave_up

    async def _supervise(self) -> None:
        while True:
            child = next((c for c in self._children if c.pending is not None), None)
            if child is None:
                self._wake = trio.Event()
                await self._wake.wait()
                continue
            ended, child.pending = child.pending, None
            assert ended is not None
            if ended.generation != child.generation:
                continue
            await self._start_in_order(await self._recover(child, ended.error))

    async def _start_in_order(self, children: Sequence[_Child]) -> None:
        queue = sorted(children, key=_index)
        while queue:
            child = queue.pop(0)
            ended = await self._start_one(child)
            if ended is None:
                continue
            again = await self._recover(child, ended.error)
            queued = {c.index for c in queue}
            queue = sorted(queue + [c for c in again if c.index not in queued], key=_index)

    async def _start_one(self, child: _Child) -> _Exit | None:
        """Start one run of ``child``; ``None`` once it is ready, else how it ended."""
        assert self._nursery is not None
        child.generation += 1
        child.stopping = False
        child.pending = None
        child.started_at = None
        child.finished = trio.Event()
        child.state = ChildState.STARTING
        if child.attempts > 0:
            child.restarts += 1
            log.info(
                "supervisor.child_restarted",
                name=self.name,
                child=child.spec.name,
                restarts=child.restarts,
            )
        child.attempts += 1
        ended: _Exit | None = await self._nursery.start(self._run_child, child, child.generation)
        return ended

    async def _run_child(
        self, child: _Child, generation: int, *, task_status: trio.TaskStatus[_Exit | None]
    ) -> None:
        status = _ChildStatus(child, task_status)
        finished = child.finished
        assert finished is not None
        error: Exception | None = None
        try:
            with trio.CancelScope() as scope:
                child.scope = scope
                try:
                    await child.spec.service.run(task_status=status)
                except Exception as exc:
                    # A failure of a child (including an ExceptionGroup from its own
                    # nursery) is handed to the policy; Cancelled and other
                    # BaseExceptions propagate untouched.
                    error = exc
        finally:
            finished.set()
        ended = _Exit(generation, error)
        if not status.is_started:
            task_status.started(ended)
        elif child.stopping:
            if error is not None:
                log.warning(
                    "supervisor.child_error_on_stop",
                    name=self.name,
                    child=child.spec.name,
                    error=describe_error(error),
                )
        else:
            child.pending = ended
            self._wake.set()

    async def _recover(self, child: _Child, error: Exception | None) -> list[_Child]:
        """Apply the policy to a child that ended; returns who to start, in order.

        Stops the affected siblings and sleeps the backoff before returning.

        Raises:
            SupervisorGaveUp: When this restart would exceed the intensity.
        """
        if error is not None:
            child.last_error = describe_error(error)
            log.warning(
                "supervisor.child_failed",
                name=self.name,
                child=child.spec.name,
                error=child.last_error,
            )
        else:
            log.info("supervisor.child_exited", name=self.name, child=child.spec.name)
        restart = child.spec.restart
        if restart is Restart.TEMPORARY or (restart is Restart.TRANSIENT and error is None):
            child.state = ChildState.STOPPED if error is None else ChildState.FAILED
            return []
        child.state = ChildState.RESTARTING
        self._count_restart(child)
        if self.strategy is Strategy.ONE_FOR_ONE:
            affected = [child]
        elif self.strategy is Strategy.ALL_FOR_ONE:
            affected = list(self._children)
        else:
            affected = self._children[child.index :]
        siblings = [c for c in affected if c is not child]
        await self._stop(siblings)
        for sibling in siblings:
            if sibling.spec.restart is not Restart.TEMPORARY:
                sibling.state = ChildState.RESTARTING
            elif sibling.state in _LIVE:
                sibling.state = ChildState.STOPPED
        delay = self._backoff_delay(child)
        if delay > 0:
            await trio.sleep(delay)
        return [c for c in affected if c is child or c.spec.restart is not Restart.TEMPORARY]

    def _count_restart(self, child: _Child) -> None:
        now = trio.current_time()
        while self._window and now - self._window[0] >= self.period:
            self._window.popleft()
        if len(self._window) >= self.intensity:
            reason = child.last_error or f"{child.spec.name} exited"
            error = SupervisorGaveUp(self.name, len(self._window), self.period, reason)
            self._last_error = describe_error(error)
            log.error(
                "supervisor.gave_up",
                name=self.name,
                child=child.spec.name,
                error=reason,
                restarts=len(self._window),
                period=self.period,
            )
            raise error
        self._window.append(now)

    def _backoff_delay(self, child: _Child) -> float:
        backoff = child.spec.backoff or self.backoff
        if backoff is None:
            return 0.0
        started_at = child.started_at
        if started_at is not None and trio.current_time() - started_at >= backoff.reset_uptime:
            child.consecutive = 0
        child.consecutive += 1
        return backoff.delay(child.consecutive, self._rng)

    async def _stop(self, children: Sequence[_Child]) -> None:
        """Cancel the live ones among ``children``, last started first, and wait for each."""
        for child in sorted(children, key=_index, reverse=True):
            finished = child.finished
            if finished is not None and not finished.is_set() and child.scope is not None:
                child.stopping = True
                child.scope.cancel()
                with trio.move_on_after(child.spec.shutdown_timeout):
                    await finished.wait()
                if not finished.is_set():
                    log.warning(
                        "supervisor.child_slow_to_stop",
                        name=self.name,
                        child=child.spec.name,
                        timeout=child.spec.shutdown_timeout,
                    )
                    await finished.wait()
            # An end reported before we stopped it is superseded by this stop.
            child.pending = None


def _index(child: _Child) -> int:
    return child.index
