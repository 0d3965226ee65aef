"""OKX order rate limits, shared by REST and the private websocket (time is an argument).

OKX docs ``overview-rate-limits``, ``post-place-order``,
``post-place-multiple-orders`` (checked 2026-12-03; venues-trading.md section 5):
place, amend and cancel each allow **60 requests per 2 s per account per
instrument**; the batch endpoints allow **300 orders per 2 s per account
and instrument** (each order of a batch counts; a batch of one order counts
as a single order). REST and websocket order entry share the counters. Over the limit the
request gets ``50011`` (no rate-limit headers: OKX sends none).

Windows slide (:class:`connector.sim.ratelimit.SlidingWindowCounter`, in
1,000 steps of the window); memory is bounded per key seen.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from connector.sim.ratelimit import SlidingWindowCounter

__all__ = ["OrderLimits"]


@attrs.define
class OrderLimits:
    """Order counters of one venue.

    Attributes:
        per_instrument: Requests per window per (account, operation, instrument).
        batch_orders: Orders per window per (account, batch operation, instrument).
        window_ms: The window (OKX: 2000 ms).
        refused: Requests refused so far.
    """

    per_instrument: int = 60
    batch_orders: int = 300
    window_ms: int = 2000
    refused: int = 0
    _counter: SlidingWindowCounter | None = None
    _counter_window: int = 0

    def _counts(self) -> SlidingWindowCounter:
        if self._counter is None or self._counter_window != self.window_ms:
            self._counter = SlidingWindowCounter({"w": self.window_ms / 1000})
            self._counter_window = self.window_ms
        return self._counter

    def allow(self, account: str, op: str, inst_ids: Iterable[str], now_ms: int) -> bool:
        """Charge one request of ``op`` (``place``, ``amend``, ``cancel``) for its orders.

        Several instruments (a batch) charge the batch counter with one order
        each; one instrument charges that instrument's counter. Nothing is
        charged when the request is refused.
        """
        ids = list(inst_ids)
        if len(ids) == 1:
            charges = {(account, op, ids[0]): 1}
            limit = self.per_instrument
        else:
            charges = {}
            for inst_id in ids:
                key = (account, "batch-" + op, inst_id)
                charges[key] = charges.get(key, 0) + 1
            limit = self.batch_orders
        counter, now = self._counts(), now_ms / 1000
        for key, cost in charges.items():
            if counter.would_exceed(key, now, {"w": limit}, cost) is not None:
                counter.refused("w")
                self.refused += 1
                return False
        for key, cost in charges.items():
            counter.add(key, now, cost)
        return True
