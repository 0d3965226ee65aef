"""The websocket transport a :class:`~connector.net.ws.WsConnection` runs on.

A transport opens one socket per ``async with transport.connect(url) as socket``;
the socket sends and receives messages, pings, and closes. Every failure comes
out as :class:`~connector.errors.ConnectionLost` (its message says why: the
venue's close code and reason, a refused handshake, a timeout), so the
connection above never sees a library's own exceptions.

:class:`WsClientTransport` (our own client over TCP/TLS, frames by
:mod:`connector.net.ws_codec`) is the default; :mod:`connector.testing` offers
in-memory ones.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import os
import ssl
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol

import attrs
import certifi
import trio

from connector.errors import ConnectionLost
from connector.net.tcp import open_tcp
from connector.net.ws_codec import (
    OP_PING,
    OP_PONG,
    Event,
    FrameDecoder,
    Handshake,
    Ping,
    Pong,
    Violation,
    WsClose,
    WsUrl,
    encode_close,
    encode_frame,
    encode_message,
    handshake_request,
)

__all__ = ["WsClientTransport", "WsClose", "WsSocket", "WsTransport"]

_READ_SIZE = 65536


class WsSocket(Protocol):
    """One open websocket, as a connection uses it."""

    async def send(self, message: str | bytes) -> int:
        """Send one message; returns the wall-clock time (ns) just before its bytes
        went to the socket.

        Raises:
            ConnectionLost: The socket is closed or closing.
        """
        ...

    async def receive(self) -> str | bytes:
        """The next message; messages sent before a remote close are still delivered.

        Raises:
            ConnectionLost: The socket is closed and every earlier message was received.
        """
        ...

    async def ping(self) -> None:
        """Send a protocol-level ping and return when its pong arrives.

        The pong is read by whichever task is in :meth:`receive` (a connection
        always has one); without one, this waits.

        Raises:
            ConnectionLost: The socket closed before the pong came.
        """
        ...

    async def aclose(self, code: int = 1000, reason: str = "") -> None:
        """Close the socket (idempotent); pending receives end with ``ConnectionLost``."""
        ...

    @property
    def close_info(self) -> WsClose | None:
        """Why the socket closed (the remote's code and reason, or ours), ``None`` while open."""
        ...


class WsTransport(Protocol):
    """Opens websockets."""

    def connect(self, url: str) -> AbstractAsyncContextManager[WsSocket]:
        """``async with transport.connect(url) as socket``: open, use, and close one socket.

        Raises:
            ConnectionLost: The socket could not be opened (refused, handshake
                failed, timed out); the message says which.
        """
        ...


class _Socket:
    """:class:`WsSocket` over one TCP or TLS stream.

    Receiving happens in the caller's task: :meth:`receive` reads the stream
    and decodes until a message is whole, answering pings and noting pongs on
    the way. Every call is one checkpoint: a read, or, for a message that an
    earlier read completed (a burst), a bare yield, so the subscribers the
    previous message woke run before the rest of the burst is handled.
    Writes (messages, pongs, pings, the close) share one lock.
    """

    def __init__(
        self,
        stream: trio.abc.Stream,
        decoder: FrameDecoder,
        first: list[Event],
        disconnect_timeout: float,
    ) -> None:
        self._stream = stream
        self._decoder = decoder
        self._pending: deque[Event] = deque(first)
        self._disconnect_timeout = disconnect_timeout
        # Locks whose free take costs no task lookup (trio's ``Lock`` records its owner).
        self._send_lock = trio.Semaphore(1)
        self._reading = trio.Semaphore(1)
        self._pings: dict[bytes, trio.Event] = {}
        self._ping_count = 0
        self._close: WsClose | None = None
        self._ending = ""  # the ConnectionLost message once closing or closed
        self._close_sent = False
        self._shut = False

    @property
    def close_info(self) -> WsClose | None:
        return self._close

    def _end(self, close: WsClose, ending: str) -> None:
        """Record how the socket ends (the first reason found stays)."""
        if self._close is None:
            self._close = close
            self._ending = ending

    def _lost(self) -> ConnectionLost:
        return ConnectionLost(self._ending)

    async def send(self, message: str | bytes) -> int:
        if self._close is not None:
            raise self._lost()
        return await self._write(encode_message(message, os.urandom(4)))

    async def receive(self) -> str | bytes:
        pending = self._pending
        read = False
        while True:
            while pending:
                event = pending.popleft()
                if isinstance(event, (str, bytes)):
                    if not read:
                        # A message of an earlier read: yield once all the same, so the
                        # tasks the previous message woke (its subscribers) run before
                        # the rest of a burst is handled.
                        await trio.lowlevel.cancel_shielded_checkpoint()
                    return event
                await self._control(event)
            if self._shut:
                raise self._lost()
            pending.extend(self._decoder.receive(await self._read()))
            read = True

    async def ping(self) -> None:
        if self._close is not None:
            raise self._lost()
        self._ping_count += 1
        payload = self._ping_count.to_bytes(8, "big")
        self._pings[payload] = answered = trio.Event()
        await self._write(encode_frame(OP_PING, payload, os.urandom(4)))
        await answered.wait()
        if self._shut:
            raise self._lost()

    async def aclose(self, code: int = 1000, reason: str = "") -> None:
        try:
            if self._close is None:
                close = WsClose(code=code, reason=reason)
                self._end(close, f"closed by us: {close}")
                with (
                    trio.move_on_after(self._disconnect_timeout),
                    contextlib.suppress(ConnectionLost),
                ):
                    await self._write_close(code, reason)
                    await self._await_close_reply()
        finally:
            await self._shutdown()

    async def _await_close_reply(self) -> None:
        """Read (dropping messages) until the venue's close or the end of the stream."""
        while not self._shut:
            events = self._decoder.receive(await self._read())
            if any(isinstance(e, WsClose | Violation) for e in events):
                return

    async def _control(self, event: Ping | Pong | WsClose | Violation) -> None:
        if isinstance(event, Ping):
            await self._write(encode_frame(OP_PONG, event.payload, os.urandom(4)))
            return
        if isinstance(event, Pong):
            self._answered(event.payload)
            return
        # The venue's close (answered with the same code), or its protocol error.
        if isinstance(event, WsClose):
            self._end(event, f"closed by venue: {event}")
        else:
            close = WsClose(code=event.code, reason=event.reason)
            self._end(close, f"protocol error: {close}")
        try:
            with trio.move_on_after(self._disconnect_timeout):
                await self._write_close(event.code, event.reason)
        finally:
            await self._shutdown()
        raise self._lost()

    def _answered(self, payload: bytes) -> None:
        """A pong answers its ping and every earlier one (RFC 6455 section 5.5.3)."""
        if payload not in self._pings:
            return  # unsolicited: a heartbeat
        while self._pings:
            key, event = next(iter(self._pings.items()))
            del self._pings[key]
            event.set()
            if key == payload:
                return

    async def _write_close(self, code: int, reason: str) -> None:
        """Send the close frame once (ours, or the echo of the venue's)."""
        if self._close_sent:
            return
        self._close_sent = True
        with contextlib.suppress(ConnectionLost):  # the stream is gone: nothing to tell
            await self._write(encode_close(code, reason, os.urandom(4)))

    async def _write(self, frame: bytes) -> int:
        """Write one frame whole; returns the wall-clock time (ns) just before the write.
        The send lock is taken without a checkpoint when free (trio's ``acquire``
        yields to every other ready task first): a request goes on the wire before the
        tasks it would otherwise wait behind."""
        lock = self._send_lock
        try:
            lock.acquire_nowait()
        except trio.WouldBlock:
            await lock.acquire()
        try:
            written_ns = time.time_ns()
            await self._stream.send_all(frame)
            return written_ns
        except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            self._end(WsClose(code=1006), f"connection lost: {_why(exc)}")
            raise self._lost() from exc
        finally:
            lock.release()

    async def _read(self) -> bytes:
        """The next bytes of the stream (whole or not) for whichever task receives.

        The read lock is taken without a checkpoint when free, as it is on the hot
        path; another task waits for it only while :meth:`aclose` reads for the
        venue's close.
        """
        lock = self._reading
        try:
            lock.acquire_nowait()
        except trio.WouldBlock:
            await lock.acquire()
        try:
            if self._shut:
                raise self._lost()
            try:
                data = await self._stream.receive_some(_READ_SIZE)
            except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
                self._end(WsClose(code=1006), f"connection lost: {_why(exc)}")
                raise self._lost() from exc
        finally:
            lock.release()
        if not data:
            self._end(
                WsClose(code=1006), "connection lost: the venue closed it without a close frame"
            )
            await self._shutdown()
            raise self._lost()
        return data if isinstance(data, bytes) else bytes(data)

    async def _shutdown(self) -> None:
        """Close the stream (idempotent); pending pings and reads end with ``ConnectionLost``."""
        if self._shut:
            return
        self._shut = True
        self._end(WsClose(code=1006), "connection lost")
        for event in self._pings.values():
            event.set()
        self._pings.clear()
        await trio.aclose_forcefully(self._stream)


def _why(exc: BaseException) -> str:
    """What broke a stream: trio wraps the OS or TLS error as the cause."""
    cause = exc.__cause__
    return repr(cause) if cause is not None else repr(exc)


@attrs.frozen(kw_only=True)
class WsClientTransport:
    """The real network: our websocket client over TCP (``ws://``) or TLS (``wss://``).

    Each socket receives in the task that calls ``receive()`` (no reader task,
    no queue) and answers the venue's pings itself (Binance's keep-alive).

    Attributes:
        max_message_size: Larger messages close the socket (code 1009).
        connect_timeout: Seconds for TCP, TLS and the opening handshake.
        disconnect_timeout: Seconds for the closing handshake.
        ssl_context: For ``wss://``: the context that checks the server's
            certificate (e.g. one trusting a simulator's CA file); ``None``:
            the public authorities of the ``certifi`` bundle, as for REST.
    """

    max_message_size: int = 16 * 1024 * 1024
    connect_timeout: float = 10.0
    disconnect_timeout: float = 2.0
    ssl_context: ssl.SSLContext | None = None

    @asynccontextmanager
    async def connect(self, url: str) -> AsyncIterator[WsSocket]:
        socket = await self._open(url, WsUrl.parse(url))
        try:
            yield socket
        finally:
            await socket.aclose()

    async def _open(self, url: str, where: WsUrl) -> _Socket:
        key = base64.b64encode(os.urandom(16)).decode("ascii")
        handshake = Handshake(key)
        try:
            with trio.fail_after(self.connect_timeout):
                stream = await self._shake_hands(where, key, handshake)
        except trio.TooSlowError as exc:
            if handshake.status:  # refused, and the refusal's body never ended
                raise _refused(url, handshake) from None
            raise ConnectionLost(
                f"connecting to {url} timed out after {self.connect_timeout:g} s"
            ) from exc
        except (OSError, trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            raise ConnectionLost(f"could not connect to {url}: {_why(exc)}") from exc
        except ValueError as exc:
            raise ConnectionLost(f"websocket handshake with {url} failed: {exc}") from exc
        if handshake.status != 101:
            await trio.aclose_forcefully(stream)
            raise _refused(url, handshake)
        decoder = FrameDecoder(self.max_message_size)
        first = decoder.receive(handshake.rest) if handshake.rest else []
        return _Socket(stream, decoder, first, self.disconnect_timeout)

    async def _shake_hands(self, where: WsUrl, key: str, handshake: Handshake) -> trio.abc.Stream:
        """TCP, TLS, the opening handshake: the stream once ``handshake`` has the answer."""
        stream: trio.abc.Stream = await open_tcp(where.host, where.port)
        try:
            if where.secure:
                context = self.ssl_context or _public_authorities()
                stream = trio.SSLStream(stream, context, server_hostname=where.host)
                await stream.do_handshake()
            await stream.send_all(handshake_request(where, key))
            while not handshake.receive(await stream.receive_some(_READ_SIZE)):
                pass
        except BaseException:
            await trio.aclose_forcefully(stream)
            raise
        return stream


@functools.cache
def _public_authorities() -> ssl.SSLContext:
    """The TLS context trusting the ``certifi`` bundle, as the REST clients do (made once)."""
    return ssl.create_default_context(cafile=certifi.where())


def _refused(url: str, handshake: Handshake) -> ConnectionLost:
    body = handshake.body[:200].decode("utf-8", errors="replace")
    return ConnectionLost(
        f"websocket handshake refused by {url}: HTTP {handshake.status} {body}".rstrip()
    )
