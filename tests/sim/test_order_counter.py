"""The generic sliding-window counter the venue front-ends use for order counts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.sim.ratelimit import SlidingWindowCounter


def test_counts_per_subject_and_window_and_slides_out() -> None:
    counter = SlidingWindowCounter({"10s": 10, "1m": 60})

    assert {"10s": 1, "1m": 1} == counter.add("alice", 100.0)
    assert {"10s": 3, "1m": 3} == counter.add("alice", 105.0, n=2)
    assert {"10s": 1, "1m": 1} == counter.add(("bob", "BTCUSDT"), 105.0)

    assert {"10s": 2, "1m": 3} == counter.counts("alice", 110.5)
    assert 0 == counter.count("alice", 115.5, "10s")
    assert 3 == counter.count("alice", 115.5, "1m")
    assert {"10s": 0, "1m": 0} == counter.counts("alice", 170.0)


def test_would_exceed_names_the_first_window_over_its_limit() -> None:
    counter = SlidingWindowCounter({"10s": 10, "1d": 86_400})
    for t in range(5):
        counter.add("alice", float(t))

    assert counter.would_exceed("alice", 5.0, {"10s": 6, "1d": 100}) is None
    assert "10s" == counter.would_exceed("alice", 5.0, {"10s": 5, "1d": 100})
    assert "1d" == counter.would_exceed("alice", 20.0, {"10s": 5, "1d": 5})
    assert counter.would_exceed("alice", 20.0, {"10s": 5}) is None


def test_retry_after_is_when_enough_events_left_the_window() -> None:
    counter = SlidingWindowCounter({"10s": 10})
    counter.add("alice", 0.0)
    counter.add("alice", 4.0)

    wait = counter.retry_after("alice", 5.0, "10s", limit=2)
    assert 5.0 == pytest.approx(wait, abs=0.02)
    assert 2 == counter.count("alice", 5.0 + wait - 0.001, "10s")
    assert 1 == counter.count("alice", 5.0 + wait + 1e-6, "10s")
    assert 0.0 == counter.retry_after("alice", 5.0, "10s", limit=3)


def test_statistics_count_adds_refusals_and_live_subjects() -> None:
    counter = SlidingWindowCounter({"2s": 2})
    counter.add("alice", 0.0, n=3)
    counter.add("bob", 0.0)
    counter.refused("2s")

    stats = counter.statistics()

    assert (4, 1, {"2s": 1}, 2) == (stats.added, stats.refused, stats.by_window, stats.subjects)
    counter.counts("alice", 5.0)
    counter.counts("bob", 5.0)
    assert 0 == counter.statistics().subjects


def test_memory_stays_bounded_at_a_high_rate() -> None:
    counter = SlidingWindowCounter({"1s": 1}, resolution=10)
    for i in range(20_000):
        counter.add(f"s{i % 50}", i / 1000)

    assert 50 == counter.statistics().subjects
    assert all(len(w.buckets) <= 11 for w in counter._state.values())


def test_bad_windows_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        SlidingWindowCounter({"x": 0})
    with pytest.raises(ValueError, match="positive"):
        SlidingWindowCounter({})


@settings(max_examples=100, deadline=None)
@given(
    times=st.lists(st.floats(0, 100, allow_nan=False), min_size=1, max_size=60),
    probe=st.floats(0, 120),
)
def test_count_matches_a_plain_list_to_one_bucket(times: list[float], probe: float) -> None:
    counter = SlidingWindowCounter({"10s": 10}, resolution=100)
    times.sort()
    for t in times:
        counter.add("a", t)
    now = max(probe, times[-1])

    counted = counter.count("a", now, "10s")

    # Exact up to the bucket edge: events up to one bucket (0.1 s) older may still count.
    assert sum(1 for t in times if now - 10 < t) <= counted
    assert counted <= sum(1 for t in times if now - 10.1 < t)
