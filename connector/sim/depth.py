"""Deep books: resting liquidity beyond the synthetic flow's levels.

The synthetic flow (:mod:`connector.sim.flow`) keeps about ``levels`` price
levels per side around its mid, where the activity is. The venues serve books
far deeper than that (Bybit ``orderbook.1000`` and a 1000-level REST book, OKX
``books`` with 400 levels), so a front-end that serves a deep book keeps its
venue's books at least that deep with a :class:`DepthKeeper`: resting limit
orders (owner ``depth``) beyond the worst level of each side, on the flow's
price grid (``spacing`` ticks apart), larger the further they are from the top
as on a real book.

The keeper never cancels or amends its orders: trades take them like any
other (a mid that walks through them sweeps them), and :meth:`DepthKeeper.fill`
tops a side up again at its far end when it has fewer than ``levels`` levels.
A book the flow already keeps deep enough is left alone. Sizes come from a
:class:`~connector.sim.flow.Prng` seeded by the venue's seed and the
instrument, so a seed replays the same books.
"""

from __future__ import annotations

import itertools
import zlib

import trio

from connector.model import OrderType, Side, TimeInForce
from connector.sim.engine import EngineOrder, EngineResult
from connector.sim.flow import Prng
from connector.sim.hub import SimBook, SimVenue

__all__ = ["DEPTH_OWNER", "DepthKeeper"]

#: Owner of the keeper's orders.
DEPTH_OWNER = "depth"


class DepthKeeper:
    """Keeps every book of one venue at least ``levels`` price levels deep per side.

    Args:
        venue: The venue whose books to deepen.
        levels: Levels per side each book should hold (0: leave the books alone).
        interval: Seconds between top-ups in :meth:`run`.

    Attributes:
        added: Orders the keeper has rested so far.
    """

    def __init__(self, venue: SimVenue, levels: int, *, interval: float = 1.0) -> None:
        self.venue = venue
        self.levels = levels
        self.interval = interval
        self.added = 0
        self._ids = itertools.count(1)
        self._prngs = {
            key: Prng(zlib.crc32(f"{venue.seed}/depth/{key[0]}/{key[1]}".encode()))
            for key in venue.books
        }

    def fill(self) -> int:
        """Top every book up to ``levels`` levels per side and publish the orders.

        Returns:
            The number of orders rested.
        """
        if self.levels <= 0:
            return 0
        total = 0
        for key, book in self.venue.books.items():
            results = self._top_up(book, self._prngs[key])
            if results:
                total += len(results)
                self.venue.publish(book, results)
        self.added += total
        return total

    async def run(self) -> None:
        """Top the books up every ``interval`` seconds (not while the venue is paused)."""
        while True:
            await trio.sleep(self.interval)
            if not self.venue.paused:
                self.fill()

    def _top_up(self, book: SimBook, prng: Prng) -> list[EngineResult]:
        engine = book.engine
        flow = book.flow
        tick = book.instrument.tick_size
        lot = book.instrument.lot_step
        step = flow.spacing * tick
        out: list[EngineResult] = []
        for side in (Side.BUY, Side.SELL):
            missing = self.levels - engine.level_count(side)
            worst = engine.worst_level(side)
            if missing <= 0 or worst is None:
                continue
            price = worst.price
            for _ in range(missing):
                price = price - step if side is Side.BUY else price + step
                if price <= 0:
                    break
                # Deeper levels hold more, as on a real book.
                units = prng.randint(1, 20) * (1 + (engine.level_count(side) // 100))
                result = engine.submit(
                    EngineOrder(
                        order_id=f"{DEPTH_OWNER}-{next(self._ids)}",
                        side=side,
                        type=OrderType.LIMIT,
                        qty=flow.unit_lots * units * lot,
                        price=price,
                        time_in_force=TimeInForce.GTC,
                        owner=DEPTH_OWNER,
                    )
                )
                out.append(result)
        return out
