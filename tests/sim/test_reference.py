"""The shared reference price: deterministic paths, and venues that stay arbitraged."""

from __future__ import annotations

import math
from decimal import Decimal

import trio

from connector.sim.flow import SyntheticFlow
from connector.sim.hub import SimBook, SimVenue
from connector.sim.instruments import default_instruments, find_instrument
from connector.sim.reference import (
    MAX_BASIS_BPS,
    MAX_PREMIUM_BPS,
    MIN_PREMIUM_BPS,
    VOLATILITY_BPS,
    ReferenceMarket,
    ReferencePrice,
)

VENUES = ("binance", "bybit", "okx")


def test_reference_path_is_a_function_of_seed_and_time() -> None:
    one = ReferencePrice(Decimal(60000), seed=3)
    two = ReferencePrice(Decimal(60000), seed=3)
    other = ReferencePrice(Decimal(60000), seed=4)
    times = [0.0, 0.004, 0.5, 0.5, 3.0, 2.995, 10.0]
    # Asked at other times in between, a path still gives the same values.
    two.at(7.0)
    assert [one.at(t) for t in times] == [two.at(t) for t in times]
    assert [one.at(t) for t in times] != [other.at(t) for t in times]
    fresh = ReferencePrice(Decimal(60000), seed=3)
    assert 60000.0 == fresh.at(-1.0) == fresh.at(0.0) == fresh.at(0.009)


def test_reference_walk_has_the_stated_volatility() -> None:
    ref = ReferencePrice(100.0, seed=11, dt=0.01, history=10)
    returns = []
    previous = ref.at(0.0)
    for second in range(1, 3001):
        price = ref.at(float(second))
        returns.append(math.log(price / previous) / 1e-4)
        previous = price
    spread = math.sqrt(sum(r * r for r in returns) / len(returns))
    assert VOLATILITY_BPS * 0.9 < spread < VOLATILITY_BPS * 1.1


def test_reference_keeps_recent_history_for_late_readers_and_skips_long_gaps() -> None:
    ref = ReferencePrice(100.0, seed=5, dt=0.01, history=100)
    early = ref.at(1.0)
    ref.at(1.5)
    assert early == ref.at(1.0), "a venue reading 0.5 s late sees what the others saw"
    oldest = ref.at(1.5 - 0.99)
    assert oldest == ref.at(0.0), "older than the history: the oldest kept value"
    # An hour of silence is one draw, not 360 000 steps.
    later = ref.at(3600.0)
    assert 360_000 == ref.index
    assert later != ref.at(1.5)


def test_basis_and_premium_are_small_fixed_and_seeded() -> None:
    market = ReferenceMarket(seed=9)
    again = ReferenceMarket(seed=9)
    insts = default_instruments()
    bases = {inst.base for inst in insts}
    premiums = {base: market.premium_bps(base) for base in bases}
    for base, premium in premiums.items():
        assert MIN_PREMIUM_BPS <= premium <= MAX_PREMIUM_BPS
        assert again.premium_bps(base) == premium
    for inst in insts:
        basis = market.basis_bps(inst)
        assert again.basis_bps(inst) == basis
        own = basis - premiums[inst.base] if inst.market != "spot" else basis
        assert abs(own) <= MAX_BASIS_BPS
    spot_bases = [market.basis_bps(i) for i in insts if i.market == "spot" and i.base == "BTC"]
    assert len(set(spot_bases)) == len(VENUES), "each venue has its own basis"
    assert [market.basis_bps(i) for i in insts] != [ReferenceMarket(10).basis_bps(i) for i in insts]


def test_reference_clock_starts_at_the_first_reading() -> None:
    market = ReferenceMarket()
    assert 0.0 == market.clock(1234.5)
    assert 2.0 == market.clock(1236.5)


