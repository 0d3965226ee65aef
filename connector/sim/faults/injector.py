"""Carrying out a fault plan: the run's injector and each connection's fault state.

Every injection is counted and logged as an :class:`InjectedFault`; the log
is bounded (see :class:`FaultInjector`).
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable

import attrs
import trio

from connector.sim.faults.corruption import corrupt_frame
from connector.sim.faults.plan import FRAME_KINDS, REST_KINDS, FaultKind, FaultPlan, FaultRule

__all__ = [
    "ConnectionFaults",
    "FaultInjector",
    "FaultStatistics",
    "FrameVerdict",
    "InjectedFault",
    "RestVerdict",
]


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
            with the venue's rate-limit reply, ``Retry-After: retry_after``),
            REST_SLOW (wait ``delay`` seconds, then answer normally), REST_LATE
            (handle at once, answer ``delay`` seconds later) or REST_ERROR_AFTER
            (handle, then answer ``status`` with an error body instead).
        status: HTTP status for REST_ERROR, REST_ERROR_AFTER and REST_429.
        delay: Seconds to wait (REST_SLOW, REST_LATE).
        retry_after: Seconds for the Retry-After header (REST_429).
        code: REST_ERROR: the venue error code to answer in an HTTP 200 error body
            instead of ``status`` (the front-ends that have such answers: Bybit, OKX).
    """

    kind: FaultKind
    status: int = 200
    delay: float = 0.0
    retry_after: float = 0.0
    code: int | None = None


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

    async def run_timed(
        self,
        venue: str,
        kinds: frozenset[FaultKind],
        act: Callable[[FaultRule], Awaitable[None]],
    ) -> None:
        """Carry out ``venue``'s rules of ``kinds`` at their times (``FaultRule.at``,
        seconds since the plan started), in time order, one after the other."""
        timed = sorted(
            ((at, i, rule) for i, rule in enumerate(self.rules(venue, kinds)) for at in rule.at),
            key=lambda item: (item[0], item[1]),
        )
        for at, _, rule in timed:
            await trio.sleep(max(0.0, at - self.elapsed()))
            await act(rule)

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
            if begin <= now < begin + rule.seconds and self._take(rule):
                self.record(venue, FaultKind.REFUSE, stream=path, detail=f"t={now:.3f}")
                return False
        return True

    def on_request(
        self, venue: str, market: str | None, path: str, method: str | None = None
    ) -> RestVerdict | None:
        """A REST fault for this request, or None to answer normally."""
        rules = self.rules(venue, REST_KINDS)
        if not rules:
            return None
        rng = self._rest_rng(venue)
        for rule in rules:
            if not rule.matches(venue, market, path, method):
                continue
            if rng.random() >= rule.fraction or not self._take(rule):
                continue
            if rule.kind in (FaultKind.REST_ERROR, FaultKind.REST_ERROR_AFTER):
                said = str(rule.value) if rule.code is None else f"200 code={rule.code}"
                self.record(venue, rule.kind, stream=path, detail=said)
                return RestVerdict(kind=rule.kind, status=rule.value, code=rule.code)
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
            for r in injector.rules(venue, FRAME_KINDS)
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
        market = self.market or stream_market(self.venue, stream)
        for rule in self._frame_rules:
            if not rule.matches(self.venue, market, stream):
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
            if (kind is FaultKind.DROP or kind is FaultKind.REORDER) and (
                rule.after_frames or 0
            ) >= self.frames:
                continue  # not yet: the connection has not sent that many frames
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
        market = self.market or stream_market(self.venue, stream)
        for rule in self._special_rules:
            if rule.kind is not kind or not rule.matches(self.venue, market, stream):
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


def stream_market(venue: str, stream: str) -> str | None:
    """The market of a stream on a socket that serves more than one (OKX's public one:
    ``books:BTC-USDT-SWAP`` is on ``swap``, ``books:BTC-USDT`` on ``spot``), so that a
    rule aimed at one market hits only its streams; ``None`` when the name does not say."""
    if venue != "okx":
        return None
    _, colon, inst_id = stream.rpartition(":")
    if not colon or "-" not in inst_id:
        return None
    return "swap" if inst_id.endswith("-SWAP") else "spot"
