"""Fault plans: the rule kinds, one rule, and the plan with its fluent builders.

A plan can also be loaded from a TOML file (:meth:`FaultPlan.from_toml`) or a
mapping (:meth:`FaultPlan.from_mapping`); the format is in
:mod:`connector.sim.faults.loading`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Literal

import attrs

if TYPE_CHECKING:
    from os import PathLike

__all__ = [
    "FRAME_KINDS",
    "REST_KINDS",
    "FaultKind",
    "FaultPlan",
    "FaultRule",
    "MalformedVariant",
    "stream_matches",
]

MalformedVariant = Literal["truncated", "extra_field", "wrong_type"]


class FaultKind(enum.StrEnum):
    """Every kind of fault a plan can hold."""

    DROP = "drop"
    DUPLICATE = "duplicate"
    REORDER = "reorder"
    DELAY = "delay"
    DISCONNECT = "disconnect"
    STALL = "stall"
    REFUSE = "refuse"
    REST_ERROR = "rest_error"
    REST_429 = "rest_429"
    REST_SLOW = "rest_slow"
    REST_LATE = "rest_late"
    REST_ERROR_AFTER = "rest_error_after"
    STREAM_TERMINATED = "stream_terminated"
    SERVER_SHUTDOWN = "server_shutdown"
    LISTEN_KEY_EXPIRED = "listen_key_expired"
    CLOCK_SKEW = "clock_skew"
    STALE_SNAPSHOT = "stale_snapshot"
    CORRUPT_CHECKSUM = "corrupt_checksum"
    RESTART_SNAPSHOT = "restart_snapshot"
    MALFORMED = "malformed"


#: Kinds applied to outgoing websocket data frames.
FRAME_KINDS = frozenset(
    {
        FaultKind.DROP,
        FaultKind.DUPLICATE,
        FaultKind.REORDER,
        FaultKind.DELAY,
        FaultKind.DISCONNECT,
        FaultKind.STALL,
        FaultKind.MALFORMED,
    }
)
#: Kinds applied to REST requests.
REST_KINDS = frozenset(
    {
        FaultKind.REST_ERROR,
        FaultKind.REST_429,
        FaultKind.REST_SLOW,
        FaultKind.REST_LATE,
        FaultKind.REST_ERROR_AFTER,
    }
)
#: Kinds a front-end carries out at the times of the rule (private-stream sessions).
SESSION_KINDS = frozenset(
    {FaultKind.STREAM_TERMINATED, FaultKind.SERVER_SHUTDOWN, FaultKind.LISTEN_KEY_EXPIRED}
)
#: REST kinds that let the request be handled (an order taken) and then spoil its answer.
AFTER_HANDLER_KINDS = frozenset({FaultKind.REST_LATE, FaultKind.REST_ERROR_AFTER})


@attrs.frozen(kw_only=True)
class FaultRule:
    """One rule of a plan.

    Attributes:
        kind: What to inject.
        venue: Venue name it applies to, or None for every venue.
        market: Market (``spot``, ``linear``, ``swap``) or None for all.
        stream: Whole parts of the websocket stream/topic name (see
            :func:`stream_matches`: ``"depth"``, ``"orderbook.50"``, ``"books"``,
            ``"order"``) or, for REST kinds and stale snapshots, a URL path
            prefix; None matches everything.
        fraction: Probability per frame or request (ignored by count/time rules).
        after_frames: Fire once a connection has sent this many data frames (drop and
            reorder: from then on).
        at: Fire at these times, in seconds since the injector started.
        seconds: Delay, stall, refusal or slow-response duration.
        value: Kind-specific number: HTTP status (rest_error), skew in ms
            (clock_skew), how many updates old (stale_snapshot).
        code: rest_error only: answer HTTP 200 with this venue error code instead of
            the 5xx ``value`` (Bybit ``retCode``, OKX ``code``).
        variant: Malformed-frame variant.
        max_count: Stop after this many injections in the whole run (None: no cap).
        method: REST kinds only: the HTTP method (``POST``...) or None for every method.
    """

    kind: FaultKind
    venue: str | None = None
    market: str | None = None
    stream: str | None = None
    fraction: float = 1.0
    after_frames: int | None = None
    at: tuple[float, ...] = ()
    seconds: float = 0.0
    value: int = 0
    variant: MalformedVariant = "truncated"
    max_count: int | None = None
    method: str | None = None
    code: int | None = None

    def matches(
        self, venue: str, market: str | None, stream: str | None, method: str | None = None
    ) -> bool:
        """Whether the rule applies to this venue, market, stream/path and HTTP method."""
        if self.venue is not None and self.venue != venue:
            return False
        if self.method is not None and method is not None and self.method != method:
            return False
        if self.market is not None and market is not None and self.market != market:
            return False
        if self.stream is None:
            return True
        if stream is None:
            return False
        if self.kind in REST_KINDS or self.kind is FaultKind.STALE_SNAPSHOT:
            return stream.startswith(self.stream)
        return stream_matches(self.stream, stream)


STREAM_SEPARATORS = frozenset(".@:")
"""What separates the parts of a stream or topic name: Binance ``btcusdt@depth@100ms``,
Bybit ``orderbook.50.BTCUSDT``, the simulator's OKX ``books:BTC-USDT``."""