def test_a_flow_starts_at_its_anchor_and_follows_it_within_its_noise() -> None:
    inst = find_instrument(default_instruments(), "okx", "swap", "BTC-USDT-SWAP")
    assert inst is not None
    market = ReferenceMarket(seed=2)
    book = SimBook(inst, seed=1, anchor=market.anchor(inst, 0.0))
    flow: SyntheticFlow = book.flow
    assert abs(float(flow.mid) - market.anchor(inst, 0.0)) <= float(inst.tick_size)
    flow.seed_book()
    worst = 0.0
    for n in range(1, 4001):
        anchor = market.anchor(inst, n * 0.005)
        flow.step(anchor)
        worst = max(worst, abs(float(flow.mid) / anchor - 1.0) * 1e4)
    # Noise of about a third of a quote spacing (0.2 bps): far below a basis point.
    assert worst < 0.5
    flow.move(Decimal(1))
    for n in range(4001, 4101):
        flow.step(market.anchor(inst, n * 0.005))
    moved = float(flow.mid) / market.anchor(inst, 4100 * 0.005)
    assert 1.0095 < moved < 1.0105, "a moved market stays moved against its anchor"


def test_spot_and_perpetual_of_one_base_stay_a_small_premium_apart() -> None:
    venue = SimVenue("bybit", default_instruments(("bybit",), ("BTC", "ETH")), seed=6)
    for _ in range(20):
        venue.step(100)
        for base in ("BTCUSDT", "ETHUSDT"):
            spot = venue.book("spot", base).flow.mid
            perp = venue.book("linear", base).flow.mid
            premium_bps = float(perp / spot - 1) * 1e4
            assert 0.0 < premium_bps < MAX_PREMIUM_BPS + 1.0


async def test_venues_on_one_reference_are_crossed_rarely_and_briefly(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Every venue's best bid stays below every other venue's best ask nearly always.

    Three venues run their drivers on one reference for 20 simulated seconds;
    every 10 ms the consolidated top of each book (spot and perpetual of a
    coarse-tick and a fine-tick base) is checked. Independent random walks, the
    old behaviour, stood crossed by tens of dollars almost all the time.
    """
    seed = 7
    reference = ReferenceMarket(seed)
    venues = [
        SimVenue(v, default_instruments((v,), ("BTC", "SOL")), seed=seed, reference=reference)
        for v in VENUES
    ]
    groups: dict[tuple[str, str], list[SimBook]] = {}
    for venue in venues:
        for book in venue.books.values():
            kind = "spot" if book.market == "spot" else "perpetual"
            groups.setdefault((book.instrument.base, kind), []).append(book)
    samples = 0
    crossed = dict.fromkeys(groups, 0)
    run = dict.fromkeys(groups, 0)
    longest = dict.fromkeys(groups, 0)
    worst_bps = dict.fromkeys(groups, 0.0)
    async with trio.open_nursery() as nursery:
        for venue in venues:
            await nursery.start(venue.run)
        for _ in range(2000):
            await trio.sleep(0.01)
            samples += 1
            for key, books in groups.items():
                tops = [(b.engine.best_bid(), b.engine.best_ask()) for b in books]
                best_bid = max(bid.price for bid, _ in tops if bid is not None)
                best_ask = min(ask.price for _, ask in tops if ask is not None)
                if best_bid >= best_ask:
                    crossed[key] += 1
                    run[key] += 1
                    longest[key] = max(longest[key], run[key])
                    worst_bps[key] = max(worst_bps[key], float(best_bid / best_ask - 1) * 1e4)
                else:
                    run[key] = 0
        nursery.cancel_scope.cancel()
    for key in groups:
        assert crossed[key] / samples < 0.02, (key, crossed[key])
        assert longest[key] * 0.01 <= 0.5, (key, longest[key])
        assert worst_bps[key] < 2.0, (key, worst_bps[key])
    # The books moved meanwhile: the market did not stand still to stay uncrossed.
    moved = [abs(b.flow.mid / b.ticker().open - 1) for v in venues for b in v.books.values()]
    assert max(moved) > Decimal("0.00002")
