"""The keep-alive HTTP/1.1 connection pool (connector.net.pool) against a raw server.

The server is a few lines of trio on port 0 that answers each request with the
next scripted bytes, so every framing and closing case is exact.
"""

from __future__ import annotations

import functools
import gzip
import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import attrs
import pytest
import trio
import trustme

from connector.errors import ConnectionLost, RequestTimeout
from connector.net.http import RestClient
from connector.net.pool import ConnectionPool


@attrs.define
class Server:
    """Answers requests with ``answers`` in turn; a ``None`` answer closes the connection
    without one; ``close_after`` closes it after the answer."""

    answers: list[bytes | None]
    close_after: bool = False
    delay: float = 0.0
    connections: int = 0
    requests: list[bytes] = attrs.field(factory=list)
    port: int = 0

    async def handle(self, stream: trio.abc.Stream) -> None:
        self.connections += 1
        buffer = b""
        try:
            while self.answers:
                while b"\r\n\r\n" not in buffer:
                    data = await stream.receive_some(65536)
                    if not data:
                        return
                    buffer += data
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                while len(buffer) < length:
                    buffer += await stream.receive_some(65536)
                self.requests.append(head + b"\r\n\r\n" + buffer[:length])
                buffer = buffer[length:]
                answer = self.answers.pop(0)
                if self.delay:
                    await trio.sleep(self.delay)
                if answer is None:
                    return
                await stream.send_all(answer)
                if self.close_after:
                    return
        finally:
            await trio.aclose_forcefully(stream)


@asynccontextmanager
async def serving(
    server: Server, wrap: Callable[[trio.abc.Stream], trio.abc.Stream] | None = None
) -> AsyncIterator[Server]:
    async def handler(stream: trio.SocketStream) -> None:
        if wrap is None:
            await server.handle(stream)
            return
        tls = wrap(stream)
        assert isinstance(tls, trio.SSLStream)
        try:
            await tls.do_handshake()
        except trio.BrokenResourceError:
            return
        await server.handle(tls)

    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(
            functools.partial(trio.serve_tcp, handler, 0, host="127.0.0.1")
        )
        server.port = listeners[0].socket.getsockname()[1]
        yield server
        nursery.cancel_scope.cancel()


def ok(body: bytes, *headers: str) -> bytes:
    lines = ["HTTP/1.1 200 OK", f"Content-Length: {len(body)}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def test_keep_alive_answers_reuse_one_connection() -> None:
    with trio.fail_after(10):
        async with serving(Server([ok(b"one"), ok(b"two"), ok(b"three")])) as server:
            pool = ConnectionPool(f"http://127.0.0.1:{server.port}")
            bodies = [(await pool.request("GET", f"/p?i={i}")).body for i in range(3)]
            await pool.aclose()
    assert [b"one", b"two", b"three"] == bodies
    assert 1 == server.connections
    assert server.requests[0].startswith(b"GET /p?i=0 HTTP/1.1\r\n")
    assert f"Host: 127.0.0.1:{server.port}".encode() in server.requests[0]


async def test_chunked_answer_with_headers_and_wire_times() -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
    )
    with trio.fail_after(10):
        async with serving(Server([chunked, ok(b"next")])) as server:
            pool = ConnectionPool(f"http://127.0.0.1:{server.port}/prefix")
            answer = await pool.request("POST", "/order", body=b'{"q":1}')
            again = await pool.request("GET", "/x")
            await pool.aclose()
    assert (200, b"abc", "1") == (answer.status, answer.body, answer.headers["x-a"])
    assert 0 < answer.sent_ns <= answer.received_ns
    assert b"next" == again.body
    assert 1 == server.connections, "a fully read chunked answer leaves the connection usable"
    assert server.requests[0].startswith(b"POST /prefix/order HTTP/1.1\r\n")
    assert server.requests[0].endswith(b'Content-Length: 7\r\n\r\n{"q":1}')


async def test_connection_close_answers_open_a_new_connection_each_time() -> None:
    closing = ok(b"x", "Connection: close")
    with trio.fail_after(10):
        async with serving(Server([closing, closing], close_after=True)) as server:
            pool = ConnectionPool(f"http://127.0.0.1:{server.port}")
            for _ in range(2):
                assert b"x" == (await pool.request("GET", "/")).body
    assert 2 == server.connections


async def test_an_idle_connection_the_server_closed_is_not_used() -> None:
    with trio.fail_after(10):
        async with serving(Server([ok(b"a"), ok(b"b")], close_after=True)) as server:
            pool = ConnectionPool(f"http://127.0.0.1:{server.port}")
            assert b"a" == (await pool.request("GET", "/")).body
            await trio.sleep(0.1)  # the server's close reaches us while the connection idles
            assert b"b" == (await pool.request("GET", "/")).body
    assert 2 == server.connections


