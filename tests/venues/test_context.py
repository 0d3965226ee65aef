"""``VenueContext``: one warm REST client and one rate limiter per host, the clock over it."""

from __future__ import annotations

import time
from collections.abc import Mapping

import httpcore
import httpx
import pytest
import trio

from connector import sim
from connector.errors import ConnectorError, RateLimited, TimestampRejected
from connector.model import Market
from connector.net.ratelimit import Lane
from connector.venues.context import VenueContext
from connector.venues.driver import RestCall
from connector.venues.registry import driver_for

TIMEOUT = 20
PERP_MARKET = {"binance": Market.LINEAR, "bybit": Market.LINEAR, "okx": Market.SWAP}


def _live_context(venue: str, transport: httpx.AsyncBaseTransport | None = None) -> VenueContext:
    driver = driver_for(venue)
    urls = driver.rest.endpoints("live")
    return VenueContext(
        driver, markets=(Market.SPOT, PERP_MARKET[venue]), urls=lambda: urls, transport=transport
    )


@pytest.mark.parametrize("venue", ["bybit", "okx"])
async def test_spot_and_derivatives_on_one_host_share_one_client_and_one_limiter(
    venue: str,
) -> None:
    context = _live_context(venue)
    perp = PERP_MARKET[venue]
    try:
        assert context.host(Market.SPOT) == context.host(perp)
        assert context.limiter(Market.SPOT) is context.limiter(perp)
        assert context.rest(Market.SPOT) is context.rest(perp)
        assert 1 == len(context.statistics().limiters)
    finally:
        await context.aclose()


async def test_binance_spot_and_usdm_are_two_hosts_with_their_own_limiters() -> None:
    context = _live_context("binance")
    try:
        assert context.limiter(Market.SPOT) is not context.limiter(Market.LINEAR)
        assert context.rest(Market.SPOT) is not context.rest(Market.LINEAR)
        assert {"https://api.binance.com", "https://fapi.binance.com"} == set(
            context.statistics().limiters
        )
    finally:
        await context.aclose()


async def test_a_429_on_spot_pauses_the_perpetuals_of_the_same_host(
    autojump_clock: trio.abc.Clock,
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("category") == "spot":
            return httpx.Response(429, headers={"Retry-After": "5"}, content=b"")
        return httpx.Response(200, json={"retCode": 0, "retMsg": "OK", "result": {}})

    context = _live_context("bybit", httpx.MockTransport(answer))
    weights = {"ip": 1.0}
    spot = RestCall(path="/v5/market/tickers", params={"category": "spot"}, weights=weights)
    linear = RestCall(path="/v5/market/tickers", params={"category": "linear"}, weights=weights)
    try:
        with pytest.raises(RateLimited):
            await context.call(Market.SPOT, spot)
        paused_at = trio.current_time()
        await context.call(Market.LINEAR, linear)
        waited = trio.current_time() - paused_at
    finally:
        await context.aclose()

    assert 5.0 <= waited < 5.5


async def test_every_rest_outcome_is_reported_with_the_venue() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/time"):
            return httpx.Response(503, content=b"down")
        return httpx.Response(200, json={"code": "0", "msg": "", "data": []})

    outcomes: list[tuple[str, type[ConnectorError] | None]] = []
    context = _live_context("okx", httpx.MockTransport(answer))
    context.on_rest_outcome = lambda venue, error: outcomes.append(
        (venue, None if error is None else type(error))
    )
    try:
        await context.call(Market.SWAP, RestCall(path="/api/v5/public/instruments"))
        with pytest.raises(ConnectorError):
            await context.call(Market.SPOT, RestCall(path="/api/v5/public/time"))
    finally:
        await context.aclose()

    assert "okx" == outcomes[0][0]
    assert None is outcomes[0][1]
    assert outcomes[1][1] is not None and "ServiceUnavailable" == outcomes[1][1].__name__


async def test_orders_overtake_queued_snapshots_at_the_limiter(
    autojump_clock: trio.abc.Clock,
) -> None:
    context = _live_context("okx", httpx.MockTransport(lambda r: httpx.Response(200, json={})))
    limiter = context.limiter(Market.SPOT)
    served: list[str] = []

    async def take(name: str, lane: Lane) -> None:
        await limiter.acquire({"books": 40.0}, lane)  # a whole 2-second bucket each
        served.append(name)

    try:
        await limiter.acquire({"books": 40.0})  # the bucket is empty now
        async with trio.open_nursery() as nursery:
            nursery.start_soon(take, "snapshot-1", Lane.BULK)
            await trio.sleep(0.1)
            nursery.start_soon(take, "snapshot-2", Lane.BULK)
            await trio.sleep(0.1)
            nursery.start_soon(take, "order", Lane.ORDER)
    finally:
        await context.aclose()

    assert ["order", "snapshot-1", "snapshot-2"] == served


class _SlowConnect(httpcore.AsyncNetworkBackend):
    """Real TCP, with ``delay`` seconds added to every new connection (a slow handshake)."""

    def __init__(self, delay: float) -> None:
        self._real = httpcore.TrioBackend()
        self._delay = delay
        self.connects = 0

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's signature)
        local_address: str | None = None,
        socket_options: object = None,
    ) -> httpcore.AsyncNetworkStream:
        self.connects += 1
        await trio.sleep(self._delay)
        return await self._real.connect_tcp(host, port, timeout, local_address)

    async def sleep(self, seconds: float) -> None:
        await trio.sleep(seconds)


