"""One reference price per base asset, shared by every simulated venue (pure, deterministic).

Real venues quote one asset at nearly the same price because arbitrage ties
them together: a cross-venue consolidated book is crossed only briefly and
rarely. The simulator models that with one :class:`ReferencePrice` per base
asset (a seeded geometric random walk in time) that every venue's
:class:`~connector.sim.flow.SyntheticFlow` of that base follows, each at a
small constant basis of its own, plus a perpetual premium common to the
perpetuals of one base (spot and perpetual stay close, as funding keeps them).
Each flow adds its own mean-reverting noise on top
(:meth:`SyntheticFlow.step <connector.sim.flow.SyntheticFlow.step>`).

:class:`ReferenceMarket` holds the references of one simulator run; one is
shared by every :class:`~connector.sim.hub.SimVenue` of the run. Time is
passed in (seconds on the run's clock; the hubs use the trio clock), and
randomness comes from :class:`~connector.sim.flow.Prng`, so the same seed
gives the same reference path.

Sizes: the walk's volatility is :data:`VOLATILITY_BPS` per square-root second
(about 2.5 % a day, like BTC); a venue's basis is at most
:data:`MAX_BASIS_BPS`, a perpetual's premium between
:data:`MIN_PREMIUM_BPS` and :data:`MAX_PREMIUM_BPS`. The basis is kept below
the flow's quote spacing (0.2 bps of the price) so that venues quoting
around one price do not stand crossed.
"""

from __future__ import annotations

import math
import zlib
from collections import deque
from decimal import Decimal

from connector.sim.flow import Prng
from connector.sim.instruments import SimInstrument

__all__ = [
    "MAX_BASIS_BPS",
    "MAX_PREMIUM_BPS",
    "MIN_PREMIUM_BPS",
    "VOLATILITY_BPS",
    "ReferenceMarket",
    "ReferencePrice",
]

#: Standard deviation of the reference's log price over one second, in basis points.
VOLATILITY_BPS = 0.85
#: Largest constant offset of one venue's instrument from the reference, in basis points.
MAX_BASIS_BPS = 0.04
#: A perpetual trades this many basis points above the reference, at least ...
MIN_PREMIUM_BPS = 0.5
#: ... and at most (drawn once per base asset and run).
MAX_PREMIUM_BPS = 2.0

_BPS = 1e-4
#: Markets whose instruments are perpetual contracts (they carry the premium).
_PERPETUAL_MARKETS = frozenset({"linear", "swap", "inverse"})


def _key_seed(seed: int, key: str) -> int:
    """A 64-bit sub-seed for ``key`` (stable across runs and platforms)."""
    return (seed & 0xFFFFFFFF) << 32 | zlib.crc32(key.encode())


class ReferencePrice:
    """One base asset's reference price: a seeded geometric random walk sampled on a time grid.

    The walk advances one gaussian step per ``dt`` seconds, lazily, as later
    times are asked for. The last ``history`` grid points are kept, so a venue
    that asks for a slightly earlier time than another gets the same value the
    other saw then; earlier times get the oldest kept value.

    Args:
        start: The price at time 0.
        seed: Seed of the walk.
        volatility_bps: Standard deviation of the log price over one second, in bps.
        dt: Grid step in seconds.
        history: Grid points kept for late readers.
    """

    __slots__ = ("_base_n", "_logs", "_prng", "_sigma", "dt", "start")

    def __init__(
        self,
        start: Decimal | float,
        *,
        seed: int,
        volatility_bps: float = VOLATILITY_BPS,
        dt: float = 0.01,
        history: int = 1000,
    ) -> None:
        if dt <= 0 or history < 1:
            raise ValueError("dt must be positive and history at least 1")
        self.start = float(start)
        self.dt = dt
        self._prng = Prng(seed)
        self._sigma = volatility_bps * _BPS * math.sqrt(dt)
        # _logs[i] is the log price change at grid index _base_n + i since time 0.
        self._logs: deque[float] = deque([0.0], maxlen=history)
        self._base_n = 0

    @property
    def index(self) -> int:
        """The latest grid index computed so far."""
        return self._base_n + len(self._logs) - 1

    def at(self, t: float) -> float:
        """The reference price at ``t`` seconds (``t < 0`` counts as 0).

        Args:
            t: Seconds since the reference's time 0.
        """
        i = max(0, int(t / self.dt))
        self._advance(i)
        offset = max(0, i - self._base_n)
        return self.start * math.exp(self._logs[offset])

    def _advance(self, target: int) -> None:
        logs = self._logs
        last = self.index
        if target <= last:
            return
        gauss = self._prng.gauss
        sigma = self._sigma
        value = logs[-1]
        gap = target - last
        keep = logs.maxlen or 1
        if gap > keep:
            # A long silence (a suspended process): the skipped part in one draw.
            skipped = gap - keep
            value += gauss(0.0, sigma * math.sqrt(skipped))
            logs.clear()
            self._base_n = last + skipped + 1
            logs.append(value)
            gap = keep - 1
        for _ in range(gap):
            value += gauss(0.0, sigma)
            if len(logs) == keep:
                self._base_n += 1
            logs.append(value)


