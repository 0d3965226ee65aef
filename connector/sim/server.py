"""One simulated venue endpoint: REST and websocket on one loopback port.

:class:`VenueServer` serves an ASGI app of our own (no web framework) with
hypercorn's trio ``serve()``. A front-end (``binance.py``, ``bybit.py``,
``okx.py``) builds a :class:`Router`:

* ``router.get(path, handler)`` / ``router.post(...)`` / ``router.route(method,
  path, handler)``: ``async def handler(req: Request) -> Response``. Build
  responses with :func:`json_response` (msgspec-encoded, key order kept as in
  the dict you pass) or :class:`Response` directly.
* ``router.websocket(path, handler, prefix=False)``: ``async def handler(conn:
  WsConnection) -> None`` runs for the life of the connection. It usually loops
  over ``await conn.receive()`` (returns None once the connection is closed)
  while the venue's hub listeners call ``conn.send(text, stream=...)``.

The server applies the :class:`~connector.sim.faults.FaultInjector` generically:
REST 5xx/429/slow faults before the handler runs (429 bodies come from the
front-end's ``rate_limited`` callback, because each venue words them
differently), handshake refusals (HTTP 503), and per-frame websocket faults
inside :meth:`WsConnection.send`.

Websocket connections (:class:`WsConnection`) have a bounded send buffer of
``send_buffer`` frames. Overflow policy: a client that cannot keep up is
disconnected, as the venues do with slow consumers: the buffer is discarded and
the connection is closed with code 1008 and reason ``"slow consumer"``.
Optional limits per connection (see :class:`WsSettings`): server ping interval
(protocol-level pings sent by hypercorn), pong timeout, idle timeout (close
with 1000 when the client sends no message for that long), maximum lifetime
(close with 1000 after that many seconds, e.g. Binance's 24 h), and an
incoming message rate (close with 1008 ``"Too many requests"`` when a client
sends more than that many messages in one second).

Pongs: hypercorn answers client pings itself and does not pass pongs to the
ASGI app (its websocket scope has no extension for them), so the app cannot
match a pong to a ping. What hypercorn does offer is ``Config.read_timeout``:
the TCP connection is dropped (no close frame; the app sees a disconnect with
1006) when no bytes at all arrive from the client for that long. With server
pings every ``ping_interval`` seconds, a client that answers them always sends
something, so ``pong_timeout`` is enforced that way. The limitation: any bytes
count, so a client that sends messages but never pongs is not caught, and the
timeout is per endpoint (it also ends idle keep-alive REST connections).

Sending: the writer task of a connection hands every text frame queued since
it last ran to hypercorn's websocket stream in one socket write (frames
serialized by the stream's own wsproto connection, so negotiated extensions
still apply), instead of one ASGI ``websocket.send`` and one write per frame.
It falls back to ``websocket.send`` per frame under another ASGI server.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from urllib.parse import parse_qsl

import attrs
import msgspec
import structlog
import trio
from hypercorn.config import Config
from hypercorn.protocol.events import Data
from hypercorn.protocol.ws_stream import ASGIWebsocketState, WSStream
from hypercorn.trio import serve
from wsproto.events import TextMessage
from wsproto.utilities import LocalProtocolError

from connector.errors import ConfigError
from connector.sim.faults import FaultInjector, FaultKind, RestVerdict

if TYPE_CHECKING:
    from connector.sim.hub import SimVenue

__all__ = [
    "Frontend",
    "FrontendFactory",
    "FrontendOptions",
    "Handler",
    "Request",
    "Response",
    "Router",
    "ServerStatistics",
    "VenueServer",
    "WsConnection",
    "WsHandler",
    "WsSettings",
    "json_response",
    "settings_from",
]

log = structlog.get_logger(__name__)

_json_encoder = msgspec.json.Encoder()


@attrs.frozen(kw_only=True)
class Request:
    """One REST request as a handler sees it.

    Attributes:
        method: Upper-case HTTP method.
        path: URL path without the query string.
        query: Query parameters (the first value of each name).
        headers: Header names lower-cased.
        body: Raw request body.
        client: Client IP address (the key for IP rate limits).
        query_string: The raw query string (for signature checks).
    """

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes
    client: str
    query_string: str = ""


@attrs.frozen(kw_only=True)
class Response:
    """A REST response: status, body bytes and extra headers."""

    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    content_type: str = "application/json;charset=UTF-8"

    def with_headers(self, headers: tuple[tuple[str, str], ...]) -> Response:
        """A copy with more headers appended."""
        return attrs.evolve(self, headers=self.headers + headers)


def json_response(
    value: object, status: int = 200, headers: tuple[tuple[str, str], ...] = ()
) -> Response:
    """Encode ``value`` as compact JSON (dict key order is kept)."""
    return Response(status=status, body=_json_encoder.encode(value), headers=headers)


Handler = Callable[[Request], Awaitable[Response]]
WsHandler = Callable[["WsConnection"], Awaitable[None]]


class Router:
    """Maps (method, path) to REST handlers and paths to websocket handlers."""

    def __init__(self) -> None:
        self._routes: dict[tuple[str, str], Handler] = {}
        self._ws_exact: dict[str, WsHandler] = {}
        self._ws_prefix: list[tuple[str, WsHandler]] = []
        self.not_found: Handler = _not_found

    def route(self, method: str, path: str, handler: Handler) -> None:
        """Register ``handler`` for ``method`` and exact ``path``."""
        self._routes[(method.upper(), path)] = handler

    def get(self, path: str, handler: Handler) -> None:
        """Register a GET handler."""
        self.route("GET", path, handler)

    def post(self, path: str, handler: Handler) -> None:
        """Register a POST handler."""
        self.route("POST", path, handler)

    def websocket(self, path: str, handler: WsHandler, *, prefix: bool = False) -> None:
        """Register a websocket handler for ``path`` (or every path under it)."""
        if prefix:
            self._ws_prefix.append((path, handler))
            self._ws_prefix.sort(key=lambda p: -len(p[0]))
        else:
            self._ws_exact[path] = handler

    def find(self, method: str, path: str) -> Handler | None:
        """The REST handler for a request, or None."""
        return self._routes.get((method, path))

    def find_ws(self, path: str) -> WsHandler | None:
        """The websocket handler for a path, or None."""
        handler = self._ws_exact.get(path)
        if handler is not None:
            return handler
        for prefix, h in self._ws_prefix:
            if path.startswith(prefix):
                return h
        return None


async def _not_found(req: Request) -> Response:
    return Response(status=404, body=b"", content_type="text/html")


@attrs.frozen(kw_only=True)
class WsSettings:
    """Per-connection websocket limits of one venue endpoint.

    Attributes:
        send_buffer: Frames queued per connection before it counts as a slow
            consumer and is closed with 1008.
        ping_interval: Seconds between server pings (None: no server pings).
        pong_timeout: Drop the connection when nothing (a pong or any other
            frame) arrives from the client for this long; enforced through
            hypercorn's ``read_timeout`` for the whole endpoint (see the
            module docstring). None: ``3 * ping_interval`` when pings are on
            (Binance spot: pings every 20 s, pong within a minute), else off.
        idle_timeout: Close when the client sends no message for this long.
        max_lifetime: Close any connection after this many seconds.
        max_incoming_per_second: Close with 1008 when exceeded.
    """

    send_buffer: int = 10_000
    ping_interval: float | None = None
    pong_timeout: float | None = None
    idle_timeout: float | None = None
    max_lifetime: float | None = None
    max_incoming_per_second: float | None = None

    def read_timeout(self) -> float | None:
        """Seconds of client silence after which the endpoint drops a connection."""
        if self.pong_timeout is not None:
            return self.pong_timeout
        if self.ping_interval is not None:
            return 3 * self.ping_interval
        return None


@attrs.frozen(kw_only=True)
class WsStatistics:
    """Counters of one websocket connection."""

    conn_id: int
    path: str
    frames_sent: int
    frames_received: int
    queued: int
    closed: bool
    close_code: int | None


class ConnectionClosed(Exception):
    """Raised inside the connection's tasks to stop them (internal)."""


