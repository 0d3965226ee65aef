"""Server-side rate limits of the simulated venues, as the venues enforce them.

Each limiter's ``check(...)`` returns a :class:`LimitVerdict`. When
``verdict.allowed`` the front-end answers normally and appends
``verdict.headers`` to its response; otherwise it returns
``verdict.response()`` (status, headers and the venue's error body).

* :class:`BinanceWeightLimiter`: request weight per IP per minute, header
  ``X-MBX-USED-WEIGHT-1M`` on every response; over the limit a 429 with
  ``Retry-After`` and code -1003; clients that keep sending while limited get a
  418 and an IP ban that doubles each time (2 minutes first, 3 days at most).
* :class:`BybitLimiter`: requests per endpoint per window (per IP or per key)
  with ``X-Bapi-Limit``, ``X-Bapi-Limit-Status`` and
  ``X-Bapi-Limit-Reset-Timestamp``; over the limit retCode 10006
  ``"Too many visits!"`` with HTTP 200, as Bybit sends it.
* :class:`OkxLimiter`: requests per endpoint per 2 s; over the limit HTTP 429
  with code ``"50011"`` ``"Too Many Requests"``.

* :class:`SlidingWindowCounter`: a generic counter of events per subject over
  named sliding windows (``{"10s": 10, "1d": 86_400}``), for the venues' order
  counts (Binance ``X-MBX-ORDER-COUNT-*``, Bybit per-UID order limits, OKX
  per-instrument order limits), shared by REST and websocket order entry.
  Time is passed in (seconds on any clock), so it is pure and testable.

Windows and limits are constructor arguments, so tests can hit them quickly.
Windows are fixed (they reset at multiples of ``window`` on the limiter's
clock), as Binance's minute buckets do. Memory: one small record per key, keys
seen in the last window only (older ones are pruned on the next check).
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Hashable, Mapping

import attrs
import msgspec
import trio

from connector.sim.http import Response

__all__ = [
    "BinanceWeightLimiter",
    "BybitLimiter",
    "CounterStatistics",
    "LimitVerdict",
    "OkxLimiter",
    "SlidingWindowCounter",
    "WsRefusal",
    "binance_depth_weight",
]

_enc = msgspec.json.Encoder()


@attrs.frozen(kw_only=True)
class LimitVerdict:
    """The outcome of one rate-limit check.

    Attributes:
        allowed: Answer the request normally.
        headers: Headers to add to the response either way.
        status: HTTP status when refused.
        body: The venue's error body when refused.
        until_ms: When a refused caller may try again (epoch ms), where the limiter
            knows it.
    """

    allowed: bool
    headers: tuple[tuple[str, str], ...] = ()
    status: int = 200
    body: bytes = b""
    until_ms: int | None = None

    def response(self) -> Response:
        """The refusal as a :class:`~connector.sim.http.Response`."""
        return Response(status=self.status, body=self.body, headers=self.headers)


@attrs.frozen(kw_only=True)
class WsRefusal:
    """A Binance WebSocket API request refused for the IP's weight (429) or ban (418)."""

    status: int
    msg: str
    server_ms: int
    until_ms: int

    def body(self) -> dict[str, object]:
        """The reply's ``error``: -1003 with ``data`` ``{"serverTime", "retryAfter"}``
        (epoch ms: the end of the window, or of the ban), as the venue's "IP limits"
        examples."""
        data = {"serverTime": self.server_ms, "retryAfter": self.until_ms}
        return {"code": -1003, "msg": self.msg, "data": data}


def binance_depth_weight(market: str, limit: int) -> int:
    """Request weight of a Binance depth request (spot ``/api/v3``, futures ``/fapi/v1``)."""
    if market == "spot":
        if limit <= 100:
            return 5
        if limit <= 500:
            return 25
        if limit <= 1000:
            return 50
        return 250
    if limit <= 50:
        return 2
    if limit <= 100:
        return 5
    if limit <= 500:
        return 10
    return 20


@attrs.define
class _BinanceIp:
    window_index: int
    used: int = 0
    strikes: int = 0
    bans: int = 0
    banned_until: float = -math.inf


