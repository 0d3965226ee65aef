"""Synthetic order flow that keeps a simulated book alive (pure, deterministic).

:class:`SyntheticFlow` drives a :class:`~connector.sim.engine.MatchingEngine`
with maker quotes, cancels, amends and taker orders around a moving mid: on
its own the mid does a random walk; inside a simulator run it follows an
anchor price it is given each step (the shared reference price of the base
asset, see :mod:`connector.sim.reference`) with mean-reverting noise of its
own. Everything is derived from one integer seed through :class:`Prng` (this
module must not import ``random``), so a seed always replays the same sequence.
"""

from __future__ import annotations

import itertools
import math
import zlib
from collections.abc import Sequence
from decimal import Decimal
from typing import TypeVar

import attrs

from connector.model import OrderType, Side, TimeInForce
from connector.sim.engine import EngineOrder, EngineResult, MatchingEngine
from connector.sim.instruments import SimInstrument

__all__ = ["FlowStatistics", "Prng", "SyntheticFlow"]

T = TypeVar("T")

_MASK64 = (1 << 64) - 1
_TWO_POW_53 = float(1 << 53)
# Anchored mid noise: AR(1) coefficient and shock size (in quote spacings) per step.
_NOISE_KEEP = 0.95
_NOISE_SHOCK = 0.1


class Prng:
    """A small deterministic pseudo-random generator (splitmix64).

    Not for cryptography. The same seed gives the same sequence on every
    platform and Python version.

    Args:
        seed: Any int; only its low 64 bits matter.
    """

    __slots__ = ("_spare", "_state")

    def __init__(self, seed: int) -> None:
        self._state = seed & _MASK64
        self._spare: float | None = None

    def next_u64(self) -> int:
        """The next 64-bit unsigned integer."""
        self._state = (self._state + 0x9E3779B97F4A7C15) & _MASK64
        z = self._state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
        return z ^ (z >> 31)

    def random(self) -> float:
        """A float uniformly distributed in ``[0, 1)``."""
        return (self.next_u64() >> 11) / _TWO_POW_53

    def randint(self, a: int, b: int) -> int:
        """An int uniformly distributed in ``[a, b]`` (both ends included).

        Raises:
            ValueError: When ``b < a``.
        """
        if b < a:
            raise ValueError("randint needs a <= b")
        # The modulo bias is below 2**-40 for the small ranges used here.
        return a + self.next_u64() % (b - a + 1)

    def choice(self, seq: Sequence[T]) -> T:
        """A uniformly chosen element of a non-empty sequence.

        Raises:
            IndexError: When ``seq`` is empty.
        """
        if not seq:
            raise IndexError("choice from an empty sequence")
        return seq[self.next_u64() % len(seq)]

    def gauss(self, mu: float = 0.0, sigma: float = 1.0) -> float:
        """A normally distributed float (Box-Muller, the second value cached)."""
        if self._spare is not None:
            z = self._spare
            self._spare = None
            return mu + sigma * z
        u1 = 1.0 - self.random()  # in (0, 1], so the log is finite
        u2 = self.random()
        r = math.sqrt(-2.0 * math.log(u1))
        self._spare = r * math.sin(2.0 * math.pi * u2)
        return mu + sigma * r * math.cos(2.0 * math.pi * u2)


@attrs.frozen(kw_only=True)
class FlowStatistics:
    """A snapshot of a flow's counters.

    Attributes:
        steps: Calls of :meth:`SyntheticFlow.step` so far.
        flow_orders: Flow orders the flow believes rest on the book.
        orders_sent: Orders the flow has submitted (makers and takers).
        mid: The current mid.
    """

    steps: int
    flow_orders: int
    orders_sent: int
    mid: Decimal


