"""The websocket transport a :class:`~connector.net.ws.WsConnection` runs on.

A transport opens one socket per ``async with transport.connect(url) as socket``;
the socket sends and receives messages, pings, and closes. Every failure comes
out as :class:`~connector.errors.ConnectionLost` (its message says why: the
venue's close code and reason, a refused handshake, a timeout), so the
connection above never sees a library's own exceptions.

:class:`TrioWebsocketTransport` (trio-websocket over TCP/TLS) is the default;
:mod:`connector.testing` offers in-memory ones.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol

import attrs
import trio
import trio_websocket

from connector.errors import ConnectionLost

__all__ = ["TrioWebsocketTransport", "WsClose", "WsSocket", "WsTransport"]


@attrs.frozen(kw_only=True)
class WsClose:
    """How a websocket ended: the close code (1006: dropped without a close frame) and reason."""

    code: int
    reason: str = ""

    def __str__(self) -> str:
        return f"{self.code} {self.reason}".rstrip()


class WsSocket(Protocol):
    """One open websocket, as a connection uses it."""

    async def send(self, message: str | bytes) -> None:
        """Send one message.

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


class _TrioSocket:
    """:class:`WsSocket` over one trio-websocket connection."""

    def __init__(self, ws: trio_websocket.WebSocketConnection) -> None:
        self._ws = ws

    @property
    def close_info(self) -> WsClose | None:
        closed = self._ws.closed
        if closed is None:
            return None
        return WsClose(code=closed.code, reason=closed.reason or "")

    def _lost(self, exc: BaseException) -> ConnectionLost:
        info = self.close_info
        if info is not None:
            return ConnectionLost(f"closed by venue: {info}")
        return ConnectionLost(f"connection lost: {exc!r}")

    async def send(self, message: str | bytes) -> None:
        try:
            await self._ws.send_message(message)
        except (trio_websocket.ConnectionClosed, OSError, trio.BrokenResourceError) as exc:
            raise self._lost(exc) from exc

    async def receive(self) -> str | bytes:
        try:
            return await self._ws.get_message()
        except (trio_websocket.ConnectionClosed, OSError, trio.BrokenResourceError) as exc:
            raise self._lost(exc) from exc

    async def ping(self) -> None:
        try:
            await self._ws.ping()
        except (trio_websocket.ConnectionClosed, OSError, trio.BrokenResourceError) as exc:
            raise self._lost(exc) from exc

    async def aclose(self, code: int = 1000, reason: str = "") -> None:
        await self._ws.aclose(code, reason or None)


@attrs.frozen(kw_only=True)
class TrioWebsocketTransport:
    """The real network: trio-websocket over TCP (``ws://``) or TLS (``wss://``).

    trio-websocket answers the venue's pings itself (Binance's keep-alive).

    Attributes:
        max_message_size: Larger messages close the socket (code 1009).
        connect_timeout: Seconds for TCP, TLS and the opening handshake.
        disconnect_timeout: Seconds for the closing handshake.
        message_queue_size: Received messages buffered before reading stops
            pulling from the socket (back-pressure onto TCP).
        ssl_context: For ``wss://``: the context that checks the server's
            certificate (e.g. one trusting a simulator's CA file); ``None``:
            the system's authorities.
    """

    max_message_size: int = 16 * 1024 * 1024
    connect_timeout: float = 10.0
    disconnect_timeout: float = 2.0
    message_queue_size: int = 1
    ssl_context: ssl.SSLContext | None = None

    @asynccontextmanager
    async def connect(self, url: str) -> AsyncIterator[WsSocket]:
        opened = False
        try:
            async with trio_websocket.open_websocket_url(
                url,
                max_message_size=self.max_message_size,
                connect_timeout=self.connect_timeout,
                disconnect_timeout=self.disconnect_timeout,
                message_queue_size=self.message_queue_size,
                ssl_context=self.ssl_context,
            ) as ws:
                opened = True
                yield _TrioSocket(ws)
        except trio_websocket.HandshakeError as exc:
            raise ConnectionLost(f"handshake failed: {exc!r}") from exc
        except trio_websocket.ConnectionClosed as exc:
            why = exc.reason
            info = (
                WsClose(code=1006)
                if why is None
                else WsClose(code=why.code, reason=why.reason or "")
            )
            raise ConnectionLost(f"closed by venue: {info}") from exc
        except (OSError, trio.BrokenResourceError) as exc:
            if opened:
                raise
            raise ConnectionLost(f"connection failed: {exc!r}") from exc
        except trio.TooSlowError as exc:
            if opened:
                raise
            raise ConnectionLost("connect timed out") from exc
