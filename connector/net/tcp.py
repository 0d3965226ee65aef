"""A lean TCP stream for the REST pool and the websocket client.

:func:`open_tcp` connects with :func:`trio.open_tcp_stream` (name resolution,
happy eyeballs, ``TCP_NODELAY``), then takes over the socket: a
:class:`TcpStream` reads and writes it with non-blocking system calls and
waits in Trio only when the socket is not ready. Trio's own
:class:`trio.SocketStream` routes every call through several layers (error
translation, a conflict detector, the socket wrapper's retry helper), which
is most of a small read's cost in Python, and yields after every write; these
streams carry one request or one websocket at a time, each used by one task
at a time (the pool hands a connection to one request; the websocket client
writes under a lock and reads in the receiving task), so neither is needed.

* :meth:`TcpStream.receive_some` is a checkpoint: it waits, or, when bytes
  were there at once, yields once after reading them (a socket that always
  has data must not keep the other tasks from running). After a read that
  emptied the socket (fewer bytes than asked for) the next one waits for
  readiness before reading: one system call per frame where a stream is
  quiet, as many as before when it is busy.
* :meth:`TcpStream.send_all` is a cancellation point and waits only while the
  socket's buffer is full: a request's bytes go out without a pass through
  the scheduler (the reply's wait follows it at once).
* Failures are Trio's: :class:`trio.BrokenResourceError` for a failed system
  call, :class:`trio.ClosedResourceError` after :meth:`TcpStream.aclose`.

TLS goes on top, as :class:`trio.SSLStream` over a :class:`TcpStream`.
"""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable

import trio
from trio.lowlevel import (
    cancel_shielded_checkpoint,
    checkpoint,
    checkpoint_if_cancelled,
    notify_closing,
    wait_readable,
    wait_writable,
)

__all__ = ["TcpStream", "open_tcp"]

_READ_SIZE = 65536


async def open_tcp(host: str, port: int) -> TcpStream:
    """Connect to ``host:port``.

    Raises:
        OSError: The connection could not be made (as :func:`trio.open_tcp_stream`).
    """
    stream = await trio.open_tcp_stream(host, port)
    return TcpStream(socket.socket(fileno=stream.socket.detach()))


class TcpStream(trio.abc.HalfCloseableStream):
    """One connected TCP socket (see the module docstring).

    Args:
        sock: A connected stream socket; the stream owns it from now on.
    """

    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        self.socket = sock
        self._closed = False
        # The last read took less than it asked for: the socket was empty then, so
        # the next read waits for readiness first instead of a system call that
        # would most likely find nothing (a frame's read is one call, not two).
        self._drained = False

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        await checkpoint_if_cancelled()
        sock = self.socket
        view = memoryview(data)
        while view:
            if self._closed:
                raise trio.ClosedResourceError("the connection is closed")
            try:
                sent = sock.send(view)
            except BlockingIOError:
                await self._wait(wait_writable)
                continue
            except OSError as exc:
                raise trio.BrokenResourceError(f"socket send failed: {exc}") from exc
            view = view[sent:]

    async def wait_send_all_might_not_block(self) -> None:
        await self._wait(wait_writable)

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        await checkpoint_if_cancelled()
        size = _READ_SIZE if max_bytes is None else max_bytes
        if size < 1:
            raise ValueError("max_bytes must be >= 1")
        sock = self.socket
        try:
            if self._closed:
                raise trio.ClosedResourceError("the connection is closed")
            if not self._drained:
                try:
                    data = sock.recv(size)
                except BlockingIOError:
                    pass
                else:
                    self._drained = len(data) < size
                    await cancel_shielded_checkpoint()
                    return data
            while True:
                await self._wait(wait_readable)
                try:
                    data = sock.recv(size)
                except BlockingIOError:
                    continue
                self._drained = len(data) < size
                return data
        except OSError as exc:
            raise trio.BrokenResourceError(f"socket receive failed: {exc}") from exc

    async def send_eof(self) -> None:
        await checkpoint_if_cancelled()
        if self._closed:
            raise trio.ClosedResourceError("the connection is closed")
        try:
            self.socket.shutdown(socket.SHUT_WR)
        except OSError as exc:
            raise trio.BrokenResourceError(f"socket shutdown failed: {exc}") from exc
        await cancel_shielded_checkpoint()

    def close(self) -> None:
        """Close at once (idempotent); a task waiting on the socket gets ``ClosedResourceError``."""
        if not self._closed:
            self._closed = True
            notify_closing(self.socket)
            self.socket.close()

    async def aclose(self) -> None:
        self.close()
        await checkpoint()

    async def _wait(self, wait: Callable[[socket.socket], Awaitable[None]]) -> None:
        if self._closed:
            raise trio.ClosedResourceError("the connection is closed")
        await wait(self.socket)
