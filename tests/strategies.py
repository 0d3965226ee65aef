"""Hypothesis strategies shared by the book and venue tests.

Books are kept uncrossed by construction (bids below 100, asks above 100), so a
book the keeper marks invalid for being crossed always means a bug, not bad luck.
"""

from __future__ import annotations

from decimal import Decimal

import attrs
from hypothesis import strategies as st

from connector.model import BookDelta, BookLevel, BookSnapshot, Market, Symbol

__all__ = [
    "BinanceScenario",
    "ModelBook",
    "ask_prices",
    "bid_prices",
    "binance_scenarios",
    "book_ops",
    "level_changes",
    "model_levels",
    "qtys",
]

SYMBOL = Symbol.parse("BTC-USDT-SPOT")

# Prices as venue text: bids 0.5 .. 99.5, asks 100.5 .. 199.5 (step 0.5), with
# varied formatting ("12.5", "12.50000000") that must land on the same level.
_bid_halves = st.integers(min_value=1, max_value=199)
_ask_halves = st.integers(min_value=201, max_value=399)


def _price_text(halves: int, pad: bool) -> str:
    text = str(Decimal(halves) / 2)
    if pad:
        text = f"{Decimal(text):.8f}"
    return text


bid_prices = st.builds(_price_text, _bid_halves, st.booleans())
ask_prices = st.builds(_price_text, _ask_halves, st.booleans())
qtys = st.sampled_from(["0", "0.000", "1", "2.5", "0.001", "3.00000000", "17"])
"""Quantity text; zeros remove levels."""

RawLevels = list[tuple[str, str]]


def level_changes(
    prices: st.SearchStrategy[str], max_size: int = 5
) -> st.SearchStrategy[RawLevels]:
    """A list of (price, qty) text pairs, qty possibly zero."""
    return st.lists(st.tuples(prices, qtys), max_size=max_size)


def model_levels(prices: st.SearchStrategy[str]) -> st.SearchStrategy[RawLevels]:
    """Snapshot levels: unique prices, positive quantities."""
    return st.lists(
        st.tuples(prices, qtys.filter(lambda q: Decimal(q) != 0)),
        max_size=12,
        unique_by=lambda pq: Decimal(pq[0]),
    )


book_ops = st.lists(
    st.one_of(
        st.tuples(st.just("snapshot"), model_levels(bid_prices), model_levels(ask_prices)),
        st.tuples(st.just("apply"), level_changes(bid_prices), level_changes(ask_prices)),
    ),
    max_size=25,
)
"""Sequences of ("snapshot" | "apply", bids, asks) on an uncrossed book."""


@attrs.define
class ModelBook:
    """The reference: a plain dict per side (price -> qty), zero removes."""

    bids: dict[Decimal, Decimal] = attrs.field(factory=dict)
    asks: dict[Decimal, Decimal] = attrs.field(factory=dict)

    def load(self, bids: RawLevels, asks: RawLevels) -> None:
        self.bids, self.asks = {}, {}
        self.apply(bids, asks)

    def apply(self, bids: RawLevels, asks: RawLevels) -> None:
        for side, levels in ((self.bids, bids), (self.asks, asks)):
            for p, q in levels:
                price, qty = Decimal(p), Decimal(q)
                if qty:
                    side[price] = qty
                else:
                    side.pop(price, None)

    def bid_levels(self) -> list[BookLevel]:
        return [BookLevel(p, self.bids[p]) for p in sorted(self.bids, reverse=True)]

    def ask_levels(self) -> list[BookLevel]:
        return [BookLevel(p, self.asks[p]) for p in sorted(self.asks)]

    def copy(self) -> ModelBook:
        return ModelBook(dict(self.bids), dict(self.asks))


def _levels(raw: RawLevels) -> tuple[BookLevel, ...]:
    return tuple(BookLevel(Decimal(p), Decimal(q)) for p, q in raw)


