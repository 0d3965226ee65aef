"""Websocket connections on trio-websocket: heartbeat, reconnect, budget, watchdog.

One :class:`WsConnection` is one socket and one task. Its reader hands every
frame to the handler in the same task (parse, sequence, book, publish: no
channel hop on the hot path). When the socket dies the connection tells the
handler (books go invalid), waits a capped, jittered exponential backoff, asks
the venue's :class:`ConnectionBudget`, reconnects, and sends the handler's
subscriptions again as one unit.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Protocol

import attrs
import structlog
import trio
import trio_websocket

from connector.bus import Bus
from connector.model import ConnectionEvent, ConnectionStatus
from connector.supervision.backoff import Backoff

__all__ = [
    "ConnectionBudget",
    "FrameHandler",
    "FrameRecorder",
    "Heartbeat",
    "Watchdog",
    "WsConnection",
    "WsStatistics",
]

log = structlog.get_logger(__name__)


@attrs.frozen(kw_only=True)
class Heartbeat:
    """A venue's keep-alive rule.

    Attributes:
        interval: Send ``ping`` when we have sent nothing for this long.
        ping: Application ping text (Bybit ``{"op":"ping"}``, OKX ``ping``);
            ``None``: the venue pings us and trio-websocket answers (Binance).
        timeout: Receiving nothing at all for this long means the socket is dead.
    """

    interval: float
    ping: str | None = None
    timeout: float = 60.0


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


class FrameHandler(Protocol):
    """What a connection drives; implemented by the venue sessions."""

    def on_open(self) -> Sequence[str]:
        """The connection is up: frames to send first (all subscriptions, as one unit)."""
        ...

    def on_frame(self, data: str | bytes, ts_recv_ns: int) -> None:
        """One received frame. Must not raise for bad venue input."""
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
    :meth:`next_deadline` and reports :meth:`expired` keys once each.
    """

    after: float
    _seen: dict[Hashable, float] = attrs.field(factory=dict)
    _reported: set[Hashable] = attrs.field(factory=set)
    _armed: trio.Event = attrs.field(factory=trio.Event)

    def touch(self, key: Hashable, now: float) -> None:
        if key not in self._seen or key in self._reported:
            # A new or re-armed key may move the deadline earlier: wake the watcher.
            self._reported.discard(key)
            self._armed.set()
        self._seen[key] = now

    async def wait(self) -> None:
        """Sleep until the next deadline or until a key is added or re-armed."""
        with trio.move_on_at(self.next_deadline()):
            await self._armed.wait()
        self._armed = trio.Event()

    def forget(self, key: Hashable) -> None:
        self._seen.pop(key, None)
        self._reported.discard(key)

    def next_deadline(self) -> float:
        pending = [t for k, t in self._seen.items() if k not in self._reported]
        return min(pending) + self.after if pending else float("inf")

    def expired(self, now: float) -> list[Hashable]:
        stale = [
            k for k, t in self._seen.items() if k not in self._reported and now - t >= self.after
        ]
        self._reported.update(stale)
        return stale


@attrs.frozen(kw_only=True)
class WsStatistics:
    conn_id: str
    url: str
    connected: bool
    connects: int
    frames_received: int
    frames_sent: int
    last_error: str | None


