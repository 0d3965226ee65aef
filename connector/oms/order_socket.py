"""Order entry over a venue's websocket API: child ``order_socket`` of a trading venue.

Present when the venue's config says ``order_entry = "websocket"`` and its
adapter is an :class:`~connector.venues.driver.OrderSocketEntry` (one per socket
the venue's markets need: Binance one per market, Bybit and OKX one). Each
socket logs in on every (re)connect before it carries an order (where the
venue has a login); :class:`~connector.net.rpc.RpcClient` matches each reply to
its request.

The order path (``OrderStateService.send_order``) hands a place, amend or cancel
to :meth:`OrderSocket.send` when the socket is ready, after the same order-count
limiters as over REST; it returns the reply as the
:class:`~connector.net.http.RestResponse` it stands for (the adapter's
``order_socket_answer``: status, rate-limit headers, body), which the adapter
reads as a REST answer. What a failure means for an order is the REST path's: a request
not sent (the socket not ready: ``None``, and the order goes over REST; no slot
in time: ``RateLimited``) placed nothing; a socket that closes after the
request was written (``ConnectionLost``) or a reply that does not come in time
(``RequestTimeout``) leaves the outcome unknown, and the order is queried by
its client order id, never sent again.

A venue that announces the socket's close (Binance ``serverShutdown``, OKX's
64008 notice), or answers a request with a 5xx (Bybit's 10019, its trade
service restarting, stands for one), gets no new order on it: orders go over
REST while the requests already written are answered there (up to the call
timeout), then the socket is replaced.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

import attrs
import structlog
import trio

from connector.model import Instrument, Market
from connector.net.http import RestResponse
from connector.net.rpc import RpcClient, RpcStatistics
from connector.net.ws import Answer, Greeting, WsConnection, WsPhase
from connector.venues.driver import OrderSocketEntry, PrivateStream, RestCall
from connector.venues.session import VenueSession

__all__ = ["OrderSocket", "OrderSocketStatistics"]

log = structlog.get_logger(__name__)


@attrs.frozen(kw_only=True)
class OrderSocketStatistics:
    """Counters of one order-entry socket.

    Attributes:
        markets: The markets whose orders it carries.
        ready: Logged in and carrying orders now.
        logins: Logins completed (the first one and one per reconnect; where the
            venue has no login, connections made).
        sent: Requests that went on the socket.
        fallbacks: Requests sent over REST because the socket was not ready.
        refusals: Logins the venue refused.
        rpc: The request/reply counters (timeouts, lost, late replies).
    """

    markets: tuple[Market, ...]
    ready: bool
    logins: int
    sent: int
    fallbacks: int
    refusals: int
    rpc: RpcStatistics


class OrderSocket:
    """Service ``order_socket`` of one venue (see the module docstring).

    Args:
        session: The venue's session (clock, URLs, transport, connection budget).
        adapter: The venue's trading adapter, which makes the socket's frames.
        socket: Which of the venue's order sockets (its key and markets).
        timeout: Seconds from a request to its reply, at most (then its outcome is
            unknown); ``None``: the venue's REST request timeout
            (``VenueContext.request_timeout``).
        ack_timeout: Seconds to wait for the login's answer.
    """

    def __init__(
        self,
        session: VenueSession,
        adapter: OrderSocketEntry,
        socket: PrivateStream,
        *,
        timeout: float | None = None,
        ack_timeout: float = 10.0,
    ) -> None:
        self.venue = session.name
        self._session = session
        self._adapter = adapter
        self.socket = socket
        self._ack_timeout = ack_timeout
        self._conn: WsConnection | None = None
        self._url = ""
        self._rpc = RpcClient(
            send=self._send_request,
            reply_id=adapter.order_socket_reply_id,
            venue=self.venue,
            timeout=session.context.request_timeout if timeout is None else timeout,
            id_prefix="o",
        )
        self._logins = self._sent = self._fallbacks = self._refusals = 0
        # Why no new order goes on this socket any more (the venue's notice of a close,
        # a 5xx reply); None since it opened.
        self._closing: str | None = None
        self._noticed = trio.Event()
        self.observers: list[Callable[[RestResponse], None]] = []
        """Called with every reply, as :meth:`send` returns it (its ``sent_ns`` is
        just before the request was written, as for a REST answer)."""

    @property
    def ready(self) -> bool:
        """Logged in and not closing: an order sent now goes on the socket."""
        return (
            self._conn is not None and self._conn.phase is WsPhase.READY and self._closing is None
        )

    def statistics(self) -> OrderSocketStatistics:
        return OrderSocketStatistics(
            markets=self.socket.markets,
            ready=self.ready,
            logins=self._logins,
            sent=self._sent,
            fallbacks=self._fallbacks,
            refusals=self._refusals,
            rpc=self._rpc.statistics(),
        )

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Keep the socket connected and logged in (orders go over REST meanwhile)."""
        context = self._session.context
        self._url = self._adapter.order_socket_url(self.socket, context.urls())
        self._conn = self._session.signed_socket(
            f"{self.venue}-orders-{self.socket.key}",
            self._url,
            self,
            self._adapter.order_socket_heartbeat(self.socket),
        )
        async with trio.open_nursery() as nursery:
            await nursery.start(self._conn.run)
            task_status.started()
            await self._renew_on_notice()

    async def _renew_on_notice(self) -> None:
        """After the venue's notice of a close: once the requests already written are
        answered (or their time is up), a new socket."""
        while True:
            await self._noticed.wait()
            self._noticed = trio.Event()
            with trio.move_on_after(self._rpc.timeout):
                await self._rpc.wait_idle()
            if self._closing is not None and self._conn is not None:
                self._conn.reconnect(f"the venue closes the socket: {self._closing}", planned=True)

    async def send(self, call: RestCall, instrument: Instrument) -> RestResponse | None:
        """``call`` on the socket; its reply as a REST answer. ``None`` (nothing sent)
        when the socket is not logged in or the venue has no websocket op for it.

        Raises:
            RateLimited: No slot among the requests in flight in time: not sent.
            ConnectionLost, RequestTimeout: Sent (or perhaps sent) and no reply:
                the outcome is unknown.
        """
        build = self._adapter.order_socket_request(call, instrument)
        if build is None:
            return None
        if not self.ready:
            self._fallbacks += 1
            return None
        now = self._session.context.clock.venue_time_ns
        self._sent += 1
        reply = await self._rpc.call(lambda request_id: build(request_id, now()))
        status, headers, body = self._adapter.order_socket_answer(reply.data)
        if status >= 500:
            # The service behind this socket failed the request (Binance: "you might also
            # want to establish a new WebSocket connection"; Bybit's 10019, restarting).
            self._close_soon(f"a {status} reply")
        response = RestResponse(
            status=status,
            url=self._url,
            headers=headers,
            body=body,
            sent_ns=reply.ts_sent_ns,
            received_ns=reply.ts_recv_ns,
        )
        for observe in self.observers:
            observe(response)
        return response

    async def _send_request(self, text: str) -> int:
        assert self._conn is not None, "order socket not running"
        return await self._conn.send_request(text)

    # -- FrameHandler ----------------------------------------------------------------

    def on_open(self) -> Greeting:
        self._closing = None
        frames = self._adapter.order_socket_login_frames(
            self.socket, self._session.context.clock.venue_time_ns()
        )
        if not frames:  # every request is signed on its own: ready once connected
            self._logins += 1
            return Greeting(frames=(), ready=True)
        return Greeting(frames=frames, ready=False, ack_timeout=self._ack_timeout)

    def on_frame(self, data: str | bytes, ts_recv_ns: int) -> Answer | None:
        if self._rpc.on_frame(data, ts_recv_ns):
            return None
        message = self._adapter.order_socket_control(data)
        if message is None or message.kind == "pong":
            return None
        if message.kind == "expired":
            self._close_soon(message.detail)
            return None
        if message.kind == "login" and message.ok:
            self._logins += 1
            log.info("orders.socket_ready", venue=self.venue)
            return Answer(ready=True)
        if not message.ok and not self.ready:
            # The login refused (Bybit's auth answer, OKX's error event): reconnect
            # with backoff; orders go over REST meanwhile.
            self._refusals += 1
            return Answer(fail=f"order socket login refused: {message.detail}")
        log.warning("orders.socket_message", venue=self.venue, detail=message.detail)
        return None

    def _close_soon(self, why: str) -> None:
        """No new order on this socket; a new one once its requests are answered."""
        if self._closing is None:
            self._closing = why
            self._noticed.set()
            log.info("orders.socket_closing", venue=self.venue, detail=why)

    def on_stale(self, key: Hashable) -> None:
        pass  # no watchdog: the heartbeat finds a dead socket

    def on_close(self, reason: str) -> None:
        self._rpc.connection_lost(reason)
