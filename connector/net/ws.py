"""Websocket connections: heartbeat, reconnect, budget, watchdog, conversation.

One :class:`WsConnection` is one socket and one task. Its reader hands every
frame to the handler in the same task (parse, sequence, book, publish: no
channel hop on the hot path). When the socket dies the connection tells the
handler (books go invalid), waits a capped, jittered exponential backoff, asks
the venue's :class:`ConnectionBudget`, reconnects, and sends the handler's
opening frames (subscriptions, a login) again as one unit.

A handler may hold a conversation: :meth:`FrameHandler.on_frame` may return an
:class:`Answer` (frames to send back: a pong, an auth), and
:meth:`FrameHandler.on_open` may return a :class:`Greeting` that is not ready
at once. Such a connection stays in :attr:`WsPhase.AWAITING_ACK` (no
``connected`` status, watchdog not armed, :meth:`WsConnection.wait_ready`
waiting) until an answer says ``ready``; no acknowledgement within the
greeting's ``ack_timeout`` fails the attempt, which reconnects with backoff.

Connection state goes to an ``on_status`` callback as
:class:`~connector.model.ConnectionEvent` values (``net/`` knows no bus); the
socket comes from an injectable :class:`~connector.net.ws_transport.WsTransport`
(our own client by default, in memory in :mod:`connector.testing`).
"""

from __future__ import annotations

import enum
import random
import time
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Protocol

import attrs
import structlog
import trio

from connector.errors import ConnectionLost
from connector.model import ConnectionEvent, ConnectionStatus
from connector.net.ws_transport import WsClientTransport, WsSocket, WsTransport
from connector.supervision.backoff import Backoff

__all__ = [
    "Answer",
    "ConnectionBudget",
    "FrameHandler",
    "FrameRecorder",
    "Greeting",
    "Heartbeat",
    "StatusCallback",
    "Watchdog",
    "WsConnection",
    "WsPhase",
    "WsStatistics",
]

log = structlog.get_logger(__name__)

PLANNED_MIN_UPTIME = 1.0
"""Seconds a socket must have been up for its planned replacement to connect again
at once (no backoff); one replaced sooner reconnects with backoff, as after a failure."""


@attrs.frozen(kw_only=True)
class Heartbeat:
    """A venue's keep-alive rule.

    Attributes:
        interval: Send a ping when we have sent nothing for this long.
        ping: Application ping text (Bybit ``{"op":"ping"}``, OKX ``ping``);
            ``None``: no application ping (Binance pings us and the transport
            answers).
        timeout: Receiving nothing at all for this long means the socket is dead.
        protocol_ping: Also send a websocket protocol ping after ``interval``
            without sending, and count its pong as received data: for quiet
            streams (private ones) whose venue pings never reach the handler.
    """

    interval: float
    ping: str | None = None
    timeout: float = 60.0
    protocol_ping: bool = False


class ConnectionBudget:
    """How many sockets a venue may have open, and how fast it may open them.

    Binance allows 300 connection attempts per 5 minutes per IP; the other
    venues have similar caps. :meth:`connect_slot` waits for a free slot.

    Args:
        max_open: Sockets open at once.
        attempts: Connection attempts allowed per ``period`` seconds.
    """

    def __init__(
        self, venue: str, *, max_open: int = 50, attempts: int = 300, period: float = 300.0
    ) -> None:
        self.venue = venue
        self._open = trio.Semaphore(max_open)
        self._attempts = attempts
        self._period = period
        self._recent: list[float] = []
        self._lock = trio.Lock()

    async def wait_attempt(self) -> None:
        """Wait until another connection attempt fits the budget (first come, first served)."""
        async with self._lock:
            while True:
                now = trio.current_time()
                self._recent = [t for t in self._recent if t > now - self._period]
                if len(self._recent) < self._attempts:
                    break
                wait = self._recent[0] + self._period - now
                log.warning("ws.budget_exhausted", venue=self.venue, wait=wait)
                await trio.sleep(wait)
            self._recent.append(now)

    @property
    def open_slots(self) -> trio.Semaphore:
        return self._open


