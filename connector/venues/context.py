"""What every service of one venue shares: REST clients and limiters per host, the
clock, the connection budget and the capture writer.

One :class:`VenueContext` per venue lives as long as the :class:`Connector`.
REST clients and rate limiters are keyed by *host* (the REST base URL), not by
market: Bybit and OKX serve spot and derivatives from one API host and count
their requests together, so both markets draw on one limiter, one 429 pauses
both, and one warm httpx client (its connection pool) carries both. The clock
samples the venue's time over that same warm client.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Mapping, Sequence

import attrs
import httpx
import trio

from connector.capture import CaptureRecord, CaptureWriter
from connector.errors import ConfigError, ConnectorError, ServiceUnavailable, TimestampRejected
from connector.model import Market
from connector.net.clock import ClockEstimate, ClockSample, ClockSync
from connector.net.http import RestClient, RestResponse
from connector.net.ratelimit import Lane, LimiterStatistics, RateLimiter, TokenBucket
from connector.net.ws import ConnectionBudget, FrameRecorder
from connector.net.ws_transport import WsClientTransport, WsTransport
from connector.venues.driver import RestCall, SignedRequest, VenueDriver

__all__ = ["RestOutcome", "VenueContext", "VenueContextStatistics"]

RestOutcome = Callable[[str, ConnectorError | None], None]
"""Told of every REST request's outcome: ``(venue, error or None)`` (the health breaker)."""


@attrs.frozen(kw_only=True)
class VenueContextStatistics:
    """A snapshot of one venue's shared REST and clock state.

    Attributes:
        limiters: Per REST host (base URL): the limiter's counters and tokens.
        clock: The venue clock estimate (``None`` before the first sample).
    """

    limiters: Mapping[str, LimiterStatistics]
    clock: ClockEstimate | None