async def test_idle_connections_expire() -> None:
    with trio.fail_after(10):
        async with serving(Server([ok(b"a"), ok(b"b")])) as server:
            pool = ConnectionPool(f"http://127.0.0.1:{server.port}", keepalive_expiry=0.05)
            await pool.request("GET", "/")
            await trio.sleep(0.1)
            await pool.request("GET", "/")
    assert 2 == server.connections


async def test_a_connection_closed_without_an_answer_is_an_error_and_not_resent() -> None:
    with trio.fail_after(10):
        async with serving(Server([None, ok(b"later")])) as server:
            pool = ConnectionPool(f"http://127.0.0.1:{server.port}")
            with pytest.raises(ConnectionLost, match="closed before a response"):
                await pool.request("POST", "/order", body=b"{}")
            assert 1 == len(server.requests), "a request is never resent"
            assert b"later" == (await pool.request("GET", "/")).body


async def test_gzip_answers_are_decoded() -> None:
    body = gzip.compress(b'{"retCode":0}')
    with trio.fail_after(10):
        async with serving(Server([ok(body, "Content-Encoding: gzip")])) as server:
            pool = ConnectionPool(f"http://127.0.0.1:{server.port}")
            answer = await pool.request("GET", "/")
    assert b'{"retCode":0}' == answer.body
    assert b"Accept-Encoding: gzip, deflate" in server.requests[0]


async def test_rest_client_maps_a_slow_answer_to_request_timeout_and_drops_the_connection() -> None:
    with trio.fail_after(10):
        async with serving(Server([ok(b"slow"), ok(b"fast")])) as server:
            client = RestClient("test", f"http://127.0.0.1:{server.port}", timeout=0.2)
            server.delay = 1.0
            with pytest.raises(RequestTimeout):
                await client.get("/slow")
            server.delay = 0.0
            assert b"fast" == (await client.get("/fast")).body
            await client.aclose()
    assert 2 == server.connections, "a timed-out connection is never reused"


async def test_rest_client_maps_garbage_to_connection_lost() -> None:
    with trio.fail_after(10):
        async with serving(Server([b"not http at all\r\n\r\n"])) as server:
            client = RestClient("test", f"http://127.0.0.1:{server.port}")
            with pytest.raises(ConnectionLost):
                await client.get("/")


async def test_rest_client_sends_params_and_headers_and_reports_the_url() -> None:
    with trio.fail_after(10):
        async with serving(Server([ok(b"{}"), ok(b"{}")])) as server:
            client = RestClient(
                "test", f"http://127.0.0.1:{server.port}", headers={"X-Default": "d"}
            )
            response = await client.get("/v5/market/tickers", {"symbol": "BTC USDT", "n": 1})
            signed = await client.request("GET", "/q", params="a=1&b=%2C", headers={"X-S": "s"})
    assert f"http://127.0.0.1:{server.port}/v5/market/tickers?symbol=BTC+USDT&n=1" == response.url
    assert f"http://127.0.0.1:{server.port}/q?a=1&b=%2C" == signed.url
    assert server.requests[1].startswith(b"GET /q?a=1&b=%2C HTTP/1.1\r\n")
    assert b"X-Default: d" in server.requests[1] and b"X-S: s" in server.requests[1]


async def test_tls_with_the_context_given_and_refused_without_it() -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)

    def wrap(stream: trio.abc.Stream) -> trio.abc.Stream:
        return trio.SSLStream(stream, server_context, server_side=True)

    with trio.fail_after(10):
        async with serving(Server([ok(b"secure"), ok(b"again")]), wrap) as server:
            client = RestClient("test", f"https://127.0.0.1:{server.port}", verify=client_context)
            assert b"secure" == (await client.get("/")).body
            assert b"again" == (await client.get("/")).body
            await client.aclose()
            untrusting = RestClient("test", f"https://127.0.0.1:{server.port}")
            with pytest.raises(ConnectionLost) as info:
                await untrusting.get("/")
    assert 1 == server.connections, "the trusted client kept its one connection"
    causes: list[BaseException] = []
    error: BaseException | None = info.value
    while error is not None:
        causes.append(error)
        error = error.__cause__ or error.__context__
    assert any(isinstance(c, ssl.SSLCertVerificationError) for c in causes)


async def test_a_proxy_named_by_the_environment_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    with trio.fail_after(10):
        async with serving(Server([ok(b"via proxy")])) as proxy:
            monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
            monkeypatch.delenv("NO_PROXY", raising=False)
            monkeypatch.delenv("no_proxy", raising=False)
            client = RestClient("test", "http://venue.invalid")
            answer = await client.get("/v5/market/time")
            await client.aclose()
    assert b"via proxy" == answer.body
    assert proxy.requests[0].startswith(b"GET http://venue.invalid/v5/market/time HTTP/1.1")
