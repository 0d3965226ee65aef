"""A venue's 429 and 418 answers: the error names the venue's code and message, and
only the limit the venue named is held (Binance "LIMITS": -1003 is the IP's request
weight, with ``Retry-After``; -1015 the account's order count, without it).

Also the per-endpoint reset time (Bybit's ``X-Bapi-Limit-Reset-Timestamp``): an
endpoint bucket is held until the venue's reset time, read against the venue clock.
"""

from __future__ import annotations

import json

import pytest
import trio

from connector.errors import IpBanned, RateLimited
from connector.model import Market
from connector.net.http import RestClient
from connector.net.ratelimit import RateLimiter, TokenBucket, WindowBucket
from connector.venues.bybit.limits import read_order_counts
from connector.venues.registry import driver_for
from tests.net.test_http import Reply, Venue, venue

__all__ = ["venue"]  # the scripted venue fixture, shared with test_http

ORDER_COUNT = json.dumps(
    {"code": -1015, "msg": "Too many new orders; current limit is 300 orders per 10 seconds."}
).encode()
WEIGHT = json.dumps(
    {"code": -1003, "msg": "Too much request weight used; current limit is 2400 per 1 MINUTE."}
).encode()
BANNED = json.dumps(
    {"code": -1003, "msg": "Way too much request weight used; IP banned until 1700000000000."}
).encode()


def _binance(url: str, limiter: RateLimiter) -> RestClient:
    return RestClient(
        "binance", url, limiter=limiter, error_mapper=driver_for("binance").rest.rest_error
    )


def _limiter() -> RateLimiter:
    return RateLimiter("binance", {"weight": TokenBucket(capacity=2400, period=60.0)})


async def test_binance_order_count_429_names_its_code_and_holds_no_host(
    venue: tuple[Venue, str],
) -> None:
    server, url = venue
    server.replies["/fapi/v1/order"] = Reply(status=429, body=ORDER_COUNT)
    server.replies["/fapi/v1/time"] = Reply(body=b'{"serverTime":1}')
    limiter = _limiter()
    client = _binance(url, limiter)
    with trio.fail_after(10):
        with pytest.raises(RateLimited) as info:
            await client.request("POST", "/fapi/v1/order", weights={"weight": 0})
        # An order answer read by the order path (check=False) comes back as it is:
        # the order path's own order-count limiter reads it.
        answer = await client.request("POST", "/fapi/v1/order", weights={"weight": 0}, check=False)
        started = trio.current_time()
        await client.get("/fapi/v1/time", weights={"weight": 1})
        waited = trio.current_time() - started
    assert "-1015 Too many new orders; current limit is 300 orders per 10 seconds." in str(
        info.value
    )
    assert info.value.retry_after is None
    assert 429 == answer.status
    assert limiter.statistics().paused_until is None
    assert waited < 0.5
    await client.aclose()


async def test_binance_weight_429_names_its_code_and_pauses_the_host_for_retry_after(
    venue: tuple[Venue, str],
) -> None:
    server, url = venue
    server.replies["/fapi/v1/order"] = Reply(
        status=429, body=WEIGHT, headers=(("Retry-After", "7"),)
    )
    limiter = _limiter()
    client = _binance(url, limiter)
    with trio.fail_after(10), pytest.raises(RateLimited) as info:
        await client.request("POST", "/fapi/v1/order", weights={"weight": 0}, check=False)
    assert "-1003 Too much request weight used" in str(info.value)
    assert not isinstance(info.value, IpBanned)
    assert 7.0 == info.value.retry_after
    assert limiter.statistics().paused_until is not None
    await client.aclose()


async def test_binance_418_names_the_ban_and_bans_the_host_until_retry_after(
    venue: tuple[Venue, str],
) -> None:
    server, url = venue
    server.replies["/fapi/v1/depth"] = Reply(
        status=418, body=BANNED, headers=(("Retry-After", "10"),)
    )
    limiter = _limiter()
    client = _binance(url, limiter)
    with trio.fail_after(10), pytest.raises(IpBanned) as info:
        await client.get("/fapi/v1/depth", weights={"weight": 20})
    assert "IP banned until 1700000000000" in str(info.value)
    assert 10.0 == info.value.retry_after
    banned_until = limiter.statistics().banned_until
    assert banned_until is not None and 9.0 < banned_until - trio.current_time() <= 10.0
    await client.aclose()


# -- endpoint reset times ----------------------------------------------------------

SKEW_S = 100.0
"""The venue's clock runs this far ahead of ours."""


def _bybit_orders(max_wait: float = 30.0) -> RateLimiter:
    return RateLimiter(
        "bybit linear orders",
        {"endpoint:place": WindowBucket(capacity=10, period=1.0)},
        header_parser=lambda headers: read_order_counts(Market.LINEAR, headers),
        max_wait=max_wait,
        venue_time_ns=lambda: int((1_700_000_000 + SKEW_S + trio.current_time()) * 1e9),
    )


def _too_many_visits(reset_in: float) -> dict[str, str]:
    venue_now_ms = (1_700_000_000 + SKEW_S + trio.current_time()) * 1000
    return {
        "X-Bapi-Limit": "10",
        "X-Bapi-Limit-Status": "0",
        "X-Bapi-Limit-Reset-Timestamp": str(int(venue_now_ms + reset_in * 1000)),
    }


async def test_bybit_10006_holds_the_endpoint_until_the_venue_reset_time(
    autojump_clock: trio.abc.Clock,
) -> None:
    limiter = _bybit_orders()
    await limiter.acquire({"endpoint:place": 1})
    limiter.on_response(200, _too_many_visits(5.0), ["endpoint:place"])

    started = trio.current_time()
    with trio.fail_after(60):
        await limiter.acquire({"endpoint:place": 1})

    assert 5.0 == pytest.approx(trio.current_time() - started, abs=0.01)


async def test_an_endpoint_reset_far_away_holds_at_most_max_wait(
    autojump_clock: trio.abc.Clock,
) -> None:
    limiter = _bybit_orders(max_wait=10.0)
    limiter.on_response(200, _too_many_visits(3600.0), ["endpoint:place"])

    started = trio.current_time()
    with trio.fail_after(60):
        await limiter.acquire({"endpoint:place": 1})

    assert 10.0 == pytest.approx(trio.current_time() - started, abs=0.01)


def test_bybit_order_counts_give_the_reset_time_only_once_the_quota_is_used_up() -> None:
    headers = {"X-Bapi-Limit-Status": "3", "X-Bapi-Limit-Reset-Timestamp": "1700000000123"}
    assert {"endpoint": 3.0} == dict(read_order_counts(Market.LINEAR, headers))

    headers["X-Bapi-Limit-Status"] = "0"
    assert {"endpoint": 0.0, "endpoint_reset": 1_700_000_000.123} == dict(
        read_order_counts(Market.LINEAR, headers)
    )
