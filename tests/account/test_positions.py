"""Positions and P&L from fills; venue snapshots correct them."""

from __future__ import annotations

from decimal import Decimal

import attrs
from hypothesis import given
from hypothesis import strategies as st

from connector.account.positions import PositionBook, PositionDiscrepancy
from connector.model import Fill, Position, Side, Symbol

D = Decimal
PERP = Symbol.parse("BTC-USDT-PERP")


def fill(
    trade: str,
    side: Side,
    qty: str,
    price: str,
    fee: str = "0",
    fee_asset: str = "USDT",
    *,
    symbol: Symbol = PERP,
    ts: int = 0,
) -> Fill:
    return Fill(
        venue="bybit",
        symbol=symbol,
        client_order_id="c",
        venue_order_id="v",
        trade_id=trade,
        side=side,
        qty=D(qty),
        price=D(price),
        fee=D(fee),
        fee_asset=fee_asset,
        ts_event_ns=ts,
    )


def test_adding_averages_the_entry_and_reducing_realises_pnl_less_fees() -> None:
    book = PositionBook()
    book.apply_fill(fill("1", Side.BUY, "1", "100", "0.1"))
    book.apply_fill(fill("2", Side.BUY, "3", "120", "0.3"))

    after_close = book.apply_fill(fill("3", Side.SELL, "2", "130", "0.2"))

    assert after_close is not None
    assert D("2") == after_close.qty
    assert D("115") == after_close.avg_entry_price
    assert D("30") - D("0.6") == after_close.realized_pnl
    assert D("30") == book.unrealized_pnl("bybit", PERP, D("130"))


def test_a_fill_through_zero_opens_the_other_side_at_its_price() -> None:
    book = PositionBook()
    book.apply_fill(fill("1", Side.BUY, "1", "100"))

    flipped = book.apply_fill(fill("2", Side.SELL, "3", "90"))

    assert flipped is not None
    assert (D("-2"), D("90"), D("-10")) == (
        flipped.qty,
        flipped.avg_entry_price,
        flipped.realized_pnl,
    )
    assert D("20") == book.unrealized_pnl("bybit", PERP, D("80"))
    closed = book.apply_fill(fill("3", Side.BUY, "2", "95"))
    assert closed is not None
    assert (D("0"), None, D("-20")) == (closed.qty, closed.avg_entry_price, closed.realized_pnl)


def test_contract_size_scales_pnl() -> None:
    book = PositionBook()
    book.apply_fill(fill("1", Side.SELL, "10", "60000"), contract_size=D("0.01"))

    after = book.apply_fill(fill("2", Side.BUY, "10", "59000"), contract_size=D("0.01"))

    assert after is not None
    assert D("100") == after.realized_pnl


def test_repeated_and_spot_fills_change_nothing() -> None:
    book = PositionBook()
    book.apply_fill(fill("1", Side.BUY, "1", "100"))

    assert book.apply_fill(fill("1", Side.BUY, "1", "100")) is None
    assert (
        book.apply_fill(fill("9", Side.BUY, "1", "1", symbol=Symbol.parse("BTC-USDT-SPOT"))) is None
    )
    assert D("1") == book.get("bybit", PERP).qty  # type: ignore[union-attr]
    assert 1 == book.statistics().duplicate_fills


def test_fees_in_another_asset_are_kept_apart() -> None:
    book = PositionBook()
    book.apply_fill(fill("1", Side.BUY, "1", "100", "0.01", "BNB"))

    state = book.state("bybit", PERP)
    assert state is not None
    assert (D("0"), {"BNB": D("0.01")}) == (state.realized_pnl, state.other_fees)


