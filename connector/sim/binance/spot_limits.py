"""Binance spot order counts per account, shared by REST and the WebSocket API. Sans-I/O.

Rules (venues-trading.md 5; Binance spot rest-api.md "Unfilled Order Count",
faqs/order_count_decrement.md, checked 2026-12-03; the ``ORDERS`` entries of
``exchangeInfo``, 100 per 10 s and 200,000 per day as a real 2025-08
exchangeInfo shows):

* each new order (``order``, the new leg of ``cancelReplace``, ``order.place``)
  counts once on every interval, per account, whether it came over REST or
  the WebSocket API;
* fills give quota back: when an order first fills (partly or fully), the
  count goes down by one in every ORDERS interval (the FAQ: "So long as your
  orders trade, you can keep trading"); the venue's extra rebates for maker
  and large fills are not simulated;
* windows are fixed: the FAQ's example allows 100 orders between 12:34:00
  and 12:34:10, then 100 more until 12:34:20 (so this is not the sliding
  :class:`~connector.sim.ratelimit.SlidingWindowCounter`); they reset at
  multiples of their length on the venue's clock;
* counts are per account, shared by every IP, key and API (REST, WebSocket
  API);
* over a limit the order is refused with HTTP 429 and -1015 "Too many new
  orders; current limit is %s orders per %s." and counts nothing;
* successful order answers carry ``X-MBX-ORDER-COUNT-10S`` and
  ``X-MBX-ORDER-COUNT-1D``; WebSocket API replies carry the same counts as
  ``rateLimits`` entries of type ``ORDERS``.
"""

from __future__ import annotations

import attrs

__all__ = ["OrderCountLimiter", "OrderWindow"]


@attrs.frozen(kw_only=True)
class OrderWindow:
    """One ``ORDERS`` limit: ``limit`` orders per ``interval_num`` ``interval``."""

    interval: str  # SECOND, MINUTE, DAY
    interval_num: int
    limit: int

    @property
    def length_ms(self) -> int:
        """The window's length."""
        unit = {"SECOND": 1_000, "MINUTE": 60_000, "DAY": 86_400_000}[self.interval]
        return unit * self.interval_num

    @property
    def header(self) -> str:
        """``X-MBX-ORDER-COUNT-10S`` and the like."""
        return f"X-MBX-ORDER-COUNT-{self.interval_num}{self.interval[0]}"

    @property
    def phrase(self) -> str:
        """``10 SECOND`` as the -1015 message writes it."""
        return f"{self.interval_num} {self.interval}"


SPOT_WINDOWS = (
    OrderWindow(interval="SECOND", interval_num=10, limit=100),
    OrderWindow(interval="DAY", interval_num=1, limit=200_000),
)


@attrs.define
class _Count:
    start_ms: int
    count: int


class OrderCountLimiter:
    """Order counts per account over fixed windows.

    Args:
        windows: The ``ORDERS`` limits (default: spot's 100/10 s, 200,000/day).
    """

    def __init__(self, windows: tuple[OrderWindow, ...] = SPOT_WINDOWS) -> None:
        self.windows = windows
        self._counts: dict[tuple[str, int], _Count] = {}
        self.refused = 0

    def _current(self, account: str, index: int, now_ms: int) -> _Count:
        window = self.windows[index]
        start = now_ms - now_ms % window.length_ms
        entry = self._counts.get((account, index))
        if entry is None or entry.start_ms != start:
            entry = _Count(start_ms=start, count=0)
            self._counts[(account, index)] = entry
        return entry

    def exceeded(self, account: str, now_ms: int) -> OrderWindow | None:
        """The first window one more order would overflow, or None."""
        for i, window in enumerate(self.windows):
            if self._current(account, i, now_ms).count >= window.limit:
                self.refused += 1
                return window
        return None

    def count(self, account: str, now_ms: int) -> None:
        """One new order."""
        for i in range(len(self.windows)):
            self._current(account, i, now_ms).count += 1

    def give_back(self, account: str, now_ms: int) -> None:
        """An order first traded, or the venue refused it: one off every window's count."""
        for i in range(len(self.windows)):
            entry = self._current(account, i, now_ms)
            entry.count = max(0, entry.count - 1)

    def counts(self, account: str, now_ms: int) -> list[tuple[OrderWindow, int]]:
        """Each window and the account's count in it."""
        return [(w, self._current(account, i, now_ms).count) for i, w in enumerate(self.windows)]

    def headers(self, account: str, now_ms: int) -> tuple[tuple[str, str], ...]:
        """The ``X-MBX-ORDER-COUNT-*`` headers."""
        return tuple((w.header, str(n)) for w, n in self.counts(account, now_ms))
