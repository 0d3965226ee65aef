"""The shared wire book and view diff of Bybit's book topics and OKX's book channels."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from connector.model import Side
from connector.sim.hub import SimVenue
from connector.sim.instruments import default_instruments
from connector.sim.mirror import WireBook, WireLevel, diff_levels
from connector.sim.okx.wire import wire_levels

# Views of one side: distinct prices, each with a size; ``reverse`` orders bids.
_sides = st.dictionaries(
    st.integers(min_value=1, max_value=40), st.integers(min_value=1, max_value=5), max_size=15
)


def _view(levels: dict[int, int], reverse: bool, extra: str = "") -> list[WireLevel]:
    return [(Decimal(p), str(p), str(q), extra) for p, q in sorted(levels.items(), reverse=reverse)]


def _apply(view: dict[str, str], entries: list[tuple[str, str]]) -> dict[str, str]:
    out = dict(view)
    for price, size in entries:
        if size == "0":
            out.pop(price, None)
        else:
            out[price] = size
    return out


@settings(max_examples=150, deadline=None)
@given(old=_sides, new=_sides, reverse=st.booleans())
def test_bybit_delta_turns_the_old_view_into_the_new_in_book_order(
    old: dict[int, int], new: dict[int, int], reverse: bool
) -> None:
    diff = diff_levels(_view(old, reverse), _view(new, reverse), reverse=reverse)
    entries = [(p, q) for _, p, q, _ in diff]
    prices = [Decimal(p) for p, _ in entries]
    assert {str(p): str(q) for p, q in new.items()} == _apply(
        {str(p): str(q) for p, q in old.items()}, entries
    )
    assert sorted(prices, reverse=reverse) == prices
    assert len(set(prices)) == len(prices)
    assert (old == new) == (not entries)


@settings(max_examples=150, deadline=None)
@given(old=_sides, new=_sides, reverse=st.booleans())
def test_okx_update_turns_the_old_view_into_the_new_in_book_order(
    old: dict[int, int], new: dict[int, int], reverse: bool
) -> None:
    entries = wire_levels(
        diff_levels(_view(old, reverse, "1"), _view(new, reverse, "1"), reverse=reverse)
    )
    pairs = [(p, q) for p, q, _, _ in entries]
    assert {str(p): str(q) for p, q in new.items()} == _apply(
        {str(p): str(q) for p, q in old.items()}, pairs
    )
    prices = [Decimal(p) for p, _ in pairs]
    assert sorted(prices, reverse=reverse) == prices
    assert all(n == ("0" if q == "0" else "1") for _, q, _, n in entries)


def _hub() -> SimVenue:
    return SimVenue("okx", default_instruments(("okx",), ("BTC",)), seed=3, rate=100.0)


def test_wire_book_starts_as_the_engine_book_and_follows_batches() -> None:
    hub = _hub()
    book = hub.book("spot", "BTC-USDT")
    wire = WireBook(book, lambda side, p, q: (p, str(p), str(q), side.value))
    for batch in hub.step(40, market="spot", native_id="BTC-USDT"):
        wire.feed(batch.results, immediate=False)

    bids, asks = book.engine.depth(None)
    assert [(lv.price, str(lv.qty)) for lv in bids] == [(lv[0], lv[2]) for lv in wire.top(10**6)[0]]
    assert [(lv.price, str(lv.qty)) for lv in asks] == [(lv[0], lv[2]) for lv in wire.top(10**6)[1]]
    assert {Side.BUY.value} == {lv[3] for lv in wire.top(10**6)[0]}
    assert book.update_id == wire.seq
