"""Client-side rate limiting per venue: token buckets corrected by the venue.

Each venue has named buckets (Binance: request weight per minute; Bybit and
OKX: one per endpoint). A request acquires its weight from its buckets first.
The venue's answers correct the local picture: a header such as
``X-MBX-USED-WEIGHT-1M`` or ``X-Bapi-Limit-Status`` resets a bucket's level, a
429 pauses the limiter for ``Retry-After`` seconds, and a 418 bans it: every
request fails fast with :class:`IpBanned` until the ban ends. A REST host's
limiter is paused or banned by :mod:`connector.net.http`, which reads the
venue's answer first (a Binance order-count 429 holds no host; a Bybit HTTP 403
bans it). This is a plain shared object, not a task (design.md section 3): one per
REST host, shared by every market the host serves (Bybit and OKX serve spot and
derivatives from one host, so a 429 pauses both).

Priority lanes: callers wait in :class:`Lane` order, then first come first
served within a lane, so an order request waiting for tokens goes ahead of a
queued book snapshot or instrument list. Order-count limits (Binance
``X-MBX-ORDER-COUNT-*``) are more named buckets that only order requests draw
from.

Per-endpoint limits: a venue whose header reports the endpoint that answered
(Bybit's ``X-Bapi-Limit-Status``) names its endpoint buckets with the
:data:`ENDPOINT_PREFIX` (``"endpoint:time"``), and its header parser returns the
key :data:`ENDPOINT`; the limiter applies that value to the endpoint bucket the
request drew from, never to the venue-wide buckets it also drew from. An answer
that found its endpoint's quota used up may also say when it comes back (Bybit's
``X-Bapi-Limit-Reset-Timestamp``): the parser returns that venue time under
:data:`ENDPOINT_RESET`, and the limiter holds those endpoint buckets until then,
read against the venue's clock.
"""

from __future__ import annotations

import bisect
import enum
import itertools
import math
import time
from collections import deque
from collections.abc import Callable, Collection, Mapping

import attrs
import structlog
import trio

from connector.errors import IpBanned, RateLimited

__all__ = [
    "DEFAULT_BAN_SECONDS",
    "DEFAULT_PAUSE_SECONDS",
    "ENDPOINT",
    "ENDPOINT_PREFIX",
    "ENDPOINT_RESET",
    "Bucket",
    "HeaderParser",
    "Lane",
    "LimiterStatistics",
    "RateLimiter",
    "TokenBucket",
    "WindowBucket",
    "retry_after_seconds",
]

log = structlog.get_logger(__name__)

_ROUNDING = 1e-9
"""Tokens short of a weight by at most this much count as there (float refills)."""

HeaderParser = Callable[[Mapping[str, str]], Mapping[str, float]]
"""Reads response headers; returns ``{bucket: tokens still available}``.

The key :data:`ENDPOINT` stands for the endpoint bucket of the request that got
the response (see :meth:`RateLimiter.on_response`).
"""

ENDPOINT = "endpoint"
"""Header-parser key: "the bucket of the endpoint that answered"."""

ENDPOINT_RESET = "endpoint_reset"
"""Header-parser key: the venue time (seconds since the epoch) when the quota of the
endpoint that answered comes back, given by an answer that found it used up."""

DEFAULT_BAN_SECONDS = 120.0
"""How long a 418 bans when the venue names no length (Binance bans last 2 minutes
to 3 days and say how long in ``Retry-After``)."""

DEFAULT_PAUSE_SECONDS = 1.0
"""How long a 429 pauses when the venue names no wait."""

ENDPOINT_PREFIX = "endpoint:"
"""Names of per-endpoint buckets start with this (``"endpoint:time"``); other
buckets (``"ip"``, ``"weight"``) are shared by many endpoints."""


class Lane(enum.IntEnum):
    """A request's priority at the limiter: lower values go first."""

    ORDER = 0
    """Placing, amending and cancelling orders."""
    DEFAULT = 1
    """Queries: order status, balances, server time."""
    BULK = 2
    """Book snapshots and instrument lists."""


