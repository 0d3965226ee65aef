"""Fault plans for the simulator: what goes wrong, where, and how often.

A :class:`FaultPlan` is a frozen, seeded list of :class:`FaultRule` values built
with a small fluent API; every builder returns a new plan::

    plan = (
        FaultPlan(seed=7)
        .drop(0.01, venue="binance", stream="depth")
        .disconnect(after_frames=500, venue="okx")
        .rest_error(0.1, status=503, venue="bybit", path="/v5/market")
        .clock_skew(1500, venue="binance")
    )

At run time one :class:`FaultInjector` per simulator run carries out the plan.
Front-ends (``binance.py``, ``bybit.py``, ``okx.py``) and the generic server
(``server.py``) consult it:

* websocket frames: ``injector.connection(venue, conn_id, market)`` returns a
  :class:`ConnectionFaults`; its :meth:`ConnectionFaults.on_frame` is called for
  every outgoing data frame and returns a :class:`FrameVerdict` (frames to send
  now, a delay before them, a stall, or a disconnect). ``server.WsConnection``
  does this for you when you call ``conn.send(text, stream=...)``.
* venue-specific rule kinds (OKX checksum corruption, Bybit ``u=1`` restart
  snapshot): ``ConnectionFaults.should(FaultKind.CORRUPT_CHECKSUM, stream)``.
* new websocket connections: :meth:`FaultInjector.on_connect` (refusal windows).
* REST: :meth:`FaultInjector.on_request` (5xx, 429, slow responses),
  :meth:`FaultInjector.stale_updates` (serve a depth snapshot N updates old),
  :meth:`FaultInjector.clock_skew_ms` (server clock offset).

Every injection is appended to the log (:meth:`FaultInjector.log`) as an
:class:`InjectedFault`, so a test can compare what its client saw with what was
injected. Randomness is drawn from ``random.Random`` instances seeded from
``(plan.seed, venue, connection id)``, so a run with the same plan, seed and
connection order injects the same faults.
"""

from __future__ import annotations

import enum
import random
import time
from collections.abc import Callable, Iterable
from typing import Literal

import attrs
import msgspec
import trio