class ReferenceMarket:
    """The reference prices of one simulator run and each instrument's place around them.

    One :class:`ReferencePrice` per base asset, made on first use with that
    instrument's start price; a basis per ``(venue, market, base)`` and a
    premium per base for perpetuals, drawn from ``seed``.

    Args:
        seed: Seed of every path, basis and premium of the run.
    """

    def __init__(self, seed: int = 1) -> None:
        self.seed = seed
        self._prices: dict[str, ReferencePrice] = {}
        self._premiums: dict[str, float] = {}
        self._bases: dict[tuple[str, str, str], float] = {}
        self._origin: float | None = None

    def clock(self, now: float) -> float:
        """Seconds on the reference clock at the caller's clock reading ``now``.

        The first reading becomes time 0, so every venue of the run that passes
        readings of one clock (the trio clock) shares one time line.
        """
        if self._origin is None:
            self._origin = now
        return now - self._origin

    def price(self, base: str, start: Decimal | float) -> ReferencePrice:
        """The reference of ``base``, made with ``start`` when first asked for."""
        ref = self._prices.get(base)
        if ref is None:
            ref = self._prices[base] = ReferencePrice(
                start, seed=_key_seed(self.seed, f"reference/{base}")
            )
        return ref

    def premium_bps(self, base: str) -> float:
        """The perpetual premium of ``base`` in basis points (drawn once per run)."""
        premium = self._premiums.get(base)
        if premium is None:
            prng = Prng(_key_seed(self.seed, f"premium/{base}"))
            span = MAX_PREMIUM_BPS - MIN_PREMIUM_BPS
            premium = self._premiums[base] = MIN_PREMIUM_BPS + span * prng.random()
        return premium

    def basis_bps(self, instrument: SimInstrument) -> float:
        """The constant offset of ``instrument`` from its base's reference, in basis points.

        It includes the perpetual premium for perpetual markets.
        """
        key = (instrument.venue, instrument.market, instrument.base)
        basis = self._bases.get(key)
        if basis is None:
            prng = Prng(_key_seed(self.seed, "basis/" + "/".join(key)))
            basis = MAX_BASIS_BPS * (2.0 * prng.random() - 1.0)
            if instrument.market in _PERPETUAL_MARKETS:
                basis += self.premium_bps(instrument.base)
            self._bases[key] = basis
        return basis

    def anchor(self, instrument: SimInstrument, t: float) -> float:
        """Where ``instrument``'s mid sits at ``t`` seconds before its own noise.

        Args:
            instrument: The instrument (its base picks the reference).
            t: Seconds on the reference clock.
        """
        ref = self.price(instrument.base, instrument.start_price)
        return ref.at(t) * (1.0 + self.basis_bps(instrument) * _BPS)
