from __future__ import annotations

import pytest
import trio

from connector.errors import IpBanned, RateLimited
from connector.net.ratelimit import RateLimiter, TokenBucket


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