def _frames(value: Sequence[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        raise TypeError("frames must be a sequence of frames, not one string")
    return tuple(value)


@attrs.frozen(kw_only=True)
class Greeting:
    """What a handler sends when its socket opens, and whether it must wait for an answer.

    Attributes:
        frames: Sent first, in order, as one unit (subscriptions, a login).
        ready: ``True``: the connection is ready once ``frames`` are sent.
            ``False``: it waits until :meth:`FrameHandler.on_frame` answers
            ``ready`` (an OKX login ack, a Binance WS API subscribe reply).
        ack_timeout: Seconds to wait for that answer; then the attempt fails
            and the connection reconnects with backoff.
    """

    frames: tuple[str, ...] = attrs.field(default=(), converter=_frames)
    ready: bool = True
    ack_timeout: float = 10.0


@attrs.frozen(kw_only=True)
class Answer:
    """What a handler wants done after one received frame.

    Attributes:
        frames: Sent back at once, in order (a pong, a login after a challenge).
        ready: The acknowledgement the greeting waited for has come.
        fail: The venue refused (a login error): drop the socket and
            reconnect with backoff; the text is the disconnect reason.
        replace: The venue announced it will close this socket (or ended what it
            carries): replace it now, a planned reconnect; the text is the reason.
    """

    frames: tuple[str, ...] = attrs.field(default=(), converter=_frames)
    ready: bool = False
    fail: str | None = None
    replace: str | None = None


class FrameHandler(Protocol):
    """What a connection drives; implemented by the venue sessions.

    A handler that neither answers nor waits for an acknowledgement returns
    plain frames from :meth:`on_open` and ``None`` from :meth:`on_frame`.
    """

    def on_open(self) -> Greeting | Sequence[str]:
        """The socket is up: frames to send first (all subscriptions, as one unit).

        A plain sequence means ready at once; a :class:`Greeting` may wait for an
        acknowledgement.
        """
        ...

    def on_frame(self, data: str | bytes, ts_recv_ns: int) -> Answer | None:
        """One received frame. Must not raise for bad venue input.

        Returns:
            ``None`` (nothing to do, the hot path) or an :class:`Answer`.
        """
        ...

    def on_stale(self, key: Hashable) -> None:
        """A subscription watched by the :class:`Watchdog` went quiet."""
        ...

    def on_close(self, reason: str) -> None:
        """The socket is gone; everything it fed is now unknown."""
        ...


class FrameRecorder(Protocol):
    """Receives raw traffic for ``connector record``."""

    def __call__(
        self, kind: str, conn_id: str, url: str, data: str | bytes, ts_ns: int
    ) -> None: ...


@attrs.define
class Watchdog:
    """Staleness per subscription: a key not touched for ``after`` seconds is stale.

    The handler calls :meth:`touch` for each message of a subscription (a
    dict store: cheap on the hot path); the connection task sleeps until
    :meth:`next_deadline` and reports :meth:`expired` keys once each. The same
    task runs the :meth:`alarm` calls when they are due (:meth:`due`): a deadline
    per key with no task per key.
    """

    after: float
    _seen: dict[Hashable, float] = attrs.field(factory=dict)
    _reported: set[Hashable] = attrs.field(factory=set)
    _alarms: dict[Hashable, tuple[float, Callable[[], None]]] = attrs.field(factory=dict)
    _armed: trio.Event = attrs.field(factory=trio.Event)

    def touch(self, key: Hashable, now: float) -> None:
        if key not in self._seen or key in self._reported:
            # A new or re-armed key may move the deadline earlier: wake the watcher.
            self._reported.discard(key)
            self._armed.set()
        self._seen[key] = now

    def last_touched(self, key: Hashable) -> float | None:
        """When ``key`` was last touched (``None``: not watched)."""
        return self._seen.get(key)

    def rearm(self, key: Hashable, now: float) -> None:
        """A key reported stale is watched again from ``now`` (others are left as they are)."""
        if key in self._reported:
            self.touch(key, now)

    def alarm(self, key: Hashable, at: float, call: Callable[[], None]) -> None:
        """Call ``call`` once at ``at`` (the trio clock), in place of ``key``'s earlier
        alarm if one is set; :meth:`forget` cancels it."""
        self._alarms[key] = (at, call)
        self._armed.set()

    async def wait(self) -> None:
        """Sleep until the next deadline or until a key is added or re-armed."""
        with trio.move_on_at(self.next_deadline()):
            await self._armed.wait()
        self._armed = trio.Event()

    def forget(self, key: Hashable) -> None:
        self._seen.pop(key, None)
        self._reported.discard(key)
        self._alarms.pop(key, None)

    def next_deadline(self) -> float:
        pending = [t for k, t in self._seen.items() if k not in self._reported]
        stale = min(pending) + self.after if pending else float("inf")
        if not self._alarms:
            return stale
        return min(stale, min(at for at, _ in self._alarms.values()))

    def expired(self, now: float) -> list[Hashable]:
        stale = [
            k for k, t in self._seen.items() if k not in self._reported and now - t >= self.after
        ]
        self._reported.update(stale)
        return stale

    def due(self, now: float) -> list[Callable[[], None]]:
        """The alarm calls due at ``now``, removed (each is made once)."""
        keys = [k for k, (at, _) in self._alarms.items() if at <= now]
        return [self._alarms.pop(k)[1] for k in keys]


class WsPhase(enum.StrEnum):
    """Where a connection is in its life."""

    DOWN = "down"
    """No socket: waiting for the backoff or the budget."""
    CONNECTING = "connecting"
    """Opening a socket."""
    AWAITING_ACK = "awaiting_ack"
    """The socket is open and the greeting sent; the venue has not acknowledged it yet."""
    READY = "ready"
    """Open and acknowledged: data flows, requests may be sent."""


@attrs.frozen(kw_only=True)
class WsStatistics:
    """Counters of one :class:`WsConnection`.

    Attributes:
        connected: A socket is open (ready or still awaiting its acknowledgement).
        phase: See :class:`WsPhase`.
        connects: Sockets opened.
        ack_timeouts: Attempts failed because no acknowledgement came in time.
        refusals: Attempts failed because the handler's answer said ``fail``.
    """

    conn_id: str
    url: str
    connected: bool
    phase: WsPhase
    connects: int
    frames_received: int
    frames_sent: int
    ack_timeouts: int
    refusals: int
    last_error: str | None


StatusCallback = Callable[[ConnectionEvent], None]
"""Told every connection change (``connecting``, ``connected`` once ready, ``disconnected``)."""


def _ignore_status(event: ConnectionEvent) -> None:
    pass


class WsConnection:
    """One websocket, kept alive for as long as its task runs.

    :meth:`run` reports started at once (it keeps trying in the background), or,
    with ``start_when_ready``, once the first socket is ready (acknowledged).

    Args:
        venue: For events and logs.
        conn_id: Names this connection in events, logs and captures.
        url: Where to connect.
        handler: Drives the conversation (see :class:`FrameHandler`).
        heartbeat: The venue's keep-alive rule.
        budget: The venue's connection budget.
        on_status: Told each :class:`~connector.model.ConnectionEvent` (the
            session publishes them on ``connection.{venue}``); must not block.
        transport: Opens the sockets (default: our own client, ``WsClientTransport``).
        backoff: Waits between attempts.
        watchdog: Staleness per subscription, armed once the connection is ready.
        recorder: Gets every frame sent and received, and connects/disconnects.
        rng: Jitter source for the backoff.
        max_message_size: For the default transport: larger messages close the socket.
        start_when_ready: Call ``task_status.started()`` only once the first
            socket is ready (a private stream that must be logged in).
    """

    def __init__(
        self,
        *,
        venue: str,
        conn_id: str,
        url: str,
        handler: FrameHandler,
        heartbeat: Heartbeat,
        budget: ConnectionBudget,
        on_status: StatusCallback | None = None,
        transport: WsTransport | None = None,
        backoff: Backoff | None = None,
        watchdog: Watchdog | None = None,
        recorder: FrameRecorder | None = None,
        rng: random.Random | None = None,
        max_message_size: int = 16 * 1024 * 1024,
        start_when_ready: bool = False,
    ) -> None:
        self.venue = venue
        self.conn_id = conn_id
        self.url = url
        self.dialed_url = url
        """The URL the current (or last) socket was opened with: :attr:`url` may change
        while it dials (a handler's streams changed at run time)."""
        self._handler = handler
        self._heartbeat = heartbeat
        self._on_status = on_status or _ignore_status
        self._budget = budget
        self._transport: WsTransport = transport or WsClientTransport(
            max_message_size=max_message_size
        )
        self._backoff = backoff or Backoff(initial=0.5, maximum=30.0, jitter=0.25)
        self.watchdog = watchdog
        self._recorder = recorder
        self._rng = rng or random.Random()
        self._start_when_ready = start_when_ready
        self._ws: WsSocket | None = None
        self._phase = WsPhase.DOWN
        self._phase_changed = trio.Event()
        self._attempt: trio.Nursery | None = None
        self._ack_scope: trio.CancelScope | None = None
        self._last_recv = 0.0
        self._last_send = 0.0
        self._connects = 0
        self._received = 0
        self._sent = 0
        self._ack_timeouts = 0
        self._refusals = 0
        self._last_error: str | None = None
        self._planned = False
        self._reconnect_now: trio.CancelScope | None = None

    @property
    def phase(self) -> WsPhase:
        """Where the connection is now."""
        return self._phase

    def statistics(self) -> WsStatistics:
        """A frozen snapshot of this connection's counters."""
        return WsStatistics(
            conn_id=self.conn_id,
            url=self.url,
            connected=self._ws is not None,
            phase=self._phase,
            connects=self._connects,
            frames_received=self._received,
            frames_sent=self._sent,
            ack_timeouts=self._ack_timeouts,
            refusals=self._refusals,
            last_error=self._last_error,
        )

    async def wait_ready(self) -> None:
        """Return once the connection is ready (at once when it already is)."""
        while self._phase is not WsPhase.READY:
            await self._phase_changed.wait()

    async def send(self, text: str) -> None:
        """Send a frame now; dropped (and logged) when the socket is down."""
        ws = self._ws
        if ws is None:
            log.info("ws.send_while_down", venue=self.venue, conn=self.conn_id)
            return
        try:
            await self._send(ws, text)
        except ConnectionLost as exc:
            # The reader sees the same close and reconnects; nothing to do here.
            log.info("ws.send_while_down", venue=self.venue, conn=self.conn_id, error=str(exc))

    async def send_request(self, text: str) -> int:
        """Send a request on a ready connection (what :class:`~connector.net.rpc.RpcClient` uses);
        returns the wall-clock time (ns) just before its bytes went to the socket.

        Raises:
            ConnectionLost: The connection is not ready (down, or still waiting
                for its acknowledgement), or the socket closed while sending:
                a request is never dropped silently.
        """
        ws = self._ws
        if ws is None or self._phase is not WsPhase.READY:
            raise ConnectionLost(f"{self.venue} {self.conn_id}: not ready ({self._phase})")
        return await self._send(ws, text)

    def reconnect(self, reason: str, *, planned: bool = False) -> None:
        """Drop the socket and reconnect (e.g. after the venue's error reply).

        ``planned``: to replace a connection that is fine (the venue announced
        its close, a listenKey was renewed); the ``disconnected`` event says so,
        the venue's health breaker does not count it as a failure, and the new
        socket connects at once (after :data:`PLANNED_MIN_UPTIME` seconds up).
        """
        self._last_error = reason
        self._planned = planned
        if self._reconnect_now is not None:
            self._reconnect_now.cancel()

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Connect, serve, reconnect until cancelled."""
        if not self._start_when_ready:
            task_status.started()
            await self._keep_connected()
            return
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._keep_connected)
            await self.wait_ready()
            task_status.started()

    async def _keep_connected(self) -> None:
        failures = 0
        while True:
            await self._budget.wait_attempt()
            self._set_phase(WsPhase.CONNECTING)
            self._status(ConnectionStatus.CONNECTING, None)
            started = trio.current_time()
            reason = await self._connect_once()
            self._ws = None
            self._set_phase(WsPhase.DOWN)
            self._last_error = reason
            self._handler.on_close(reason)
            self._status(ConnectionStatus.DISCONNECTED, reason, planned=self._planned)
            self._record("disconnect", reason)
            uptime = trio.current_time() - started
            if self._planned and uptime >= PLANNED_MIN_UPTIME:
                # Replaced on purpose (the venue announced its close, a new listenKey):
                # the new socket at once, as the venues ask, and no failure counted.
                # One that keeps being replaced right after connecting backs off.
                log.info("ws.replacing", venue=self.venue, conn=self.conn_id, reason=reason)
                failures = 0
                continue
            if uptime >= self._backoff.reset_uptime:
                failures = 0
            failures += 1
            delay = self._backoff.delay(failures, self._rng)
            log.warning(
                "ws.reconnecting",
                venue=self.venue,
                conn=self.conn_id,
                reason=reason,
                delay=round(delay, 3),
            )
            await trio.sleep(delay)

    async def _connect_once(self) -> str:
        """Connect and serve until the socket dies; returns why it died."""
        self._last_error = None
        self._planned = False
        try:
            self.dialed_url = self.url
            async with self._budget.open_slots, self._transport.connect(self.dialed_url) as ws:
                self._ws = ws
                self._connects += 1
                self._last_recv = self._last_send = trio.current_time()
                self._record("connect", "")
                log.info("ws.connected", venue=self.venue, conn=self.conn_id, url=self.url)
                async with trio.open_nursery() as nursery:
                    self._attempt = nursery
                    self._reconnect_now = scope = nursery.cancel_scope
                    nursery.start_soon(self._until_closed, self._serve, ws, scope)
                    nursery.start_soon(self._until_closed, self._keepalive, ws, scope)
                return self._last_error or "reconnect requested"
        except ConnectionLost as exc:
            return self._last_error or str(exc)
        finally:
            self._attempt = None
            self._ack_scope = None
            self._reconnect_now = None

    async def _until_closed(
        self,
        fn: Callable[[WsSocket], Awaitable[None]],
        ws: WsSocket,
        scope: trio.CancelScope,
    ) -> None:
        """Run one of the socket's tasks; a closed socket ends them all."""
        try:
            await fn(ws)
        except ConnectionLost as exc:
            self._last_error = self._last_error or str(exc)
        scope.cancel()

    async def _serve(self, ws: WsSocket) -> None:
        opening = self._handler.on_open()
        greeting = opening if isinstance(opening, Greeting) else Greeting(frames=opening)
        for frame in greeting.frames:
            await self._send(ws, frame)
        if greeting.ready:
            self._become_ready()
        else:
            self._set_phase(WsPhase.AWAITING_ACK)
            assert self._attempt is not None  # set before this task starts
            self._ack_scope = trio.CancelScope()
            self._attempt.start_soon(self._ack_deadline, self._ack_scope, greeting.ack_timeout)
        await self._read(ws)

    async def _read(self, ws: WsSocket) -> None:
        on_frame = self._handler.on_frame
        recorder = self._recorder
        while True:
            data = await ws.receive()
            now_ns = time.time_ns()
            self._last_recv = trio.current_time()
            self._received += 1
            if recorder is not None:
                recorder("recv", self.conn_id, self.url, data, now_ns)
            answer = on_frame(data, now_ns)
            if answer is not None and not await self._carry_out(ws, answer):
                return

    async def _carry_out(self, ws: WsSocket, answer: Answer) -> bool:
        """Send the answer's frames, then act on it; ``False``: the attempt is over."""
        for frame in answer.frames:
            await self._send(ws, frame)
        if answer.fail is not None:
            self._refusals += 1
            self._last_error = answer.fail
            log.warning("ws.refused", venue=self.venue, conn=self.conn_id, reason=answer.fail)
            return False
        if answer.replace is not None:
            self._last_error = answer.replace
            self._planned = True
            return False
        if answer.ready and self._phase is WsPhase.AWAITING_ACK:
            log.info("ws.acknowledged", venue=self.venue, conn=self.conn_id)
            self._become_ready()
        return True

    def _become_ready(self) -> None:
        if self._ack_scope is not None:
            self._ack_scope.cancel()
            self._ack_scope = None
        self._set_phase(WsPhase.READY)
        self._status(ConnectionStatus.CONNECTED, None)
        if self.watchdog is not None and self._attempt is not None:
            self._attempt.start_soon(self._watch, self.watchdog)

    async def _ack_deadline(self, scope: trio.CancelScope, seconds: float) -> None:
        with scope:
            await trio.sleep(seconds)
            self._ack_timeouts += 1
            self._last_error = f"no acknowledgement in {seconds:g} s"
            log.warning("ws.ack_timeout", venue=self.venue, conn=self.conn_id, waited=seconds)
            self.reconnect(self._last_error)

    async def _keepalive(self, ws: WsSocket) -> None:
        hb = self._heartbeat
        while True:
            now = trio.current_time()
            silent_for = now - self._last_recv
            if silent_for >= hb.timeout:
                self._last_error = f"no data for {silent_for:.1f} s"
                log.warning(
                    "ws.stale_connection",
                    venue=self.venue,
                    conn=self.conn_id,
                    silent=round(silent_for, 1),
                )
                await ws.aclose()
                return
            next_check = self._last_recv + hb.timeout
            if hb.ping is not None or hb.protocol_ping:
                ping_at = self._last_send + hb.interval
                if now >= ping_at:
                    if hb.ping is not None:
                        await self._send(ws, hb.ping)
                    if hb.protocol_ping:
                        await self._protocol_ping(ws, hb.timeout)
                    ping_at = self._last_send + hb.interval
                next_check = min(next_check, ping_at)
            await trio.sleep_until(next_check)

    async def _protocol_ping(self, ws: WsSocket, patience: float) -> None:
        """Ping and wait (at most ``patience`` s) for the pong, which counts as received data."""
        self._last_send = trio.current_time()
        with trio.move_on_after(patience):
            await ws.ping()
            self._last_recv = trio.current_time()

    async def _watch(self, watchdog: Watchdog) -> None:
        while True:
            await watchdog.wait()
            now = trio.current_time()
            for key in watchdog.expired(now):
                self._handler.on_stale(key)
            for call in watchdog.due(now):
                call()

    async def _send(self, ws: WsSocket, text: str) -> int:
        written_ns = await ws.send(text)
        self._last_send = trio.current_time()
        self._sent += 1
        self._record("send", text)
        return written_ns

    def _record(self, kind: str, data: str) -> None:
        if self._recorder is not None:
            self._recorder(kind, self.conn_id, self.url, data, time.time_ns())

    def _set_phase(self, phase: WsPhase) -> None:
        self._phase = phase
        self._phase_changed.set()
        self._phase_changed = trio.Event()

    def _status(
        self, status: ConnectionStatus, reason: str | None, *, planned: bool = False
    ) -> None:
        now = time.time_ns()
        self._on_status(
            ConnectionEvent(
                venue=self.venue,
                conn_id=self.conn_id,
                status=status,
                reason=reason,
                planned=planned,
                ts_event_ns=now,
                ts_recv_ns=now,
            )
        )
