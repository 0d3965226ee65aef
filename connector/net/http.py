"""REST: timeouts, rate limits, and errors mapped at the edge.

Requests go over keep-alive HTTP/1.1 connections of our own
(:mod:`connector.net.pool`, parsed by the sans-I/O :mod:`connector.net.h1`): an
order's request is written in one piece with little per-request work. A client
given an httpx transport (tests: an app in memory, delays) sends through httpx
and that transport instead, and so does one whose host the environment sends
through a proxy (``HTTPS_PROXY``...); everything above the wire is the same.

Transport failures become :mod:`connector.errors` here (``raise ... from exc``):
a timeout is :class:`RequestTimeout` (for an order: outcome unknown), a refused
or reset connection :class:`ConnectionLost`, HTTP 5xx :class:`ServiceUnavailable`,
429 :class:`RateLimited`, 418 :class:`IpBanned`. Venue error bodies are mapped
by the venue's own ``error_mapper`` (Bybit and OKX answer 200 with an error code),
a 429's or 418's too: the error names the venue's code and message (Binance
-1003 request weight, -1015 order count) when the mapper reads one.

The mapper also says when the venue wants the host left alone, without this
module knowing any venue: a mapped :class:`IpBanned` bans the host's limiter
(Bybit's HTTP 403 "access too frequent": 10 minutes; a Binance 418 for its
``Retry-After``), a mapped :class:`RateLimited` pauses it (Bybit 10006, OKX
50011, Binance -1003) for its ``retry_after``, else the ``Retry-After`` header.
A rate limit for which the venue names no wait is not the host's: the limiter is
left as it is (Binance's order-count 429, -1015, comes without ``Retry-After``:
it counts the account's new orders, which the order path's own limiter holds),
but a ban without a length lasts :data:`~connector.net.ratelimit.DEFAULT_BAN_SECONDS`.
A 429 or 418 the mapper cannot read pauses or bans the host as the limiter's
defaults say.
"""

from __future__ import annotations

import ssl
import time
import urllib.request
from collections.abc import Callable, Mapping
from urllib.parse import urlencode, urlsplit

import attrs
import certifi
import httpx
import structlog
import trio

from connector.errors import (
    ConnectionLost,
    ConnectorError,
    ExchangeRejected,
    IpBanned,
    RateLimited,
    RequestTimeout,
    ServiceUnavailable,
)
from connector.net.pool import ConnectionPool
from connector.net.ratelimit import (
    DEFAULT_BAN_SECONDS,
    DEFAULT_PAUSE_SECONDS,
    Lane,
    RateLimiter,
    retry_after_seconds,
)

__all__ = ["ErrorMapper", "Prepared", "ResponseObserver", "RestClient", "RestResponse"]

log = structlog.get_logger(__name__)


@attrs.frozen(kw_only=True)
class RestResponse:
    """A response the venue did not mark as an error.

    ``sent_ns`` and ``received_ns`` are our wall clock when the request's first
    byte was written and when the response headers were read: on a fresh
    connection the TCP and TLS handshakes come before ``sent_ns``, so clock
    sync measures the venue's round trip alone.
    """

    status: int
    url: str
    headers: Mapping[str, str]
    body: bytes
    sent_ns: int
    received_ns: int


ErrorMapper = Callable[[int, bytes], ConnectorError | None]
"""``(status, body) -> error`` for venue error bodies, or ``None`` when fine."""

Prepared = tuple[str, bytes | None, Mapping[str, str]]
"""A request finished just before it is written: ``(query, body, headers)`` (signed
requests: signed with the time of sending, after the limiter let it through)."""

ResponseObserver = Callable[[RestResponse], None]
"""Called with every response used (``connector record`` writes them)."""


