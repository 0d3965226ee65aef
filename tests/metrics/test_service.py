"""``GET /metrics`` of a running Connector on the simulator, scraped over a real socket
and read with the prometheus_client parser; bad requests answered, the server serving on."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import ROUND_DOWN, Decimal

import httpx
import pytest
import trio
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from connector import Connector
from connector.config import Config, MetricsConfig, VenueConfig
from connector.errors import ConfigError
from connector.metrics.exposition import FAMILIES, Kind
from connector.metrics.service import MAX_HEAD_BYTES, MetricsService
from connector.model import Symbol
from tests.rig import first_bid

PERP = Symbol.parse("BTC-USDT-PERP")
TIMEOUT = 60


def _config(listen: str = "127.0.0.1:0") -> Config:
    return Config(
        venues={
            "binance": VenueConfig(name="binance", endpoint="sim", symbols=(PERP,)),
            "bybit": VenueConfig(name="bybit", enabled=False),
            "okx": VenueConfig(name="okx", enabled=False),
        },
        metrics=MetricsConfig(listen=listen),
    )


@asynccontextmanager
async def _running(listen: str = "127.0.0.1:0") -> AsyncIterator[Connector]:
    async with Connector(_config(listen)) as c:
        await first_bid(c, "binance", PERP)  # the book is valid and has a bid
        yield c


def _url(c: Connector, path: str = "/metrics") -> str:
    assert c.metrics_address is not None
    host, port = c.metrics_address
    return f"http://{host}:{port}{path}"


async def _scrape(c: Connector) -> dict[str, list[Sample]]:
    async with httpx.AsyncClient() as client:
        response = await client.get(_url(c))
    assert 200 == response.status_code
    assert "text/plain; version=0.0.4; charset=utf-8" == response.headers["content-type"]
    families = list(text_string_to_metric_families(response.text))
    declared = {f.name.removesuffix("_total"): f.kind.value for f in FAMILIES}
    assert declared == {f.name: f.type for f in families}
    return {f.name: f.samples for f in families}


def _value(samples: list[Sample], name: str, **labels: str) -> float:
    [value] = [s.value for s in samples if s.name == name and s.labels == labels]
    return value


async def _raw(c: Connector, data: bytes, *, eof: bool = True) -> bytes:
    """Send ``data`` on a fresh connection and half-close it (unless not ``eof``: a
    client that waits); everything the server answers until it closes."""
    assert c.metrics_address is not None
    stream = await trio.open_tcp_stream(*c.metrics_address)
    async with stream:
        await stream.send_all(data)
        if eof:
            with contextlib.suppress(trio.BrokenResourceError):
                await stream.send_eof()  # the server may have answered and closed already
        out = b""
        while chunk := await stream.receive_some(65536):
            out += chunk
    return out


async def test_scrape_shows_the_orders_placed_the_valid_book_and_the_statistics() -> None:
    with trio.fail_after(TIMEOUT):
        async with _running() as c:
            bid = await first_bid(c, "binance", PERP)
            tick = c.instrument("binance", PERP).tick_size
            price = (bid * Decimal("0.8")).quantize(tick, rounding=ROUND_DOWN)
            placed = [
                await c.place_order("binance", PERP, "buy", "limit", Decimal("0.01"), price)
                for _ in range(3)
            ]
            await c.amend_order("binance", PERP, placed[0].client_order_id, price=price - tick)
            for order in placed:
                await c.cancel_order("binance", PERP, order.client_order_id)
            async with c.subscribe("orderbook.binance.>") as updates:
                while c.statistics().latency.book_age["binance"].count < 1:
                    await updates.receive()  # the first frame with book updates is timed

            scraped = await _scrape(c)
            stats = c.statistics()

    trip = scraped["connector_order_round_trip_seconds"]
    count = "connector_order_round_trip_seconds_count"
    assert 3 == _value(trip, count, venue="binance", action="place")
    assert 1 == _value(trip, count, venue="binance", action="amend")
    assert 3 == _value(trip, count, venue="binance", action="cancel")
    inf = _value(
        trip,
        "connector_order_round_trip_seconds_bucket",
        venue="binance",
        action="place",
        le="+Inf",
    )
    assert 3 == inf
    assert 0 < _value(
        trip, "connector_order_round_trip_seconds_sum", venue="binance", action="place"
    )
    book = {"venue": "binance", "symbol": "BTC-USDT-PERP"}
    state = scraped["connector_book_state"]
    assert 1 == _value(state, "connector_book_state", **book, state="valid")
    assert 0 == _value(state, "connector_book_state", **book, state="invalid")
    age = _value(
        scraped["connector_book_update_age_seconds"],
        "connector_book_update_age_seconds_count",
        venue="binance",
    )
    assert 1 <= age
    # Values that did not move between the scrape and statistics(): the orders' own.
    orders = stats.orders["binance"].book
    assert orders.orders == _value(scraped["connector_orders"], "connector_orders", venue="binance")
    assert 0 == _value(scraped["connector_orders_open"], "connector_orders_open", venue="binance")
    assert stats.risk is not None
    allowed = _value(scraped["connector_risk_allowed"], "connector_risk_allowed_total")
    assert stats.risk.allowed == allowed
    assert 0 == _value(scraped["connector_risk_killed"], "connector_risk_killed")
    for ws in stats.venues["binance"].connections:
        labels = {"venue": "binance", "connection": ws.conn_id}
        assert ws.connects == _value(
            scraped["connector_ws_connects"], "connector_ws_connects_total", **labels
        )
        assert 1 == _value(scraped["connector_ws_connected"], "connector_ws_connected", **labels)
    closed = _value(
        scraped["connector_health_breaker_state"],
        "connector_health_breaker_state",
        venue="binance",
        state="closed",
    )
    assert 1 == closed
    assert stats.latency.orders["binance"]["place"].count == 3


async def test_bad_requests_are_answered_and_the_server_serves_on() -> None:
    with trio.fail_after(TIMEOUT):
        async with _running() as c:
            garbage = await _raw(c, b"\x00\xff\x16\x03\x01 hello\r\n\r\n")
            no_version = await _raw(c, b"GET /metrics\r\n\r\n")
            bad_header = await _raw(c, b"GET /metrics HTTP/1.1\r\nno colon here\r\n\r\n")
            cut_short = await _raw(c, b"GET /metrics HTTP/1.1\r\nHost: x")
            huge = await _raw(
                c, b"GET /metrics HTTP/1.1\r\nX-Big: " + b"a" * (4 * MAX_HEAD_BYTES) + b"\r\n\r\n"
            )
            async with httpx.AsyncClient() as client:
                post = await client.post(_url(c), content=b"x" * 100_000)
                other = await client.get(_url(c, "/other"))
                head = await client.head(_url(c))
                after = await client.get(_url(c))

    assert garbage.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert no_version.startswith(b"HTTP/1.1 400 ")
    assert bad_header.startswith(b"HTTP/1.1 400 ")
    assert cut_short.startswith(b"HTTP/1.1 400 ")
    assert huge.startswith(b"HTTP/1.1 431 ")
    assert b"Connection: close\r\n" in garbage
    assert (405, "GET, HEAD") == (post.status_code, post.headers["allow"])
    assert 404 == other.status_code
    assert (200, b"") == (head.status_code, head.content)
    assert 200 == after.status_code
    assert "connector_book_state" in after.text


async def test_a_tls_handshake_is_refused_at_once_and_bare_lf_lines_are_read() -> None:
    # A scrape configured with https sends a ClientHello and waits: it gets its 400 at
    # once, not when the connection's 10 s run out. Lines may end in a bare LF.
    hello = bytes.fromhex("16030100f4010000f00303") + b"\x00" * 32
    with trio.fail_after(TIMEOUT):
        async with _running() as c:
            with trio.fail_after(5):  # half the connection's own time limit
                tls = await _raw(c, hello, eof=False)
                bare = await _raw(c, b"GET /metrics HTTP/1.1\nHost: x\n\n", eof=False)

    assert tls.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert bare.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"connector_book_state" in bare


async def test_a_port_in_use_leaves_the_connector_running_without_metrics() -> None:
    with trio.fail_after(TIMEOUT):
        [taken] = await trio.open_tcp_listeners(0, host="127.0.0.1")
        async with taken:
            port = taken.socket.getsockname()[1]
            async with Connector(_config(f"127.0.0.1:{port}")) as c:
                await first_bid(c, "binance", PERP)
                assert c.metrics_address is None
                assert "metrics  stopped" in c.status().render()


async def test_without_a_listen_address_no_metrics_service_runs() -> None:
    with trio.fail_after(TIMEOUT):
        async with Connector(_config("")) as c:
            assert c.metrics_address is None
            assert "metrics" not in c.status().render()


@pytest.mark.parametrize("listen", ["9464", "localhost:", "127.0.0.1:65536", "::1:9464"])
def test_a_bad_listen_address_in_code_is_a_config_error_naming_the_key(listen: str) -> None:
    with pytest.raises(ConfigError, match=r"metrics\.listen"):
        Connector(_config(listen))


def test_declared_kinds_cover_counters_gauges_and_histograms() -> None:
    assert {Kind.COUNTER, Kind.GAUGE, Kind.HISTOGRAM} == {f.kind for f in FAMILIES}


async def test_an_idle_connection_is_closed_after_the_timeout_and_excess_ones_get_503() -> None:
    service = MetricsService("127.0.0.1", 0, lambda: "# nothing\n", timeout=1.0, max_connections=1)
    with trio.fail_after(TIMEOUT):
        async with trio.open_nursery() as nursery:
            await nursery.start(service.run)
            assert service.address is not None
            idle = await trio.open_tcp_stream(*service.address)
            async with idle:
                await idle.send_all(b"GET /metr")  # and nothing more
                # The server takes the slot in its own time; nothing signals it.
                while service.connections < 1:  # noqa: ASYNC110
                    await trio.sleep(0.01)
                excess = await trio.open_tcp_stream(*service.address)
                async with excess:
                    await excess.send_all(b"GET /metrics HTTP/1.1\r\n\r\n")
                    refused = await excess.receive_some(4096)
                # The idle one ends at its deadline with nothing answered.
                assert b"" == await idle.receive_some(4096)
            async with httpx.AsyncClient() as client:
                served = await client.get(f"http://127.0.0.1:{service.address[1]}/metrics")
            nursery.cancel_scope.cancel()

    assert refused.startswith(b"HTTP/1.1 503 ")
    assert (200, "# nothing\n") == (served.status_code, served.text)