class WsConnection:
    """One websocket, kept alive for as long as its task runs.

    Reports ready at once (it keeps trying in the background); connection
    changes go to the bus on ``connection.{venue}``.
    """

    def __init__(
        self,
        *,
        venue: str,
        conn_id: str,
        url: str,
        handler: FrameHandler,
        heartbeat: Heartbeat,
        bus: Bus,
        budget: ConnectionBudget,
        backoff: Backoff | None = None,
        watchdog: Watchdog | None = None,
        recorder: FrameRecorder | None = None,
        rng: random.Random | None = None,
        max_message_size: int = 16 * 1024 * 1024,
    ) -> None:
        self.venue = venue
        self.conn_id = conn_id
        self.url = url
        self._handler = handler
        self._heartbeat = heartbeat
        self._bus = bus
        self._budget = budget
        self._backoff = backoff or Backoff(initial=0.5, maximum=30.0, jitter=0.25)
        self.watchdog = watchdog
        self._recorder = recorder
        self._rng = rng or random.Random()
        self._max_message_size = max_message_size
        self._ws: trio_websocket.WebSocketConnection | None = None
        self._last_recv = 0.0
        self._last_send = 0.0
        self._connects = 0
        self._received = 0
        self._sent = 0
        self._last_error: str | None = None
        self._reconnect_now: trio.CancelScope | None = None

    def statistics(self) -> WsStatistics:
        return WsStatistics(
            conn_id=self.conn_id,
            url=self.url,
            connected=self._ws is not None,
            connects=self._connects,
            frames_received=self._received,
            frames_sent=self._sent,
            last_error=self._last_error,
        )

    async def send(self, text: str) -> None:
        """Send a frame now; dropped (and logged) when the socket is down."""
        ws = self._ws
        if ws is None:
            log.info("ws.send_while_down", venue=self.venue, conn=self.conn_id)
            return
        await self._send(ws, text)

    def reconnect(self, reason: str) -> None:
        """Drop the socket and reconnect (e.g. after the venue's error reply)."""
        self._last_error = reason
        if self._reconnect_now is not None:
            self._reconnect_now.cancel()

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        failures = 0
        while True:
            await self._budget.wait_attempt()
            self._publish(ConnectionStatus.CONNECTING, None)
            started = trio.current_time()
            reason = await self._connect_once()
            self._ws = None
            self._last_error = reason
            self._handler.on_close(reason)
            self._publish(ConnectionStatus.DISCONNECTED, reason)
            self._record("disconnect", reason)
            if trio.current_time() - started >= self._backoff.reset_uptime:
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
        try:
            async with (
                self._budget.open_slots,
                trio_websocket.open_websocket_url(
                    self.url,
                    max_message_size=self._max_message_size,
                    connect_timeout=10,
                    disconnect_timeout=2,
                ) as ws,
            ):
                self._ws = ws
                self._connects += 1
                self._last_recv = self._last_send = trio.current_time()
                self._record("connect", "")
                self._publish(ConnectionStatus.CONNECTED, None)
                log.info("ws.connected", venue=self.venue, conn=self.conn_id, url=self.url)
                async with trio.open_nursery() as nursery:
                    self._reconnect_now = nursery.cancel_scope
                    scope = nursery.cancel_scope
                    nursery.start_soon(self._until_closed, self._serve, ws, scope)
                    nursery.start_soon(self._until_closed, self._keepalive, ws, scope)
                    if self.watchdog is not None:
                        nursery.start_soon(self._watch, self.watchdog)
                self._reconnect_now = None
                return self._last_error or "reconnect requested"
        except trio_websocket.ConnectionClosed as exc:
            return f"closed by venue: {exc.reason}"
        except trio_websocket.HandshakeError as exc:
            return f"handshake failed: {exc!r}"
        except (OSError, trio.BrokenResourceError) as exc:
            return f"connection failed: {exc!r}"
        except trio.TooSlowError:
            return "connect timed out"

    async def _until_closed(
        self,
        fn: Callable[[trio_websocket.WebSocketConnection], Awaitable[None]],
        ws: trio_websocket.WebSocketConnection,
        scope: trio.CancelScope,
    ) -> None:
        """Run one of the socket's tasks; a closed socket ends them all."""
        try:
            await fn(ws)
        except trio_websocket.ConnectionClosed as exc:
            self._last_error = self._last_error or f"closed by venue: {exc.reason}"
        except (OSError, trio.BrokenResourceError) as exc:
            self._last_error = self._last_error or f"connection lost: {exc!r}"
        scope.cancel()

    async def _serve(self, ws: trio_websocket.WebSocketConnection) -> None:
        for frame in self._handler.on_open():
            await self._send(ws, frame)
        await self._read(ws)

    async def _read(self, ws: trio_websocket.WebSocketConnection) -> None:
        on_frame = self._handler.on_frame
        recorder = self._recorder
        while True:
            data = await ws.get_message()
            now_ns = time.time_ns()
            self._last_recv = trio.current_time()
            self._received += 1
            if recorder is not None:
                recorder("recv", self.conn_id, self.url, data, now_ns)
            on_frame(data, now_ns)

    async def _keepalive(self, ws: trio_websocket.WebSocketConnection) -> None:
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
            if hb.ping is not None:
                ping_at = self._last_send + hb.interval
                if now >= ping_at:
                    await self._send(ws, hb.ping)
                    ping_at = self._last_send + hb.interval
                next_check = min(next_check, ping_at)
            await trio.sleep_until(next_check)

    async def _watch(self, watchdog: Watchdog) -> None:
        while True:
            await watchdog.wait()
            for key in watchdog.expired(trio.current_time()):
                self._handler.on_stale(key)

    async def _send(self, ws: trio_websocket.WebSocketConnection, text: str) -> None:
        await ws.send_message(text)
        self._last_send = trio.current_time()
        self._sent += 1
        self._record("send", text)

    def _record(self, kind: str, data: str) -> None:
        if self._recorder is not None:
            self._recorder(kind, self.conn_id, self.url, data, time.time_ns())

    def _publish(self, status: ConnectionStatus, reason: str | None) -> None:
        now = time.time_ns()
        self._bus.publish(
            f"connection.{self.venue}",
            ConnectionEvent(
                venue=self.venue,
                conn_id=self.conn_id,
                status=status,
                reason=reason,
                ts_event_ns=now,
                ts_recv_ns=now,
            ),
        )
