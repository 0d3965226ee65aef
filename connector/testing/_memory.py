"""An in-memory websocket transport: both ends of each socket live in this process."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import trio

from connector.errors import ConnectionLost
from connector.net.ws_transport import WsClose, WsSocket

__all__ = ["MemoryPeer", "MemoryTransport", "PeerHandler"]


class _Link:
    """What both ends of one socket share: how it closed, and when."""

    def __init__(self) -> None:
        self.close: WsClose | None = None
        self.closed = trio.Event()


class _End:
    """One end of an in-memory websocket.

    Messages go through a bounded buffer per direction (``buffer`` messages;
    when it is full the sender waits, as TCP would make it). Closing an end
    lets the other end read what was already sent, then its ``receive`` raises
    :class:`~connector.errors.ConnectionLost`; sends to a closed end raise it at once.
    """

    def __init__(
        self,
        link: _Link,
        outgoing: trio.MemorySendChannel[str | bytes],
        incoming: trio.MemoryReceiveChannel[str | bytes],
        remote: str,
    ) -> None:
        self._link = link
        self._outgoing = outgoing
        self._incoming = incoming
        self._remote = remote
        self._other: _End | None = None
        self.answer_pings = True
        self.pings = 0

    @property
    def close_info(self) -> WsClose | None:
        """How the socket closed (whichever end closed it first), ``None`` while open."""
        return self._link.close

    @property
    def closed(self) -> bool:
        """Either end has closed the socket."""
        return self._link.close is not None

    def _lost(self) -> ConnectionLost:
        return ConnectionLost(f"closed by {self._remote}: {self._link.close or WsClose(code=1006)}")

    async def send(self, message: str | bytes) -> int:
        """Send one message to the other end; returns the wall-clock time (ns) it was handed
        over.

        Raises:
            ConnectionLost: The socket is closed.
        """
        try:
            written_ns = time.time_ns()
            await self._outgoing.send(message)
            return written_ns
        except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            raise self._lost() from exc

    async def receive(self) -> str | bytes:
        """The next message from the other end.

        Raises:
            ConnectionLost: The socket is closed and every message sent before was read.
        """
        try:
            return await self._incoming.receive()
        except (trio.EndOfChannel, trio.ClosedResourceError) as exc:
            raise self._lost() from exc

    async def ping(self) -> None:
        """Ping the other end; return once it answers (see its ``answer_pings``).

        Raises:
            ConnectionLost: The socket is closed, or closed before the pong.
        """
        other = self._other
        if self.closed or other is None:
            raise self._lost()
        other.pings += 1
        if other.answer_pings:
            await trio.lowlevel.checkpoint()
            return
        await self._link.closed.wait()
        raise self._lost()

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the socket (idempotent, never blocks); 1006: dropped without a close frame."""
        if self._link.close is None:
            self._link.close = WsClose(code=code, reason=reason)
        self._outgoing.close()
        self._incoming.close()
        self._link.closed.set()

    async def aclose(self, code: int = 1000, reason: str = "") -> None:
        """Close the socket (the :class:`~connector.net.ws_transport.WsSocket` spelling)."""
        self.close(code, reason)
        await trio.lowlevel.checkpoint()


class MemoryPeer(_End):
    """The server end of an in-memory socket: what a test scripts.

    Attributes:
        url: The URL the client connected to.
        answer_pings: Whether the client's protocol pings get a pong (``False``
            simulates a venue that stopped answering).
        pings: Protocol pings received from the client.
    """

    def __init__(
        self,
        url: str,
        link: _Link,
        outgoing: trio.MemorySendChannel[str | bytes],
        incoming: trio.MemoryReceiveChannel[str | bytes],
    ) -> None:
        super().__init__(link, outgoing, incoming, "client")
        self.url = url


def pair(url: str, buffer: int = 256) -> tuple[_End, MemoryPeer]:
    """A connected pair: the client end (a :class:`WsSocket`) and the server end."""
    link = _Link()
    to_server_send, to_server_recv = trio.open_memory_channel[str | bytes](buffer)
    to_client_send, to_client_recv = trio.open_memory_channel[str | bytes](buffer)
    client = _End(link, to_server_send, to_client_recv, "venue")
    peer = MemoryPeer(url, link, to_client_send, to_server_recv)
    client._other, peer._other = peer, client
    return client, peer


