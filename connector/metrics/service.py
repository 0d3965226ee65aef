"""Service ``metrics``: ``GET /metrics`` over HTTP/1.1 (root child, transient).

A deliberately small HTTP/1.1 server on a trio socket: one request per
connection (answered with ``Connection: close``), so nothing is kept between
requests. ``GET`` (and ``HEAD``) of ``/metrics`` renders the exposition at that
moment (:func:`connector.metrics.exposition.render` of ``Connector.statistics()``);
another path is 404, another method 405, anything that is not an HTTP/1.x
request head is 400, a head longer than :data:`MAX_HEAD_BYTES` is 431, and every
one of them closes the connection. Each connection is bounded in time (its whole
life, ``timeout``), in size (the head) and in number (``max_connections`` at once;
more are answered 503). A connection's trouble (bad bytes, a peer that vanishes)
ends that connection alone: the server goes on.

The service is not critical: when its address cannot be bound it logs
``metrics.listen_failed`` and ends (transient: not restarted), and the connector
runs on without it (``Connector.metrics_address`` stays ``None``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import structlog
import trio

from connector.metrics.exposition import CONTENT_TYPE

__all__ = ["MAX_HEAD_BYTES", "MetricsService"]

log = structlog.get_logger(__name__)

MAX_HEAD_BYTES = 8192
"""Largest request head (request line and headers) read; a longer one gets 431."""

_DRAIN_BYTES = 65536
"""What is read (and dropped) after an answer before closing, so that an unread
request body does not turn the close into a reset that loses the answer."""

_METHOD_START = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]")
"""What a request's first byte can be (a method's token character)."""

_REQUEST_LINE = re.compile(rb"([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) HTTP/1\.([01])")
_HEADER = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+:[\t -~\x80-\xff]*")

_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class MetricsService:
    """Serves the Prometheus exposition on ``GET /metrics``.

    Args:
        host: Address to listen on (``127.0.0.1``, ``::1``, ``0.0.0.0``).
        port: Port to listen on; 0 picks a free one (kept across restarts).
        render: Returns the exposition text at the moment of a request.
        timeout: Seconds one connection may live, reading and answering.
        max_connections: Connections served at once; more are answered 503.
    """

    def __init__(
        self,
        host: str,
        port: int,
        render: Callable[[], str],
        *,
        timeout: float = 10.0,
        max_connections: int = 16,
    ) -> None:
        self._host = host
        self._port = port
        self._render = render
        self._timeout = timeout
        self._slots = trio.CapacityLimiter(max_connections)
        self.address: tuple[str, int] | None = None
        """The bound ``(host, port)`` while serving, else ``None``."""
        self.requests = 0
        """Requests answered (any status)."""

    @property
    def connections(self) -> int:
        """Connections being served now (those answered 503 not counted)."""
        return int(self._slots.borrowed_tokens)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        try:
            listeners = await trio.open_tcp_listeners(self._port, host=self._host)
        except OSError as exc:
            log.error("metrics.listen_failed", host=self._host, port=self._port, error=str(exc))
            task_status.started()
            return
        try:
            sockname = listeners[0].socket.getsockname()
            self._port = int(sockname[1])  # a restart binds the same port
            self.address = (str(sockname[0]), self._port)
            log.info("metrics.listening", host=self.address[0], port=self.address[1])
            async with trio.open_nursery() as nursery:
                await nursery.start(trio.serve_listeners, self._connection, listeners)
                task_status.started()
        finally:
            self.address = None
            for listener in listeners:
                with trio.CancelScope(shield=True):
                    await listener.aclose()

    async def _connection(self, stream: trio.SocketStream) -> None:
        try:
            with trio.move_on_after(self._timeout) as scope:
                try:
                    self._slots.acquire_on_behalf_of_nowait(stream)
                except trio.WouldBlock:
                    await self._answer(stream, 503, b"too many connections\n")
                    return
                try:
                    await self._serve(stream)
                finally:
                    self._slots.release_on_behalf_of(stream)
            if scope.cancelled_caught:
                log.info("metrics.connection_timeout")
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            pass  # the peer went away
        except Exception as exc:  # one connection's bug must not stop the server
            log.exception("metrics.connection_failed", error=str(exc))
        finally:
            await trio.aclose_forcefully(stream)

    async def _serve(self, stream: trio.SocketStream) -> None:
        head = bytearray()
        while True:
            # A head ends with an empty line; a bare LF ends a line too (RFC 9112 2.2).
            end = _head_end(head)
            if end >= 0:
                break
            if head and not _METHOD_START.match(head):
                # Not an HTTP request (a TLS ClientHello: a scrape with https): said
                # at once rather than when the connection's time runs out.
                await self._answer(stream, 400, b"not an HTTP/1.x request\n")
                return
            if len(head) > MAX_HEAD_BYTES:
                await self._answer(stream, 431, b"request head too large\n")
                return
            chunk = await stream.receive_some(MAX_HEAD_BYTES + 4)
            if not chunk:
                if head.strip():
                    await self._answer(stream, 400, b"incomplete request\n")
                return
            head += chunk
        if end > MAX_HEAD_BYTES:
            await self._answer(stream, 431, b"request head too large\n")
            return
        lines = [line.removesuffix(b"\r") for line in bytes(head[:end]).split(b"\n")]
        request = _REQUEST_LINE.fullmatch(lines[0])
        if request is None or not all(_HEADER.fullmatch(line) for line in lines[1:]):
            await self._answer(stream, 400, b"malformed request\n")
            return
        method, target = request.group(1), request.group(2)
        path = target.split(b"?", 1)[0]
        if path != b"/metrics":
            await self._answer(stream, 404, b"not found: only /metrics is served\n")
        elif method not in (b"GET", b"HEAD"):
            await self._answer(stream, 405, b"method not allowed: GET /metrics\n")
        else:
            try:
                body = self._render().encode("utf-8")
            except Exception as exc:  # answered 500 and logged; the server goes on
                log.exception("metrics.render_failed", error=str(exc))
                await self._answer(stream, 500, b"could not render the metrics\n")
                return
            await self._answer(stream, 200, body, head_only=method == b"HEAD")

    async def _answer(
        self, stream: trio.SocketStream, status: int, body: bytes, *, head_only: bool = False
    ) -> None:
        self.requests += 1
        content_type = CONTENT_TYPE if status == 200 else "text/plain; charset=utf-8"
        allow = "Allow: GET, HEAD\r\n" if status == 405 else ""
        head = (
            f"HTTP/1.1 {status} {_REASONS[status]}\r\n"
            f"Content-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\n"
            f"{allow}Connection: close\r\n\r\n"
        ).encode("ascii")
        await stream.send_all(head if head_only else head + body)
        # Half-close, then read what the client still sends (an unread body would make
        # the close a reset, which can lose the answer), up to a bound.
        await stream.send_eof()
        drained = 0
        while drained < _DRAIN_BYTES:
            chunk = await stream.receive_some(16384)
            if not chunk:
                break
            drained += len(chunk)


def _head_end(head: bytearray) -> int:
    """Where the request head's lines end (before its empty line), or -1 before it."""
    ends = [i for i in (head.find(b"\r\n\r\n"), head.find(b"\n\n")) if i >= 0]
    return min(ends) if ends else -1
