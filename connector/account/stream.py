"""One private stream's conversation: log in, wait for the ack, subscribe, decode.

:class:`PrivateHandler` is the :class:`~connector.net.ws.FrameHandler` of one
private socket (one :class:`~connector.venues.driver.PrivateStream` of a
venue). The :class:`~connector.net.ws.WsConnection` calls :meth:`on_open` on
every (re)connect, so logging in and subscribing happen again, as one unit,
after every reconnect:

1. the adapter's login frames (Bybit ``auth``, OKX ``login``; none for Binance)
   are sent and the connection waits for the ``login`` acknowledgement;
2. then its subscribe frames (Binance spot's signed
   ``userDataStream.subscribe.signature``, Bybit and OKX ``subscribe``), and
   the connection waits for the first ``subscribed`` acknowledgement;
3. the stream is ready: :attr:`PrivateHandler.on_ready` is told (the account
   service reconciles: what happened while the socket was down is only known
   from REST).

A refusal (a control message with ``ok`` false before the stream is ready)
fails the attempt, which reconnects with backoff; no acknowledgement within
``ack_timeout`` does too. An ``expired`` control message (Binance
``listenKeyExpired`` / ``eventStreamTerminated`` / ``serverShutdown``, OKX's
service-upgrade notice) tells :attr:`PrivateHandler.on_expired`, which replaces
the socket (a listenKey stream with a new key first): a close the venue
announced, not a failure. Data events go to :attr:`PrivateHandler.on_events` in
frame order; a frame that does not decode is logged and counted, never raised.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Hashable, Sequence

import attrs
import structlog

from connector.errors import ConnectorError
from connector.net.ws import Answer, Greeting
from connector.venues.common import ControlMessage, SymbolMap
from connector.venues.driver import PrivateEvent, PrivateStream, TradingAdapter

__all__ = ["PrivateHandler", "PrivatePhase", "PrivateStreamStatistics"]

log = structlog.get_logger(__name__)


class PrivatePhase(enum.StrEnum):
    """Where one private socket is in its handshake."""

    DOWN = "down"
    LOGGING_IN = "logging_in"
    SUBSCRIBING = "subscribing"
    READY = "ready"


@attrs.frozen(kw_only=True)
class PrivateStreamStatistics:
    """Counters of one private stream.

    Attributes:
        key: The stream's key within its venue (``spot``, ``linear``, ``all``).
        phase: Where the handshake is now.
        logins: Handshakes completed (the first one and one per reconnect).
        events: Data events decoded (reports, fills, positions, balances).
        malformed: Frames that did not decode (logged and skipped).
        refusals: Handshakes the venue refused (login or subscribe errors).
        expiries: Times the venue ended the stream (``expired``).
        last_error: The last refusal, expiry or disconnect reason.
    """

    key: str
    phase: PrivatePhase
    logins: int
    events: int
    malformed: int
    refusals: int
    expiries: int
    last_error: str | None


def _nothing() -> None:
    pass


class PrivateHandler:
    """The frame handler of one private socket (see the module docstring).

    Args:
        venue: For logs.
        stream: The stream this socket carries.
        adapter: The venue's trading adapter (frames and decoding).
        symbols: The venue's instruments (decoding names symbols).
        venue_time_ns: The venue's clock now (signed login and subscribe frames).
        on_events: Told the data events of each frame, in order; must not block.
        on_ready: Told when a handshake completes (every reconnect); must not block.
        on_expired: Told when the venue ends the stream or announces the socket's
            close, with its reason (the socket is replaced, a listenKey stream's once
            the told one has made a new key); must not block.
        on_refused: Told when the venue refuses the login or the subscription, with
            the refusal (every time); must not block.
        ack_timeout: Seconds to wait for each acknowledgement.
    """

    def __init__(
        self,
        *,
        venue: str,
        stream: PrivateStream,
        adapter: TradingAdapter,
        symbols: SymbolMap,
        venue_time_ns: Callable[[], int],
        on_events: Callable[[Sequence[PrivateEvent]], None],
        on_ready: Callable[[], None] = _nothing,
        on_expired: Callable[[str], None] = lambda _reason: None,
        on_refused: Callable[[str], None] = lambda _reason: None,
        ack_timeout: float = 10.0,
    ) -> None:
        self.venue = venue
        self.stream = stream
        self._adapter = adapter
        self._symbols = symbols
        self._now = venue_time_ns
        self._on_events = on_events
        self._on_ready = on_ready
        self._on_expired = on_expired
        self._on_refused = on_refused
        self._ack_timeout = ack_timeout
        self.phase = PrivatePhase.DOWN
        self._logins = self._events = self._malformed = self._refusals = self._expiries = 0
        self._last_error: str | None = None

    def statistics(self) -> PrivateStreamStatistics:
        return PrivateStreamStatistics(
            key=self.stream.key,
            phase=self.phase,
            logins=self._logins,
            events=self._events,
            malformed=self._malformed,
            refusals=self._refusals,
            expiries=self._expiries,
            last_error=self._last_error,
        )

    # -- FrameHandler --------------------------------------------------------------

    def on_open(self) -> Greeting:
        login = self._adapter.private_login_frames(self.stream, self._now())
        if login:
            self.phase = PrivatePhase.LOGGING_IN
            return Greeting(frames=login, ready=False, ack_timeout=self._ack_timeout)
        return self._subscribe_greeting()

    def _subscribe_greeting(self) -> Greeting:
        frames = self._adapter.private_subscribe_frames(self.stream, self._now())
        if frames:
            self.phase = PrivatePhase.SUBSCRIBING
            return Greeting(frames=frames, ready=False, ack_timeout=self._ack_timeout)
        self._ready()
        return Greeting(frames=(), ready=True)

    def _ready(self) -> None:
        self.phase = PrivatePhase.READY
        self._logins += 1
        log.info("account.private_ready", venue=self.venue, stream=self.stream.key)
        self._on_ready()

    def on_frame(self, data: str | bytes, ts_recv_ns: int) -> Answer | None:
        try:
            decoded = self._adapter.decode_private(self.stream, data, self._symbols, ts_recv_ns)
        except ConnectorError as exc:
            self._malformed += 1
            log.warning(
                "account.private_frame_skipped",
                venue=self.venue,
                stream=self.stream.key,
                error=str(exc),
            )
            return None
        answer: Answer | None = None
        events: list[PrivateEvent] = []
        for item in decoded:
            if isinstance(item, ControlMessage):
                answer = self._control(item) or answer
                if answer is not None and answer.fail is not None:
                    break
            else:
                events.append(item)
        if events:
            self._events += len(events)
            self._on_events(events)
        return answer

    def _control(self, message: ControlMessage) -> Answer | None:
        kind, phase = message.kind, self.phase
        if kind == "expired":
            self._expiries += 1
            reason = f"stream ended by the venue: {message.detail}"
            self._last_error = reason
            log.warning("account.private_expired", venue=self.venue, stream=self.stream.key,
                        detail=message.detail)  # fmt: skip
            self._on_expired(message.detail)
            # A listenKey stream is replaced once its new key is made (on_expired).
            return None if self.stream.listen_key else Answer(replace=reason)
        if not message.ok or kind == "error":
            if phase is PrivatePhase.READY:
                log.warning("account.private_error", venue=self.venue, stream=self.stream.key,
                            detail=message.detail)  # fmt: skip
                return None
            self._refusals += 1
            step = "login" if phase is PrivatePhase.LOGGING_IN else "subscription"
            self._last_error = f"{step} refused: {message.detail}"
            self._on_refused(self._last_error)
            return Answer(fail=self._last_error)
        if kind == "login" and phase is PrivatePhase.LOGGING_IN:
            greeting = self._subscribe_greeting()
            return Answer(frames=greeting.frames, ready=greeting.ready)
        if kind == "subscribed" and phase is PrivatePhase.SUBSCRIBING:
            self._ready()
            return Answer(ready=True)
        return None

    def on_stale(self, key: Hashable) -> None:
        pass  # private streams have no watchdog: the heartbeat finds a dead socket

    def on_close(self, reason: str) -> None:
        if self.phase is not PrivatePhase.DOWN:
            log.warning("account.private_down", venue=self.venue, stream=self.stream.key,
                        reason=reason)  # fmt: skip
        self.phase = PrivatePhase.DOWN
        self._last_error = reason
