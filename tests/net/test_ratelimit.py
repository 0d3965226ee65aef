from __future__ import annotations

import pytest
import trio

from connector.errors import IpBanned, RateLimited
from connector.net.ratelimit import RateLimiter, TokenBucket, WindowBucket


def _limiter(**kw: float) -> RateLimiter:
    return RateLimiter(
        "binance",
        {"weight": TokenBucket(capacity=10, period=60.0)},
        header_parser=lambda h: (
            {"weight": 10 - float(h["X-MBX-USED-WEIGHT-1M"])} if "X-MBX-USED-WEIGHT-1M" in h else {}
        ),
        **kw,
    )


async def test_limiter_waits_for_refill_when_bucket_is_empty(
    autojump_clock: trio.abc.Clock,
) -> None:
    limiter = _limiter()
    start = trio.current_time()
    await limiter.acquire({"weight": 10})
    await limiter.acquire({"weight": 5})
    assert 30.0 == pytest.approx(trio.current_time() - start)


async def test_limiter_trusts_used_weight_header(autojump_clock: trio.abc.Clock) -> None:
    limiter = _limiter()
    limiter.on_response(200, {"X-MBX-USED-WEIGHT-1M": "10"})
    start = trio.current_time()
    await limiter.acquire({"weight": 1})
    assert 6.0 == pytest.approx(trio.current_time() - start)


async def test_limiter_honours_retry_after_on_429(autojump_clock: trio.abc.Clock) -> None:
    limiter = _limiter()
    limiter.on_response(429, {"Retry-After": "7"})
    start = trio.current_time()
    await limiter.acquire({"weight": 1})
    assert 7.0 == pytest.approx(trio.current_time() - start)


async def test_limiter_refuses_everything_during_418_ban(autojump_clock: trio.abc.Clock) -> None:
    limiter = _limiter()
    limiter.on_response(418, {"Retry-After": "120"})
    with pytest.raises(IpBanned) as info:
        await limiter.acquire({"weight": 1})
    assert info.value.retry_after == pytest.approx(120)
    await trio.sleep(121)
    await limiter.acquire({"weight": 1})


async def test_limiter_raises_instead_of_waiting_too_long(autojump_clock: trio.abc.Clock) -> None:
    limiter = _limiter(max_wait=5.0)
    await limiter.acquire({"weight": 10})
    with pytest.raises(RateLimited):
        await limiter.acquire({"weight": 10})
    assert 1 == limiter.statistics().rate_limited


async def test_a_window_bucket_never_admits_more_than_its_capacity_in_any_window(
    autojump_clock: trio.abc.Clock,
) -> None:
    limiter = RateLimiter("bybit orders", {"orders_1s": WindowBucket(capacity=10, period=1.0)})
    start = trio.current_time()
    times = []
    for _ in range(25):
        await limiter.acquire({"orders_1s": 1})
        times.append(trio.current_time() - start)

    # A token bucket would have let 20 through in the first second.
    assert [0.0] * 10 + [1.0] * 10 + [2.0] * 5 == pytest.approx(times)
    for t in times:
        assert sum(1 for u in times if t <= u < t + 1.0) <= 10


def test_a_window_bucket_takes_the_venues_count_as_the_truth() -> None:
    bucket = WindowBucket(capacity=10, period=10.0)
    for i in range(4):
        bucket.take(1, float(i))
        bucket.settle(float(i))
    bucket.set_available(2, 4.0)  # the venue counted 8 in its window
    assert 2 == bucket.tokens
    assert 6.0 == pytest.approx(bucket.wait_time(3, 4.0))  # the oldest grant frees at 10 s
    bucket.set_available(9, 5.0)  # it counted only 1
    assert 9 == bucket.tokens
    assert 0.0 == bucket.wait_time(9, 5.0)


def test_a_settled_grant_leaves_the_window_a_period_after_its_answer() -> None:
    bucket = WindowBucket(capacity=1, period=2.0)
    bucket.take(1, 0.0)
    bucket.settle(0.5)  # the venue counted it at some time before 0.5: count from 0.5

    assert 1.5 == pytest.approx(bucket.wait_time(1, 1.0))
    assert 0.0 == bucket.wait_time(1, 2.5)


def test_the_venues_count_leaves_out_requests_still_in_flight() -> None:
    bucket = WindowBucket(capacity=10, period=1.0)
    for _ in range(10):
        bucket.take(1, 0.0)  # ten requests sent at once
    bucket.settle(0.01)  # the first answer: the venue had counted only that one
    bucket.set_available(9, 0.01)

    assert 0 == bucket.tokens  # the nine in flight still fill the window
    assert bucket.wait_time(1, 0.01) > 0.9


async def test_a_request_queues_behind_an_earlier_waiter_even_when_its_own_bucket_is_full(
    autojump_clock: trio.abc.Clock,
) -> None:
    limiter = RateLimiter(
        "bybit",
        {"a": TokenBucket(capacity=1, period=10.0), "b": TokenBucket(capacity=1, period=10.0)},
    )
    await limiter.acquire({"a": 1})  # "a" is empty for 10 s, "b" stays full
    start = trio.current_time()
    served: list[tuple[str, float]] = []

    async def take(bucket: str) -> None:
        await limiter.acquire({bucket: 1})
        served.append((bucket, trio.current_time() - start))

    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(take, "a")
            await trio.sleep(1)
            nursery.start_soon(take, "b")

    assert [("a", 10.0), ("b", 10.0)] == [(b, pytest.approx(t)) for b, t in served]
    assert 3 == limiter.statistics().acquired
