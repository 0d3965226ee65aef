"""OKX order rate limits, shared by REST and the private websocket. Sans-I/O.

OKX docs ``overview-rate-limits``, ``post-place-order``,
``post-place-multiple-orders`` (checked 2026-12-03; venues-trading.md section 5):
place, amend and cancel each allow **60 requests per 2 s per account per
instrument**; the batch endpoints allow **300 orders per 2 s per account**
(each order of a batch counts; a batch of one order counts as a single
order). REST and websocket order entry share the counters. Over the limit the
request gets ``50011`` (no rate-limit headers: OKX sends none).

Windows are fixed (``now_ms // window_ms``); one small record per key seen in
the current window (older ones are dropped when the window moves on).
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

__all__ = ["OrderLimits"]


@attrs.define
class OrderLimits:
    """Order counters of one venue.

    Attributes:
        per_instrument: Requests per window per (account, operation, instrument).
        batch_orders: Orders per window per (account, batch operation).
        window_ms: The window (OKX: 2000 ms).
        refused: Requests refused so far.
    """

    per_instrument: int = 60
    batch_orders: int = 300
    window_ms: int = 2000
    refused: int = 0
    _window: int = -1
    _counts: dict[tuple[str, ...], int] = attrs.field(factory=dict)

    def _roll(self, now_ms: int) -> None:
        window = now_ms // self.window_ms
        if window != self._window:
            self._window = window
            self._counts.clear()

    def allow(self, account: str, op: str, inst_ids: Iterable[str], now_ms: int) -> bool:
        """Charge one request of ``op`` (``place``, ``amend``, ``cancel``) for its orders.

        Several instruments (a batch) charge the batch counter with one order
        each; one instrument charges that instrument's counter. Nothing is
        charged when the request is refused.
        """
        self._roll(now_ms)
        ids = list(inst_ids)
        if len(ids) == 1:
            key: tuple[str, ...] = (account, op, ids[0])
            limit, cost = self.per_instrument, 1
        else:
            key = (account, "batch-" + op)
            limit, cost = self.batch_orders, len(ids)
        used = self._counts.get(key, 0)
        if used + cost > limit:
            self.refused += 1
            return False
        self._counts[key] = used + cost
        return True
