"""Clock sync per venue: offset of the venue's clock from ours.

Each sample is one server-time request over the venue's warm REST client: we
note our wall clock when the request's bytes go out (``t0``) and when the
answer's headers arrive (``t1``), so a TCP/TLS handshake never lands inside the
round trip; the venue's time is assumed to be read at the midpoint, so
``offset = server - (t0 + t1) / 2``. The estimate is the median offset of the
recent samples with the lowest round trips, which shrugs off a request that sat
in a queue. A timestamp rejection proves the estimate wrong (the venue's clock
stepped, or ours did): :meth:`ClockSync.resync` drops every sample and adopts a
fresh one at once, so that a step is never outvoted by the samples before it.
"""

from __future__ import annotations

import statistics
import time
from collections import deque
from collections.abc import Awaitable, Callable

import attrs
import structlog
import trio

__all__ = ["ClockEstimate", "ClockEstimator", "ClockSample", "ClockSync"]

log = structlog.get_logger(__name__)


@attrs.frozen(kw_only=True)
class ClockSample:
    """One server-time reading: our send time, the venue's time, our receive time (ns)."""

    sent_ns: int
    server_ns: int
    received_ns: int


@attrs.frozen(kw_only=True)
class ClockEstimate:
    """The current estimate: add ``offset_ns`` to our clock to get the venue's."""

    offset_ns: int
    rtt_ns: int
    samples: int


@attrs.define
class ClockEstimator:
    """Pure estimator over the last ``window`` samples (bounded; oldest dropped)."""

    window: int = 9
    _samples: deque[tuple[int, int]] = attrs.field(init=False)
    _estimate: ClockEstimate | None = attrs.field(init=False, default=None)

    def __attrs_post_init__(self) -> None:
        self._samples = deque(maxlen=self.window)

    def add(self, sent_ns: int, server_ns: int, received_ns: int) -> None:
        """Record one request: our send time, the venue's time, our receive time."""
        rtt = max(received_ns - sent_ns, 0)
        self._samples.append((server_ns - (sent_ns + received_ns) // 2, rtt))
        by_rtt = sorted(self._samples, key=lambda s: s[1])
        best = by_rtt[: max(1, (len(by_rtt) + 1) // 2)]
        self._estimate = ClockEstimate(
            offset_ns=int(statistics.median(o for o, _ in best)),
            rtt_ns=int(statistics.median(r for _, r in best)),
            samples=len(self._samples),
        )

    def estimate(self) -> ClockEstimate | None:
        """Median offset of the faster half of the samples; ``None`` before any.

        Worked out when a sample is added: every signature reads it.
        """
        return self._estimate


class ClockSync:
    """Service: keeps a venue's clock offset fresh.

    Takes ``samples`` server-time readings at start, then one every
    ``interval`` seconds. After a venue timestamp error (Binance -1021, Bybit
    10002, OKX 50102) the estimate starts over from a fresh reading:
    :meth:`resync` (awaited, before a request is sent once more) or
    :meth:`request_resync` (in the background).

    Args:
        venue: For logs.
        fetch_sample: Does one server-time request; returns when it went out, the
            venue's time and when the answer came back.
        interval: Seconds between refreshes.
    """

    def __init__(
        self,
        venue: str,
        fetch_sample: Callable[[], Awaitable[ClockSample]],
        *,
        interval: float = 60.0,
        samples: int = 3,
        wall_clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.venue = venue
        self._fetch = fetch_sample
        self._interval = interval
        self._initial = samples
        self._now = wall_clock_ns
        self._estimator = ClockEstimator()
        self._wake = trio.Event()
        self._resynced: trio.Event | None = None
        """Set when the resync under way ends (``None``: none is)."""

    @property
    def estimate(self) -> ClockEstimate | None:
        return self._estimator.estimate()

    def offset_ns(self) -> int:
        """Venue time minus our time (0 until the first sample)."""
        est = self._estimator.estimate()
        return est.offset_ns if est is not None else 0

    def venue_time_ns(self) -> int:
        """Our best guess of the venue's clock now."""
        return self._now() + self.offset_ns()

    def request_resync(self) -> None:
        """Have :meth:`resync` run in the background now (non-blocking)."""
        self._wake.set()

    async def sample(self) -> None:
        """One server-time request, recorded (dropped if a resync ended meanwhile:
        it may have been read before the step)."""
        estimator = self._estimator
        got = await self._fetch()
        estimator.add(got.sent_ns, got.server_ns, got.received_ns)

    async def resync(self) -> None:
        """Start the estimate over: one fresh server-time request replaces every
        sample (those before a clock step would outvote it); returns once it is in.

        A resync already under way is waited for instead of starting another. When
        the request fails the samples are kept as they were.

        Raises:
            ConnectorError: the server-time request failed (not for a waiter).
        """
        if self._resynced is not None:
            await self._resynced.wait()
            return
        self._resynced = done = trio.Event()
        try:
            got = await self._fetch()
            fresh = ClockEstimator(self._estimator.window)
            fresh.add(got.sent_ns, got.server_ns, got.received_ns)
            self._estimator = fresh
        finally:
            self._resynced = None
            done.set()
        log.info("clock.resynced", venue=self.venue, offset_ms=self.offset_ns() / 1e6)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        for _ in range(self._initial):
            await self.sample()
        self._log()
        task_status.started()
        while True:
            with trio.move_on_after(self._interval):
                await self._wake.wait()
            if self._wake.is_set():
                self._wake = trio.Event()
                await self.resync()
            else:
                await self.sample()
                self._log()

    def _log(self) -> None:
        est = self._estimator.estimate()
        if est is not None:
            log.debug(
                "clock.offset",
                venue=self.venue,
                offset_ms=est.offset_ns / 1e6,
                rtt_ms=est.rtt_ns / 1e6,
            )