_CLOSE = object()

#: Most frames / characters the writer hands to the socket in one write.
_BATCH_FRAMES = 512
_BATCH_CHARS = 1 << 20


class _DirectSend:
    """Writes many text frames to hypercorn's websocket stream in one socket write.

    ``send`` (the ASGI callable) is hypercorn's ``WSStream.app_send``; this uses
    that stream's wsproto connection and its transport ``send`` directly,
    which saves an ASGI message, a wsproto call chain and a socket write per
    frame. Frames the stream can no longer send are dropped, as hypercorn's
    own ``app_send`` does.
    """

    def __init__(self, stream: WSStream) -> None:
        self._stream = stream

    @classmethod
    def attach(cls, send: Callable[[dict[str, Any]], Awaitable[None]]) -> _DirectSend | None:
        """The direct sender behind ``send``, or None under another server."""
        stream = getattr(send, "__self__", None)
        if isinstance(stream, WSStream) and hasattr(stream, "connection"):
            return cls(stream)
        return None

    async def send_texts(self, frames: list[str]) -> None:
        """Send ``frames`` as text messages, in order, with one transport write."""
        stream = self._stream
        if stream.closed or stream.state is not ASGIWebsocketState.CONNECTED:
            return
        ws = stream.connection
        try:
            data = b"".join([ws.send(TextMessage(data=frame)) for frame in frames])
        except LocalProtocolError:
            return  # the connection is closing: hypercorn drops such frames too
        await stream.send(Data(stream_id=stream.stream_id, data=data))


