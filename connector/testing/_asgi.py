"""Drive an ASGI app (the simulator's venue endpoints) in memory: websocket and REST."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, cast
from urllib.parse import unquote, urlsplit

import httpx
import trio

from connector.errors import ConnectionLost
from connector.net.ws_transport import WsSocket
from connector.testing._memory import MemoryPeer, beside, pair

__all__ = ["AsgiApp", "AsgiWebsocketTransport", "asgi_http_transport"]

AsgiReceive = Callable[[], Awaitable[dict[str, Any]]]
AsgiSend = Callable[[dict[str, Any]], Awaitable[None]]
AsgiApp = Callable[[dict[str, Any], AsgiReceive, AsgiSend], Awaitable[None]]
"""An ASGI 3 application: ``async def app(scope, receive, send)``."""


class _Session:
    """One websocket as the app sees it: ASGI messages over the server end of a pair."""

    def __init__(self, peer: MemoryPeer) -> None:
        self._peer = peer
        self._connect_sent = False
        self.accepted = False
        self.refusal: str | None = None
        self.decided = trio.Event()
        self._status = 0

    def _decide(self, refusal: str | None) -> None:
        if not self.decided.is_set():
            self.refusal = refusal
            self.accepted = refusal is None
            self.decided.set()

    async def receive(self) -> dict[str, Any]:
        if not self._connect_sent:
            self._connect_sent = True
            return {"type": "websocket.connect"}
        try:
            data = await self._peer.receive()
        except ConnectionLost:
            info = self._peer.close_info
            code = info.code if info is not None else 1006
            reason = info.reason if info is not None else ""
            return {"type": "websocket.disconnect", "code": code, "reason": reason}
        if isinstance(data, bytes):
            return {"type": "websocket.receive", "bytes": data}
        return {"type": "websocket.receive", "text": data}

    async def send(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "websocket.accept":
            self._decide(None)
        elif kind == "websocket.send":
            data = message.get("text")
            if data is None:
                data = message.get("bytes") or b""
            with contextlib.suppress(ConnectionLost):  # the client has gone: drop, as servers do
                await self._peer.send(data)
        elif kind == "websocket.close":
            if not self.accepted:
                self._decide(f"status 403, close code {message.get('code', 1000)}")
            self._peer.close(int(message.get("code", 1000)), message.get("reason") or "")
        elif kind == "websocket.http.response.start":
            self._status = int(message["status"])
        elif kind == "websocket.http.response.body" and not message.get("more_body", False):
            self._decide(f"status {self._status}")

    async def run(self, app: AsgiApp, scope: dict[str, Any]) -> None:
        try:
            await app(scope, self.receive, self.send)
        finally:
            self._decide("the application ended before accepting")
            self._peer.close(1000, "")


class AsgiWebsocketTransport:
    """A websocket transport that runs an ASGI app's websocket endpoint in memory.

    Each ``connect(url)`` builds the ASGI websocket scope from the URL (path,
    query string, host), runs the app beside the client for the life of the
    socket, and returns once the app accepts. The simulator's venue endpoints
    are ASGI apps, so a test can stream from a simulated venue without sockets::

        transport = AsgiWebsocketTransport(app)
        conn = WsConnection(..., url="ws://sim/ws", transport=transport)

    Args:
        app: The ASGI application.
        client: The ``(host, port)`` the app sees as the client (IP rate limits key on it).
        buffer: Messages buffered per direction; a sender waits while it is full.
        grace: Seconds the app gets to see the disconnect and finish after the
            client has gone, before it is cancelled.
    """

    def __init__(
        self,
        app: AsgiApp,
        *,
        client: tuple[str, int] = ("127.0.0.1", 50000),
        buffer: int = 256,
        grace: float = 1.0,
    ) -> None:
        self._app = app
        self._client = client
        self._buffer = buffer
        self._grace = grace
        self.connects = 0

    def _scope(self, url: str) -> dict[str, Any]:
        parts = urlsplit(url)
        host = parts.hostname or "testserver"
        port = parts.port or (443 if parts.scheme == "wss" else 80)
        return {
            "type": "websocket",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "scheme": parts.scheme or "ws",
            "path": unquote(parts.path) or "/",
            "raw_path": (parts.path or "/").encode("latin-1"),
            "query_string": parts.query.encode("latin-1"),
            "root_path": "",
            "headers": [(b"host", parts.netloc.encode("latin-1"))],
            "client": self._client,
            "server": (host, port),
            "subprotocols": [],
            "extensions": {},
        }

    @asynccontextmanager
    async def connect(self, url: str) -> AsyncIterator[WsSocket]:
        """Open a websocket to the app; closed (code 1000) when the block ends.

        Raises:
            ConnectionLost: The app refused the handshake (an HTTP status or a
                close before accepting) or ended before accepting.
        """
        client, peer = pair(url, self._buffer)
        session = _Session(peer)
        scope = self._scope(url)
        self.connects += 1

        async def serve() -> None:
            await session.run(self._app, scope)

        async with beside(serve, on_exit=client.close, grace=self._grace):
            await session.decided.wait()
            if session.refusal is not None:
                raise ConnectionLost(f"handshake failed: {session.refusal}")
            yield client


def asgi_http_transport(
    app: AsgiApp, *, client: tuple[str, int] = ("127.0.0.1", 50000)
) -> httpx.AsyncBaseTransport:
    """An httpx transport that sends every request to ``app`` in memory.

    Pass it to ``httpx.AsyncClient(transport=...)`` or to
    :class:`~connector.net.http.RestClient`; the base URL's host is only a label.
    """
    return httpx.ASGITransport(app=cast(Any, app), client=client)
