"""Backoff arithmetic: capped exponential growth and bounded, seedable jitter."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.supervision import Backoff


def test_base_delay_doubles_from_initial_and_stops_at_maximum() -> None:
    backoff = Backoff(initial=0.5, maximum=3, multiplier=2)
    assert [0.0, 0.5, 1.0, 2.0, 3.0, 3.0] == [backoff.base_delay(n) for n in range(6)]


def test_base_delay_of_a_huge_attempt_number_is_the_maximum() -> None:
    assert 10.0 == Backoff(multiplier=10).base_delay(100_000)


def test_delay_without_jitter_is_the_base_delay() -> None:
    backoff = Backoff(initial=1, maximum=8, jitter=0)
    assert [1.0, 2.0, 4.0, 8.0] == [backoff.delay(n, random.Random(1)) for n in range(1, 5)]


def test_reset_uptime_defaults_to_maximum() -> None:
    assert (7.0, 2.0) == (Backoff(maximum=7).reset_uptime, Backoff(reset_after=2).reset_uptime)


@pytest.mark.parametrize(
    "kwargs",
    [{"initial": -1}, {"maximum": -1}, {"multiplier": 0.5}, {"jitter": 1.5}, {"jitter": -0.1}],
)
def test_invalid_parameters_are_rejected(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Backoff(**kwargs)


@settings(max_examples=200, deadline=None)
@given(
    attempt=st.integers(1, 60),
    initial=st.floats(0.01, 5),
    maximum=st.floats(0.01, 60),
    jitter=st.floats(0, 1),
    seed=st.integers(0, 2**32),
)
def test_jittered_delay_stays_within_the_jitter_band_and_the_cap(
    attempt: int, initial: float, maximum: float, jitter: float, seed: int
) -> None:
    backoff = Backoff(initial=initial, maximum=maximum, jitter=jitter)
    base = backoff.base_delay(attempt)
    delay = backoff.delay(attempt, random.Random(seed))
    assert min(maximum, base * (1 - jitter)) - 1e-9 <= delay <= min(maximum, base * (1 + jitter))
    assert delay == backoff.delay(attempt, random.Random(seed))