class RestClient:
    """One REST host: long-lived keep-alive connections (they stay warm).

    Args:
        venue: For errors and logs.
        base_url: e.g. ``https://api.binance.com``.
        limiter: The venue's shared rate limiter (``None``: unlimited).
        error_mapper: Venue-specific body checks.
        timeout: Seconds for the whole request.
        transport: An httpx transport (tests may pass one): requests go through
            httpx and it instead of sockets.
        verify: How to check the server's certificate: ``True`` (the public
            authorities of the ``certifi`` bundle, as httpx trusts them), an
            ``ssl.SSLContext`` (e.g. one trusting a simulator's CA file,
            :func:`ssl.create_default_context` with ``cafile``), or ``False``
            (no check).
    """

    def __init__(
        self,
        venue: str,
        base_url: str,
        *,
        limiter: RateLimiter | None = None,
        error_mapper: ErrorMapper | None = None,
        timeout: float = 10.0,
        headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self.venue = venue
        self.base_url = base_url.rstrip("/")
        self._limiter = limiter
        self._error_mapper = error_mapper
        self._timeout = timeout
        self._client: httpx.AsyncClient | None = None
        self._pool: ConnectionPool | None = None
        if transport is not None or _proxied(self.base_url):
            # An injected transport (tests), or a proxy named by the environment
            # (``HTTPS_PROXY``...), which httpx honours.
            self._client = httpx.AsyncClient(
                base_url=self.base_url,
                timeout=timeout,
                headers=dict(headers or {}),
                transport=transport,
                verify=verify,
            )
        else:
            tls = self.base_url.startswith("https://")
            self._pool = ConnectionPool(
                self.base_url,
                ssl_context=_ssl_context(verify) if tls else None,
                headers={"User-Agent": _USER_AGENT, **(headers or {})},
            )
        self.observers: list[ResponseObserver] = []

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
        if self._pool is not None:
            await self._pool.aclose()

    async def get(
        self,
        path: str,
        params: Mapping[str, str | int] | None = None,
        *,
        weights: Mapping[str, float] | None = None,
    ) -> RestResponse:
        """GET ``path``; see :meth:`request`."""
        return await self.request("GET", path, params=params, weights=weights)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | str | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        weights: Mapping[str, float] | None = None,
        lane: Lane = Lane.DEFAULT,
        prepare: Callable[[], Prepared] | None = None,
        check: bool = True,
    ) -> RestResponse:
        """Send one request after acquiring ``weights`` from the limiter in ``lane``.

        ``params`` may be a ready query string (a signed request's, sent as is).
        ``prepare``, when given, is called once the limiter lets the request
        through and supplies its query, body and headers (a signature made with
        the time of sending). ``check=False`` returns venue error answers as
        they are, for the caller to read (order answers), raising only for a
        418 or 429 that holds the host (not for an order-count 429: the caller's
        order limiter reads it).

        Raises:
            RequestTimeout, ConnectionLost, ServiceUnavailable, RateLimited,
            IpBanned, or whatever the venue's error mapper returns.
        """
        if self._limiter is not None and weights:
            await self._limiter.acquire(weights, lane)
        if prepare is not None:
            params, content, headers = prepare()
        if self._pool is not None:
            response = await self._send(method, path, params, content, headers)
        else:
            response = await self._send_httpx(method, path, params, content, headers)
        if self._limiter is not None:
            self._limiter.read_headers(response.headers, tuple(weights or ()))
        self._raise_for(method, path, response, check=check)
        for observe in self.observers:
            observe(response)
        return response

    async def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, str | int] | str | None,
        content: bytes | None,
        headers: Mapping[str, str] | None,
    ) -> RestResponse:
        """Over the connection pool."""
        assert self._pool is not None
        if isinstance(params, str):
            target = f"{path}?{params}" if params else path
        else:
            target = f"{path}?{urlencode(params)}" if params else path
        # A bare cancel scope rather than ``trio.fail_after``: the same deadline without
        # a generator-based context manager around every order's request.
        try:
            with trio.CancelScope(deadline=trio.current_time() + self._timeout) as scope:
                answer = await self._pool.request(method, target, headers=headers, body=content)
        except ConnectionLost as exc:
            raise ConnectionLost(f"{self.venue}: {method} {path} failed: {exc}") from exc
        if scope.cancelled_caught:
            raise RequestTimeout(f"{self.venue}: {method} {path} timed out")
        return RestResponse(
            status=answer.status,
            url=self._pool.url(target),
            headers=answer.headers,
            body=answer.body,
            sent_ns=answer.sent_ns,
            received_ns=answer.received_ns,
        )

    async def _send_httpx(
        self,
        method: str,
        path: str,
        params: Mapping[str, str | int] | str | None,
        content: bytes | None,
        headers: Mapping[str, str] | None,
    ) -> RestResponse:
        """Through httpx and the injected transport."""
        assert self._client is not None
        times = _WireTimes(time.time_ns())
        url = path if not isinstance(params, str) or not params else f"{path}?{params}"
        query = None if isinstance(params, str) else params or None
        try:
            reply = await self._client.request(
                method,
                url,
                params=query,
                content=content,
                headers=headers,
                extensions={"trace": times.trace},
            )
        except httpx.TimeoutException as exc:
            raise RequestTimeout(f"{self.venue}: {method} {path} timed out") from exc
        except httpx.TransportError as exc:
            raise ConnectionLost(f"{self.venue}: {method} {path} failed: {exc!r}") from exc
        return RestResponse(
            status=reply.status_code,
            url=str(reply.url),
            headers=dict(reply.headers),
            body=reply.content,
            sent_ns=times.sent,
            received_ns=times.received or time.time_ns(),
        )

    def check_ban(self) -> None:
        """Raise :class:`IpBanned` while the host's limiter holds a ban: a request to
        the venue by another way (an order socket's) is held by it too.

        Raises:
            IpBanned: during the ban.
        """
        if self._limiter is not None:
            self._limiter.check_ban()

    def heed(self, response: RestResponse) -> None:
        """Learn from an answer that came by another way (an order socket's reply, read
        as the REST answer it stands for) what the host's limiter learns from its own:
        the used weight its headers give, a 429's pause, a ban (418, or a venue code
        that bans, such as Bybit's 10009)."""
        if self._limiter is not None:
            self._limiter.read_headers(response.headers)
        error = self._error(self.venue, response)
        if error is not None:
            self._hold(error, response.headers)

    def _raise_for(self, method: str, path: str, response: RestResponse, *, check: bool) -> None:
        status = response.status
        where = f"{self.venue}: {method} {path}"
        error = self._error(where, response)
        if error is not None:
            held = self._hold(error, response.headers)
            if check or (held and status in (418, 429)):
                raise error
        if not check:
            return
        if status >= 500:
            raise ServiceUnavailable(f"{where}: HTTP {status}")
        if status >= 400:
            text = response.body[:200].decode("utf-8", "replace")
            raise ExchangeRejected(status, text, venue=self.venue)

    def _error(self, where: str, response: RestResponse) -> ConnectorError | None:
        """The venue's mapped error of an answer, if any; a 429 or 418 always has one
        (the venue's own, which names its code and message, else a plain one that
        holds the host as the limiter's defaults say)."""
        status = response.status
        mapped = self._error_mapper(status, response.body) if self._error_mapper else None
        if status not in (418, 429) or isinstance(mapped, RateLimited):
            return mapped
        said = response.body[:200].decode("utf-8", "replace").strip()
        retry = retry_after_seconds(response.headers)
        if status == 418:
            return IpBanned(
                f"{where}: IP banned (HTTP 418) {said}".rstrip(),
                retry_after=DEFAULT_BAN_SECONDS if retry is None else retry,
                venue=self.venue,
            )
        return RateLimited(
            f"{where}: HTTP 429 {said}".rstrip(),
            retry_after=DEFAULT_PAUSE_SECONDS if retry is None else retry,
            venue=self.venue,
        )

    def _hold(self, error: ConnectorError, headers: Mapping[str, str]) -> bool:
        """Ban or pause the host's limiter when a rate-limit error asks for it; returns
        whether it did. The error's ``retry_after`` is set to the wait applied."""
        if not isinstance(error, RateLimited):
            return False
        seconds = error.retry_after
        if seconds is None:
            seconds = retry_after_seconds(headers)
        if seconds is None and isinstance(error, IpBanned):
            seconds = DEFAULT_BAN_SECONDS
        if seconds is None:
            return False  # no wait named: not the host's limit (Binance -1015)
        error.retry_after = seconds
        if self._limiter is not None:
            if isinstance(error, IpBanned):
                self._limiter.ban(seconds)
            else:
                self._limiter.pause(seconds)
        return True


