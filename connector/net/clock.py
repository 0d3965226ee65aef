"""Clock sync per venue: offset of the venue's clock from ours.

Each sample is one server-time request over the venue's warm REST client: we
note our wall clock when the request's bytes go out (``t0``) and when the
answer's headers arrive (``t1``), so a TCP/TLS handshake never lands inside the
round trip; the venue's time is assumed to be read at the midpoint, so
``offset = server - (t0 + t1) / 2``. The estimate is the median offset of the
recent samples with the lowest round trips, which shrugs off a request that sat
in a queue.
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
    ``interval`` seconds, and at once when :meth:`request_resync` is called
    (after a venue timestamp error: Binance -1021, Bybit 10002, OKX 50102).

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
        """Take a fresh sample now (non-blocking)."""
        self._wake.set()

    async def sample(self) -> None:
        """One server-time request, recorded."""
        got = await self._fetch()
        self._estimator.add(got.sent_ns, got.server_ns, got.received_ns)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        for _ in range(self._initial):
            await self.sample()
        self._log()
        task_status.started()
        while True:
            with trio.move_on_after(self._interval):
                await self._wake.wait()
            self._wake = trio.Event()
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