@attrs.frozen
class BinanceScenario:
    """A true Binance diff stream, its snapshot, and a possibly perturbed delivery.

    Attributes:
        market: SPOT (``U == prev_u + 1``) or LINEAR (``pu == prev_u``, id gaps).
        snapshot: The REST snapshot (``seq`` = ``lastUpdateId``).
        delivered: The deltas as the socket delivers them (maybe perturbed).
        snapshot_at: The snapshot arrives after this many delivered deltas.
        books: The true book after each update id ``u`` (and at the start id).
        perturbation: ``none``, ``drop``, ``swap``, ``duplicate`` or ``late`` (the
            first diffs never arrive: subscribed after the snapshot was taken).
    """

    market: Market
    snapshot: BookSnapshot
    delivered: tuple[BookDelta, ...]
    snapshot_at: int
    books: dict[int, ModelBook]
    perturbation: str


@st.composite
def binance_scenarios(draw: st.DrawFn, *, market: Market, perturb: bool = True) -> BinanceScenario:
    """Random diff streams for one Binance rule, with one optional perturbation."""
    model = ModelBook()
    model.load(draw(model_levels(bid_prices)), draw(model_levels(ask_prices)))
    start = draw(st.integers(min_value=1, max_value=10**12))
    books = {start: model.copy()}
    deltas: list[BookDelta] = []
    prev_u = start
    for _ in range(draw(st.integers(min_value=1, max_value=12))):
        bids = draw(level_changes(bid_prices))
        asks = draw(level_changes(ask_prices))
        gap = draw(st.integers(min_value=0, max_value=3)) if market is Market.LINEAR else 0
        first = prev_u + 1 + gap
        last = first + draw(st.integers(min_value=0, max_value=3))
        deltas.append(
            BookDelta(
                venue="binance",
                market=market,
                symbol=SYMBOL,
                first_seq=first,
                seq=last,
                prev_seq=prev_u if market is Market.LINEAR else None,
                bids=_levels(bids),
                asks=_levels(asks),
            )
        )
        model.apply(bids, asks)
        books[last] = model.copy()
        prev_u = last
    # The snapshot is the true book at the end of some diff (spot: or at the start).
    low = 0 if market is Market.LINEAR else -1
    j = draw(st.integers(min_value=low, max_value=len(deltas) - 1))
    lid = start if j < 0 else deltas[j].seq
    snap_book = books[lid]
    snapshot = BookSnapshot(
        venue="binance",
        market=market,
        symbol=SYMBOL,
        seq=lid,
        bids=tuple(snap_book.bid_levels()),
        asks=tuple(snap_book.ask_levels()),
    )
    delivered = list(deltas)
    perturbation = (
        draw(st.sampled_from(["none", "drop", "swap", "duplicate", "late"])) if perturb else "none"
    )
    if perturbation == "drop":
        delivered.pop(draw(st.integers(min_value=0, max_value=len(delivered) - 1)))
    elif perturbation == "swap" and len(delivered) >= 2:
        i = draw(st.integers(min_value=0, max_value=len(delivered) - 2))
        delivered[i], delivered[i + 1] = delivered[i + 1], delivered[i]
    elif perturbation == "late" and len(delivered) >= 2:
        # Subscribed after the snapshot was taken: the first diffs never arrive.
        del delivered[: draw(st.integers(min_value=1, max_value=len(delivered) - 1))]
    elif perturbation == "duplicate":
        i = draw(st.integers(min_value=0, max_value=len(delivered) - 1))
        k = draw(st.integers(min_value=i + 1, max_value=len(delivered)))
        delivered.insert(k, delivered[i])
    else:
        perturbation = "none"
    snapshot_at = draw(st.integers(min_value=0, max_value=len(delivered)))
    return BinanceScenario(
        market=market,
        snapshot=snapshot,
        delivered=tuple(delivered),
        snapshot_at=snapshot_at,
        books=books,
        perturbation=perturbation,
    )