_USER_AGENT = "python-connector"


def _proxied(url: str) -> bool:
    """Whether the environment sends requests to ``url`` through a proxy (``HTTP_PROXY``,
    ``HTTPS_PROXY``, ``ALL_PROXY``, less ``NO_PROXY``), as httpx reads it."""
    proxies = urllib.request.getproxies_environment()
    parts = urlsplit(url)
    if not (proxies.get(parts.scheme) or proxies.get("all")):
        return False
    return not urllib.request.proxy_bypass(parts.netloc)


def _ssl_context(verify: ssl.SSLContext | bool) -> ssl.SSLContext:
    """The TLS context of ``verify`` (``True``: the same authorities httpx trusts)."""
    if isinstance(verify, ssl.SSLContext):
        return verify
    context = ssl.create_default_context(cafile=certifi.where())
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class _WireTimes:
    """When a request's bytes went out and its answer came back (httpcore trace events).

    Transports that send no trace events (test transports) leave the times
    taken around the whole call.
    """

    __slots__ = ("received", "sent")

    def __init__(self, sent: int) -> None:
        self.sent = sent
        self.received = 0

    async def trace(self, event: str, info: Mapping[str, object]) -> None:
        if event.endswith("send_request_headers.started"):
            self.sent = time.time_ns()
        elif event.endswith("receive_response_headers.complete"):
            self.received = time.time_ns()
