"""RestClient against a real HTTP server on loopback (hypercorn, a tiny ASGI app).

Also the per-endpoint rate-limit buckets (Bybit's ``X-Bapi-Limit-Status``):
the header corrects only the bucket of the endpoint that answered.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import attrs
import pytest
import trio
from hypercorn.config import Config
from hypercorn.trio import serve

from connector import sim
from connector.errors import (
    ConnectionLost,
    ConnectorError,
    ExchangeRejected,
    IpBanned,
    RateLimited,
    RequestTimeout,
    ServiceUnavailable,
)
from connector.model import Market
from connector.net.http import RestClient, RestResponse
from connector.net.ratelimit import ENDPOINT, RateLimiter, TokenBucket
from connector.venues.binance import order_socket as binance_order_socket
from connector.venues.bybit import order_socket as bybit_order_socket
from connector.venues.registry import driver_for

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


@attrs.frozen(kw_only=True)
class Reply:
    status: int = 200
    body: bytes = b"{}"
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0


@attrs.define
class Venue:
    """A scripted REST venue: one reply per path; records every request it gets."""

    replies: dict[str, Reply] = attrs.field(factory=dict)
    requests: list[tuple[str, str]] = attrs.field(factory=list)

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        path = scope["path"]
        self.requests.append((path, scope["query_string"].decode()))
        reply = self.replies.get(path, Reply(status=404, body=b"no such path"))
        if reply.delay:
            await trio.sleep(reply.delay)
        headers = [(k.encode(), v.encode()) for k, v in reply.headers]
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await send({"type": "http.response.body", "body": reply.body})


@pytest.fixture
async def venue() -> AsyncIterator[tuple[Venue, str]]:
    """The scripted venue and its base URL (``http://127.0.0.1:<port>``)."""
    scripted = Venue()
    config = Config()
    config.bind = ["127.0.0.1:0"]
    config.accesslog = None
    config.errorlog = None
    config.graceful_timeout = 0.1
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            binds: list[str] = await nursery.start(
                lambda task_status: serve(scripted.app, config, task_status=task_status)  # type: ignore[arg-type]
            )
            yield scripted, binds[0]
            nursery.cancel_scope.cancel()


def _limiter(max_wait: float = 30.0) -> RateLimiter:
    return RateLimiter(
        "test", {"weight": TokenBucket(capacity=100, period=60.0)}, max_wait=max_wait
    )


async def test_http_5xx_raises_service_unavailable(venue: tuple[Venue, str]) -> None:
    server, url = venue
    server.replies["/api"] = Reply(status=503, body=b"busy")
    client = RestClient("test", url)
    with trio.fail_after(10), pytest.raises(ServiceUnavailable, match="HTTP 503"):
        await client.get("/api")
    await client.aclose()


async def test_server_slower_than_the_client_timeout_raises_request_timeout(
    venue: tuple[Venue, str],
) -> None:
    server, url = venue
    server.replies["/slow"] = Reply(delay=5.0)
    client = RestClient("test", url, timeout=0.2)
    with trio.fail_after(10):
        start = trio.current_time()
        with pytest.raises(RequestTimeout):
            await client.get("/slow")
        assert trio.current_time() - start < 4.0
    await client.aclose()


async def test_closed_port_raises_connection_lost() -> None:
    sock = trio.socket.socket()
    await sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    client = RestClient("test", f"http://127.0.0.1:{port}")
    with trio.fail_after(10), pytest.raises(ConnectionLost):
        await client.get("/api")
    await client.aclose()


async def test_429_raises_rate_limited_and_pauses_the_limiter(venue: tuple[Venue, str]) -> None:
    server, url = venue
    server.replies["/api"] = Reply(status=429, headers=(("Retry-After", "7"),))
    limiter = _limiter(max_wait=1.0)
    client = RestClient("test", url, limiter=limiter)
    with trio.fail_after(10):
        with pytest.raises(RateLimited) as info:
            await client.get("/api", weights={"weight": 1})
        assert 7.0 == info.value.retry_after
        assert not isinstance(info.value, IpBanned)
        # The pause (7 s) exceeds max_wait: refused locally, nothing reaches the venue.
        with pytest.raises(RateLimited) as refused:
            await client.get("/api", weights={"weight": 1})
    assert 1 == len(server.requests)
    assert refused.value.retry_after is not None and refused.value.retry_after > 6.0
    assert (False, True) == (info.value.local, refused.value.local)  # the venue's, then ours
    assert 2 == limiter.statistics().rate_limited
    await client.aclose()


async def test_418_raises_ip_banned_and_stops_all_requests_until_the_ban_ends(
    venue: tuple[Venue, str],
) -> None:
    server, url = venue
    server.replies["/api"] = Reply(status=418, headers=(("Retry-After", "0.5"),))
    server.replies["/other"] = Reply(body=b'{"ok":true}')
    limiter = _limiter()
    client = RestClient("test", url, limiter=limiter)
    with trio.fail_after(10):
        with pytest.raises(IpBanned) as info:
            await client.get("/api", weights={"weight": 1})
        assert info.value.retry_after is not None and 0 < info.value.retry_after <= 0.5
        assert limiter.statistics().banned_until is not None
        with pytest.raises(IpBanned):
            await client.get("/other", weights={"weight": 1})
        assert ["/api"] == [path for path, _ in server.requests]
        await trio.sleep(0.6)
        response = await client.get("/other", weights={"weight": 1})
    assert b'{"ok":true}' == response.body
    assert ["/api", "/other"] == [path for path, _ in server.requests]
    assert limiter.statistics().banned_until is None
    await client.aclose()


async def test_venue_error_body_becomes_exchange_rejected_through_the_error_mapper(
    venue: tuple[Venue, str],
) -> None:
    server, url = venue
    server.replies["/api/v3/depth"] = Reply(
        status=400, body=b'{"code":-1121,"msg":"Invalid symbol."}'
    )
    client = RestClient("binance", url, error_mapper=driver_for("binance").rest.rest_error)
    with trio.fail_after(10), pytest.raises(ExchangeRejected) as info:
        await client.get("/api/v3/depth", {"symbol": "NOPE"})
    assert (-1121, "Invalid symbol.", "binance") == (
        info.value.code,
        info.value.venue_message,
        info.value.venue,
    )
    await client.aclose()


async def test_error_mapper_sees_http_200_bodies_too(venue: tuple[Venue, str]) -> None:
    server, url = venue
    server.replies["/v5/market/orderbook"] = Reply(
        body=b'{"retCode":10001,"retMsg":"params error","result":{},"time":1}'
    )
    client = RestClient("bybit", url, error_mapper=driver_for("bybit").rest.rest_error)
    with trio.fail_after(10), pytest.raises(ExchangeRejected) as info:
        await client.get("/v5/market/orderbook")
    assert 10001 == info.value.code
    await client.aclose()


async def test_4xx_without_a_mapper_raises_exchange_rejected_with_the_status(
    venue: tuple[Venue, str],
) -> None:
    _, url = venue
    client = RestClient("test", url)
    with trio.fail_after(10), pytest.raises(ExchangeRejected) as info:
        await client.get("/missing")
    assert (404, "no such path") == (info.value.code, info.value.venue_message)
    await client.aclose()


async def test_params_are_merged_into_the_url(venue: tuple[Venue, str]) -> None:
    server, url = venue
    server.replies["/api/v3/depth"] = Reply(body=b'{"lastUpdateId":1}')
    client = RestClient("test", url + "/")
    with trio.fail_after(10):
        response = await client.get("/api/v3/depth", {"symbol": "BTCUSDT", "limit": 5})
    assert [("/api/v3/depth", "symbol=BTCUSDT&limit=5")] == server.requests
    assert f"{url}/api/v3/depth?symbol=BTCUSDT&limit=5" == response.url
    assert (200, b'{"lastUpdateId":1}') == (response.status, response.body)
    assert response.sent_ns <= response.received_ns
    await client.aclose()


async def test_observers_see_each_response_used_and_no_error_response(
    venue: tuple[Venue, str],
) -> None:
    server, url = venue
    server.replies["/a"] = Reply(body=b"1", headers=(("X-Test", "yes"),))
    server.replies["/b"] = Reply(body=b"2")
    server.replies["/bad"] = Reply(status=500)
    seen: list[RestResponse] = []
    client = RestClient("test", url)
    client.observers.append(seen.append)
    with trio.fail_after(10):
        first = await client.get("/a")
        with pytest.raises(ServiceUnavailable):
            await client.get("/bad")
        second = await client.get("/b")
    assert [first, second] == seen
    assert [b"1", b"2"] == [r.body for r in seen]
    assert "yes" == seen[0].headers["x-test"]
    await client.aclose()


# -- per-endpoint buckets (Bybit) -------------------------------------------------


def _endpoint_limiter() -> RateLimiter:
    return RateLimiter(
        "bybit",
        {
            "ip": TokenBucket(capacity=600, period=5.0),
            "endpoint:time": TokenBucket(capacity=10, period=1.0),
            "endpoint:instruments": TokenBucket(capacity=10, period=1.0),
        },
        header_parser=lambda h: {ENDPOINT: float(h["left"])} if "left" in h else {},
    )


async def test_endpoint_header_corrects_only_the_bucket_of_the_endpoint_that_answered(
    autojump_clock: trio.abc.Clock,
) -> None:
    limiter = _endpoint_limiter()
    await limiter.acquire({"ip": 1, "endpoint:time": 1})
    limiter.on_response(200, {"left": "0"}, ("ip", "endpoint:time"))

    tokens = limiter.statistics().tokens
    assert (0.0, 10.0) == (tokens["endpoint:time"], tokens["endpoint:instruments"])
    assert 599.0 == pytest.approx(tokens["ip"])
    start = trio.current_time()
    await limiter.acquire({"ip": 1, "endpoint:instruments": 1})
    assert 0.0 == trio.current_time() - start
    await limiter.acquire({"ip": 1, "endpoint:time": 1})
    assert 0.1 == pytest.approx(trio.current_time() - start)


async def test_endpoint_header_is_ignored_when_the_request_drew_on_no_endpoint_bucket(
    autojump_clock: trio.abc.Clock,
) -> None:
    limiter = _endpoint_limiter()
    limiter.on_response(200, {"left": "0"}, ("ip",))
    limiter.on_response(200, {"left": "0"})

    assert {"ip": 600.0, "endpoint:time": 10.0, "endpoint:instruments": 10.0} == dict(
        limiter.statistics().tokens
    )


def test_bybit_calls_draw_on_the_ip_bucket_and_their_own_endpoint_bucket() -> None:
    bybit = driver_for("bybit")
    names = {b.name for b in bybit.rest.buckets(Market.SPOT)}
    time_call = bybit.rest.server_time_call(Market.SPOT)
    instruments_call = bybit.market_data.instruments_call(Market.LINEAR)

    assert {"ip", "endpoint:time", "endpoint:instruments"} <= names
    assert {"account", "order:create", "order:amend", "order:cancel", "order:query"} <= names
    assert {"ip", "endpoint:time"} == set(time_call.weights)
    assert {"ip", "endpoint:instruments"} == set(instruments_call.weights)


async def test_bybit_limit_status_from_the_simulator_lands_on_the_endpoint_bucket() -> None:
    bybit = driver_for("bybit")
    limiter = RateLimiter(
        "bybit",
        {
            b.name: TokenBucket(capacity=b.capacity, period=b.period)
            for b in bybit.rest.buckets(Market.SPOT)
        },
        header_parser=lambda headers: bybit.rest.limit_headers(Market.SPOT, headers),
    )
    settings = {"bybit": {"rest_limits": {"/v5/market/time": 5}, "rest_window": 60.0}}
    with trio.fail_after(30):
        async with sim.run(venues=("bybit",), settings=settings) as s:
            client = RestClient(
                "bybit",
                s.urls["bybit"]["spot.rest"],
                limiter=limiter,
                error_mapper=bybit.rest.rest_error,
            )
            call = bybit.rest.server_time_call(Market.SPOT)
            start = trio.current_time()
            response = await client.get(call.path, call.params, weights=call.weights)
            tokens = limiter.statistics().tokens
            refilled = 120.0 * (trio.current_time() - start)  # 600 per 5 s, in real time
            await client.aclose()

    assert "4" == response.headers["x-bapi-limit-status"]
    assert bybit.rest.parse_server_time(response.body) > 0
    # The venue says 4 of the endpoint's 5 are left; the IP bucket only paid its 1.
    assert 4.0 <= tokens["endpoint:time"] <= 4.0 + refilled + 1e-6
    assert 599.0 <= tokens["ip"] <= 600.0
    assert 600.0 == tokens["endpoint:instruments"]


# -- venue errors that ban or pause the host (the venue's error mapper says so) ----


async def test_bybit_403_bans_the_host_for_ten_minutes_and_stops_all_requests(
    venue: tuple[Venue, str],
) -> None:
    server, url = venue
    server.replies["/v5/market/orderbook"] = Reply(status=403, body=b"access too frequent")
    server.replies["/v5/market/time"] = Reply(body=b'{"retCode":0,"result":{}}')
    limiter = _limiter()
    client = RestClient(
        "bybit", url, limiter=limiter, error_mapper=driver_for("bybit").rest.rest_error
    )
    with trio.fail_after(10):
        with pytest.raises(IpBanned) as info:
            await client.get("/v5/market/orderbook", weights={"weight": 1})
        assert 600.0 == info.value.retry_after
        assert 599.0 < limiter.banned_for() <= 600.0
        with pytest.raises(IpBanned) as refused:
            await client.get("/v5/market/time", weights={"weight": 1})
    assert refused.value.retry_after is not None and refused.value.retry_after > 599.0
    assert ["/v5/market/orderbook"] == [path for path, _ in server.requests]
    await client.aclose()


@pytest.mark.parametrize(
    ("name", "body", "pause"),
    [
        ("bybit", b'{"retCode":10006,"retMsg":"Too many visits!","result":{}}', 1.0),
        ("bybit", b'{"retCode":10429,"retMsg":"System level frequency protection"}', 1.0),
        ("okx", b'{"code":"50011","msg":"Rate limit reached.","data":[]}', 2.0),
        ("okx", b'{"code":"50061","msg":"Sub-account rate limit exceeded.","data":[]}', 2.0),
    ],
)
async def test_venue_rate_limit_code_in_a_200_body_pauses_the_host(
    venue: tuple[Venue, str], name: str, body: bytes, pause: float
) -> None:
    server, url = venue
    server.replies["/api"] = Reply(body=body)
    limiter = _limiter(max_wait=0.5)
    client = RestClient(name, url, limiter=limiter, error_mapper=driver_for(name).rest.rest_error)
    with trio.fail_after(10):
        with pytest.raises(RateLimited) as info:
            await client.get("/api", weights={"weight": 1})
        assert not isinstance(info.value, IpBanned)
        assert pause == info.value.retry_after
        paused_until = limiter.statistics().paused_until
        assert paused_until is not None
        assert pause - 0.5 < paused_until - trio.current_time() <= pause
        # The pause exceeds max_wait: refused locally, nothing more reaches the venue.
        with pytest.raises(RateLimited):
            await client.get("/api", weights={"weight": 1})
    assert 1 == len(server.requests)
    await client.aclose()


async def test_any_error_mapper_can_ban_or_pause_and_none_falls_back_to_retry_after(
    venue: tuple[Venue, str],
) -> None:
    server, url = venue
    server.replies["/ban"] = Reply(status=403)
    server.replies["/pause"] = Reply(status=400, headers=(("Retry-After", "3"),))

    def mapper(status: int, body: bytes) -> ConnectorError | None:
        if status == 403:
            return IpBanned("banned", retry_after=5.0, venue="test")
        return RateLimited("slow down", retry_after=None, venue="test") if status == 400 else None

    paused = _limiter()
    client = RestClient("test", url, limiter=paused, error_mapper=mapper)
    with trio.fail_after(10):
        with pytest.raises(RateLimited):
            await client.get("/pause", weights={"weight": 1})
        until = paused.statistics().paused_until
        assert until is not None and 2.5 < until - trio.current_time() <= 3.0
        assert paused.statistics().banned_until is None
    await client.aclose()

    banned = _limiter()
    client = RestClient("test", url, limiter=banned, error_mapper=mapper)
    with trio.fail_after(10):
        with pytest.raises(IpBanned):
            await client.get("/ban", weights={"weight": 1})
    assert 4.5 < banned.banned_for() <= 5.0
    await client.aclose()

    untouched = _limiter()
    server.replies["/pause"] = Reply(status=400)
    client = RestClient("test", url, limiter=untouched, error_mapper=mapper)
    with trio.fail_after(10), pytest.raises(RateLimited):
        await client.get("/pause", weights={"weight": 1})
    assert (None, None) == (
        untouched.statistics().paused_until,
        untouched.statistics().banned_until,
    )
    await client.aclose()


def _heeding(
    venue: str,
    url: str,
    limiter: RateLimiter,
    answer: tuple[int, Mapping[str, str], bytes],
) -> RestClient:
    """A venue's REST client that has heard one order socket ``answer`` (status,
    headers, body, as the adapter reads the reply)."""
    client = RestClient(venue, url, limiter=limiter, error_mapper=driver_for(venue).rest.rest_error)
    status, headers, body = answer
    client.heed(
        RestResponse(status=status, url=url, headers=headers, body=body, sent_ns=0, received_ns=0)
    )
    return client


async def test_an_order_socket_reply_bans_or_pauses_the_host_as_its_rest_answer_would(
    venue: tuple[Venue, str],
) -> None:
    # What the venues' order sockets answer (Bybit /v5/trade's 10009 "IP has been
    # banned", Binance's WebSocket API 429 with its retryAfter), read as the REST
    # answers they stand for by the adapters, then heeded by the host's client.
    server, url = venue
    server.replies["/v5/market/time"] = Reply(body=b'{"retCode":0,"result":{}}')
    banned = json.dumps(
        {"reqId": "o1", "retCode": 10009, "retMsg": "IP has been banned", "op": "order.create",
         "data": {}, "header": {"X-Bapi-Limit": "10"}, "connId": "c1"}
    )  # fmt: skip
    limiter = _limiter()
    bybit = _heeding("bybit", url, limiter, bybit_order_socket.answer(banned))
    assert 599.0 < limiter.banned_for() <= 600.0
    with pytest.raises(IpBanned):
        bybit.check_ban()
    with trio.fail_after(10), pytest.raises(IpBanned):
        await bybit.get("/v5/market/time", weights={"weight": 1})
    assert [] == server.requests
    await bybit.aclose()

    limited = json.dumps(
        {"id": "7", "status": 429, "error": {"code": -1003, "msg": "Too much request weight used",
         "data": {"serverTime": 1659142907531, "retryAfter": 1659142910531}},
         "rateLimits": [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE",
                         "intervalNum": 1, "limit": 6000, "count": 6001}]}
    )  # fmt: skip
    paused = _limiter()
    binance = _heeding("binance", url, paused, binance_order_socket.answer(limited))
    until = paused.statistics().paused_until
    assert until is not None and 2.5 < until - trio.current_time() <= 3.0
    assert paused.banned_for() == 0.0
    binance.check_ban()  # a pause is no ban
    await binance.aclose()
