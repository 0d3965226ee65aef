"""Balances: venue values win, fills fill the gaps between them, nothing counts twice."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from connector.account.balances import BalanceBook, BalanceDiscrepancy
from connector.model import Balance, Fill, Side, Symbol

D = Decimal
SPOT = Symbol.parse("BTC-USDT-SPOT")


def bal(asset: str, free: str, locked: str = "0", ts: int = 0) -> Balance:
    return Balance(venue="binance", asset=asset, free=D(free), locked=D(locked), ts_event_ns=ts)


def fill(
    trade: str, side: Side, qty: str, price: str, ts: int, fee: str = "0", fee_asset: str = ""
) -> Fill:
    return Fill(
        venue="binance",
        symbol=SPOT,
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


def total(book: BalanceBook, asset: str) -> Decimal:
    balance = book.get("binance", asset)
    return D(0) if balance is None else balance.total


def test_stream_update_replaces_and_a_stale_one_is_ignored() -> None:
    book = BalanceBook()

    assert bal("USDT", "90", "10", ts=5) == book.apply(bal("USDT", "90", "10", ts=5))
    assert book.apply(bal("USDT", "1", ts=4)) is None
    assert D("100") == total(book, "USDT")
    assert 1 == book.statistics().stale_updates


def test_fill_between_updates_counts_once_whichever_arrives_first() -> None:
    buy = fill("t1", Side.BUY, "0.5", "100", ts=20, fee="0.001", fee_asset="BTC")
    after = [bal("BTC", "1.499", ts=21), bal("USDT", "950", ts=21)]

    fill_first = BalanceBook()
    for b in (bal("BTC", "1", ts=10), bal("USDT", "1000", ts=10)):
        fill_first.apply(b)
    fill_first.apply_fill(buy)
    assert (D("1.499"), D("950")) == (total(fill_first, "BTC"), total(fill_first, "USDT"))
    for b in after:
        fill_first.apply(b)

    update_first = BalanceBook()
    for b in (bal("BTC", "1", ts=10), bal("USDT", "1000", ts=10), *after):
        update_first.apply(b)
    assert () != update_first.apply_fill(buy)

    for book in (fill_first, update_first):
        assert (D("1.499"), D("950")) == (total(book, "BTC"), total(book, "USDT"))
    assert () == update_first.apply_fill(buy)


def test_snapshot_zeroes_unlisted_assets_and_reports_differences() -> None:
    book = BalanceBook()
    book.apply(bal("USDT", "100", ts=1))
    book.apply(bal("ETH", "2", ts=1))

    found = book.apply_snapshot("binance", [bal("USDT", "100"), bal("BTC", "0.1")], ts_event_ns=9)

    assert (
        BalanceDiscrepancy(
            venue="binance", asset="BTC", local_total=D(0), venue_total=D("0.1"), ts_event_ns=9
        ),
        BalanceDiscrepancy(
            venue="binance", asset="ETH", local_total=D(2), venue_total=D(0), ts_event_ns=9
        ),
    ) == found
    assert D(0) == total(book, "ETH")


def test_delta_adds_until_a_later_value_includes_it() -> None:
    book = BalanceBook()
    book.apply(bal("USDT", "100", ts=1))

    assert D("150") == book.apply_delta("binance", "USDT", D("50"), ts_event_ns=2).free
    book.apply(bal("USDT", "150", ts=3))
    assert D("150") == total(book, "USDT")
    assert D("150") == book.apply_delta("binance", "USDT", D("50"), ts_event_ns=2).free


def test_derivative_fills_do_not_touch_balances() -> None:
    book = BalanceBook()
    perp = Fill(
        venue="binance",
        symbol=Symbol.parse("BTC-USDT-PERP"),
        client_order_id="c",
        venue_order_id="v",
        trade_id="1",
        side=Side.BUY,
        qty=D(1),
        price=D(1),
    )

    assert () == book.apply_fill(perp)
    assert [] == book.all()


trades = st.lists(
    st.tuples(
        st.sampled_from(Side),
        st.sampled_from(["0.001", "0.5", "1.25"]),
        st.sampled_from(["99.5", "100", "101.01"]),
        st.sampled_from(["0", "0.01"]),
    ),
    min_size=1,
    max_size=12,
)


@given(trades=trades, cut=st.integers(min_value=0, max_value=12), data=st.data())
def test_balances_reconcile_with_fills_in_any_arrival_order(
    trades: list[tuple[Side, str, str, str]], cut: int, data: st.DataObject
) -> None:
    """The venue reports after the first ``cut`` fills; the messages arrive shuffled."""
    made = [
        fill(str(i), s, q, p, ts=10 + i, fee=f, fee_asset="USDT")
        for i, (s, q, p, f) in enumerate(trades)
    ]
    cut = min(cut, len(made))
    base = {"BTC": D("10"), "USDT": D("10000")}

    def effect(fills: list[Fill]) -> dict[str, Decimal]:
        result = dict(base)
        for f in fills:
            sign = 1 if f.side is Side.BUY else -1
            result["BTC"] += sign * f.qty
            result["USDT"] -= sign * f.qty * f.price + f.fee
        return result

    at_cut = effect(made[:cut])
    report_ts = 10 + cut - 1 if cut else 5
    messages: list[Fill | Balance] = [bal(a, str(v), ts=report_ts) for a, v in at_cut.items()]
    messages += made + made[: len(made) // 2]  # some fills twice
    book = BalanceBook()
    book.apply_snapshot("binance", [bal(a, str(v)) for a, v in base.items()], ts_event_ns=1)
    for message in data.draw(st.permutations(messages)):
        if isinstance(message, Fill):
            book.apply_fill(message)
        else:
            book.apply(message)

    final = effect(made)
    assert (final["BTC"], final["USDT"]) == (total(book, "BTC"), total(book, "USDT"))
