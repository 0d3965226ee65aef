"""One simulated venue endpoint: REST and websocket on one loopback port.

:class:`VenueServer` serves an ASGI app of our own (no web framework) with
hypercorn's trio connections (:func:`_serve`; an answer leaves in one write). The
app is public (:attr:`VenueServer.app`), so an in-memory transport can drive it
without sockets. A front-end
(``binance/``, ``bybit/``, ``okx/``) builds a :class:`~connector.sim.http.Router`
of REST handlers (:mod:`connector.sim.http`) and websocket handlers
(:mod:`connector.sim.ws`).

The server applies the :class:`~connector.sim.faults.FaultInjector` generically:
REST 5xx/429/slow faults before the handler runs (429 bodies come from the
front-end's ``rate_limited`` callback, because each venue words them
differently), handshake refusals (HTTP 503), and per-frame websocket faults
inside :meth:`~connector.sim.ws.WsConnection.send`.

Latency: a server given ``latency`` (seconds) models the network between the
venue and its clients in one direction, what the venue sends: each REST answer
goes out that long after its handler returned, and each websocket frame that
long after it was queued (a delay line, see :mod:`connector.sim.ws`). What
clients send arrives at once; handshakes are not delayed.

TLS: a server given a :class:`ServerTls` (or created inside
:func:`serving_tls`, which is how ``sim.run(tls=True)`` reaches every
front-end's servers) serves ``https://`` and ``wss://`` with a certificate
from a certificate authority made for the run (:func:`make_server_tls`).

This module also holds what :func:`connector.sim.run` tells a front-end
(:class:`FrontendOptions`) and what it expects of one (:class:`Frontend`).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qsl

import attrs
import structlog
import trio
from hypercorn.config import Config
from hypercorn.events import Event as ServerEvent
from hypercorn.events import RawData
from hypercorn.trio.tcp_server import TCPServer
from hypercorn.trio.worker_context import WorkerContext
from hypercorn.utils import repr_socket_addr, wrap_app

from connector.sim.faults import FaultInjector, FaultKind, RestVerdict
from connector.sim.http import Handler, Request, Response, Router
from connector.sim.ws import AsgiReceive, AsgiSend, WsConnection, WsSettings

if TYPE_CHECKING:
    from connector.sim.hub import SimVenue

__all__ = [
    "ErrorBody",
    "Frontend",
    "FrontendFactory",
    "FrontendOptions",
    "RateLimitedBody",
    "ServerStatistics",
    "ServerTls",
    "VenueServer",
    "make_server_tls",
    "serving_tls",
    "websocket_url",
]

log = structlog.get_logger(__name__)


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


@attrs.frozen(kw_only=True)
class ServerTls:
    """The files a TLS endpoint serves with, and the authority clients must trust.

    Attributes:
        certfile: The server certificate chain (PEM).
        keyfile: The server's private key (PEM).
        ca_file: The certificate authority that signed it (PEM): what a client
            trusts (``ssl.create_default_context(cafile=ca_file)``).
    """

    certfile: str
    keyfile: str
    ca_file: str


def make_server_tls(directory: str | Path, host: str = "127.0.0.1") -> ServerTls:
    """Make a certificate authority and a loopback certificate it signed, in ``directory``.

    The certificate names ``localhost``, ``127.0.0.1`` and ``::1``, and ``host``
    when it is another name or address (not a wildcard bind address).

    Args:
        directory: Where ``ca.pem``, ``cert.pem`` and ``key.pem`` are written.
        host: The address the servers bind.

    Returns:
        The three files' paths.
    """
    import trustme

    names = ["localhost", "127.0.0.1", "::1"]
    if host not in names and host not in ("0.0.0.0", "::", ""):
        names.append(host)
    ca = trustme.CA(organization_name="connector simulator")
    cert = ca.issue_cert(*names)
    folder = Path(directory)
    tls = ServerTls(
        certfile=str(folder / "cert.pem"),
        keyfile=str(folder / "key.pem"),
        ca_file=str(folder / "ca.pem"),
    )
    ca.cert_pem.write_to_path(tls.ca_file)
    Path(tls.certfile).write_bytes(b"".join(blob.bytes() for blob in cert.cert_chain_pems))
    cert.private_key_pem.write_to_path(tls.keyfile)
    return tls


_SERVING_TLS: contextvars.ContextVar[ServerTls | None] = contextvars.ContextVar(
    "connector_sim_serving_tls", default=None
)


@contextmanager
def serving_tls(tls: ServerTls | None) -> Iterator[None]:
    """Servers created inside the block serve TLS with ``tls`` unless given their own.

    :func:`connector.sim.run` builds the front-ends inside it, so every
    front-end's :class:`VenueServer` serves TLS without the front-end knowing.
    """
    token = _SERVING_TLS.set(tls)
    try:
        yield
    finally:
        _SERVING_TLS.reset(token)


def websocket_url(base_url: str) -> str:
    """The websocket URL of a REST base URL: ``http://`` → ``ws://``, ``https://`` → ``wss://``."""
    if base_url.startswith("https://"):
        return "wss://" + base_url[len("https://") :]
    return base_url.replace("http://", "ws://", 1)


