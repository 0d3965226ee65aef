from __future__ import annotations

import pytest
import trio
import trio.testing

from connector.errors import IpBanned, RateLimited
from connector.net.ratelimit import Lane, RateLimiter, TokenBucket, WindowBucket


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


async def test_waiters_are_served_in_lane_then_arrival_order_each_woken_only_for_its_turn(
    autojump_clock: trio.abc.Clock,
) -> None:
    # A cancel-all with hundreds of open orders queues hundreds of requests: each grant
    # wakes the next waiter only, not every one of them (no thundering herd).
    limiter = RateLimiter("bybit", {"orders": TokenBucket(capacity=10, period=1.0)})
    served: list[str] = []
    steps: list[str] = []

    class Steps(trio.abc.Instrument):
        def before_task_step(self, task: trio.lowlevel.Task) -> None:
            if task.name.endswith("take"):
                steps.append(task.name)

    async def take(name: str, lane: Lane) -> None:
        await limiter.acquire({"orders": 1}, lane)
        served.append(name)

    trio.lowlevel.add_instrument(Steps())
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            for i in range(200):
                nursery.start_soon(take, f"bulk{i}", Lane.BULK)
                await trio.testing.wait_all_tasks_blocked()  # arrivals in this order
            await trio.sleep(0.55)
            nursery.start_soon(take, "order", Lane.ORDER)

    # Ten at once, then one per 0.1 s; the order request, arriving at 0.55 s, overtakes
    # every bulk waiter left.
    bulk = [f"bulk{i}" for i in range(200)]
    assert [*bulk[:15], "order", *bulk[15:]] == served
    assert 201 == limiter.statistics().acquired
    assert 0 == limiter.statistics().waiting
    assert len(steps) < 4 * 201


async def test_a_waiter_cancelled_in_the_queue_leaves_it_and_the_next_is_served(
    autojump_clock: trio.abc.Clock,
) -> None:
    limiter = RateLimiter("bybit", {"orders": TokenBucket(capacity=1, period=1.0)})
    await limiter.acquire({"orders": 1})
    served: list[str] = []
    scope = trio.CancelScope()

    async def take(name: str, scope: trio.CancelScope) -> None:
        with scope:
            await limiter.acquire({"orders": 1})
            served.append(name)

    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(take, "first", trio.CancelScope())
            await trio.sleep(0.1)
            nursery.start_soon(take, "second", scope)
            await trio.sleep(0.1)
            nursery.start_soon(take, "third", trio.CancelScope())
            await trio.sleep(0.1)
            assert 3 == limiter.statistics().waiting
            scope.cancel()
    assert ["first", "third"] == served
    assert 0 == limiter.statistics().waiting


def test_a_token_short_by_a_rounding_error_needs_no_wait() -> None:
    # Otherwise the wait is too small to move a deadline on a clock far from zero,
    # and its waiter spins without the clock moving.
    bucket = TokenBucket(capacity=10, period=1.0)
    bucket.take(10, 5000.0)
    assert bucket.wait_time(1, 5000.05) == pytest.approx(0.05)
    assert 0.0 == bucket.wait_time(1, 5000.0 + 0.1 * (1 - 1e-11))