def _ceil_div(a: Decimal, b: Decimal) -> int:
    q = int(a // b)
    return q + 1 if q * b < a else q


class SyntheticFlow:
    """Random but plausible order flow for one instrument's engine.

    The mid moves on the tick grid: a random walk of its own, or, when
    :meth:`step` is given an anchor price, the anchor (times the offset that
    :meth:`move` adds) plus mean-reverting noise. Makers (owner ``flow``) quote
    on a grid of ``spacing`` ticks around the mid, never crossing the book;
    takers occasionally send market or IOC orders that trade. Levels beyond
    ``levels`` per side are trimmed by cancelling flow orders at the far end,
    and a thin side is refilled first, so the book stays near ``levels``
    levels each side. Orders of other owners are never cancelled or amended,
    but takers may trade with them.

    Args:
        engine: The engine to drive (the flow assumes it is the only one
            cancelling ``flow`` orders).
        instrument: Gives the tick, lot step, minimum size and start price.
        seed: Seed of the deterministic generator.
        levels: Target number of price levels per side.
        anchor: Where the mid starts when the flow will be stepped with anchors
            (the anchor at time 0); ``None``: the instrument's start price.
    """

    def __init__(
        self,
        engine: MatchingEngine,
        instrument: SimInstrument,
        *,
        seed: int,
        levels: int = 25,
        anchor: float | None = None,
    ) -> None:
        if levels < 2:
            raise ValueError("levels must be at least 2")
        self.engine = engine
        self.instrument = instrument
        self.levels = levels
        # Mixing the instrument in keeps books of different instruments apart under one seed.
        key = f"{instrument.venue}:{instrument.market}:{instrument.native_id}".encode()
        self.prng = Prng(seed ^ (zlib.crc32(key) << 32))
        self._tick = instrument.tick_size
        self._lot = instrument.lot_step
        self._mid_ticks = int(instrument.start_price // self._tick)
        if anchor is not None:
            self._mid_ticks = max(1, round(anchor / float(self._tick)))
        # Grid spacing about 0.2 basis points of the start price, at least one tick.
        self.spacing = max(1, int(instrument.start_price * Decimal("0.00002") // self._tick))
        self._min_mid_ticks = max(levels * self.spacing * 2, self._mid_ticks // 20)
        unit_value = Decimal(100) + instrument.min_notional * Decimal("1.5")
        lot_value = instrument.start_price * instrument.contract_size * self._lot
        min_lots = _ceil_div(instrument.min_qty, self._lot)
        self.unit_lots = max(1, min_lots, _ceil_div(unit_value, lot_value))
        # Anchored mode: the mid's noise around the anchor (ticks, mean-reverting) and
        # the log offset that move() adds to the anchor.
        self._noise = 0.0
        self._offset = 0.0
        self._next_id = 1
        self._ids: list[str] = []
        self._index: dict[str, int] = {}
        self.steps = 0
        #: Levels per side the book holds (see :meth:`deepen`); ``levels`` until deepened.
        self.depth = levels
        # Quiet orders beyond the active levels (never picked by random cancels or amends).
        self._tail: set[str] = set()

    # ---------------------------------------------------------------- public

    @property
    def mid(self) -> Decimal:
        """The random-walk mid price (on the tick grid)."""
        return self._mid_ticks * self._tick

    def seed_book(self) -> list[EngineResult]:
        """Quote ``levels`` levels each side around the mid (one maker order per level).

        Returns:
            One result per order placed.
        """
        out: list[EngineResult] = []
        for k in range(1, self.levels + 1):
            for side in (Side.BUY, Side.SELL):
                out.append(self._add(side, k))
        return out

    def deepen(self, depth: int) -> list[EngineResult]:
        """Hold ``depth`` levels per side from now on, the far ones quiet.

        The flow's activity stays within ``levels`` grid steps of the mid;
        beyond, one maker order per level, ``spacing`` ticks apart, rests
        quietly, so the book is as deep as a real venue's. After every step
        each side is brought back to ``depth`` levels: levels beyond it are
        cancelled at the far end, and a missing one is added past the far end
        (one per side per step).

        Args:
            depth: Levels per side (at least ``levels``).

        Returns:
            The results of resting the far levels (one per side at most).
        """
        self.depth = max(self.levels, depth)
        return self._keep_depth(refill_all=True)

    def step(self, anchor: float | None = None) -> list[EngineResult]:
        """Advance the flow by one random action.

        Args:
            anchor: The price the market is at now (the base's reference price
                with this instrument's basis); the mid follows it with noise.
                ``None``: the mid does its own random walk.

        Returns:
            The results of the action, in order; at least one has non-empty
            ``changes``.
        """
        self.steps += 1
        prng = self.prng
        if anchor is None:
            walk = round(prng.gauss(0.0, self.spacing * 0.3))
            self._mid_ticks = max(self._min_mid_ticks, self._mid_ticks + walk)
        else:
            self._follow(anchor)
        engine = self.engine
        out: list[EngineResult] = []
        mid = self.mid
        best_bid = engine.best_bid()
        best_ask = engine.best_ask()
        n_bids = engine.level_count(Side.BUY)
        n_asks = engine.level_count(Side.SELL)
        thin = self.levels // 2
        if best_ask is not None and best_ask.price < mid:
            # The market moved up through stale asks: a buyer takes them.
            out.extend(self._sweep(Side.BUY, mid))
        elif best_bid is not None and best_bid.price > mid:
            out.extend(self._sweep(Side.SELL, mid))
        elif n_bids < thin or n_asks < thin:
            out.append(self._add(Side.BUY if n_bids <= n_asks else Side.SELL))
        else:
            r = prng.random()
            crowded = len(self._ids) > 4 * self.levels
            if r < 0.55 and not crowded:
                side = self._pick_side(n_bids, n_asks)
                out.append(self._add(side))
                out.extend(self._trim(side))
            elif r < 0.78:  # also where an add would crowd the book further
                out.extend(self._cancel_random())
            elif r < 0.88:
                out.extend(self._amend_random())
            else:
                out.extend(self._take())
        if not any(result.changes for result in out):
            out.append(self._add(self._pick_side(n_bids, n_asks)))
        self._prune(out)
        if self.depth > self.levels:
            out.extend(self._keep_depth(refill_all=False))
        return out

    def move(self, pct: Decimal) -> list[EngineResult]:
        """Shift the mid by ``pct`` percent and re-quote around it.

        Takers first trade through every order (of any owner) between the old
        book and the new mid, then the flow's remaining quotes are cancelled
        and the book is seeded again around the new mid.

        Args:
            pct: Percent to move, e.g. ``Decimal("1")`` for +1 %, ``Decimal("-2")``.

        Returns:
            All results, in order.
        """
        factor = Decimal(1) + pct / Decimal(100)
        target = self.mid * factor
        self._mid_ticks = max(self._min_mid_ticks, int(target // self._tick))
        if factor > 0:
            # Anchored steps keep the move: the mid stays shifted from the anchor.
            self._offset += math.log(factor)
        mid = self.mid
        out: list[EngineResult] = []
        out.extend(self._sweep(Side.BUY, mid))
        out.extend(self._sweep(Side.SELL, mid))
        for order_id in list(self._ids):
            self._forget(order_id)
            if self.engine.is_resting(order_id):
                out.append(self.engine.cancel(order_id))
        self._prune(out)
        out.extend(self.seed_book())
        if self.depth > self.levels:
            out.extend(self._keep_depth(refill_all=True))
        return out

    def statistics(self) -> FlowStatistics:
        """A frozen snapshot of the flow's counters."""
        return FlowStatistics(
            steps=self.steps,
            flow_orders=len(self._ids),
            orders_sent=self._next_id - 1,
            mid=self.mid,
        )

    def flow_order_count(self) -> int:
        """How many orders the flow believes it has resting (fills are pruned lazily)."""
        return len(self._ids)

    # -------------------------------------------------------------- internals

    def _follow(self, anchor: float) -> None:
        """Put the mid at the anchor (with :meth:`move`'s offset) plus noise, on the grid.

        The noise is an AR(1) process in ticks: about a third of a quote
        spacing (standard deviation) around the anchor, a shock forgotten
        within some twenty steps, so venues quoting one reference differ by
        less than their spreads nearly all the time and cross only briefly.
        """
        spacing = self.spacing
        self._noise = self._noise * _NOISE_KEEP + self.prng.gauss(0.0, spacing * _NOISE_SHOCK)
        ticks = anchor * math.exp(self._offset) / float(self._tick) + self._noise
        self._mid_ticks = max(self._min_mid_ticks, round(ticks))

    def _pick_side(self, n_bids: int, n_asks: int) -> Side:
        if n_bids != n_asks and self.prng.random() < 0.5:
            return Side.BUY if n_bids < n_asks else Side.SELL
        return Side.BUY if self.prng.random() < 0.5 else Side.SELL

    def _new_id(self) -> str:
        order_id = f"flow-{self._next_id}"
        self._next_id += 1
        return order_id

    def _remember(self, order_id: str) -> None:
        self._index[order_id] = len(self._ids)
        self._ids.append(order_id)

    def _forget(self, order_id: str) -> None:
        self._tail.discard(order_id)
        i = self._index.pop(order_id, None)
        if i is None:
            return
        last = self._ids.pop()
        if last != order_id:
            self._ids[i] = last
            self._index[last] = i

    def _prune(self, results: list[EngineResult]) -> None:
        """Forget flow makers that the results' trades filled completely."""
        index = self._index
        tail = self._tail
        is_resting = self.engine.is_resting
        for result in results:
            for trade in result.trades:
                maker = trade.maker_order_id
                if (maker in index or maker in tail) and not is_resting(maker):
                    self._forget(maker)

    def _qty(self, max_units: int) -> Decimal:
        return (self.unit_lots * self.prng.randint(1, max_units)) * self._lot

    def _maker_price_ticks(self, side: Side, k: int) -> int:
        """A non-crossing price ``k`` grid steps from the mid on ``side``."""
        tick = self._tick
        if side is Side.BUY:
            ticks = self._mid_ticks - k * self.spacing
            best_ask = self.engine.best_ask()
            if best_ask is not None:
                ticks = min(ticks, int(best_ask.price // tick) - 1)
        else:
            ticks = self._mid_ticks + k * self.spacing
            best_bid = self.engine.best_bid()
            if best_bid is not None:
                ticks = max(ticks, int(best_bid.price // tick) + 1)
        return max(1, ticks)

    def _add(self, side: Side, k: int | None = None) -> EngineResult:
        if k is None:
            k = self.prng.randint(1, self.levels)
        price = self._maker_price_ticks(side, k) * self._tick
        order_id = self._new_id()
        result = self.engine.submit(
            EngineOrder(
                order_id=order_id,
                side=side,
                type=OrderType.LIMIT,
                qty=self._qty(20),
                price=price,
                time_in_force=TimeInForce.GTC,
            )
        )
        if result.remaining_qty > 0:
            self._remember(order_id)
        return result

    def _trim(self, side: Side) -> list[EngineResult]:
        """Cancel flow orders at the far end while ``side`` has more than ``depth`` levels."""
        engine = self.engine
        out: list[EngineResult] = []
        mine = self._index
        tail = self._tail
        while engine.level_count(side) > self.depth:
            worst = engine.worst_level(side)
            if worst is None:
                break
            ids = [i for i in engine.order_ids_at(side, worst.price) if i in mine or i in tail]
            if not ids:
                break  # only other owners' orders there: leave them
            for order_id in ids:
                self._forget(order_id)
                out.append(engine.cancel(order_id))
            if engine.worst_level(side) == worst:
                break
        return out

    def _keep_depth(self, *, refill_all: bool) -> list[EngineResult]:
        """Bring each side back to ``depth`` levels (see :meth:`deepen`)."""
        engine = self.engine
        out: list[EngineResult] = []
        for side in (Side.BUY, Side.SELL):
            out.extend(self._trim(side))
            missing = self.depth - engine.level_count(side)
            if missing <= 0:
                continue
            orders = self._far_orders(side, missing if refill_all else 1, fill_gaps=refill_all)
            if len(orders) == 1:
                out.append(engine.submit(orders[0]))
            elif orders:
                out.append(engine.rest_many(orders))
        return out

    def _far_orders(self, side: Side, count: int, *, fill_gaps: bool) -> list[EngineOrder]:
        """Up to ``count`` quiet maker orders, one grid step apart, past ``side``'s far end.

        With ``fill_gaps`` the far end is the flow's own (orders of other
        owners resting beyond it, such as a far user bid, do not push the
        new levels past them) and grid prices already holding a level are
        skipped, so a book deepened late is as a book deepened at start.
        """
        engine = self.engine
        level = engine.worst_level(side)
        far = self._flow_far_price(side) if fill_gaps else None if level is None else level.price
        if far is None:
            return []  # an empty side is the active flow's to refill
        step = -self.spacing if side is Side.BUY else self.spacing
        ticks = int(far // self._tick)
        orders: list[EngineOrder] = []
        while len(orders) < count:
            ticks += step
            if ticks < 1:
                break
            if fill_gaps and engine.order_ids_at(side, ticks * self._tick):
                continue
            order_id = self._new_id()
            self._tail.add(order_id)
            orders.append(
                EngineOrder(
                    order_id=order_id,
                    side=side,
                    type=OrderType.LIMIT,
                    qty=self._qty(20),
                    price=ticks * self._tick,
                    time_in_force=TimeInForce.GTC,
                )
            )
        return orders

    def _flow_far_price(self, side: Side) -> Decimal | None:
        """The price farthest from the top on ``side`` that holds a flow order."""
        engine = self.engine
        prices = [
            order.price
            for order_id in itertools.chain(self._ids, self._tail)
            if (order := engine.order(order_id)) is not None and order.side is side
        ]
        if not prices:
            return None
        return min(prices) if side is Side.BUY else max(prices)

    def _live_random_id(self) -> str | None:
        """A random resting flow order id, pruning ids that were filled meanwhile."""
        engine = self.engine
        for _ in range(8):
            if not self._ids:
                return None
            order_id = self.prng.choice(self._ids)
            if engine.is_resting(order_id):
                return order_id
            self._forget(order_id)
        return None

    def _cancel_random(self) -> list[EngineResult]:
        order_id = self._live_random_id()
        if order_id is None:
            return []
        self._forget(order_id)
        return [self.engine.cancel(order_id)]

    def _amend_random(self) -> list[EngineResult]:
        """Replace a flow quote: a new size, or a new price near the mid."""
        order_id = self._live_random_id()
        if order_id is None:
            return []
        resting = self.engine.order(order_id)
        if resting is None:
            return []
        if self.prng.random() < 0.5:
            new_qty = resting.filled + self._qty(20)
            result = self.engine.amend(order_id, qty=new_qty)
        else:
            k = self.prng.randint(1, self.levels)
            price = self._maker_price_ticks(resting.side, k) * self._tick
            result = self.engine.amend(order_id, price=price)
        if result.remaining_qty == 0:
            self._forget(order_id)
        return [result]

    def _take(self) -> list[EngineResult]:
        """A taker order: market or IOC, sized to take one to a few levels."""
        engine = self.engine
        side = Side.BUY if self.prng.random() < 0.5 else Side.SELL
        opposite = engine.best_ask() if side is Side.BUY else engine.best_bid()
        if opposite is None:
            return []
        if self.prng.random() < 0.5:
            # A market order capped at what rests within three grid steps of the top.
            reach = 3 * self.spacing * self._tick
            limit = opposite.price + reach if side is Side.BUY else opposite.price - reach
            cap = engine.fillable_qty(side, limit)
            qty = min(self._qty(30), cap)
            order = EngineOrder(
                order_id=self._new_id(),
                side=side,
                type=OrderType.MARKET,
                qty=qty,
                time_in_force=TimeInForce.IOC,
            )
        else:
            order = EngineOrder(
                order_id=self._new_id(),
                side=side,
                type=OrderType.LIMIT,
                qty=self._qty(30),
                price=opposite.price,
                time_in_force=TimeInForce.IOC,
            )
        return [engine.submit(order)]

    def _sweep(self, side: Side, limit: Decimal) -> list[EngineResult]:
        """An IOC ``side`` order that takes everything up to ``limit``."""
        qty = self.engine.fillable_qty(side, limit)
        if qty <= 0:
            return []
        return [
            self.engine.submit(
                EngineOrder(
                    order_id=self._new_id(),
                    side=side,
                    type=OrderType.LIMIT,
                    qty=qty,
                    price=limit,
                    time_in_force=TimeInForce.IOC,
                )
            )
        ]