RateLimitedBody = Callable[[Request, RestVerdict], Response]
ErrorBody = Callable[[Request, RestVerdict], Response]


class _Connection(TCPServer):
    """hypercorn's connection, writing an HTTP answer's head and body in one write.

    hypercorn writes an answer's head and then its body, passing through the
    scheduler between the two (where the venue's websocket pushes run), so a
    client would read every answer in two wake-ups; a venue's front end sends a
    small answer at once. The head is held until the connection's next write,
    which for an HTTP/1.1 answer always follows: its body, or the empty end of
    one. Informational answers (``100``, ``101``) go out as they come.
    """

    _head = b""

    async def protocol_send(self, event: ServerEvent) -> None:
        if isinstance(event, RawData):
            if self._head:
                event = RawData(data=self._head + event.data)
                self._head = b""
            elif event.data.startswith(b"HTTP/1.1 ") and event.data[9:10] != b"1":
                self._head = event.data
                return
        await super().protocol_send(event)


async def _serve(app: Any, config: Config, *, task_status: trio.TaskStatus[list[str]]) -> None:
    """Serve ``app`` on ``config``'s sockets with :class:`_Connection` connections until
    cancelled; ``task_status.started`` with the ``http(s)://host:port`` bound.

    hypercorn's own ``serve()`` less what the simulator does not use (a lifespan
    with nothing to start, HTTP/3, graceful shutdown, request-count restarts).
    """
    sockets = config.create_sockets()
    ssl_context = config.create_ssl_context()
    listeners: list[trio.abc.Listener[Any]] = []
    binds: list[str] = []
    for sock in (*sockets.secure_sockets, *sockets.insecure_sockets):
        sock.listen(config.backlog)
        listener: trio.abc.Listener[Any] = trio.SocketListener(trio.socket.from_stdlib_socket(sock))
        scheme = "http"
        if sock in sockets.secure_sockets and ssl_context is not None:
            listener = trio.SSLListener(listener, ssl_context, https_compatible=True)
            scheme = "https"
        listeners.append(listener)
        binds.append(f"{scheme}://{repr_socket_addr(sock.family, sock.getsockname())}")
    connection = partial(_Connection, wrap_app(app, config.wsgi_max_body_size, "asgi"), config,
                         WorkerContext(None), {})  # fmt: skip
    task_status.started(binds)
    await trio.serve_listeners(connection, listeners)


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
        market_of: For an endpoint serving several markets: the market a
            request or websocket handshake belongs to (its path, a query
            parameter), for fault rules aimed at one market; None answers
            ``market``.
        host: Address to bind (loopback by default).
        port: Port to bind (0: any free port).
        latency: One-way delay in seconds of every REST answer and websocket
            frame (see the module docstring); 0: none.
        tls: Serve TLS with these files (default: the enclosing
            :func:`serving_tls` block's, else plain HTTP).
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
        market_of: Callable[[Request], str | None] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: ServerTls | None = None,
        latency: float = 0.0,
    ) -> None:
        self.name = name
        self.latency = latency
        self.tls = tls if tls is not None else _SERVING_TLS.get()
        self.market = market
        self.router = router
        self.injector = injector
        self.ws_settings = ws_settings if ws_settings is not None else WsSettings()
        self._rate_limited = rate_limited if rate_limited is not None else _default_error
        self._server_error = server_error if server_error is not None else _default_error
        self._market_of = market_of
        self.host = host
        self.port = port
        self.connections: dict[int, WsConnection] = {}
        self._operator: dict[tuple[str, str], Handler] = {}
        self._requests = 0
        self._opened = 0
        self._refused = 0
        self.base_url = ""

    @property
    def rest_url(self) -> str:
        """``http://host:port`` (``https://`` with TLS) once started."""
        return self.base_url

    @property
    def ws_url(self) -> str:
        """``ws://host:port`` (``wss://`` with TLS) once started."""
        return websocket_url(self.base_url)

    def add_operator_route(self, method: str, path: str, handler: Handler) -> None:
        """Serve ``handler`` at ``method path`` beside the venue's API: the simulator's own
        view (e.g. ``GET /_sim/truth``), answered before the venue's routes and outside
        them: no fault, no rate limit, not counted in :meth:`statistics`."""
        self._operator[(method.upper(), path)] = handler

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
        if self.tls is not None:
            config.certfile = self.tls.certfile
            config.keyfile = self.tls.keyfile
        self.injector.start()

        async with trio.open_nursery() as nursery:
            binds: list[str] = await nursery.start(_serve, self.app, config)
            self.base_url = binds[0]
            log.info("sim.server.started", venue=self.name, market=self.market, url=self.base_url)
            task_status.started(self.base_url)

    async def app(self, scope: dict[str, Any], receive: AsgiReceive, send: AsgiSend) -> None:
        """The endpoint's ASGI 3 application (``http``, ``websocket`` and ``lifespan`` scopes).

        :meth:`run` serves it with hypercorn; an in-memory transport may call
        it directly (the websocket writer then sends one ASGI message per
        frame).
        """
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

    async def _http(self, scope: dict[str, Any], receive: AsgiReceive, send: AsgiSend) -> None:
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        req = self._request(scope, b"".join(chunks))
        operator = self._operator.get((req.method, req.path))
        if operator is not None:
            response = await operator(req)
        else:
            self._requests += 1
            response = await self._dispatch(req)
            if self.latency:
                await trio.sleep(self.latency)
        headers = [(b"content-type", response.content_type.encode())]
        headers.extend((k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers)
        headers.append((b"content-length", str(len(response.body)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": response.body})

    def _market(self, req: Request) -> str | None:
        return self._market_of(req) if self._market_of is not None else self.market

    async def _dispatch(self, req: Request) -> Response:
        verdict = self.injector.on_request(self.name, self._market(req), req.path, req.method)
        if verdict is not None:
            if verdict.kind is FaultKind.REST_ERROR:
                return self._server_error(req, verdict)
            if verdict.kind is FaultKind.REST_429:
                return self._rate_limited(req, verdict)
            if verdict.kind is FaultKind.REST_SLOW:
                await trio.sleep(verdict.delay)
        handler = self.router.find(req.method, req.path) or self.router.not_found
        response = await handler(req)
        if verdict is not None and verdict.kind is FaultKind.REST_LATE:
            await trio.sleep(verdict.delay)
        if verdict is not None and verdict.kind is FaultKind.REST_ERROR_AFTER:
            return self._server_error(req, verdict)
        return response

    async def _websocket(self, scope: dict[str, Any], receive: AsgiReceive, send: AsgiSend) -> None:
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        path = scope["path"]
        handler = self.router.find_ws(path)
        if handler is None:
            await send({"type": "websocket.http.response.start", "status": 404, "headers": []})
            await send({"type": "websocket.http.response.body", "body": b""})
            return
        req = self._request(scope, b"")
        market = self._market(req)
        if not self.injector.on_connect(self.name, market, path):
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
        conn = WsConnection(
            conn_id=self.injector.next_conn_id(self.name),
            venue=self.name,
            market=market,
            path=path,
            query=req.query,
            headers=req.headers,
            client=req.client,
            settings=self.ws_settings,
            injector=self.injector,
            latency=self.latency,
        )
        await send({"type": "websocket.accept"})
        self.connections[conn.conn_id] = conn
        self._opened += 1
        log.debug("sim.ws.opened", venue=self.name, conn_id=conn.conn_id, path=path)
        try:
            await conn.serve(handler, send, receive)
        finally:
            conn.finish()
            self.connections.pop(conn.conn_id, None)
            log.debug("sim.ws.closed", venue=self.name, conn_id=conn.conn_id, code=conn.close_code)


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