def test_venue_snapshot_corrects_and_reports_a_difference() -> None:
    book = PositionBook()
    book.apply_fill(fill("1", Side.BUY, "1", "100", ts=10))
    agreeing = Position(
        venue="bybit", symbol=PERP, qty=D("1"), avg_entry_price=D("100"), ts_event_ns=20
    )
    differing = Position(
        venue="bybit", symbol=PERP, qty=D("1.5"), avg_entry_price=D("101"), ts_event_ns=30
    )

    assert book.apply_snapshot(agreeing) is None
    found = book.apply_snapshot(differing)

    assert (
        PositionDiscrepancy(
            venue="bybit",
            symbol=PERP,
            local_qty=D("1"),
            venue_qty=D("1.5"),
            local_entry=D("100"),
            venue_entry=D("101"),
            ts_event_ns=30,
        )
        == found
    )
    position = book.get("bybit", PERP)
    assert position is not None
    assert (D("1.5"), D("101")) == (position.qty, position.avg_entry_price)


def test_an_entry_price_the_venue_sends_rounded_is_ours_and_no_discrepancy() -> None:
    # Fills at 100 and 100.01: entry 100.005; the venue sends "100.01" (two decimals).
    book = PositionBook()
    book.apply_fill(fill("1", Side.BUY, "1", "100", ts=10))
    book.apply_fill(fill("2", Side.BUY, "1", "100.01", ts=11))
    rounded = Position(
        venue="bybit", symbol=PERP, qty=D("2"), avg_entry_price=D("100.01"), ts_event_ns=20
    )
    off = Position(
        venue="bybit", symbol=PERP, qty=D("2"), avg_entry_price=D("100.02"), ts_event_ns=21
    )

    assert book.apply_snapshot(rounded) is None
    assert D("100.005") == book.get("bybit", PERP).avg_entry_price  # type: ignore[union-attr]
    assert book.apply_snapshot(off) is not None  # another price: the venue's wins
    assert D("100.02") == book.get("bybit", PERP).avg_entry_price  # type: ignore[union-attr]


def test_snapshot_older_than_the_last_fill_is_ignored() -> None:
    book = PositionBook()
    book.apply_fill(fill("1", Side.BUY, "1", "100", ts=50))

    stale = Position(venue="bybit", symbol=PERP, qty=D("0"), ts_event_ns=40)
    assert book.apply_snapshot(stale) is None
    assert D("1") == book.get("bybit", PERP).qty  # type: ignore[union-attr]
    assert 1 == book.statistics().stale_snapshots


def test_a_fill_the_venue_snapshot_already_holds_changes_only_fees() -> None:
    # The venue pushed the position (ts 50) before the execution (ts 45) came.
    book = PositionBook()
    snapshot = Position(
        venue="bybit", symbol=PERP, qty=D("1"), avg_entry_price=D("100"), ts_event_ns=50
    )
    book.apply_snapshot(snapshot)
    position = book.apply_fill(fill("1", Side.BUY, "1", "100", "0.05", ts=45))

    assert position is not None
    assert (D("1"), D("100"), D("-0.05")) == (
        position.qty,
        position.avg_entry_price,
        position.realized_pnl,
    )
    # A later fill moves it as usual.
    later = book.apply_fill(fill("2", Side.SELL, "0.4", "110", ts=60))
    assert later is not None
    assert (D("0.6"), D("3.95")) == (later.qty, later.realized_pnl)


def test_fills_of_one_order_after_the_snapshot_that_holds_them_realise_their_pnl() -> None:
    # Long 4 at 100; a sell of 3 fills in three trades of one millisecond, and the
    # venue's position (1 at 100, all three in it) arrives after the first of them.
    book = PositionBook()
    book.apply_fill(fill("1", Side.BUY, "4", "100", ts=10))
    book.apply_fill(fill("2", Side.SELL, "1", "110", "0.1", ts=20))
    book.apply_snapshot(
        Position(venue="bybit", symbol=PERP, qty=D("1"), avg_entry_price=D("100"), ts_event_ns=20)
    )
    book.apply_fill(fill("3", Side.SELL, "1", "90", "0.1", ts=20))
    position = book.apply_fill(fill("4", Side.SELL, "1", "105", "0.1", ts=20))

    assert position is not None
    assert (D("1"), D("100")) == (position.qty, position.avg_entry_price)
    assert D("10") - D("10") + D("5") - D("0.3") == position.realized_pnl
    # The fills caught up with the venue: a later one moves the position as usual.
    later = book.apply_fill(fill("5", Side.SELL, "1", "120", ts=30))
    assert later is not None
    assert (D("0"), D("24.7")) == (later.qty, later.realized_pnl)