class BinanceWeightLimiter:
    """Binance IP request-weight limiter.

    Args:
        limit: Weight per window (spot 6000, USDⓈ-M 2400).
        window: Window length in seconds (60: the real ``1M`` interval; the
            header keeps the ``1M`` name whatever the window).
        strikes_before_ban: Over-limit requests tolerated after a 429 before
            the IP is banned with 418.
        ban_seconds: First ban length; each later ban doubles, up to ``max_ban``.
        max_ban: Longest ban (3 days).
        clock: Seconds clock (default :func:`trio.current_time`).
        wall_ms: Epoch-ms clock for the "banned until" time.
    """

    def __init__(
        self,
        *,
        limit: int = 6000,
        window: float = 60.0,
        strikes_before_ban: int = 3,
        ban_seconds: float = 120.0,
        max_ban: float = 3 * 86400.0,
        clock: Callable[[], float] | None = None,
        wall_ms: Callable[[], int] | None = None,
    ) -> None:
        self.limit = limit
        self.window = window
        self.strikes_before_ban = strikes_before_ban
        self.ban_seconds = ban_seconds
        self.max_ban = max_ban
        self._clock = clock if clock is not None else trio.current_time
        self._wall_ms = wall_ms if wall_ms is not None else (lambda: time.time_ns() // 1_000_000)
        self._ips: dict[str, _BinanceIp] = {}

    def used(self, ip: str) -> int:
        """Weight used by ``ip`` in the current window."""
        state = self._ips.get(ip)
        if state is None or state.window_index != int(self._clock() // self.window):
            return 0
        return state.used

    def check(self, ip: str, weight: int) -> LimitVerdict:
        """Charge ``weight`` to ``ip`` and decide."""
        now = self._clock()
        index = int(now // self.window)
        state = self._ips.get(ip)
        if state is None:
            if len(self._ips) > 10_000:
                self._ips = {k: v for k, v in self._ips.items() if v.window_index == index}
            state = _BinanceIp(window_index=index)
            self._ips[ip] = state
        if state.window_index != index:
            state.window_index = index
            state.used = 0
            state.strikes = 0
        if now < state.banned_until:
            return self._banned(state, now)
        if state.used + weight > self.limit:
            state.strikes += 1
            if state.strikes > self.strikes_before_ban + 1:
                length = min(self.ban_seconds * (2**state.bans), self.max_ban)
                state.bans += 1
                state.banned_until = now + length
                return self._banned(state, now)
            left = (index + 1) * self.window - now
            retry = max(1, math.ceil(left))
            msg = (
                f"Too many requests; current limit of IP({ip}) is {self.limit} requests per "
                "minute. Please use the websocket for live updates to avoid polling the API."
            )
            return LimitVerdict(
                allowed=False,
                status=429,
                headers=(("X-MBX-USED-WEIGHT-1M", str(state.used)), ("Retry-After", str(retry))),
                body=_enc.encode({"code": -1003, "msg": msg}),
                until_ms=self._wall_ms() + int(left * 1000),
            )
        state.used += weight
        return LimitVerdict(allowed=True, headers=(("X-MBX-USED-WEIGHT-1M", str(state.used)),))

    def ws_refusal(self, verdict: LimitVerdict) -> WsRefusal:
        """A refused ``verdict`` as the WebSocket APIs answer it (the ban's message is
        REST's)."""
        now_ms = self._wall_ms()
        msg = (
            msgspec.json.decode(verdict.body)["msg"]
            if verdict.status == 418
            else f"Too much request weight used; current limit is {self.limit} request "
            "weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid "
            "polling the API."
        )
        until_ms = now_ms + 1000 if verdict.until_ms is None else verdict.until_ms
        return WsRefusal(status=verdict.status, msg=msg, server_ms=now_ms, until_ms=until_ms)

    def _banned(self, state: _BinanceIp, now: float) -> LimitVerdict:
        remaining = state.banned_until - now
        until_ms = self._wall_ms() + int(remaining * 1000)
        msg = (
            f"Way too much request weight used; IP banned until {until_ms}. "
            "Please use WebSocket Streams for live updates to avoid bans."
        )
        return LimitVerdict(
            allowed=False,
            status=418,
            headers=(
                ("X-MBX-USED-WEIGHT-1M", str(state.used)),
                ("Retry-After", str(max(1, math.ceil(remaining)))),
            ),
            body=_enc.encode({"code": -1003, "msg": msg}),
            until_ms=until_ms,
        )


@attrs.define
class _Bucket:
    window_index: int
    count: int = 0


class _EndpointCounter:
    """Fixed-window request counts per (key, endpoint)."""

    def __init__(
        self,
        limits: Mapping[str, int],
        default: int,
        window: float,
        clock: Callable[[], float] | None,
    ) -> None:
        self.limits = dict(limits)
        self.default = default
        self.window = window
        self._clock = clock if clock is not None else trio.current_time
        self._buckets: dict[tuple[str, str], _Bucket] = {}

    def hit(self, key: str, path: str) -> tuple[bool, int, int, float]:
        """Count one request: (allowed, limit, remaining, seconds until reset)."""
        now = self._clock()
        index = int(now // self.window)
        limit = self.limits.get(path, self.default)
        bucket = self._buckets.get((key, path))
        if bucket is None:
            if len(self._buckets) > 10_000:
                self._buckets = {k: v for k, v in self._buckets.items() if v.window_index == index}
            bucket = _Bucket(window_index=index)
            self._buckets[(key, path)] = bucket
        if bucket.window_index != index:
            bucket.window_index = index
            bucket.count = 0
        reset_in = (index + 1) * self.window - now
        if bucket.count >= limit:
            return False, limit, 0, reset_in
        bucket.count += 1
        return True, limit, limit - bucket.count, reset_in


class BybitLimiter:
    """Bybit v5 per-endpoint limiter.

    Args:
        limits: Requests per window for each path (e.g. ``{"/v5/order/create": 10}``).
        default: Limit for paths not listed.
        window: Window in seconds (Bybit's per-second limits: 1.0).
        clock: Seconds clock (default :func:`trio.current_time`).
        wall_ms: Epoch-ms clock for the reset timestamp and ``time`` field.
    """

    def __init__(
        self,
        limits: Mapping[str, int] | None = None,
        *,
        default: int = 600,
        window: float = 1.0,
        clock: Callable[[], float] | None = None,
        wall_ms: Callable[[], int] | None = None,
    ) -> None:
        self._counter = _EndpointCounter(limits or {}, default, window, clock)
        self._wall_ms = wall_ms if wall_ms is not None else (lambda: time.time_ns() // 1_000_000)

    def check(self, key: str, path: str) -> LimitVerdict:
        """Count one request of ``key`` (IP or API key) to ``path`` and decide."""
        ok, limit, remaining, reset_in = self._counter.hit(key, path)
        now_ms = self._wall_ms()
        headers = (
            ("X-Bapi-Limit", str(limit)),
            ("X-Bapi-Limit-Status", str(remaining)),
            ("X-Bapi-Limit-Reset-Timestamp", str(now_ms + int(reset_in * 1000))),
        )
        if ok:
            return LimitVerdict(allowed=True, headers=headers)
        body = {
            "retCode": 10006,
            "retMsg": "Too many visits!",
            "result": {},
            "retExtInfo": {},
            "time": now_ms,
        }
        return LimitVerdict(allowed=False, status=200, headers=headers, body=_enc.encode(body))


class OkxLimiter:
    """OKX v5 per-endpoint limiter (requests per 2 s by default).

    Args:
        limits: Requests per window for each path (e.g. ``{"/api/v5/market/books": 40}``).
        default: Limit for paths not listed.
        window: Window in seconds (OKX: 2.0).
        clock: Seconds clock (default :func:`trio.current_time`).
    """

    def __init__(
        self,
        limits: Mapping[str, int] | None = None,
        *,
        default: int = 20,
        window: float = 2.0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._counter = _EndpointCounter(limits or {}, default, window, clock)

    def check(self, key: str, path: str) -> LimitVerdict:
        """Count one request of ``key`` to ``path`` and decide."""
        ok, _limit, _remaining, _reset = self._counter.hit(key, path)
        if ok:
            return LimitVerdict(allowed=True)
        body = {"code": "50011", "msg": "Too Many Requests", "data": []}
        return LimitVerdict(allowed=False, status=429, body=_enc.encode(body))


@attrs.frozen(kw_only=True)
class CounterStatistics:
    """Counters of a :class:`SlidingWindowCounter`.

    Attributes:
        windows: The windows, by name, in seconds.
        subjects: Subjects with events still inside a window.
        added: Events counted since creation.
        refused: Refusals reported with :meth:`SlidingWindowCounter.refused`.
        by_window: Refusals by window name.
    """

    windows: Mapping[str, float]
    subjects: int
    added: int
    refused: int
    by_window: Mapping[str, int]


class _Window:
    """Events of one subject in one window: ``(bucket, count)`` pairs, oldest first."""

    __slots__ = ("buckets", "total")

    def __init__(self) -> None:
        self.buckets: deque[tuple[int, int]] = deque()
        self.total = 0


class SlidingWindowCounter:
    """Events per subject over named sliding windows (order counts of the venues).

    Each window keeps its events in ``resolution`` buckets (a 10 s window
    counts in 10 ms steps, a day in 86.4 s steps), so memory stays bounded
    whatever the rate. ``now`` is seconds on the caller's clock (the venue
    clock in ms / 1000, or the trio clock); it must not go backwards.

    Args:
        windows: Window name -> length in seconds, e.g. ``{"10s": 10, "1d": 86_400}``.
        resolution: Buckets per window.

    Example::

        orders = SlidingWindowCounter({"10s": 10, "1d": 86_400})
        over = orders.would_exceed(account, now, {"10s": 100, "1d": 200_000})
        if over is None:
            counts = orders.add(account, now)   # {"10s": 1, "1d": 1}
    """

    def __init__(self, windows: Mapping[str, float], *, resolution: int = 1000) -> None:
        if not windows or any(length <= 0 for length in windows.values()) or resolution < 1:
            raise ValueError("windows need positive lengths and resolution at least 1")
        self._windows = dict(windows)
        self._step = {name: length / resolution for name, length in windows.items()}
        self._state: dict[tuple[Hashable, str], _Window] = {}
        self._added = 0
        self._refused: dict[str, int] = {}

    def _window(self, subject: Hashable, name: str, now: float) -> _Window:
        key = (subject, name)
        window = self._state.get(key)
        if window is None:
            window = self._state[key] = _Window()
        oldest = math.floor((now - self._windows[name]) / self._step[name])
        buckets = window.buckets
        while buckets and buckets[0][0] < oldest:
            window.total -= buckets.popleft()[1]
        return window

    def add(self, subject: Hashable, now: float, n: int = 1) -> dict[str, int]:
        """Count ``n`` events of ``subject`` at ``now``; the counts after, by window."""
        counts: dict[str, int] = {}
        for name in self._windows:
            window = self._window(subject, name, now)
            bucket = math.floor(now / self._step[name])
            if window.buckets and window.buckets[-1][0] >= bucket:
                last, count = window.buckets.pop()
                window.buckets.append((last, count + n))
            else:
                window.buckets.append((bucket, n))
            window.total += n
            counts[name] = window.total
        self._added += n
        self._prune(now)
        return counts

    def counts(self, subject: Hashable, now: float) -> dict[str, int]:
        """The events of ``subject`` inside each window at ``now``."""
        return {name: self._window(subject, name, now).total for name in self._windows}

    def count(self, subject: Hashable, now: float, window: str) -> int:
        """The events of ``subject`` inside ``window`` at ``now``."""
        return self._window(subject, window, now).total

    def would_exceed(
        self, subject: Hashable, now: float, limits: Mapping[str, int], n: int = 1
    ) -> str | None:
        """The first window whose limit ``n`` more events would pass, else ``None``."""
        for name, limit in limits.items():
            if self._window(subject, name, now).total + n > limit:
                return name
        return None

    def retry_after(self, subject: Hashable, now: float, window: str, limit: int) -> float:
        """Seconds until ``subject`` is below ``limit`` in ``window`` again (0 when it is)."""
        state = self._window(subject, window, now)
        total = state.total
        step, length = self._step[window], self._windows[window]
        for bucket, count in state.buckets:
            if total < limit:
                break
            total -= count
            # A bucket leaves the window once "now - length" passes its end.
            wait = (bucket + 1) * step + length - now
            if total < limit:
                return max(0.0, wait)
        return 0.0

    def refused(self, window: str) -> None:
        """Count one refusal because of ``window`` (for :meth:`statistics`)."""
        self._refused[window] = self._refused.get(window, 0) + 1

    def statistics(self) -> CounterStatistics:
        """A frozen snapshot of the counters."""
        subjects = {subject for (subject, _), w in self._state.items() if w.total}
        return CounterStatistics(
            windows=dict(self._windows),
            subjects=len(subjects),
            added=self._added,
            refused=sum(self._refused.values()),
            by_window=dict(self._refused),
        )

    def _prune(self, now: float) -> None:
        """Forget subjects with nothing left in a window (bounded memory); every 4096 adds."""
        if self._added % 4096:
            return
        for key in [k for k, w in self._state.items() if not w.buckets]:
            del self._state[key]
        for (subject, name), window in list(self._state.items()):
            self._window(subject, name, now)
            if not window.buckets:
                del self._state[(subject, name)]