__all__ = [
    "ConnectionFaults",
    "FaultInjector",
    "FaultKind",
    "FaultPlan",
    "FaultRule",
    "FrameVerdict",
    "InjectedFault",
    "MalformedVariant",
    "RestVerdict",
    "corrupt_frame",
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
    CLOCK_SKEW = "clock_skew"
    STALE_SNAPSHOT = "stale_snapshot"
    CORRUPT_CHECKSUM = "corrupt_checksum"
    RESTART_SNAPSHOT = "restart_snapshot"
    MALFORMED = "malformed"


_FRAME_KINDS = frozenset(
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
_REST_KINDS = frozenset({FaultKind.REST_ERROR, FaultKind.REST_429, FaultKind.REST_SLOW})


@attrs.frozen(kw_only=True)
class FaultRule:
    """One rule of a plan.

    Attributes:
        kind: What to inject.
        venue: Venue name it applies to, or None for every venue.
        market: Market (``spot``, ``linear``, ``swap``) or None for all.
        stream: Substring of the websocket stream/topic name (``"depth"``,
            ``"orderbook.50"``, ``"books"``) or, for REST kinds and stale
            snapshots, a URL path prefix; None matches everything.
        fraction: Probability per frame or request (ignored by count/time rules).
        after_frames: Fire once a connection has sent this many data frames.
        at: Fire at these times, in seconds since the injector started.
        seconds: Delay, stall, refusal or slow-response duration.
        value: Kind-specific number: HTTP status (rest_error), skew in ms
            (clock_skew), how many updates old (stale_snapshot).
        variant: Malformed-frame variant.
        max_count: Stop after this many injections in the whole run (None: no cap).
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

    def matches(self, venue: str, market: str | None, stream: str | None) -> bool:
        """Whether the rule applies to this venue, market and stream/path."""
        if self.venue is not None and self.venue != venue:
            return False
        if self.market is not None and market is not None and self.market != market:
            return False
        if self.stream is None:
            return True
        if stream is None:
            return False
        if self.kind in _REST_KINDS or self.kind is FaultKind.STALE_SNAPSHOT:
            return stream.startswith(self.stream)
        return self.stream in stream


@attrs.frozen(kw_only=True)
class FaultPlan:
    """A frozen, seeded set of fault rules; builders return new plans.

    Common keyword arguments of the builders: ``venue``, ``market`` and
    ``stream`` select where the rule applies (see :class:`FaultRule`);
    ``max_count`` caps how many times it fires in the run.
    """

    seed: int = 0
    rules: tuple[FaultRule, ...] = ()

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
    ) -> FaultPlan:
        """Drop this fraction of websocket data frames."""
        return self._add(FaultKind.DROP, venue, market, stream, max_count, fraction=fraction)

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
    ) -> FaultPlan:
        """Hold this fraction of frames back and send each after the next frame."""
        return self._add(FaultKind.REORDER, venue, market, stream, max_count, fraction=fraction)

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
    ) -> FaultPlan:
        """Reject websocket handshakes (HTTP 503) from ``start`` for ``seconds``."""
        return self._add(FaultKind.REFUSE, venue, market, at=(start,), seconds=seconds)

    def rest_error(
        self,
        fraction: float,
        *,
        status: int = 503,
        path: str | None = None,
        venue: str | None = None,
        market: str | None = None,
        max_count: int | None = None,
    ) -> FaultPlan:
        """Answer this fraction of REST requests with a 5xx ``status``."""
        return self._add(
            FaultKind.REST_ERROR, venue, market, path, max_count, fraction=fraction, value=status
        )

    def rest_rate_limited(
        self,
        fraction: float,
        *,
        retry_after: float = 1.0,
        path: str | None = None,
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


@attrs.frozen(kw_only=True)
class InjectedFault:
    """One fault the injector carried out.

    Attributes:
        ts_ns: Wall-clock time of the injection (ns since the epoch).
        venue: Venue name.
        kind: The rule kind.
        conn_id: Websocket connection id, or None for REST and venue-wide faults.
        stream: Stream/topic of the affected frame, or the REST path.
        detail: Kind-specific detail (status, seconds, variant, frame number...).
    """

    ts_ns: int
    venue: str
    kind: FaultKind
    conn_id: int | None
    stream: str
    detail: str = ""


@attrs.frozen(kw_only=True)
class FrameVerdict:
    """What to do with one outgoing frame.

    Attributes:
        frames: Frames to send now, in order (empty: nothing now).
        delay: Seconds to wait before sending them.
        stall: Seconds to send nothing after ``frames`` (frames produced meanwhile
            are discarded by the connection).
        disconnect: Close the connection (after sending ``frames``).
    """

    frames: tuple[str, ...]
    delay: float = 0.0
    stall: float = 0.0
    disconnect: bool = False


@attrs.frozen(kw_only=True)
class RestVerdict:
    """What to do with one REST request.

    Attributes:
        kind: REST_ERROR (answer ``status`` with an error body), REST_429 (answer
            with the venue's rate-limit reply, ``Retry-After: retry_after``), or
            REST_SLOW (wait ``delay`` seconds, then answer normally).
        status: HTTP status for REST_ERROR and REST_429.
        delay: Seconds to wait (REST_SLOW).
        retry_after: Seconds for the Retry-After header (REST_429).
    """

    kind: FaultKind
    status: int = 200
    delay: float = 0.0
    retry_after: float = 0.0


@attrs.frozen(kw_only=True)
class FaultStatistics:
    """Counts of injected faults by kind."""

    injected: dict[str, int]
    log_dropped: int


_LOG_LIMIT = 200_000


class FaultInjector:
    """Carries out a :class:`FaultPlan` for one simulator run.

    The log holds at most 200,000 entries; older entries are kept and newer ones
    are counted in ``statistics().log_dropped`` once the limit is reached.

    Args:
        plan: The plan (None or an empty plan injects nothing).
        clock: Seconds clock, default :func:`trio.current_time` (so tests with
            ``autojump_clock`` control rule times).
        wall_ns: Wall clock for log timestamps.
    """

    def __init__(
        self,
        plan: FaultPlan | None = None,
        *,
        clock: Callable[[], float] | None = None,
        wall_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.plan = plan if plan is not None else FaultPlan()
        self._clock = clock if clock is not None else trio.current_time
        self._wall_ns = wall_ns
        self._start: float | None = None
        self._log: list[InjectedFault] = []
        self._log_dropped = 0
        self._fired: dict[int, int] = {}
        self._counts: dict[str, int] = {}
        self._rest_rngs: dict[str, random.Random] = {}
        self._conn_ids: dict[str, int] = {}

    def start(self) -> None:
        """Mark time zero for ``at=`` rules (first call wins)."""
        if self._start is None:
            self._start = self._clock()

    def elapsed(self) -> float:
        """Seconds since :meth:`start` (starting the clock if needed)."""
        if self._start is None:
            self.start()
        assert self._start is not None
        return self._clock() - self._start

    def rules(self, venue: str, kinds: frozenset[FaultKind] | None = None) -> list[FaultRule]:
        """The plan's rules that apply to ``venue`` (optionally of some kinds)."""
        return [
            r
            for r in self.plan.rules
            if (r.venue is None or r.venue == venue) and (kinds is None or r.kind in kinds)
        ]

    def log(self) -> tuple[InjectedFault, ...]:
        """Everything injected so far, oldest first."""
        return tuple(self._log)

    def record(
        self,
        venue: str,
        kind: FaultKind,
        *,
        conn_id: int | None = None,
        stream: str = "",
        detail: str = "",
    ) -> None:
        """Append one entry to the log (front-ends call this for their own kinds)."""
        self._counts[kind.value] = self._counts.get(kind.value, 0) + 1
        if len(self._log) >= _LOG_LIMIT:
            self._log_dropped += 1
            return
        self._log.append(
            InjectedFault(
                ts_ns=self._wall_ns(),
                venue=venue,
                kind=kind,
                conn_id=conn_id,
                stream=stream,
                detail=detail,
            )
        )

    def statistics(self) -> FaultStatistics:
        """A frozen snapshot of what was injected."""
        return FaultStatistics(injected=dict(self._counts), log_dropped=self._log_dropped)

    def _take(self, rule: FaultRule) -> bool:
        """Count one firing of ``rule``; False once its ``max_count`` is used up."""
        key = id(rule)
        n = self._fired.get(key, 0)
        if rule.max_count is not None and n >= rule.max_count:
            return False
        self._fired[key] = n + 1
        return True

    def _rest_rng(self, venue: str) -> random.Random:
        rng = self._rest_rngs.get(venue)
        if rng is None:
            rng = random.Random(f"{self.plan.seed}/{venue}/rest")
            self._rest_rngs[venue] = rng
        return rng

    def next_conn_id(self, venue: str) -> int:
        """A new websocket connection id, unique within ``venue`` for the run."""
        n = self._conn_ids.get(venue, 0) + 1
        self._conn_ids[venue] = n
        return n

    def connection(self, venue: str, conn_id: int, market: str | None = None) -> ConnectionFaults:
        """The per-connection fault state for a new websocket connection."""
        return ConnectionFaults(self, venue, conn_id, market)

    def on_connect(self, venue: str, market: str | None, path: str) -> bool:
        """Whether a new websocket handshake is accepted (False: refuse it)."""
        now = self.elapsed()
        for rule in self.rules(venue, frozenset({FaultKind.REFUSE})):
            if not rule.matches(venue, market, None):
                continue
            begin = rule.at[0] if rule.at else 0.0
            if begin <= now < begin + rule.seconds:
                self.record(venue, FaultKind.REFUSE, stream=path, detail=f"t={now:.3f}")
                return False
        return True

    def on_request(self, venue: str, market: str | None, path: str) -> RestVerdict | None:
        """A REST fault for this request, or None to answer normally."""
        rules = self.rules(venue, _REST_KINDS)
        if not rules:
            return None
        rng = self._rest_rng(venue)
        for rule in rules:
            if not rule.matches(venue, market, path):
                continue
            if rng.random() >= rule.fraction or not self._take(rule):
                continue
            if rule.kind is FaultKind.REST_ERROR:
                self.record(venue, rule.kind, stream=path, detail=str(rule.value))
                return RestVerdict(kind=rule.kind, status=rule.value)
            if rule.kind is FaultKind.REST_429:
                self.record(venue, rule.kind, stream=path, detail=f"retry_after={rule.seconds}")
                return RestVerdict(kind=rule.kind, status=429, retry_after=rule.seconds)
            self.record(venue, rule.kind, stream=path, detail=f"delay={rule.seconds}")
            return RestVerdict(kind=rule.kind, delay=rule.seconds)
        return None

    def stale_updates(self, venue: str, market: str | None, path: str) -> int:
        """How many engine updates old the next depth snapshot must be (0: fresh)."""
        rules = self.rules(venue, frozenset({FaultKind.STALE_SNAPSHOT}))
        if not rules:
            return 0
        rng = self._rest_rng(venue)
        for rule in rules:
            hit = rule.matches(venue, market, path) and rng.random() < rule.fraction
            if hit and self._take(rule):
                self.record(venue, rule.kind, stream=path, detail=f"updates={rule.value}")
                return rule.value
        return 0

    def clock_skew_ms(self, venue: str) -> int:
        """The venue's server clock offset in ms (sum of matching rules)."""
        return sum(r.value for r in self.rules(venue, frozenset({FaultKind.CLOCK_SKEW})))


class ConnectionFaults:
    """Fault state of one websocket connection; see :meth:`on_frame`.

    Created by :meth:`FaultInjector.connection`. Not shared between connections.
    """

    def __init__(
        self, injector: FaultInjector, venue: str, conn_id: int, market: str | None
    ) -> None:
        self._inj = injector
        self.venue = venue
        self.conn_id = conn_id
        self.market = market
        self._rng = random.Random(f"{injector.plan.seed}/{venue}/{conn_id}")
        self._frame_rules = [
            r
            for r in injector.rules(venue, _FRAME_KINDS)
            if r.market is None or market is None or r.market == market
        ]
        self._special_rules = [
            r
            for r in injector.rules(
                venue, frozenset({FaultKind.CORRUPT_CHECKSUM, FaultKind.RESTART_SNAPSHOT})
            )
            if r.market is None or market is None or r.market == market
        ]
        self._opened = injector.elapsed()
        self._done: set[tuple[int, int]] = set()
        self._held: str | None = None
        self.frames = 0

    @property
    def active(self) -> bool:
        """Whether any frame rule can apply to this connection."""
        return bool(self._frame_rules)

    def _due(self, rule: FaultRule, stream: str) -> bool:
        """Count/time trigger: True once per trigger point per connection."""
        if rule.after_frames is not None and self.frames >= rule.after_frames:
            key = (id(rule), -1)
            if key not in self._done:
                self._done.add(key)
                return True
        if rule.at:
            now = self._inj.elapsed()
            for i, t in enumerate(rule.at):
                if self._opened <= t <= now and (id(rule), i) not in self._done:
                    self._done.add((id(rule), i))
                    return True
        return False

    def on_frame(self, stream: str, frame: str) -> FrameVerdict:
        """Decide what happens to one outgoing data frame of ``stream``."""
        self.frames += 1
        if not self._frame_rules:
            return FrameVerdict(frames=(frame,))
        out: list[str] = [frame]
        delay = 0.0
        stall = 0.0
        disconnect = False
        inj = self._inj
        for rule in self._frame_rules:
            if not rule.matches(self.venue, self.market, stream):
                continue
            kind = rule.kind
            if kind is FaultKind.DISCONNECT or kind is FaultKind.STALL:
                if not self._due(rule, stream) or not inj._take(rule):
                    continue
                detail = f"frame={self.frames}"
                if kind is FaultKind.DISCONNECT:
                    disconnect = True
                else:
                    stall = max(stall, rule.seconds)
                    detail += f" seconds={rule.seconds}"
                inj.record(self.venue, kind, conn_id=self.conn_id, stream=stream, detail=detail)
                continue
            if kind is FaultKind.REORDER and self._held is not None:
                continue  # one frame is held already: nothing to reorder, count nothing
            if not out or self._rng.random() >= rule.fraction or not inj._take(rule):
                continue
            detail = f"frame={self.frames}"
            if kind is FaultKind.DROP:
                out = []
            elif kind is FaultKind.DUPLICATE:
                out = out + out[-1:]
            elif kind is FaultKind.DELAY:
                delay += rule.seconds
                detail += f" seconds={rule.seconds}"
            elif kind is FaultKind.MALFORMED:
                out[-1] = corrupt_frame(out[-1], rule.variant)
                detail += f" variant={rule.variant}"
            elif kind is FaultKind.REORDER:
                self._held = out.pop()
            inj.record(self.venue, kind, conn_id=self.conn_id, stream=stream, detail=detail)
        if self._held is not None and out:
            out.append(self._held)
            self._held = None
        return FrameVerdict(frames=tuple(out), delay=delay, stall=stall, disconnect=disconnect)

    def should(self, kind: FaultKind, stream: str) -> bool:
        """Whether a venue-specific fault fires for this message (and log it).

        For CORRUPT_CHECKSUM the rule's ``fraction`` is rolled per call; for
        RESTART_SNAPSHOT the rule's ``after_frames``/``at`` trigger fires once
        per trigger point per connection.
        """
        for rule in self._special_rules:
            if rule.kind is not kind or not rule.matches(self.venue, self.market, stream):
                continue
            if rule.after_frames is not None or rule.at:
                hit = self._due(rule, stream)
            else:
                hit = self._rng.random() < rule.fraction
            if hit and self._inj._take(rule):
                self._inj.record(
                    self.venue,
                    kind,
                    conn_id=self.conn_id,
                    stream=stream,
                    detail=f"frame={self.frames}",
                )
                return True
        return False


_json_decoder = msgspec.json.Decoder()


def _retype_first(value: object) -> tuple[object, bool]:
    """Turn the first int into a string (or first numeric string into a float)."""
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, bool):
                continue
            if isinstance(v, int):
                value[k] = str(v)
                return value, True
        for k, v in value.items():
            new, done = _retype_first(v)
            if done:
                value[k] = new
                return value, True
        return value, False
    if isinstance(value, list):
        for i, v in enumerate(value):
            if isinstance(v, str):
                try:
                    value[i] = float(v)
                except ValueError:
                    continue
                return value, True
            new, done = _retype_first(v)
            if done:
                value[i] = new
                return value, True
    return value, False


def corrupt_frame(frame: str, variant: MalformedVariant) -> str:
    """Return a malformed copy of a JSON text frame.

    Variants: ``truncated`` (the first half of the text: invalid JSON),
    ``extra_field`` (an unknown ``"zz_unknown"`` key added to the top-level
    object) and ``wrong_type`` (the first integer field becomes a string, or
    the first numeric string in an array becomes a number).
    """
    if variant == "truncated":
        return frame[: max(1, len(frame) // 2)]
    try:
        value = _json_decoder.decode(frame)
    except msgspec.DecodeError:
        return frame[: max(1, len(frame) // 2)]
    if variant == "extra_field":
        if isinstance(value, dict):
            value = {**value, "zz_unknown": {"x": [1, "2"]}}
        return msgspec.json.encode(value).decode()
    value, _ = _retype_first(value)
    return msgspec.json.encode(value).decode()