class _SlowConnectTransport(httpx.AsyncBaseTransport):
    """An httpx transport over httpcore's pool with the slow backend (trace events kept)."""

    def __init__(self, backend: _SlowConnect) -> None:
        self._pool = httpcore.AsyncConnectionPool(network_backend=backend)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        response = await self._pool.handle_async_request(
            httpcore.Request(
                method=request.method,
                url=httpcore.URL(
                    scheme=request.url.raw_scheme,
                    host=request.url.raw_host,
                    port=request.url.port,
                    target=request.url.raw_path,
                ),
                headers=request.headers.raw,
                content=request.stream,
                extensions=request.extensions,
            )
        )
        body = await response.aread()
        await response.aclose()
        return httpx.Response(response.status, headers=response.headers, content=body)

    async def aclose(self) -> None:
        await self._pool.aclose()


async def test_clock_samples_exclude_the_connection_handshake_from_the_round_trip() -> None:
    delay = 0.4
    backend = _SlowConnect(delay)
    with trio.fail_after(TIMEOUT):
        async with sim.run(venues=("bybit",), rate=10.0) as simulated:
            urls: Mapping[str, str] = simulated.urls["bybit"]
            context = VenueContext(
                driver_for("bybit"),
                markets=(Market.SPOT,),
                urls=lambda: urls,
                transport=_SlowConnectTransport(backend),
            )
            try:
                started = time.monotonic()
                await context.clock.sample()  # a cold client: the first request connects
                elapsed = time.monotonic() - started
                estimate = context.clock.estimate
            finally:
                await context.aclose()

    assert 1 == backend.connects
    assert elapsed >= delay  # the handshake did happen inside the call...
    assert estimate is not None
    assert estimate.rtt_ns < delay * 1e9 / 4  # ...but not inside the measured round trip
    # The simulator's clock is ours: the offset is the loopback noise, not half the delay.
    assert abs(estimate.offset_ns) < delay * 1e9 / 8


async def test_a_timestamp_rejection_resyncs_the_clock_at_once(
    autojump_clock: trio.abc.Clock,
) -> None:
    time_requests = 0

    def answer(request: httpx.Request) -> httpx.Response:
        nonlocal time_requests
        if request.url.path == "/api/v3/time":
            time_requests += 1
            return httpx.Response(200, json={"serverTime": time.time_ns() // 1_000_000})
        body = {"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."}
        return httpx.Response(400, json=body)

    context = _live_context("binance", httpx.MockTransport(answer))
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(context.clock.run)
            sampled = time_requests
            with pytest.raises(TimestampRejected):
                await context.call(Market.SPOT, RestCall(path="/api/v3/account", signed=True))
            await trio.sleep(0.01)
            resampled = time_requests
            nursery.cancel_scope.cancel()
    finally:
        await context.aclose()

    assert sampled + 1 == resampled
