"""Request/response correlation over one websocket (the venues' websocket order entry).

:class:`RpcClient` allocates request ids, sends each request, and wakes the
caller when the reply with that id comes, in whatever order replies come. It
is venue-agnostic: the venue code says how a request carries its id (the
``build`` function of each call) and how to read the id out of a reply
(``reply_id``). The connection's frame handler hands every frame to
:meth:`RpcClient.on_frame` first and tells :meth:`RpcClient.connection_lost`
when its socket goes::

    rpc = RpcClient(send=conn.send_request, reply_id=okx_reply_id, venue="okx")

    def on_frame(self, data, ts_recv_ns):
        if rpc.on_frame(data, ts_recv_ns):
            return None                    # a reply: its caller has it
        ...                                # a push: handle it

    reply = await rpc.call(lambda rid: encode({"id": rid, "op": "order", "args": [...]}))

What a failed call means (the caller decides; for an order):

* :class:`~connector.errors.RateLimited`: the request was never sent (no slot
  among ``max_in_flight`` in time): a definite "not placed".
* :class:`~connector.errors.ConnectionLost`: sent or perhaps sent, and the
  socket closed before the reply: outcome unknown. (Raised too when the
  connection was not ready, before sending.)
* :class:`~connector.errors.RequestTimeout`: sent, no reply in time: outcome unknown.

A reply that comes after its call gave up is counted (``late_replies``) and dropped.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable

import attrs
import structlog
import trio

from connector.errors import ConnectionLost, RateLimited, RequestTimeout

__all__ = ["ReplyId", "RpcClient", "RpcReply", "RpcStatistics"]

log = structlog.get_logger(__name__)

ReplyId = Callable[[str | bytes], str | None]
"""``reply_id(frame)``: the request id a reply frame answers, or ``None`` for any other frame."""


@attrs.frozen(kw_only=True)
class RpcReply:
    """The reply to one call.

    Attributes:
        request_id: The id the request carried.
        data: The reply frame as received (the venue code parses it).
        ts_sent_ns: Wall-clock time just before the request was written to the socket
            (as a REST answer's ``sent_ns``).
        ts_recv_ns: Wall-clock time the reply was received.
    """

    request_id: str
    data: str | bytes
    ts_sent_ns: int
    ts_recv_ns: int


@attrs.frozen(kw_only=True)
class RpcStatistics:
    """Counters of one :class:`RpcClient`."""

    in_flight: int
    max_in_flight: int
    calls: int
    replies: int
    timeouts: int
    lost: int
    not_sent: int
    late_replies: int


@attrs.define
class _Pending:
    """One call waiting for its reply (owned by the calling task and ``on_frame``)."""

    done: trio.Event = attrs.field(factory=trio.Event)
    data: str | bytes | None = None
    ts_recv_ns: int = 0
    lost: str | None = None


class RpcClient:
    """Correlates requests and replies by id over one connection.

    Args:
        send: Sends one frame on a ready connection and returns the wall-clock time
            (ns) just before its bytes went to the socket, raising
            :class:`~connector.errors.ConnectionLost` when it cannot
            (:meth:`WsConnection.send_request <connector.net.ws.WsConnection.send_request>`).
        reply_id: Reads the request id out of a reply frame (``None``: not a reply).
        venue: For errors and logs.
        timeout: Default seconds per call, from asking for a slot to the reply.
        max_in_flight: Calls sent and not yet answered, at most; more wait
            for a slot (within their timeout).
        id_prefix: Put before each id (ids are ``prefix`` + a counter that
            never restarts, so a late reply from an old socket matches nothing).
    """

    def __init__(
        self,
        *,
        send: Callable[[str], Awaitable[int]],
        reply_id: ReplyId,
        venue: str = "",
        timeout: float = 10.0,
        max_in_flight: int = 100,
        id_prefix: str = "",
    ) -> None:
        self._send = send
        self._reply_id = reply_id
        self.venue = venue
        self.timeout = timeout
        self._max_in_flight = max_in_flight
        self._slots = trio.Semaphore(max_in_flight)
        self._ids = itertools.count(1)
        self._prefix = id_prefix
        self._pending: dict[str, _Pending] = {}
        self._idle: trio.Event | None = None
        self._calls = 0
        self._replies = 0
        self._timeouts = 0
        self._lost = 0
        self._not_sent = 0
        self._late = 0

    def statistics(self) -> RpcStatistics:
        """A frozen snapshot of this client's counters."""
        return RpcStatistics(
            in_flight=len(self._pending),
            max_in_flight=self._max_in_flight,
            calls=self._calls,
            replies=self._replies,
            timeouts=self._timeouts,
            lost=self._lost,
            not_sent=self._not_sent,
            late_replies=self._late,
        )

    async def call(self, build: Callable[[str], str], *, within: float | None = None) -> RpcReply:
        """Send the request ``build(request_id)`` and return its reply.

        Args:
            build: Makes the request frame around the id it is given.
            within: Seconds for the whole call (default: the client's ``timeout``).

        Raises:
            RateLimited: No slot within the timeout: the request was not sent.
            ConnectionLost: Not ready before sending, or the socket closed
                before the reply (outcome unknown).
            RequestTimeout: Sent, but no reply in time (outcome unknown).
        """
        self._calls += 1
        deadline = trio.current_time() + (self.timeout if within is None else within)
        try:
            # A free slot is taken with no checkpoint: the request is not held behind
            # every other ready task (trio's ``acquire`` yields to them first).
            self._slots.acquire_nowait()
        except trio.WouldBlock:
            with trio.move_on_at(deadline) as waiting:
                await self._slots.acquire()
            if waiting.cancelled_caught:  # trio: a cancelled acquire took no slot
                self._not_sent += 1
                raise RateLimited(
                    f"{self.venue} rpc: {self._max_in_flight} requests in flight; not sent",
                    venue=self.venue or None,
                    local=True,
                ) from None
        try:
            return await self._exchange(build, deadline)
        finally:
            self._slots.release()

    async def _exchange(self, build: Callable[[str], str], deadline: float) -> RpcReply:
        request_id = f"{self._prefix}{next(self._ids)}"
        pending = self._pending[request_id] = _Pending()
        try:
            frame = build(request_id)
            sent_ns = 0
            with trio.move_on_at(deadline):
                sent_ns = await self._send(frame)
                await pending.done.wait()
            if pending.lost is not None:
                self._lost += 1
                raise ConnectionLost(
                    f"{self.venue} rpc {request_id}: connection lost before the reply "
                    f"({pending.lost}); outcome unknown"
                )
            if pending.data is None:
                self._timeouts += 1
                raise RequestTimeout(
                    f"{self.venue} rpc {request_id}: no reply in time; outcome unknown"
                )
            return RpcReply(
                request_id=request_id,
                data=pending.data,
                ts_sent_ns=sent_ns,
                ts_recv_ns=pending.ts_recv_ns,
            )
        except ConnectionLost:
            if pending.lost is None:
                self._lost += 1  # raised by send: not ready, or closed while sending
            raise
        finally:
            del self._pending[request_id]
            if self._idle is not None and not self._pending:
                self._idle.set()
                self._idle = None

    async def wait_idle(self) -> None:
        """Until no call is waiting for its reply (at once when none is)."""
        if not self._pending:
            await trio.lowlevel.checkpoint()
            return
        if self._idle is None:
            self._idle = trio.Event()
        await self._idle.wait()

    def on_frame(self, data: str | bytes, ts_recv_ns: int) -> bool:
        """Offer one received frame; ``True`` when it was a reply (to a call, or a late one)."""
        request_id = self._reply_id(data)
        if request_id is None:
            return False
        pending = self._pending.get(request_id)
        if pending is None or pending.done.is_set():
            self._late += 1
            log.info("rpc.unmatched_reply", venue=self.venue, request_id=request_id)
            return True
        self._replies += 1
        pending.data = data
        pending.ts_recv_ns = ts_recv_ns
        pending.done.set()
        return True

    def connection_lost(self, reason: str) -> None:
        """The socket went: every call waiting for a reply fails with ``ConnectionLost``."""
        for pending in self._pending.values():
            if not pending.done.is_set():
                pending.lost = reason
                pending.done.set()
