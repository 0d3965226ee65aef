"""Deep books: resting liquidity beyond the synthetic flow's levels.

The synthetic flow (:mod:`connector.sim.flow`) keeps about ``levels`` (25)
price levels per side around its mid, where the activity is. The venues serve
books far deeper than that (Bybit ``orderbook.1000`` and a 1000-level REST
book, OKX ``books`` with 400 levels). A front-end that serves a deep view asks
its :class:`DepthKeeper` for that depth (:meth:`DepthKeeper.require`) before it
builds the view; the keeper rests limit orders (owner ``depth``) beyond the
worst level of each side, on the flow's price grid (``spacing`` ticks apart),
larger the further they are from the top, as on a real book, until the side
holds the depth plus a margin. From then on :meth:`DepthKeeper.run` tops a side
up again at its far end when trades took some of it (a mid that walks through
the orders sweeps them).

Books are deepened when a deep view of them is first asked for (a
subscription or a REST book), not at start: resting a thousand levels per side
on every instrument costs a noticeable fraction of a second, which runs that
never read a deep book need not pay. The keeper never cancels or amends its
orders; trades take them like any other. A book the flow already keeps deep
enough is left alone. Sizes come from a :class:`~connector.sim.flow.Prng`
seeded by the venue's seed and the instrument, so a seed replays the same
books.
"""

from __future__ import annotations

import itertools
import zlib

import trio

from connector.model import OrderType, Side, TimeInForce
from connector.sim.engine import EngineOrder, EngineResult
from connector.sim.flow import Prng
from connector.sim.hub import SimBook, SimVenue

__all__ = ["DEPTH_MARGIN", "DEPTH_OWNER", "DepthKeeper"]

#: Owner of the keeper's orders.
DEPTH_OWNER = "depth"
#: Levels per side a deepened book holds beyond the deepest view asked of it.
DEPTH_MARGIN = 50

_BookKey = tuple[str, str]


class DepthKeeper:
    """Keeps the books of one venue as deep as their deepest view needs.

    Args:
        venue: The venue whose books to deepen.
        margin: Levels per side kept beyond the deepest view asked for, so
            that view stays full while the flow moves.
        interval: Seconds between top-ups in :meth:`run`.
        enabled: False makes :meth:`require` a no-op (books keep the flow's depth).

    Attributes:
        targets: Levels per side each deepened book is kept at, by ``(market, native_id)``.
        added: Orders the keeper has rested so far.
    """

    def __init__(
        self,
        venue: SimVenue,
        *,
        margin: int = DEPTH_MARGIN,
        interval: float = 1.0,
        enabled: bool = True,
    ) -> None:
        self.venue = venue
        self.margin = margin
        self.interval = interval
        self.enabled = enabled
        self.targets: dict[_BookKey, int] = {}
        self.added = 0
        self._ids = itertools.count(1)
        self._prngs: dict[_BookKey, Prng] = {}

    def require(self, market: str, native_id: str, levels: int) -> None:
        """Make the book hold ``levels`` (plus the margin) per side, now and from now on."""
        key = (market, native_id)
        target = levels + self.margin
        if not self.enabled or key not in self.venue.books or target <= self.targets.get(key, 0):
            return
        self.targets[key] = target
        self._fill(key)

    def fill(self) -> int:
        """Top every deepened book up to its target and publish the orders.

        Returns:
            The number of orders rested.
        """
        return sum(self._fill(key) for key in list(self.targets))

    async def run(self) -> None:
        """Top the books up every ``interval`` seconds (not while the venue is paused)."""
        while True:
            await trio.sleep(self.interval)
            if not self.venue.paused:
                self.fill()

    def _fill(self, key: _BookKey) -> int:
        book = self.venue.books[key]
        prng = self._prngs.get(key)
        if prng is None:
            prng = Prng(zlib.crc32(f"{self.venue.seed}/depth/{key[0]}/{key[1]}".encode()))
            self._prngs[key] = prng
        results = self._top_up(book, prng, self.targets[key])
        if results:
            self.added += len(results)
            self.venue.publish(book, results)
        return len(results)

    def _top_up(self, book: SimBook, prng: Prng, levels: int) -> list[EngineResult]:
        engine = book.engine
        flow = book.flow
        step = flow.spacing * book.instrument.tick_size
        lot = book.instrument.lot_step
        out: list[EngineResult] = []
        for side in (Side.BUY, Side.SELL):
            count = engine.level_count(side)
            worst = engine.worst_level(side)
            if count >= levels or worst is None:
                continue
            price = worst.price
            for depth in range(count + 1, levels + 1):
                price = price - step if side is Side.BUY else price + step
                if price <= 0:
                    break
                # Deeper levels hold more, as on a real book.
                units = prng.randint(1, 20) * (1 + depth // 100)
                out.append(
                    engine.submit(
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
                )
        return out