@attrs.define
class TokenBucket:
    """``capacity`` tokens, refilled continuously at ``capacity / period`` per second."""

    capacity: float
    period: float
    tokens: float = attrs.field(default=math.nan)
    updated: float = 0.0

    def __attrs_post_init__(self) -> None:
        if math.isnan(self.tokens):
            self.tokens = self.capacity

    def _refill(self, now: float) -> None:
        if now > self.updated:
            rate = self.capacity / self.period
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * rate)
            self.updated = now

    def wait_time(self, weight: float, now: float) -> float:
        """Seconds until ``weight`` tokens are available (0 when they are now)."""
        self._refill(now)
        missing = min(weight, self.capacity) - self.tokens
        # A rounding error's worth is no wait: that wait, added to a clock that far from
        # zero, would not move its deadline, and its waiter would spin.
        return 0.0 if missing <= _ROUNDING else missing * self.period / self.capacity

    def take(self, weight: float, now: float) -> None:
        self._refill(now)
        self.tokens -= weight

    def set_available(self, tokens: float, now: float) -> None:
        """Trust the venue: it says ``tokens`` remain."""
        self._refill(now)
        self.tokens = max(min(tokens, self.capacity), -self.capacity)


@attrs.define
class WindowBucket:
    """At most ``capacity`` in any ``period`` seconds, counted over a sliding window.

    For the venues' order counts (Bybit's rolling second, OKX's two seconds,
    Binance's order windows): a token bucket that starts full and refills
    continuously lets through up to twice its capacity in one window (the full
    bucket, then a period's refill), which such a venue refuses.

    The venue counts a request when it arrives, which is after we sent it and
    before its answer reaches us, so :meth:`settle` moves a grant to the time its
    answer came: a grant leaves the window ``period`` after that, never before the
    venue's count of it has.
    """

    capacity: float
    period: float
    # [time, weight, settled], oldest grant first; times only move later.
    _grants: deque[list[float]] = attrs.field(factory=deque, init=False)
    _used: float = attrs.field(default=0.0, init=False)

    @property
    def tokens(self) -> float:
        """What is left in the window as of the last look."""
        return self.capacity - self._used

    def _refill(self, now: float) -> None:
        while self._grants and self._grants[0][0] <= now - self.period:
            self._used -= self._grants.popleft()[1]

    def wait_time(self, weight: float, now: float) -> float:
        """Seconds until ``weight`` fits in the window (0 when it does now)."""
        self._refill(now)
        missing = min(weight, self.capacity) - self.tokens
        if missing <= 0:
            return 0.0
        freed = latest = 0.0
        for at, taken, _ in self._grants:  # grants leave in order, each once all before it did
            freed += taken
            latest = max(latest, at)
            if freed >= missing:
                return latest + self.period - now
        return self.period

    def take(self, weight: float, now: float) -> None:
        self._refill(now)
        self._grants.append([now, weight, 0.0])
        self._used += weight

    def settle(self, now: float) -> None:
        """The answer to the oldest grant not yet settled came at ``now``."""
        for grant in self._grants:
            if not grant[2]:
                grant[0], grant[2] = max(grant[0], now), 1.0
                return

    def set_available(self, tokens: float, now: float) -> None:
        """Trust the venue: it says ``tokens`` remain in its window.

        Its count leaves out our requests still in flight (granted, not yet
        settled), so they are added to it before the window is corrected.
        """
        self._refill(now)
        in_flight = sum(taken for _, taken, settled in self._grants if not settled)
        used = self.capacity - max(min(tokens, self.capacity), 0.0) + in_flight
        if used > self._used:
            self.take(used - self._used, now)
            self._grants[-1][2] = 1.0
        for grant in list(self._grants):
            if self._used <= used:
                break
            if grant[2]:  # only settled grants can be forgotten
                drop = min(grant[1], self._used - used)
                grant[1] -= drop
                self._used -= drop
        while self._grants and self._grants[0][1] <= 0:
            self._grants.popleft()


Bucket = TokenBucket | WindowBucket
"""What a :class:`RateLimiter` draws from."""


@attrs.frozen(kw_only=True)
class LimiterStatistics:
    """A snapshot of one limiter: counters, pause and ban, tokens left per bucket."""

    venue: str
    acquired: int
    waited_seconds: float
    rate_limited: int
    banned_until: float | None
    paused_until: float | None
    waiting: int
    tokens: Mapping[str, float]