class WsConnection:
    """A server-side websocket connection with a bounded send buffer.

    Front-ends call :meth:`send` (non-blocking, from any task, even from a hub
    callback), :meth:`receive` and :meth:`close`. Attributes ``path``, ``query``,
    ``headers``, ``market`` and ``conn_id`` describe the connection; ``state`` is
    a free dict where the front-end keeps its per-connection data.
    """

    def __init__(
        self,
        *,
        conn_id: int,
        venue: str,
        market: str | None,
        path: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        client: str,
        settings: WsSettings,
        injector: FaultInjector,
    ) -> None:
        self.conn_id = conn_id
        self.venue = venue
        self.market = market
        self.path = path
        self.query = query
        self.headers = headers
        self.client = client
        self.settings = settings
        self.state: dict[str, object] = {}
        self.faults = injector.connection(venue, conn_id, market)
        self._faulty = self.faults.active
        self._queue: deque[object] = deque()
        self._wakeup = trio.Event()
        self._incoming: trio.MemoryReceiveChannel[str | bytes]
        self._incoming_send: trio.MemorySendChannel[str | bytes]
        self._incoming_send, self._incoming = trio.open_memory_channel(256)
        self.closed = False
        self.close_code: int | None = None
        self.close_reason = ""
        self._stall_until = -math.inf
        self.frames_sent = 0
        self.frames_received = 0
        self.opened_at = trio.current_time()
        self.on_close: list[Callable[[], None]] = []

    def send(self, frame: str, stream: str = "") -> None:
        """Queue one text frame of ``stream`` for sending; never blocks.

        Data frames (non-empty ``stream``) pass through the fault plan; control
        replies (``stream=""``) are never faulted. On buffer overflow the
        connection is closed (code 1008, "slow consumer").
        """
        if self.closed:
            return
        if stream and self._faulty:
            if trio.current_time() < self._stall_until:
                return
            verdict = self.faults.on_frame(stream, frame)
            if verdict.delay:
                self._queue.append(verdict.delay)
            for f in verdict.frames:
                self._queue.append(f)
            if verdict.stall:
                self._stall_until = trio.current_time() + verdict.stall
            if verdict.disconnect:
                self.close(1001, "going away")
                return
        else:
            if stream:
                self.faults.frames += 1
            self._queue.append(frame)
        if len(self._queue) > self.settings.send_buffer:
            self._queue.clear()
            self.close(1008, "slow consumer")
            return
        self._wakeup.set()

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection after the frames already queued; never blocks."""
        if self.closed:
            return
        self.closed = True
        self.close_code = code
        self.close_reason = reason
        self._queue.append(_CLOSE)
        self._wakeup.set()
        for cb in self.on_close:
            cb()

    async def receive(self) -> str | bytes | None:
        """The next message from the client, or None once closed."""
        try:
            return await self._incoming.receive()
        except (trio.EndOfChannel, trio.ClosedResourceError):
            return None

    def statistics(self) -> WsStatistics:
        """A frozen snapshot of this connection's counters."""
        return WsStatistics(
            conn_id=self.conn_id,
            path=self.path,
            frames_sent=self.frames_sent,
            frames_received=self.frames_received,
            queued=len(self._queue),
            closed=self.closed,
            close_code=self.close_code,
        )

    async def _writer(self, send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        queue = self._queue
        direct = _DirectSend.attach(send)
        while True:
            if not queue:
                self._wakeup = trio.Event()
                await self._wakeup.wait()
                continue
            if direct is not None and isinstance(queue[0], str):
                # Everything queued since the last write goes out in one write.
                batch: list[str] = []
                chars = 0
                while queue and len(batch) < _BATCH_FRAMES and chars < _BATCH_CHARS:
                    head: object = queue[0]
                    if not isinstance(head, str):
                        break
                    queue.popleft()
                    batch.append(head)
                    chars += len(head)
                await direct.send_texts(batch)
                self.frames_sent += len(batch)
                continue
            item = queue.popleft()
            if item is _CLOSE:
                await send(
                    {
                        "type": "websocket.close",
                        "code": self.close_code,
                        "reason": self.close_reason,
                    }
                )
                raise ConnectionClosed
            if isinstance(item, float):
                await trio.sleep(item)
                continue
            await send({"type": "websocket.send", "text": item})
            self.frames_sent += 1

    async def _reader(self, receive: Callable[[], Awaitable[dict[str, Any]]]) -> None:
        settings = self.settings
        window_start = trio.current_time()
        in_window = 0
        while True:
            if settings.idle_timeout is not None:
                with trio.move_on_after(settings.idle_timeout) as scope:
                    message = await receive()
                if scope.cancelled_caught:
                    self.close(1000, "idle timeout")
                    return
            else:
                message = await receive()
            if message["type"] == "websocket.disconnect":
                self.closed = True
                if self.close_code is None:
                    self.close_code = int(message.get("code", 1005))
                for cb in self.on_close:
                    cb()
                raise ConnectionClosed
            if message["type"] != "websocket.receive":
                continue
            if settings.max_incoming_per_second is not None:
                now = trio.current_time()
                if now - window_start >= 1.0:
                    window_start = now
                    in_window = 0
                in_window += 1
                if in_window > settings.max_incoming_per_second:
                    log.info("sim.ws.rate_exceeded", venue=self.venue, conn_id=self.conn_id)
                    self.close(1008, "Too many requests")
                    return
            data = message.get("text")
            if data is None:
                data = message.get("bytes") or b""
            self.frames_received += 1
            try:
                self._incoming_send.send_nowait(data)
            except trio.WouldBlock:
                self.close(1008, "Too many requests")
                return


@attrs.frozen(kw_only=True)
class ServerStatistics:
    """Counters of one venue endpoint."""

    name: str
    requests: int
    connections_opened: int
    connections_open: int
    connections_refused: int


def _decode_headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in raw}