class VenueContext:
    """One venue's shared edge: clients, limiters, clock, budget, capture.

    Args:
        driver: The venue.
        markets: The markets this venue is used in (the clock samples the first).
        urls: Called when a URL is needed: ``{"<market>.rest": ..., "<market>.ws": ...}``
            (for the simulator the URLs exist only once it serves).
        capture: Where ``connector record`` writes every REST body used.
        on_rest_outcome: Told of every REST request's outcome (the health breaker).
        transport: An httpx transport for every client (tests use one to add delays or
            to talk to an app in memory); ``None``: real sockets.
        ws_transport: Opens the venue's websockets (tests: in memory); ``None``:
            our own client (``WsClientTransport``).
        timeout: Seconds for one REST request.
        ssl_context: Called when a client or socket is made: the TLS context that
            checks the venue's certificates (the built-in simulator's own certificate
            authority under ``[sim] tls``); ``None`` or a ``None`` answer: the system's.
    """

    def __init__(
        self,
        driver: VenueDriver,
        *,
        markets: Sequence[Market],
        urls: Callable[[], Mapping[str, str]],
        capture: CaptureWriter | None = None,
        on_rest_outcome: RestOutcome | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        ws_transport: WsTransport | None = None,
        timeout: float = 10.0,
        ssl_context: Callable[[], ssl.SSLContext | None] | None = None,
    ) -> None:
        self.name = driver.name
        self.driver = driver
        self.markets = tuple(markets)
        self.capture = capture
        self.on_rest_outcome = on_rest_outcome
        self.budget = ConnectionBudget(driver.name)
        self.clock = ClockSync(driver.name, self._clock_sample)
        self._urls = urls
        self._transport = transport
        self._ws_transport = ws_transport
        self._ssl_context = ssl_context
        self.request_timeout = timeout
        self._clients: dict[str, RestClient] = {}
        self._limiters: dict[str, RateLimiter] = {}

    @property
    def ws_transport(self) -> WsTransport | None:
        """What opens the venue's websockets: the injected transport, our client
        trusting the configured certificate authority, or ``None`` (our client)."""
        if self._ws_transport is None and self._ssl_context is not None:
            context = self._ssl_context()
            if context is not None:
                self._ws_transport = WsClientTransport(ssl_context=context)
        return self._ws_transport

    def _verify(self) -> ssl.SSLContext | bool:
        context = self._ssl_context() if self._ssl_context is not None else None
        return context if context is not None else True

    def urls(self) -> Mapping[str, str]:
        """The venue's URL table: ``<market>.rest``, ``<market>.ws`` and route keys."""
        return self._urls()

    def url(self, market: Market, kind: str) -> str:
        """The configured ``rest`` or ``ws`` base URL of a market."""
        key = f"{market.value}.{kind}"
        urls = self._urls()
        if key not in urls:
            raise ConfigError(f"venues.{self.name}: no {key} URL configured (have {sorted(urls)})")
        return urls[key]

    def host(self, market: Market) -> str:
        """The REST host serving ``market``: its base URL, the key of clients and limiters."""
        return self.url(market, "rest").rstrip("/")

    def limiter(self, market: Market) -> RateLimiter:
        """The rate limiter of the REST host serving ``market`` (shared by its markets)."""
        host = self.host(market)
        limiter = self._limiters.get(host)
        if limiter is None:
            rest = self.driver.rest
            limiter = self._limiters[host] = RateLimiter(
                f"{self.name} {host}",
                {
                    b.name: TokenBucket(capacity=b.capacity, period=b.period)
                    for b in rest.buckets(market)
                },
                header_parser=lambda headers: rest.limit_headers(market, headers),
            )
        return limiter

    def rest(self, market: Market) -> RestClient:
        """The warm REST client of the host serving ``market`` (shared by its markets)."""
        host = self.host(market)
        client = self._clients.get(host)
        if client is None:
            client = self._clients[host] = RestClient(
                self.name,
                host,
                limiter=self.limiter(market),
                error_mapper=self.driver.rest.rest_error,
                timeout=self.request_timeout,
                transport=self._transport,
                verify=self._verify(),
            )
        return client

    async def call(
        self, market: Market, call: RestCall, *, lane: Lane = Lane.DEFAULT
    ) -> RestResponse:
        """Send one described request to ``market``'s host, in ``lane`` at its limiter.

        The outcome goes to ``on_rest_outcome``; the body, when recording, to the
        capture. A timestamp rejection makes the clock take a fresh sample at once.

        Raises:
            ConnectorError: the mapped transport or venue error.
        """
        try:
            response = await self.rest(market).request(
                call.method,
                call.path,
                params=call.params,
                content=call.body,
                weights=call.weights,
                lane=lane,
            )
        except ConnectorError as exc:
            self._report(exc)
            if isinstance(exc, TimestampRejected):
                # Our idea of the venue's time is off: measure it again now.
                self.clock.request_resync()
            raise
        self._report(None)
        self._record(market, response)
        return response

    def _record(self, market: Market, response: RestResponse) -> None:
        if self.capture is not None:
            self.capture.write(
                CaptureRecord(
                    t="http",
                    conn=f"{self.name}-{market.value}-rest",
                    ts_ns=response.received_ns,
                    venue=self.name,
                    market=market.value,
                    url=response.url,
                    data=response.body.decode("utf-8", "replace"),
                )
            )

    async def send_signed(
        self,
        market: Market,
        call: RestCall,
        sign: Callable[[RestCall, int], SignedRequest],
        *,
        lane: Lane = Lane.ORDER,
        check: bool = False,
    ) -> RestResponse:
        """Send one signed request: the limiter first, then ``sign`` with the clock's
        venue time at that moment, then the wire.

        With ``check=False`` (the default) the venue's answer comes back as it
        is, errors included, for the trading adapter to read (an order answer's
        code decides between rejected, not found and unknown); only transport
        failures, 418 and 429 raise. A timestamp rejection still makes the clock
        resync when the caller reports it with :meth:`timestamp_rejected`.

        Raises:
            RequestTimeout, ConnectionLost: the outcome of the request is unknown.
            RateLimited, IpBanned: the request was refused before it was acted on.
        """

        def prepare() -> tuple[str, bytes | None, Mapping[str, str]]:
            signed = sign(call, self.clock.venue_time_ns())
            return signed.query, signed.body, signed.headers

        try:
            response = await self.rest(market).request(
                call.method,
                call.path,
                weights=call.weights,
                lane=lane,
                prepare=prepare,
                check=check,
            )
        except ConnectorError as exc:
            self._report(exc)
            if isinstance(exc, TimestampRejected):
                self.clock.request_resync()
            raise
        # A 5xx answer is no success for the health breaker (the venue's order endpoint
        # is failing); any other answer handed back unread is reported by its reader,
        # once it read the venue's code (`answer_read`): an HTTP 200 may say "unknown".
        if response.status >= 500:
            self._report(ServiceUnavailable(f"{self.name}: {call.path}: HTTP {response.status}"))
        elif check:
            self._report(None)
        self._record(market, response)
        return response

    def answer_read(self, error: ConnectorError | None) -> None:
        """What an answer :meth:`send_signed` handed back unread (below HTTP 500) said,
        for the health breaker: ``None`` (it answered, a refusal included) or the error
        its venue code maps to (a code meaning "unknown" or "busy" is a failure)."""
        self._report(error)

    def timestamp_rejected(self) -> None:
        """A signed answer said our time is off: measure the venue's clock again now."""
        self.clock.request_resync()

    def frame_recorder(self, market: Market) -> FrameRecorder | None:
        """What a socket of ``market`` reports its traffic to, when recording."""
        capture = self.capture
        if capture is None:
            return None

        def record(kind: str, conn_id: str, url: str, data: str | bytes, ts_ns: int) -> None:
            text = data if isinstance(data, str) else data.decode("utf-8", "replace")
            capture.write(
                CaptureRecord(
                    t=kind,
                    conn=conn_id,
                    ts_ns=ts_ns,
                    venue=self.name,
                    market=market.value,
                    url=url,
                    data=text,
                )
            )

        return record

    def statistics(self) -> VenueContextStatistics:
        return VenueContextStatistics(
            limiters={host: limiter.statistics() for host, limiter in self._limiters.items()},
            clock=self.clock.estimate,
        )

    async def aclose(self) -> None:
        """Close every REST client (their connections); a later call opens new ones."""
        clients, self._clients = self._clients, {}
        with trio.CancelScope(shield=True):
            for client in clients.values():
                await client.aclose()

    async def _clock_sample(self) -> ClockSample:
        market = self.markets[0]
        rest = self.driver.rest
        response = await self.call(market, rest.server_time_call(market))
        return ClockSample(
            sent_ns=response.sent_ns,
            server_ns=rest.parse_server_time(response.body),
            received_ns=response.received_ns,
        )

    def _report(self, error: ConnectorError | None) -> None:
        if self.on_rest_outcome is not None:
            self.on_rest_outcome(self.name, error)
