"""Scripted services for supervision tests: each run follows the next step."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import attrs
import trio

from connector.supervision import Supervisor


@attrs.frozen
class Step:
    """One run of a scripted service.

    Args:
        lifetime: Seconds from ready to the end; ``None`` runs until cancelled.
        fail: End by raising ``ValueError("boom")`` instead of returning.
        before_start: End before calling ``task_status.started()``.
        start_delay: Seconds spent getting ready.
    """

    lifetime: float | None = None
    fail: bool = True
    before_start: bool = False
    start_delay: float = 0.0


FOREVER = Step()


@attrs.define(eq=False)
class Journal:
    """What every scripted service did, in order: ``(time, name, event)``."""

    entries: list[tuple[float, str, str]] = attrs.field(factory=list)

    def add(self, name: str, event: str) -> None:
        self.entries.append((trio.current_time(), name, event))

    def events(self) -> list[str]:
        return [f"{name}:{event}" for _, name, event in self.entries]

    def times(self, name: str, event: str) -> list[float]:
        return [t for t, n, e in self.entries if n == name and e == event]


@attrs.define(eq=False)
class Scripted:
    """A service whose n-th run follows ``script[n]``; later runs last forever."""

    name: str
    journal: Journal
    script: list[Step] = attrs.field(factory=list)
    runs: int = 0

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        step = self.script[self.runs] if self.runs < len(self.script) else FOREVER
        self.runs += 1
        self.journal.add(self.name, "start")
        try:
            await trio.sleep(step.start_delay)
            if not step.before_start:
                task_status.started()
                self.journal.add(self.name, "ready")
                if step.lifetime is None:
                    await trio.sleep_forever()
                await trio.sleep(step.lifetime)
        except trio.Cancelled:
            self.journal.add(self.name, "cancelled")
            raise
        if step.fail:
            self.journal.add(self.name, "fail")
            raise ValueError("boom")
        self.journal.add(self.name, "return")


@asynccontextmanager
async def running(sup: Supervisor, *, for_seconds: float | None = None) -> AsyncIterator[None]:
    """Run ``sup`` while the block runs (its body sees the live tree); cancel it after.

    Args:
        sup: The supervisor, started with ``nursery.start`` (so it is ready).
        for_seconds: Sleep this long (autojump clock) before entering the block.
    """
    async with trio.open_nursery() as nursery:
        await nursery.start(sup.run)
        if for_seconds is not None:
            await trio.sleep(for_seconds)
        yield
        nursery.cancel_scope.cancel()
