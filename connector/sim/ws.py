"""Server-side websocket connections of the simulator.

:class:`WsConnection` is what a front-end's websocket handler gets: it loops
over ``await conn.receive()`` (None once the connection is closed) while the
venue's topics call ``conn.send(text, stream=...)``. Per-frame faults of the
run's :class:`~connector.sim.faults.FaultInjector` are applied inside
:meth:`WsConnection.send`.

Websocket connections have a bounded send buffer of ``send_buffer`` frames.
Overflow policy: a client that cannot keep up is disconnected, as the venues
do with slow consumers: the buffer is discarded and the connection is closed
with code 1008 and reason ``"slow consumer"``. Optional limits per connection
(see :class:`WsSettings`): server ping interval (protocol-level pings sent by
hypercorn), pong timeout, idle timeout (close with 1000 when the client sends
no message for that long), maximum lifetime (close with 1000 after that many
seconds, e.g. Binance's 24 h), and an incoming message rate (close with 1008
``"Too many requests"`` when a client sends more than that many messages in
one second).

Pongs: hypercorn answers client pings itself and does not pass pongs to the
ASGI app (its websocket scope has no extension for them), so the app cannot
match a pong to a ping. What hypercorn does offer is ``Config.read_timeout``:
the TCP connection is dropped (no close frame; the app sees a disconnect with
1006) when no bytes at all arrive from the client for that long. With server
pings every ``ping_interval`` seconds, a client that answers them always sends
something, so ``pong_timeout`` is enforced that way. The limitation: any bytes
count, so a client that sends messages but never pongs is not caught, and the
timeout is per endpoint (it also ends idle keep-alive REST connections).

Latency: a connection made with ``latency`` L (seconds, the front-ends'
``latency`` setting) is a delay line: every frame, and the close frame, is
stamped with its send time when queued and goes out no earlier than that time
plus L, in order. Frames queued together go out together L later (one write),
so the delay does not cut throughput; frames waiting out the delay count
toward ``send_buffer``.

Sending: the writer task of a connection hands every text frame queued since
it last ran to hypercorn's websocket stream in one socket write (frames
serialized by the stream's own wsproto connection, so negotiated extensions
still apply), instead of one ASGI ``websocket.send`` and one write per frame.
It falls back to ``websocket.send`` per frame under another ASGI server.

Ending: :meth:`WsConnection.serve` runs the front-end's handler, the writer
and the reader side by side; the writer (after the close frame went out) and
the reader (after the client disconnected) report that the connection is
over, and the others are cancelled then.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs
import structlog
import trio
from hypercorn.protocol.events import Data
from hypercorn.protocol.ws_stream import ASGIWebsocketState, WSStream
from wsproto.events import TextMessage
from wsproto.utilities import LocalProtocolError

if TYPE_CHECKING:
    from connector.sim.faults import FaultInjector
    from connector.sim.http import WsHandler

__all__ = [
    "ORDER_REPLIES",
    "AsgiReceive",
    "AsgiSend",
    "WsConnection",
    "WsSettings",
    "WsStatistics",
]

log = structlog.get_logger(__name__)

ORDER_REPLIES = "trade"
"""The stream of websocket order-entry replies (Bybit ``/v5/trade``, OKX's order ops) to
the fault plan: a plan can drop one, or close the socket, after the venue acted on the
order (the outcome the client must then find by querying). Other replies (``auth``,
``login``, ``pong``, subscriptions) are never faulted."""

AsgiReceive = Callable[[], Awaitable[dict[str, Any]]]
AsgiSend = Callable[[dict[str, Any]], Awaitable[None]]


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
        unmetered_paths: Paths whose incoming messages ``max_incoming_per_second``
            does not count (Binance's WebSocket APIs: on the venue they live on hosts
            of their own, and their requests are counted by weight instead).
    """

    send_buffer: int = 10_000
    ping_interval: float | None = None
    pong_timeout: float | None = None
    idle_timeout: float | None = None
    max_lifetime: float | None = None
    max_incoming_per_second: float | None = None
    unmetered_paths: frozenset[str] = frozenset()

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
    def attach(cls, send: AsgiSend) -> _DirectSend | None:
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
    a free dict where the front-end keeps its per-connection data. With
    ``latency`` > 0 every frame is held that many seconds (module docstring).
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
        latency: float = 0.0,
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
        #: With latency: when each item of ``_queue`` may go out (same length, same order).
        self._due: deque[float] = deque()
        self._latency = latency
        self._now = trio.lowlevel.current_clock().current_time  # trio.current_time, quicker
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
                self._put(verdict.delay)
            for f in verdict.frames:
                self._put(f)
            if verdict.stall:
                self._stall_until = trio.current_time() + verdict.stall
            if verdict.disconnect:
                self.close(1001, "going away")
                return
        else:
            if stream:
                self.faults.frames += 1
            self._queue.append(frame)  # inlined _put: the hot path
            if self._latency:
                self._due.append(self._now() + self._latency)
        if len(self._queue) > self.settings.send_buffer:
            self._queue.clear()
            self._due.clear()
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
        self._put(_CLOSE)
        self._wakeup.set()
        for cb in self.on_close:
            cb()

    def _put(self, item: object) -> None:
        """Queue ``item`` (a frame, a fault's pause, the close), due ``latency`` from now."""
        self._queue.append(item)
        if self._latency:
            self._due.append(self._now() + self._latency)

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

    async def _writer(self, send: AsgiSend) -> bool:
        """Send queued frames once due; True once the close frame went out (the end)."""
        queue = self._queue
        due = self._due  # empty without latency
        direct = _DirectSend.attach(send)
        while True:
            if not queue:
                self._wakeup = trio.Event()
                await self._wakeup.wait()
                continue
            if due and due[0] > self._now():
                await trio.sleep_until(due[0])
                continue
            if direct is not None and isinstance(queue[0], str):
                # Everything queued (and due) since the last write goes out in one write.
                now = self._now()
                batch: list[str] = []
                chars = 0
                while queue and len(batch) < _BATCH_FRAMES and chars < _BATCH_CHARS:
                    head: object = queue[0]
                    if not isinstance(head, str):
                        break
                    if due:
                        if due[0] > now:
                            break
                        due.popleft()
                    queue.popleft()
                    batch.append(head)
                    chars += len(head)
                await direct.send_texts(batch)
                self.frames_sent += len(batch)
                continue
            item = queue.popleft()
            if due:
                due.popleft()
            if item is _CLOSE:
                await send(
                    {
                        "type": "websocket.close",
                        "code": self.close_code,
                        "reason": self.close_reason,
                    }
                )
                return True
            if isinstance(item, float):
                await trio.sleep(item)
                continue
            await send({"type": "websocket.send", "text": item})
            self.frames_sent += 1

    async def _reader(self, receive: AsgiReceive) -> bool:
        """Feed incoming messages to :meth:`receive`.

        Returns True once the client disconnected (the connection is over),
        False after closing the connection itself (idle timeout, message
        rate); the writer then sends the close frame and ends it.
        """
        settings = self.settings
        window_start = trio.current_time()
        in_window = 0
        metered = (
            settings.max_incoming_per_second is not None
            and self.path not in settings.unmetered_paths
        )
        while True:
            if settings.idle_timeout is not None:
                with trio.move_on_after(settings.idle_timeout) as scope:
                    message = await receive()
                if scope.cancelled_caught:
                    self.close(1000, "idle timeout")
                    return False
            else:
                message = await receive()
            if message["type"] == "websocket.disconnect":
                self.closed = True
                if self.close_code is None:
                    self.close_code = int(message.get("code", 1005))
                for cb in self.on_close:
                    cb()
                return True
            if message["type"] != "websocket.receive":
                continue
            if metered and settings.max_incoming_per_second is not None:
                now = trio.current_time()
                if now - window_start >= 1.0:
                    window_start = now
                    in_window = 0
                in_window += 1
                if in_window > settings.max_incoming_per_second:
                    log.info("sim.ws.rate_exceeded", venue=self.venue, conn_id=self.conn_id)
                    self.close(1008, "Too many requests")
                    return False
            data = message.get("text")
            if data is None:
                data = message.get("bytes") or b""
            self.frames_received += 1
            try:
                self._incoming_send.send_nowait(data)
            except trio.WouldBlock:
                self.close(1008, "Too many requests")
                return False

    async def serve(self, handler: WsHandler, send: AsgiSend, receive: AsgiReceive) -> None:
        """Run ``handler`` with the writer and reader until the connection is over.

        The handler returning closes the connection politely (1000); a handler,
        writer or reader failing closes it with 1011 and logs
        ``sim.ws.handler_failed``.
        """
        async with trio.open_nursery() as nursery:
            scope = nursery.cancel_scope
            nursery.start_soon(self._guard, self._handle, handler, scope)
            nursery.start_soon(self._guard, self._writer, send, scope)
            nursery.start_soon(self._guard, self._reader, receive, scope)
            if self.settings.max_lifetime is not None:
                nursery.start_soon(self._lifetime, self.settings.max_lifetime)

    async def _handle(self, handler: WsHandler) -> bool:
        await handler(self)
        # The front-end handler returned: close the connection politely.
        self.close(1000, "")
        return False

    async def _guard(
        self, fn: Callable[[Any], Awaitable[bool]], arg: object, scope: trio.CancelScope
    ) -> None:
        try:
            over = await fn(arg)
        except Exception:
            log.exception("sim.ws.handler_failed", venue=self.venue, conn_id=self.conn_id)
            self.close(1011, "internal error")
            return
        if over:
            scope.cancel()

    async def _lifetime(self, seconds: float) -> None:
        await trio.sleep(seconds)
        self.close(1000, "connection lifetime exceeded")

    def finish(self) -> None:
        """Mark the connection closed and end :meth:`receive` (the server calls this last)."""
        self.closed = True
        self._incoming_send.close()
