"""The lean TCP stream (connector.net.tcp) over real loopback sockets.

The far end is trio's own :func:`trio.serve_tcp` (a :class:`trio.SocketStream`),
so every byte crosses the kernel as it does to a venue.
"""

from __future__ import annotations

import functools
import socket
import ssl
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest
import trio
import trio.testing
import trustme

from connector.net.tcp import TcpStream, open_tcp

pytestmark = pytest.mark.timeout(20)

Handler = Callable[[trio.SocketStream], Awaitable[None]]


@asynccontextmanager
async def served(handler: Handler) -> AsyncIterator[TcpStream]:
    """A loopback server running ``handler`` per connection, and our stream to it."""
    async with trio.open_nursery() as nursery:
        serve = functools.partial(trio.serve_tcp, handler, 0, host="127.0.0.1")
        listeners = await nursery.start(serve)
        port = listeners[0].socket.getsockname()[1]
        stream = await open_tcp("127.0.0.1", port)
        try:
            yield stream
        finally:
            await stream.aclose()
            nursery.cancel_scope.cancel()


async def echo(stream: trio.SocketStream) -> None:
    async with stream:
        while data := await stream.receive_some(65536):
            await stream.send_all(data)


async def receive_exactly(stream: trio.abc.ReceiveStream, size: int) -> bytes:
    got = bytearray()
    while len(got) < size:
        data = await stream.receive_some(65536)
        assert data, f"end of stream after {len(got)} of {size} bytes"
        got += data
    return bytes(got)


async def test_round_trip_of_more_than_a_socket_buffer() -> None:
    # 8 MiB does not fit the kernel's buffers: send_all must wait for the socket to drain
    # while the other task reads the echo.
    payload = bytes(range(256)) * (8 * 4096)
    async with served(echo) as stream:
        assert stream.socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(stream.send_all, payload)
            assert await receive_exactly(stream, len(payload)) == payload


async def test_end_of_stream_and_half_close() -> None:
    got: list[bytes] = []

    async def read_to_end(server: trio.SocketStream) -> None:
        async with server:
            while data := await server.receive_some(65536):
                got.append(data)
            await server.send_all(b"bye")

    async with served(read_to_end) as stream:
        await stream.send_all(b"hello")
        await stream.send_eof()
        assert await receive_exactly(stream, 3) == b"bye"
        assert await stream.receive_some() == b""
    assert b"".join(got) == b"hello"


async def test_close_wakes_a_waiting_reader_and_refuses_later_calls() -> None:
    async def silent(server: trio.SocketStream) -> None:
        await trio.sleep_forever()

    async with served(silent) as stream:
        caught: list[BaseException] = []

        async def reader() -> None:
            try:
                await stream.receive_some()
            except trio.ClosedResourceError as exc:
                caught.append(exc)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(reader)
            await trio.testing.wait_all_tasks_blocked()
            await stream.aclose()
        assert len(caught) == 1
        with pytest.raises(trio.ClosedResourceError):
            await stream.send_all(b"x")
        with pytest.raises(trio.ClosedResourceError):
            await stream.receive_some()
        stream.close()  # idempotent


async def test_a_reset_connection_is_a_broken_resource() -> None:
    async def reset(server: trio.SocketStream) -> None:
        # SO_LINGER 0: close sends RST instead of FIN.
        server.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        await server.aclose()

    async with served(reset) as stream:
        with pytest.raises(trio.BrokenResourceError, match="receive failed"):
            for _ in range(100):
                if not await stream.receive_some():
                    pytest.fail("the reset was read as an orderly end of stream")
        with pytest.raises(trio.BrokenResourceError, match="send failed"):
            for _ in range(100):
                await stream.send_all(b"x" * 65536)


async def test_receive_is_a_checkpoint_even_when_bytes_are_waiting() -> None:
    async def chatty(server: trio.SocketStream) -> None:
        await server.send_all(b"x" * 100_000)
        await trio.sleep_forever()

    async with served(chatty) as stream:
        await trio.testing.wait_all_tasks_blocked()
        with trio.testing.assert_checkpoints():
            assert await stream.receive_some(10) == b"x" * 10


class CountingSocket(socket.socket):
    """A real socket that counts its ``recv`` system calls."""

    recvs = 0

    def recv(self, size: int, flags: int = 0) -> bytes:
        self.recvs += 1
        return super().recv(size, flags)


async def test_a_quiet_stream_costs_one_read_per_message() -> None:
    """After a read that emptied the socket, the next one waits for readiness
    instead of trying a read that finds nothing; bytes that came meanwhile are
    read all the same, and a read that filled its buffer reads again at once."""
    replies = [b"one", b"two", b"x" * 100, b"three"]

    async def speaker(server: trio.SocketStream) -> None:
        while await server.receive_some(1):
            await server.send_all(replies.pop(0))

    async with served(speaker) as plain:
        stream = TcpStream(CountingSocket(fileno=plain.socket.detach()))
        counted = stream.socket
        assert isinstance(counted, CountingSocket)
        await stream.send_all(b"?")
        assert await stream.receive_some() == b"one"
        first = counted.recvs  # the first read tried at once and waited
        await stream.send_all(b"?")
        assert await stream.receive_some() == b"two"
        assert counted.recvs == first + 1
        await stream.send_all(b"?")
        await trio.sleep(0.05)  # the reply is in the socket before the read
        with trio.testing.assert_checkpoints():
            assert await stream.receive_some(10) == b"x" * 10
        assert counted.recvs == first + 2
        with trio.testing.assert_checkpoints():
            assert await stream.receive_some(200) == b"x" * 90
        assert counted.recvs == first + 3
        await stream.send_all(b"?")
        assert await stream.receive_some() == b"three"
        assert counted.recvs == first + 4
        await stream.aclose()


async def test_send_is_a_cancellation_point() -> None:
    got: list[bytes] = []
    ended = trio.Event()

    async def collect(server: trio.SocketStream) -> None:
        while data := await server.receive_some(65536):
            got.append(data)
        ended.set()

    async with served(collect) as stream:
        with trio.CancelScope() as scope:
            scope.cancel()
            await stream.send_all(b"never sent")
        assert scope.cancelled_caught
        await stream.send_all(b"sent")
        await stream.send_eof()
        with trio.fail_after(5):
            await ended.wait()
        assert b"".join(got) == b"sent"


async def test_bad_size() -> None:
    async with served(echo) as stream:
        with pytest.raises(ValueError, match="max_bytes"):
            await stream.receive_some(0)


async def test_tls_on_top() -> None:
    authority = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("localhost").configure_cert(server_context)
    client_context = ssl.create_default_context()
    authority.configure_trust(client_context)

    async def tls_echo(server: trio.SocketStream) -> None:
        await echo(trio.SSLStream(server, server_context, server_side=True))  # type: ignore[arg-type]

    async with served(tls_echo) as tcp:
        tls = trio.SSLStream(tcp, client_context, server_hostname="localhost")
        await tls.send_all(b"over tls")
        assert await receive_exactly(tls, 8) == b"over tls"
        await tls.aclose()