@asynccontextmanager
async def beside(
    task: Callable[[], Awaitable[None]], *, on_exit: Callable[[], None], grace: float
) -> AsyncIterator[trio.Nursery]:
    """Run ``task`` beside the body; afterwards call ``on_exit`` and give it ``grace`` seconds.

    An exception of the task or of the body comes out as itself, not wrapped
    in an exception group (a failing scripted server fails the test loudly).
    """
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(task)
            try:
                yield nursery
            finally:
                on_exit()
                scope = nursery.cancel_scope
                scope.deadline = min(scope.deadline, trio.current_time() + grace)
    except BaseExceptionGroup as group:
        if len(group.exceptions) != 1:
            raise
        only = group.exceptions[0]
        raise only from only.__cause__


PeerHandler = Callable[[MemoryPeer], Awaitable[None]]
"""``async def handler(peer)``: serves one connection for as long as the client keeps it."""


class MemoryTransport:
    """A :class:`~connector.net.ws_transport.WsTransport` whose sockets stay in memory.

    Each ``connect`` makes a socket pair at once (no network, no handshake
    delay). The server end goes either to ``handler`` (run beside the client
    for the life of the connection) or, without one, to a queue that the test
    reads with :meth:`accept`::

        transport = MemoryTransport()
        conn = WsConnection(..., transport=transport)
        nursery.start_soon(conn.run)
        peer = await transport.accept()
        assert '{"op":"login"}' == await peer.receive()
        await peer.send('{"event":"login","code":"0"}')
        peer.close(1001, "going away")     # the client reconnects

    Args:
        handler: Serves each connection (``None``: tests :meth:`accept` them).
        buffer: Messages buffered per direction of a socket; a sender waits
            while the buffer is full.
        backlog: Connections waiting for :meth:`accept`; a connect beyond it
            fails with ``ConnectionLost`` (a listen queue overflowing).
        grace: Seconds a handler gets to finish after its client has gone,
            before it is cancelled.
    """

    def __init__(
        self,
        handler: PeerHandler | None = None,
        *,
        buffer: int = 256,
        backlog: int = 16,
        grace: float = 1.0,
    ) -> None:
        self._handler = handler
        self._buffer = buffer
        self._grace = grace
        self._accept_send, self._accept_receive = trio.open_memory_channel[MemoryPeer](backlog)
        self._refusal: str | None = None
        self.connects = 0
        self.refused = 0

    def refuse(self, reason: str | None) -> None:
        """Fail every connect with ``reason`` from now on (``None``: accept again)."""
        self._refusal = reason

    async def accept(self) -> MemoryPeer:
        """The server end of the next connection (waits for a client to connect)."""
        return await self._accept_receive.receive()

    @asynccontextmanager
    async def connect(self, url: str) -> AsyncIterator[WsSocket]:
        """Open an in-memory socket to ``url``; closed (code 1000) when the block ends.

        Raises:
            ConnectionLost: :meth:`refuse` is in force, or the backlog is full.
        """
        if self._refusal is not None:
            self.refused += 1
            await trio.lowlevel.checkpoint()
            raise ConnectionLost(f"handshake failed: {self._refusal}")
        client, peer = pair(url, self._buffer)
        self.connects += 1
        handler = self._handler
        if handler is None:
            try:
                self._accept_send.send_nowait(peer)
            except trio.WouldBlock:
                self.refused += 1
                raise ConnectionLost("connection failed: backlog full") from None
            try:
                yield client
            finally:
                client.close()
            return

        async def serve() -> None:
            # A server whose handler returns closes the socket, as real ones do.
            try:
                await handler(peer)
            except BaseException:
                peer.close(1011, "internal error")
                raise
            peer.close(1000, "")

        async with beside(serve, on_exit=client.close, grace=self._grace):
            yield client