def stream_matches(pattern: str, name: str) -> bool:
    """Whether a rule's ``stream`` names ``name`` or whole parts of it.

    ``pattern`` must occur in ``name`` starting and ending at a part boundary (the
    name's start or end, or a separator: ``.``, ``@``, ``:``): ``"depth"`` and
    ``"@depth"`` match ``btcusdt@depth@100ms``, ``"orderbook.50"`` matches
    ``orderbook.50.BTCUSDT``, ``"order"`` matches Bybit's private ``order`` topic
    but not ``orderbook.50.BTCUSDT``, ``"books"`` matches ``books:BTC-USDT`` but
    not ``books5:BTC-USDT``.
    """
    if not pattern:
        return True
    start = name.find(pattern)
    while start >= 0:
        end = start + len(pattern)
        opens = (
            start == 0 or pattern[0] in STREAM_SEPARATORS or name[start - 1] in STREAM_SEPARATORS
        )
        closes = (
            end == len(name) or pattern[-1] in STREAM_SEPARATORS or name[end] in STREAM_SEPARATORS
        )
        if opens and closes:
            return True
        start = name.find(pattern, start + 1)
    return False


@attrs.frozen(kw_only=True)
class FaultPlan:
    """A frozen, seeded set of fault rules; builders return new plans.

    Common keyword arguments of the builders: ``venue``, ``market`` and
    ``stream`` select where the rule applies (see :class:`FaultRule`);
    ``max_count`` caps how many times it fires in the run.
    """

    seed: int = 0
    rules: tuple[FaultRule, ...] = ()

    @classmethod
    def from_toml(cls, path: str | PathLike[str]) -> FaultPlan:
        """The plan in a TOML file: ``seed`` and ``[[fault]]`` tables (see :mod:`.loading`).

        Raises:
            ConfigError: Naming every problem: an unreadable file, bad TOML, an
                unknown kind or key, a missing or invalid parameter.
        """
        from connector.sim.faults.loading import plan_from_toml

        return plan_from_toml(path)

    @classmethod
    def from_mapping(cls, data: Mapping[str, object], *, source: str = "fault plan") -> FaultPlan:
        """The plan described by a parsed TOML document (or a mapping of the same shape).

        Args:
            data: ``{"seed": 7, "fault": [{"kind": "drop", "fraction": 0.01}]}``;
                ``kind`` names a builder, the other keys are its arguments.
            source: What error messages call the input.

        Raises:
            ConfigError: Naming every problem found.
        """
        from connector.sim.faults.loading import plan_from_mapping

        return plan_from_mapping(data, source=source)

    def with_rule(self, rule: FaultRule) -> FaultPlan:
        """Return a plan with one more rule."""
        return attrs.evolve(self, rules=(*self.rules, rule))

    def _add(
        self,
        kind: FaultKind,
        venue: str | None,
        market: str | None = None,
        stream: str | None = None,
        max_count: int | None = None,
        *,
        fraction: float = 1.0,
        after_frames: int | None = None,
        at: Iterable[float] = (),
        seconds: float = 0.0,
        value: int = 0,
        variant: MalformedVariant = "truncated",
        method: str | None = None,
        code: int | None = None,
    ) -> FaultPlan:
        """The builders' common body: one more rule of ``kind`` (defaults as FaultRule's)."""
        rule = FaultRule(
            kind=kind,
            venue=venue,
            market=market,
            stream=stream,
            max_count=max_count,
            fraction=fraction,
            after_frames=after_frames,
            at=tuple(at),
            seconds=seconds,
            value=value,
            variant=variant,
            method=method.upper() if method else None,
            code=code,
        )
        return self.with_rule(rule)

    def drop(
        self,
        fraction: float,
        *,
        venue: str | None = None,
        market: str | None = None,
        stream: str | None = None,
        max_count: int | None = None,
        after_frames: int | None = None,
    ) -> FaultPlan:
        """Drop this fraction of websocket data frames (on each connection, only once it
        sent ``after_frames`` data frames, when given: a stream that works, then stops)."""
        return self._add(
            FaultKind.DROP,
            venue,
            market,
            stream,
            max_count,
            fraction=fraction,
            after_frames=after_frames,
        )

    def duplicate(
        self,
        fraction: float,
        *,
        venue: str | None = None,
        market: str | None = None,
        stream: str | None = None,
        max_count: int | None = None,
    ) -> FaultPlan:
        """Send this fraction of websocket data frames twice in a row."""
        return self._add(FaultKind.DUPLICATE, venue, market, stream, max_count, fraction=fraction)

    def reorder(
        self,
        fraction: float,
        *,
        venue: str | None = None,
        market: str | None = None,
        stream: str | None = None,
        max_count: int | None = None,
        after_frames: int | None = None,
    ) -> FaultPlan:
        """Hold this fraction of frames back and send each after the next frame (on each
        connection, only once it sent ``after_frames`` data frames, when given: swaps
        in a running stream rather than around its first snapshot)."""
        return self._add(
            FaultKind.REORDER,
            venue,
            market,
            stream,
            max_count,
            fraction=fraction,
            after_frames=after_frames,
        )

    def delay(
        self,
        fraction: float,
        seconds: float,
        *,
        venue: str | None = None,
        market: str | None = None,
        stream: str | None = None,
        max_count: int | None = None,
    ) -> FaultPlan:
        """Pause the connection for ``seconds`` before this fraction of frames.

        Like a congested TCP path, the frames behind a delayed one wait too.
        """
        return self._add(
            FaultKind.DELAY, venue, market, stream, max_count, fraction=fraction, seconds=seconds
        )

    def disconnect(
        self,
        *,
        after_frames: int | None = None,
        at: Iterable[float] = (),
        venue: str | None = None,
        market: str | None = None,
        stream: str | None = None,
        max_count: int | None = None,
    ) -> FaultPlan:
        """Close connections after N data frames each, and/or at given times.

        The server closes with code 1001 (going away), as a venue does when a
        front server restarts.
        """
        return self._add(
            FaultKind.DISCONNECT, venue, market, stream, max_count, after_frames=after_frames, at=at
        )

    def stall(
        self,
        seconds: float,
        *,
        after_frames: int | None = None,
        at: Iterable[float] = (),
        venue: str | None = None,
        market: str | None = None,
        stream: str | None = None,
        max_count: int | None = None,
    ) -> FaultPlan:
        """Keep connections open but send nothing for ``seconds``.

        Frames produced during the stall are discarded (the client sees silence,
        then a sequence gap), as with a stuck venue gateway.
        """
        return self._add(
            FaultKind.STALL,
            venue,
            market,
            stream,
            max_count,
            seconds=seconds,
            after_frames=after_frames,
            at=at,
        )

    def refuse_connections(
        self,
        seconds: float,
        *,
        start: float = 0.0,
        venue: str | None = None,
        market: str | None = None,
        max_count: int | None = None,
    ) -> FaultPlan:
        """Reject websocket handshakes (HTTP 503) from ``start`` for ``seconds``: all of
        them, or the first ``max_count``."""
        return self._add(
            FaultKind.REFUSE, venue, market, None, max_count, at=(start,), seconds=seconds
        )

    def rest_error(
        self,
        fraction: float,
        *,
        status: int = 503,
        path: str | None = None,
        method: str | None = None,
        venue: str | None = None,
        market: str | None = None,
        max_count: int | None = None,
        code: int | None = None,
    ) -> FaultPlan:
        """Answer this fraction of REST requests with a 5xx ``status``, without handling them
        (an order request so answered was never taken). With ``code``, the answer is the
        venue's HTTP 200 error body with that code instead (Bybit ``retCode`` 10016
        "internal server error", OKX ``code`` 50001...: a server error said in a normal
        answer); Binance says its server errors with a 5xx and ignores it."""
        return self._add(
            FaultKind.REST_ERROR,
            venue,
            market,
            path,
            max_count,
            fraction=fraction,
            value=status,
            method=method,
            code=code,
        )

    def rest_error_after(
        self,
        fraction: float,
        *,
        status: int = 503,
        path: str | None = None,
        method: str | None = None,
        venue: str | None = None,
        market: str | None = None,
        max_count: int | None = None,
    ) -> FaultPlan:
        """Handle this fraction of REST requests (an order is taken), then answer a 5xx
        ``status`` with the venue's error body instead: the outcome looks unknown."""
        return self._add(
            FaultKind.REST_ERROR_AFTER,
            venue,
            market,
            path,
            max_count,
            fraction=fraction,
            value=status,
            method=method,
        )

    def late_rest(
        self,
        fraction: float,
        seconds: float,
        *,
        path: str | None = None,
        method: str | None = None,
        venue: str | None = None,
        market: str | None = None,
        max_count: int | None = None,
    ) -> FaultPlan:
        """Handle this fraction of REST requests at once, then hold the answer ``seconds``:
        a delayed acknowledgement, or a lost one when the client gives up first."""
        return self._add(
            FaultKind.REST_LATE,
            venue,
            market,
            path,
            max_count,
            fraction=fraction,
            seconds=seconds,
            method=method,
        )

    def rest_rate_limited(
        self,
        fraction: float,
        *,
        retry_after: float = 1.0,
        path: str | None = None,
        method: str | None = None,
        venue: str | None = None,
        market: str | None = None,
        max_count: int | None = None,
    ) -> FaultPlan:
        """Answer this fraction of REST requests with the venue's 429 reply."""
        return self._add(
            FaultKind.REST_429,
            venue,
            market,
            path,
            max_count,
            fraction=fraction,
            seconds=retry_after,
            method=method,
        )

    def slow_rest(
        self,
        fraction: float,
        seconds: float,
        *,
        path: str | None = None,
        venue: str | None = None,
        market: str | None = None,
        max_count: int | None = None,
    ) -> FaultPlan:
        """Wait ``seconds`` before answering this fraction of REST requests."""
        return self._add(
            FaultKind.REST_SLOW, venue, market, path, max_count, fraction=fraction, seconds=seconds
        )

    def stream_terminated(self, *, at: Iterable[float], venue: str | None = "binance") -> FaultPlan:
        """At these times (seconds since the start) end every Binance spot user data
        subscription with ``eventStreamTerminated``, as the venue does on token expiry."""
        return self._add(FaultKind.STREAM_TERMINATED, venue, at=at)

    def server_shutdown(
        self, *, at: Iterable[float], seconds: float = 1.0, venue: str | None = "binance"
    ) -> FaultPlan:
        """At these times announce a close and close ``seconds`` later: Binance sends
        ``serverShutdown`` on every WebSocket API session (spot ``/ws-api/v3``, USDⓈ-M
        ``/ws-fapi/v1``); OKX (``venue="okx"``) its service-upgrade notice (``event``
        ``notice``, code 64008) on every websocket connection."""
        return self._add(FaultKind.SERVER_SHUTDOWN, venue, at=at, seconds=seconds)

    def listen_key_expired(
        self, *, at: Iterable[float], venue: str | None = "binance"
    ) -> FaultPlan:
        """At these times expire every Binance USDⓈ-M listenKey at once: its connections
        get ``listenKeyExpired`` and the key is gone, as after 60 minutes without a keepalive."""
        return self._add(FaultKind.LISTEN_KEY_EXPIRED, venue, at=at)

    def clock_skew(self, ms: int, *, venue: str | None = None) -> FaultPlan:
        """Shift the venue's server clock by ``ms`` (server time and event times)."""
        return self._add(FaultKind.CLOCK_SKEW, venue, value=ms)

    def stale_snapshot(
        self,
        updates: int,
        *,
        fraction: float = 1.0,
        path: str | None = None,
        venue: str | None = None,
        market: str | None = None,
        max_count: int | None = None,
    ) -> FaultPlan:
        """Serve REST depth snapshots ``updates`` engine updates old."""
        return self._add(
            FaultKind.STALE_SNAPSHOT,
            venue,
            market,
            path,
            max_count,
            fraction=fraction,
            value=updates,
        )

    def corrupt_checksum(
        self,
        fraction: float,
        *,
        venue: str | None = "okx",
        market: str | None = None,
        stream: str | None = None,
        max_count: int | None = None,
    ) -> FaultPlan:
        """Send a wrong OKX book checksum in this fraction of book messages."""
        return self._add(
            FaultKind.CORRUPT_CHECKSUM, venue, market, stream, max_count, fraction=fraction
        )

    def restart_snapshot(
        self,
        *,
        after_frames: int | None = None,
        at: Iterable[float] = (),
        venue: str | None = "bybit",
        market: str | None = None,
        stream: str | None = None,
        max_count: int | None = None,
    ) -> FaultPlan:
        """Make the Bybit front-end send a ``u=1`` service-restart snapshot."""
        return self._add(
            FaultKind.RESTART_SNAPSHOT,
            venue,
            market,
            stream,
            max_count,
            after_frames=after_frames,
            at=at,
        )

    def malformed(
        self,
        fraction: float,
        *,
        variant: MalformedVariant = "truncated",
        venue: str | None = None,
        market: str | None = None,
        stream: str | None = None,
        max_count: int | None = None,
    ) -> FaultPlan:
        """Corrupt this fraction of data frames (see :func:`corrupt_frame`)."""
        return self._add(
            FaultKind.MALFORMED,
            venue,
            market,
            stream,
            max_count,
            fraction=fraction,
            variant=variant,
        )
