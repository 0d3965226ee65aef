"""Fixed-bucket latency histograms: cheap to record on a hot path, pure.

A :class:`Histogram` counts nanosecond durations into fixed buckets
(:data:`BUCKETS_NS`, 50 µs to 5 s, and +Inf). Recording is a bisection of a
tuple and three integer updates: no allocation beyond the integers, no lock (one
trio thread records), no await. :meth:`Histogram.snapshot` gives the frozen
cumulative view the Prometheus exposition renders (``_bucket{le=...}``, ``_sum``,
``_count``).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping
from itertools import pairwise

import attrs

__all__ = ["BUCKETS_NS", "Histogram", "HistogramSnapshot", "LatencyStatistics"]

BUCKETS_NS: tuple[int, ...] = tuple(
    int(us * 1_000)
    for us in (
        50,
        100,
        250,
        500,
        1_000,
        2_500,
        5_000,
        10_000,
        25_000,
        50_000,
        100_000,
        250_000,
        500_000,
        1_000_000,
        2_500_000,
        5_000_000,
    )
)
"""Upper bounds (inclusive) of the finite buckets, in nanoseconds: 50 µs ... 5 s."""


@attrs.frozen(kw_only=True)
class HistogramSnapshot:
    """A frozen view of a :class:`Histogram`.

    Attributes:
        bounds_ns: The finite buckets' upper bounds (inclusive), in nanoseconds.
        cumulative: Per finite bound, the observations at most that bound; the
            +Inf bucket is ``count``.
        sum_ns: Sum of every observation, in nanoseconds.
        count: Observations recorded.
    """

    bounds_ns: tuple[int, ...]
    cumulative: tuple[int, ...]
    sum_ns: int
    count: int


class Histogram:
    """Counts of durations (ns) per fixed bucket; one owner records into it.

    Args:
        bounds_ns: Increasing upper bounds of the finite buckets, in nanoseconds.

    Raises:
        ValueError: ``bounds_ns`` is empty or not strictly increasing.
    """

    __slots__ = ("_bounds", "_counts", "_sum", "count")

    def __init__(self, bounds_ns: tuple[int, ...] = BUCKETS_NS) -> None:
        if not bounds_ns or any(b >= a for b, a in pairwise(bounds_ns)):
            raise ValueError(f"histogram bounds must increase strictly: {bounds_ns!r}")
        self._bounds = bounds_ns
        # One slot per finite bucket and a last one for +Inf.
        self._counts = [0] * (len(bounds_ns) + 1)
        self._sum = 0
        self.count = 0

    def observe(self, ns: int) -> None:
        """Record one duration of ``ns`` nanoseconds (negative ones count as 0)."""
        if ns < 0:
            ns = 0
        self._counts[bisect_left(self._bounds, ns)] += 1
        self._sum += ns
        self.count += 1

    def snapshot(self) -> HistogramSnapshot:
        cumulative = []
        total = 0
        for n in self._counts[:-1]:
            total += n
            cumulative.append(total)
        return HistogramSnapshot(
            bounds_ns=self._bounds,
            cumulative=tuple(cumulative),
            sum_ns=self._sum,
            count=self.count,
        )


@attrs.frozen(kw_only=True)
class LatencyStatistics:
    """The connector's latency histograms (part of ``Connector.statistics()``).

    Attributes:
        orders: Per trading venue, per action (``place``, ``amend``, ``cancel``):
            the time from the call entering the order service to the venue's answer
            (answered requests only).
        book_age: Per venue: the time from a frame's receipt (``ts_recv_ns``) to
            the publication of the book updates it carried (sampled: one frame with
            book updates in 16).
    """

    orders: Mapping[str, Mapping[str, HistogramSnapshot]] = attrs.field(factory=dict)
    book_age: Mapping[str, HistogramSnapshot] = attrs.field(factory=dict)