class RateLimiter:
    """The rate limits of one REST host, shared by all its callers.

    Args:
        venue: Name for errors and logs (the venue, and the host when it has several).
        buckets: Named buckets; a request names the ones it draws from.
        header_parser: Venue-specific reading of limit headers.
        max_wait: Longest a caller waits for tokens or a ``Retry-After`` pause
            before getting :class:`RateLimited` instead; also the longest an
            :data:`ENDPOINT_RESET` holds a bucket.
        venue_time_ns: The venue's clock (ns since the epoch) that
            :data:`ENDPOINT_RESET` times are read against; the wall clock by default.
    """

    def __init__(
        self,
        venue: str,
        buckets: Mapping[str, Bucket],
        *,
        header_parser: HeaderParser | None = None,
        max_wait: float = 30.0,
        venue_time_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.venue = venue
        self._buckets = dict(buckets)
        self._parse_headers = header_parser
        self._max_wait = max_wait
        self._venue_time_ns = venue_time_ns
        self._held: dict[str, float] = {}
        """Buckets held until a ``trio.current_time()`` (:data:`ENDPOINT_RESET`)."""
        self._paused_until = 0.0
        self._banned_until = 0.0
        self._acquired = 0
        self._waited = 0.0
        self._limited = 0
        self._tickets = itertools.count()
        # Waiting tickets in the order they are served; only the first one waits for
        # tokens, each of the others for its own turn (no herd woken per grant).
        self._queue: list[tuple[Lane, int]] = []
        self._turns: dict[tuple[Lane, int], trio.Event] = {}

    async def acquire(self, weights: Mapping[str, float], lane: Lane = Lane.DEFAULT) -> None:
        """Wait until every named bucket has its weight, then take it.

        Waiters are served by lane, then in arrival order; a higher-priority
        arrival overtakes a caller that is already waiting for tokens.

        Raises:
            IpBanned: during a ban (at once, without waiting).
            RateLimited: when the wait would exceed ``max_wait``.
        """
        if not self._queue and self._take(weights) <= 0:
            return  # nobody waiting and the tokens are there: no queue, nobody to wake
        ticket = (lane, next(self._tickets))
        bisect.insort(self._queue, ticket)
        try:
            while True:
                turn = self._turns[ticket] = trio.Event()
                if self._queue[0] != ticket:
                    await turn.wait()  # set when this ticket comes first
                    continue
                wait = self._take(weights)
                if wait <= 0:
                    return
                started = trio.current_time()
                with trio.move_on_after(wait):
                    await turn.wait()  # woken early by a pause or a ban
                self._waited += trio.current_time() - started
        finally:
            first = self._queue[0] == ticket
            self._queue.remove(ticket)
            del self._turns[ticket]
            if first:
                self._notify()

    def _take(self, weights: Mapping[str, float]) -> float:
        """Take ``weights`` when every bucket has them (returns 0), else the seconds to
        wait for them (nothing taken).

        Raises:
            IpBanned: during a ban.
            RateLimited: when the wait would exceed ``max_wait``.
        """
        now = trio.current_time()
        self._check_ban(now)
        wait = self._paused_until - now
        for name, weight in weights.items():
            wait = max(wait, self._bucket(name).wait_time(weight, now))
            if name in self._held:
                wait = max(wait, self._held[name] - now)
        if wait > self._max_wait:
            self._limited += 1
            raise RateLimited(
                f"{self.venue}: rate limit needs a {wait:.1f} s wait (max {self._max_wait} s)",
                retry_after=wait,
                venue=self.venue,
                local=True,
            )
        if wait > 0:
            return wait
        for name, weight in weights.items():
            self._bucket(name).take(weight, now)
        self._acquired += 1
        return 0.0

    def _notify(self) -> None:
        """Wake the first waiter (it is next, or what it waits for changed)."""
        if self._queue:
            self._turns[self._queue[0]].set()

    def on_response(
        self, status: int, headers: Mapping[str, str], buckets: Collection[str] = ()
    ) -> None:
        """Correct buckets from headers (:meth:`read_headers`); pause on 429 and ban on
        418, for ``Retry-After`` seconds (:data:`DEFAULT_PAUSE_SECONDS`,
        :data:`DEFAULT_BAN_SECONDS` without it)."""
        self.read_headers(headers, buckets)
        if status in (418, 429):
            retry_after = retry_after_seconds(headers)
            if status == 418:
                self.ban(retry_after if retry_after is not None else DEFAULT_BAN_SECONDS)
            else:
                self.pause(retry_after if retry_after is not None else DEFAULT_PAUSE_SECONDS)

    def read_headers(self, headers: Mapping[str, str], buckets: Collection[str] = ()) -> None:
        """Correct buckets from an answer's headers, read by the venue's header parser.

        Args:
            headers: The response headers.
            buckets: The buckets the request drew from. A parsed :data:`ENDPOINT`
                value goes to those of them named with :data:`ENDPOINT_PREFIX`, and a
                parsed :data:`ENDPOINT_RESET` holds them until that venue time (at
                most ``max_wait`` from now); without such a bucket both are ignored.
        """
        if self._parse_headers is None:
            return
        now = trio.current_time()
        endpoints = [b for b in buckets if b.startswith(ENDPOINT_PREFIX)]
        for name, value in self._parse_headers(headers).items():
            if name == ENDPOINT_RESET:
                self._hold(endpoints, value, now)
                continue
            for target in endpoints if name == ENDPOINT else [name]:
                if target in self._buckets:
                    self._buckets[target].set_available(value, now)

    def _hold(self, names: Collection[str], resets_at: float, now: float) -> None:
        """Hold the buckets ``names`` until the venue time ``resets_at`` (epoch seconds)."""
        seconds = min(resets_at - self._venue_time_ns() / 1e9, self._max_wait)
        held = [name for name in names if name in self._buckets]
        if seconds <= 0 or not held:
            return
        for name in held:
            self._held[name] = max(self._held.get(name, 0.0), now + seconds)
        self._notify()
        log.warning("ratelimit.held", venue=self.venue, buckets=held, seconds=seconds)

    def settle(self, buckets: Collection[str]) -> None:
        """The answer to a request that drew on ``buckets`` came now (window buckets
        count its grant from now on; token buckets need nothing)."""
        now = trio.current_time()
        for name in buckets:
            bucket = self._bucket(name)
            if isinstance(bucket, WindowBucket):
                bucket.settle(now)

    def pause(self, seconds: float) -> None:
        """Hold every request for ``seconds`` (a 429 or venue rate-limit code)."""
        self._limited += 1
        self._paused_until = max(self._paused_until, trio.current_time() + seconds)
        self._notify()
        log.warning("ratelimit.paused", venue=self.venue, seconds=seconds)

    def ban(self, seconds: float) -> None:
        """Stop all REST to the venue for ``seconds`` (Binance 418, Bybit 403)."""
        self._limited += 1
        self._banned_until = max(self._banned_until, trio.current_time() + seconds)
        self._notify()
        log.error("ratelimit.banned", venue=self.venue, seconds=seconds)

    def check_ban(self) -> None:
        """Raise :class:`IpBanned` during a ban (nothing is taken).

        Raises:
            IpBanned: during a ban.
        """
        self._check_ban(trio.current_time())

    def banned_for(self) -> float:
        """Seconds of ban left (0 when not banned)."""
        return max(0.0, self._banned_until - trio.current_time())

    def statistics(self) -> LimiterStatistics:
        now = trio.current_time()
        tokens = {}
        for name, bucket in self._buckets.items():
            bucket._refill(now)
            tokens[name] = bucket.tokens
        return LimiterStatistics(
            venue=self.venue,
            acquired=self._acquired,
            waited_seconds=self._waited,
            rate_limited=self._limited,
            banned_until=self._banned_until if self._banned_until > now else None,
            paused_until=self._paused_until if self._paused_until > now else None,
            waiting=len(self._queue),
            tokens=tokens,
        )

    def _bucket(self, name: str) -> Bucket:
        try:
            return self._buckets[name]
        except KeyError:
            raise KeyError(f"{self.venue} has no rate-limit bucket {name!r}") from None

    def _check_ban(self, now: float) -> None:
        if now < self._banned_until:
            raise IpBanned(
                f"{self.venue}: IP banned for {self._banned_until - now:.0f} more seconds; "
                "every REST request to this host waits until the ban ends",
                retry_after=self._banned_until - now,
                venue=self.venue,
            )


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """The ``Retry-After`` header in seconds, when present and numeric."""
    for key, value in headers.items():
        if key.lower() == "retry-after":
            try:
                return max(float(value), 0.0)
            except ValueError:
                return None
    return None