RateLimitedBody = Callable[[Request, RestVerdict], Response]
ErrorBody = Callable[[Request, RestVerdict], Response]


def _default_error(req: Request, verdict: RestVerdict) -> Response:
    return Response(status=verdict.status, body=b"", content_type="text/html")


class VenueServer:
    """Serves one venue endpoint (REST + websocket) on one loopback port.

    Args:
        name: Venue name (for faults and logs), e.g. ``"binance"``.
        market: The market this endpoint serves (``spot``, ``linear`` ...), or
            None when one port serves several markets.
        router: The front-end's routes.
        injector: Fault injector shared by the run.
        ws_settings: Websocket limits.
        rate_limited: Builds the venue's 429 reply for REST_429 faults.
        server_error: Builds the reply for REST_ERROR faults (default: empty
            body with the fault's status).
        host: Address to bind (loopback by default).
        port: Port to bind (0: any free port).
    """

    def __init__(
        self,
        name: str,
        router: Router,
        *,
        injector: FaultInjector,
        market: str | None = None,
        ws_settings: WsSettings | None = None,
        rate_limited: RateLimitedBody | None = None,
        server_error: ErrorBody | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.name = name
        self.market = market
        self.router = router
        self.injector = injector
        self.ws_settings = ws_settings if ws_settings is not None else WsSettings()
        self._rate_limited = rate_limited if rate_limited is not None else _default_error
        self._server_error = server_error if server_error is not None else _default_error
        self.host = host
        self.port = port
        self.connections: dict[int, WsConnection] = {}
        self._requests = 0
        self._opened = 0
        self._refused = 0
        self.base_url = ""

    @property
    def rest_url(self) -> str:
        """``http://host:port`` once started."""
        return self.base_url

    @property
    def ws_url(self) -> str:
        """``ws://host:port`` once started."""
        return self.base_url.replace("http://", "ws://", 1)

    def statistics(self) -> ServerStatistics:
        """A frozen snapshot of this endpoint's counters."""
        return ServerStatistics(
            name=self.name,
            requests=self._requests,
            connections_opened=self._opened,
            connections_open=len(self.connections),
            connections_refused=self._refused,
        )

    async def run(self, *, task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED) -> None:
        """Serve until cancelled; ``task_status.started(base_url)`` once bound."""
        config = Config()
        config.bind = [f"{self.host}:{self.port}"]
        config.accesslog = None
        config.errorlog = None
        config.websocket_ping_interval = self.ws_settings.ping_interval
        # Hypercorn annotates read_timeout as int but hands it to trio.fail_after,
        # which takes any float.
        config.read_timeout = self.ws_settings.read_timeout()  # type: ignore[assignment]
        config.keep_alive_timeout = 75.0
        config.graceful_timeout = 0.1
        self.injector.start()

        async def _serve(*, task_status: trio.TaskStatus[list[str]]) -> None:
            await serve(self._app, config, task_status=task_status, mode="asgi")  # type: ignore[arg-type]

        async with trio.open_nursery() as nursery:
            binds: list[str] = await nursery.start(_serve)
            self.base_url = binds[0]
            log.info("sim.server.started", venue=self.name, market=self.market, url=self.base_url)
            task_status.started(self.base_url)

    async def _app(
        self,
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        elif kind == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return

    def _request(self, scope: dict[str, Any], body: bytes) -> Request:
        qs = scope.get("query_string", b"").decode("latin-1")
        query: dict[str, str] = {}
        for k, v in parse_qsl(qs, keep_blank_values=True):
            query.setdefault(k, v)
        client = scope.get("client") or ("127.0.0.1", 0)
        return Request(
            method=scope.get("method", "GET"),
            path=scope["path"],
            query=query,
            headers=_decode_headers(scope.get("headers", [])),
            body=body,
            client=str(client[0]),
            query_string=qs,
        )

    async def _http(
        self,
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        req = self._request(scope, b"".join(chunks))
        self._requests += 1
        response = await self._dispatch(req)
        headers = [(b"content-type", response.content_type.encode())]
        headers.extend((k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers)
        headers.append((b"content-length", str(len(response.body)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": response.body})

    async def _dispatch(self, req: Request) -> Response:
        verdict = self.injector.on_request(self.name, self.market, req.path)
        if verdict is not None:
            if verdict.kind is FaultKind.REST_ERROR:
                return self._server_error(req, verdict)
            if verdict.kind is FaultKind.REST_429:
                return self._rate_limited(req, verdict)
            await trio.sleep(verdict.delay)
        handler = self.router.find(req.method, req.path) or self.router.not_found
        return await handler(req)

    async def _websocket(
        self,
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        path = scope["path"]
        handler = self.router.find_ws(path)
        if handler is None:
            await send({"type": "websocket.http.response.start", "status": 404, "headers": []})
            await send({"type": "websocket.http.response.body", "body": b""})
            return
        if not self.injector.on_connect(self.name, self.market, path):
            self._refused += 1
            await send(
                {
                    "type": "websocket.http.response.start",
                    "status": 503,
                    "headers": [(b"content-type", b"text/plain")],
                }
            )
            await send({"type": "websocket.http.response.body", "body": b"Service Unavailable"})
            return
        req = self._request(scope, b"")
        conn = WsConnection(
            conn_id=self.injector.next_conn_id(self.name),
            venue=self.name,
            market=self.market,
            path=path,
            query=req.query,
            headers=req.headers,
            client=req.client,
            settings=self.ws_settings,
            injector=self.injector,
        )
        await send({"type": "websocket.accept"})
        self.connections[conn.conn_id] = conn
        self._opened += 1
        log.debug("sim.ws.opened", venue=self.name, conn_id=conn.conn_id, path=path)
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._guard, conn, handler, nursery.cancel_scope)
                nursery.start_soon(
                    self._guard, conn, lambda c: c._writer(send), nursery.cancel_scope
                )
                nursery.start_soon(
                    self._guard, conn, lambda c: c._reader(receive), nursery.cancel_scope
                )
                if self.ws_settings.max_lifetime is not None:
                    nursery.start_soon(self._lifetime, conn, self.ws_settings.max_lifetime)
        finally:
            conn.closed = True
            conn._incoming_send.close()
            self.connections.pop(conn.conn_id, None)
            log.debug("sim.ws.closed", venue=self.name, conn_id=conn.conn_id, code=conn.close_code)

    async def _guard(
        self,
        conn: WsConnection,
        fn: Callable[[WsConnection], Awaitable[None]],
        scope: trio.CancelScope,
    ) -> None:
        try:
            await fn(conn)
        except ConnectionClosed:
            scope.cancel()
        except trio.Cancelled:
            raise
        except Exception:
            log.exception("sim.ws.handler_failed", venue=self.name, conn_id=conn.conn_id)
            conn.close(1011, "internal error")
        else:
            if fn is not None and not conn.closed and fn.__name__ != "<lambda>":
                # The front-end handler returned: close the connection politely.
                conn.close(1000, "")

    @staticmethod
    async def _lifetime(conn: WsConnection, seconds: float) -> None:
        await trio.sleep(seconds)
        conn.close(1000, "connection lifetime exceeded")


@attrs.frozen(kw_only=True)
class FrontendOptions:
    """What :func:`connector.sim.run` tells a venue front-end.

    Attributes:
        host: Address to bind.
        ports: Port per market (``{"spot": 0, "linear": 0}``); missing or 0
            means any free port.
        okx_checksum: OKX only: send real CRC32 checksums instead of 0.
        settings: Venue-specific knobs (limits, intervals); each front-end
            documents the names it reads and ignores the others.
    """

    host: str = "127.0.0.1"
    ports: Mapping[str, int] = attrs.field(factory=dict)
    okx_checksum: bool = False
    settings: Mapping[str, object] = attrs.field(factory=dict)

    def port(self, market: str) -> int:
        """The port for ``market`` (0: any free port)."""
        return int(self.ports.get(market, 0))


class Frontend(Protocol):
    """A venue's wire-protocol front-end over a :class:`~connector.sim.hub.SimVenue`.

    ``run`` serves until cancelled and calls ``task_status.started(urls)`` with
    ``{"<market>.rest": "http://127.0.0.1:p", "<market>.ws": "ws://127.0.0.1:p"}``
    for each market it serves: the REST base URL (the venue's documented paths
    are appended) and the websocket base URL (the venue's documented websocket
    path, e.g. ``/ws``, ``/stream``, ``/v5/public/spot``, ``/ws/v5/public``, is
    appended).
    """

    name: str

    async def run(self, *, task_status: trio.TaskStatus[dict[str, str]] = ...) -> None:
        """Serve until cancelled."""

    def statistics(self) -> object:
        """A frozen snapshot of the front-end's counters."""


FrontendFactory = Callable[["SimVenue", FaultInjector, FrontendOptions], Frontend]
"""``factory(venue, injector, options) -> Frontend``: what each front-end module
exposes as ``create_frontend``."""


_S = TypeVar("_S")


def settings_from(cls: type[_S], values: Mapping[str, object], venue: str) -> _S:
    """A front-end's attrs settings class from ``sim.run(settings={venue: {...}})``.

    Raises:
        ConfigError: a setting the front-end does not have (a typo would
            otherwise be ignored silently).
    """
    names = {f.name for f in attrs.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - names)
    if unknown:
        raise ConfigError(
            f"sim {venue}: unknown setting {', '.join(unknown)}; known: {', '.join(sorted(names))}"
        )
    return cls(**values)
