"""Keep-alive HTTP/1.1 connections to one REST host, on trio streams.

What :class:`~connector.net.http.RestClient` sends over real sockets (an
injected httpx transport, as tests use, goes through httpx instead). A venue's
REST traffic is small requests answered by small bodies, one host per client,
and the order lane's cost is per request: this pool writes a request in one
``send_all`` and parses the answer with the sans-I/O :mod:`connector.net.h1`,
with none of a general HTTP client's per-request machinery.

* Connections are kept for reuse while the server allows it (``keep-alive``
  and a fully read answer), at most ``max_idle`` of them, for at most
  ``keepalive_expiry`` seconds idle; one the server has closed meanwhile (it is
  readable while idle) is dropped before use, never written to.
* At most ``max_connections`` requests are in flight; more wait their turn
  (inside the request's time limit).
* Plain TCP through :class:`~connector.net.tcp.TcpStream`; ``https://``: TLS by
  :class:`trio.SSLStream` over it, with the client's
  :class:`ssl.SSLContext`, the host name checked.
* A request is never resent: a connection that fails (or a request cancelled
  mid-way) is closed, and the caller is told.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Mapping
from urllib.parse import urlsplit

import trio

from connector.errors import ConnectionLost
from connector.net.h1 import ResponseParser, decode_body, encode_request
from connector.net.tcp import TcpStream, open_tcp

__all__ = ["Answer", "ConnectionPool"]

_READ_SIZE = 65536


class Answer:
    """One response as read: status, headers (lower-case names), decoded body, wire times."""

    __slots__ = ("body", "headers", "received_ns", "sent_ns", "status")

    def __init__(
        self, status: int, headers: dict[str, str], body: bytes, sent_ns: int, received_ns: int
    ) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.sent_ns = sent_ns
        self.received_ns = received_ns


class _Connection:
    __slots__ = ("idle_since", "stream")

    def __init__(self, stream: trio.abc.Stream) -> None:
        self.stream = stream
        self.idle_since = 0.0

    def readable(self) -> bool:
        """Whether the idle connection has something to read: the server closed it
        (or sent what no request asked for); either way it cannot be used."""
        stream = self.stream
        if isinstance(stream, trio.SSLStream):
            stream = stream.transport_stream
        if not isinstance(stream, TcpStream):
            return True
        try:
            stream.socket.recv(1, socket.MSG_PEEK)  # bytes, or b"" once closed
        except BlockingIOError:
            return False
        except OSError:
            return True
        return True


class ConnectionPool:
    """Keep-alive HTTP/1.1 connections to the host of ``base_url``.

    Args:
        base_url: ``http://host[:port][/prefix]`` or ``https://...``.
        ssl_context: For ``https://``: how the server's certificate is checked.
        headers: Sent with every request (a request's own headers override them).
        max_connections: Requests in flight at most.
        max_idle: Idle connections kept at most.
        keepalive_expiry: Seconds an idle connection is kept.
    """

    def __init__(
        self,
        base_url: str,
        *,
        ssl_context: ssl.SSLContext | None = None,
        headers: Mapping[str, str] | None = None,
        max_connections: int = 100,
        max_idle: int = 20,
        keepalive_expiry: float = 5.0,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self._tls = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._tls else 80)
        self._prefix = parts.path.rstrip("/")
        self._ssl_context = ssl_context
        if self._tls and ssl_context is None:
            raise ValueError("an https URL needs an ssl_context")
        host = f"[{self._host}]" if ":" in self._host else self._host
        default_port = self._port == (443 if self._tls else 80)
        self._headers: dict[str, str] = {
            "Host": host if default_port else f"{host}:{self._port}",
            "Accept": "*/*",
            "Accept-Encoding": "gzip, deflate",
        }
        self._headers.update(headers or {})
        self._slots = trio.Semaphore(max_connections)
        self._idle: list[_Connection] = []
        self._max_idle = max_idle
        self._expiry = keepalive_expiry
        self._closed = False

    def url(self, target: str) -> str:
        """The full URL of a request target (``/path?query``)."""
        return self.base_url + target

    async def request(
        self,
        method: str,
        target: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
    ) -> Answer:
        """Send one request and read its answer (the caller bounds the time).

        ``sent_ns`` is the wall time just before the request's first byte is
        written (after any connection set-up), ``received_ns`` once the answer's
        headers are in.

        Raises:
            ConnectionLost: the connection could not be made, failed, or the
                answer was not HTTP/1.1 (the caller adds the venue and request).
        """
        merged = self._headers
        if headers:
            merged = dict(merged)
            lower = {name.lower() for name in headers}
            for name in [n for n in merged if n.lower() in lower]:
                del merged[name]
            merged.update(headers)
        try:
            data = encode_request(method, self._prefix + target, merged.items(), body)
        except ValueError as exc:
            raise ConnectionLost(str(exc)) from exc
        try:
            # No checkpoint when a slot is free: the write below is the order's next
            # stop, and an extra trip through the scheduler costs it latency.
            self._slots.acquire_nowait()
        except trio.WouldBlock:
            await self._slots.acquire()
        try:
            connection = self._reuse()
            if connection is None:
                connection = await self._connect()
            parser = ResponseParser(head_request=method == "HEAD")
            received = 0
            try:
                sent = time.time_ns()
                await connection.stream.send_all(data)
                while not parser.done:
                    parser.receive(await connection.stream.receive_some(_READ_SIZE))
                    if not received and parser.head is not None:
                        received = time.time_ns()
            except BaseException as exc:
                await trio.aclose_forcefully(connection.stream)
                if isinstance(exc, (OSError, trio.BrokenResourceError, trio.ClosedResourceError)):
                    raise ConnectionLost(f"{exc.__class__.__name__}: {exc}") from exc
                if isinstance(exc, ValueError):  # not HTTP/1.1 (the parser)
                    raise ConnectionLost(str(exc)) from exc
                raise
        finally:
            self._slots.release()
        head = parser.head
        assert head is not None
        if head.keep_alive and not parser.pending and not self._closed:
            self._keep(connection)
        else:
            await trio.aclose_forcefully(connection.stream)
        try:
            content = decode_body(head.headers, parser.body)
        except ValueError as exc:
            raise ConnectionLost(str(exc)) from exc
        return Answer(head.status, head.headers, content, sent, received)

    def _reuse(self) -> _Connection | None:
        now = trio.current_time()
        while self._idle:
            connection = self._idle.pop()
            if now - connection.idle_since <= self._expiry and not connection.readable():
                return connection
            _close_now(connection.stream)
        return None

    def _keep(self, connection: _Connection) -> None:
        connection.idle_since = trio.current_time()
        self._idle.append(connection)
        while len(self._idle) > self._max_idle:
            _close_now(self._idle.pop(0).stream)

    async def _connect(self) -> _Connection:
        try:
            stream: trio.abc.Stream = await open_tcp(self._host, self._port)
        except OSError as exc:
            raise ConnectionLost(f"cannot connect to {self._host}:{self._port}: {exc}") from exc
        if self._tls:
            assert self._ssl_context is not None
            tls = trio.SSLStream(
                stream, self._ssl_context, server_hostname=self._host, https_compatible=True
            )
            try:
                await tls.do_handshake()
            except BaseException as exc:
                await trio.aclose_forcefully(tls)
                if isinstance(exc, (trio.BrokenResourceError, OSError)):
                    raise ConnectionLost(
                        f"TLS with {self._host}:{self._port} failed: {exc}"
                    ) from exc
                raise
            stream = tls
        return _Connection(stream)

    async def aclose(self) -> None:
        """Close the idle connections (those in use close when their request ends); a
        later request opens a new one."""
        self._closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            await trio.aclose_forcefully(connection.stream)


def _close_now(stream: trio.abc.Stream) -> None:
    """Close a connection without waiting (an idle one: nothing is owed to the peer)."""
    if isinstance(stream, trio.SSLStream):
        stream = stream.transport_stream
    if isinstance(stream, TcpStream):
        stream.close()