def test_snapshot_of_a_position_we_never_saw_is_a_discrepancy() -> None:
    book = PositionBook()
    found = book.apply_snapshot(
        Position(venue="bybit", symbol=PERP, qty=D("-3"), avg_entry_price=D("7"), ts_event_ns=1)
    )

    assert found is not None
    assert (D("0"), D("-3")) == (found.local_qty, found.venue_qty)


fills = st.lists(
    st.tuples(
        st.sampled_from(Side),
        st.sampled_from(["0.001", "0.5", "1", "2", "3.25"]),
        st.sampled_from(["99.5", "100", "101.25", "87", "120.01"]),
        st.sampled_from(["0", "0.05", "-0.01"]),
    ),
    max_size=30,
)


@given(
    fills=fills,
    mark=st.sampled_from([D("50"), D("100"), D("133.7")]),
    size=st.sampled_from([D("1"), D("0.01")]),
    repeats=st.lists(st.integers(min_value=0, max_value=29), max_size=10),
)
def test_pnl_reconciles_with_the_cash_flows_of_the_fills(
    fills: list[tuple[Side, str, str, str]], mark: Decimal, size: Decimal, repeats: list[int]
) -> None:
    book = PositionBook()
    made = [fill(str(i), s, q, p, f) for i, (s, q, p, f) in enumerate(fills)]
    sequence = list(made)
    for r in repeats:
        if r < len(made):
            sequence.insert(min(r + 1, len(sequence)), made[r])  # a repeat after the original
    for f in sequence:
        book.apply_fill(f, contract_size=size)

    qty = sum((f.qty if f.side is Side.BUY else -f.qty for f in made), D(0))
    cash = -sum(((f.qty if f.side is Side.BUY else -f.qty) * f.price for f in made), D(0)) * size
    fees = sum((f.fee for f in made), D(0))
    position = book.get("bybit", PERP)
    if not made:
        assert position is None
        return
    assert position is not None
    assert qty == position.qty
    total = position.realized_pnl + book.unrealized_pnl("bybit", PERP, mark)
    assert abs(cash - fees + qty * mark * size - total) < D("1e-12")
    assert len(made) == book.statistics().fills


@given(
    fills=fills,
    held=st.integers(min_value=0, max_value=29),
    arrives=st.integers(min_value=0, max_value=29),
    mark=st.sampled_from([D("50"), D("100"), D("133.7")]),
)
def test_pnl_reconciles_when_a_snapshot_arrives_before_fills_it_holds(
    fills: list[tuple[Side, str, str, str]], held: int, arrives: int, mark: Decimal
) -> None:
    # The venue's position after the first `held` fills (its time: the last of them)
    # reaches us after only `arrives` of them; the rest come after it. Whatever the
    # order, the P&L is that of the fills' cash flows and the quantity their sum.
    made = [fill(str(i), s, q, p, f, ts=i + 1) for i, (s, q, p, f) in enumerate(fills)]
    held = min(held, len(made))
    venue = PositionBook()
    for f in made[:held]:
        venue.apply_fill(f)
    truth = venue.get("bybit", PERP)
    book = PositionBook()
    for i, f in enumerate(made):
        if i == min(arrives, held) and truth is not None:
            book.apply_snapshot(attrs.evolve(truth, ts_event_ns=held))
        book.apply_fill(f)

    position = book.get("bybit", PERP)
    if not made:
        assert position is None
        return
    assert position is not None
    qty = sum((f.qty if f.side is Side.BUY else -f.qty for f in made), D(0))
    cash = -sum(((f.qty if f.side is Side.BUY else -f.qty) * f.price for f in made), D(0))
    fees = sum((f.fee for f in made), D(0))
    assert qty == position.qty
    total = position.realized_pnl + book.unrealized_pnl("bybit", PERP, mark)
    assert abs(cash - fees + qty * mark - total) < D("1e-12")
