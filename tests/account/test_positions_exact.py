"""A position opened at several prices and closed realises exactly what the venue's
wallet moved (the sum of the fills' cash flows), not a figure off in the 28th digit
by the rounding of the average entry price."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connector.account.positions import PositionBook
from connector.model import Fill, Side, Symbol

D = Decimal
PERP = Symbol.parse("BTC-USDT-PERP")


def _apply(book: PositionBook, fills: list[tuple[Side, str, str, str]]) -> None:
    for i, (side, qty, price, fee) in enumerate(fills):
        book.apply_fill(
            Fill(
                venue="binance",
                symbol=PERP,
                client_order_id=f"c{i}",
                venue_order_id=str(i),
                trade_id=str(1000 + i),
                side=side,
                qty=D(qty),
                price=D(price),
                fee=D(fee),
                fee_asset="USDT",
                ts_event_ns=i,
            )
        )


def _position(book: PositionBook) -> tuple[Decimal, Decimal | None, Decimal]:
    position = book.get("binance", PERP)
    assert position is not None
    return position.qty, position.avg_entry_price, position.realized_pnl


def test_a_long_opened_at_three_prices_and_closed_realises_the_exact_figure() -> None:
    # Opened for 180.18633 + 300.30735 + 420.45451 = 900.94819, closed for 900.0495:
    # -0.89869, less fees 0.09009 + 0.15015 + 0.21022 + 0.45002 = 0.90048.
    book = PositionBook()
    _apply(
        book,
        [
            (Side.BUY, "0.003", "60062.11", "0.09009"),
            (Side.BUY, "0.005", "60061.47", "0.15015"),
            (Side.BUY, "0.007", "60064.93", "0.21022"),
            (Side.SELL, "0.015", "60003.3", "0.45002"),
        ],
    )

    assert (D(0), None, D("-1.79917")) == _position(book)


def test_a_short_closed_by_a_flip_realises_the_exact_figure_and_opens_at_the_fill_price() -> None:
    # Short 0.009 opened for 0.002 x 3120.45 + 0.004 x 3119.8 + 0.003 x 3121.07
    # = 6.2409 + 12.4792 + 9.36321 = 28.08331; bought back at 3100.5: 27.9045.
    book = PositionBook()
    _apply(
        book,
        [
            (Side.SELL, "0.002", "3120.45", "0"),
            (Side.SELL, "0.004", "3119.8", "0"),
            (Side.SELL, "0.003", "3121.07", "0"),
            (Side.BUY, "0.012", "3100.5", "0"),
        ],
    )

    assert (D("0.003"), D("3100.5"), D("0.17881")) == _position(book)


@pytest.mark.parametrize("first_close", ["0.001", "0.002", "0.006"])
def test_closes_in_parts_add_up_to_the_exact_figure(first_close: str) -> None:
    # Opened for 0.003 x 60062.11 + 0.004 x 60061.47 = 420.43221 (entry
    # 60061.744285714...); closed in two parts, at 60070.5 then 60050.25.
    rest = str(D("0.007") - D(first_close))
    book = PositionBook()
    _apply(
        book,
        [
            (Side.BUY, "0.003", "60062.11", "0"),
            (Side.BUY, "0.004", "60061.47", "0"),
            (Side.SELL, first_close, "60070.5", "0"),
            (Side.SELL, rest, "60050.25", "0"),
        ],
    )

    expected = D(first_close) * D("60070.5") + D(rest) * D("60050.25") - D("420.43221")
    assert (D(0), None, expected) == _position(book)
