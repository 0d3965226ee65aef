"""Binance signed-request parameters: query and body, the venue's parameter codes."""

from __future__ import annotations

import pytest

from connector.sim.binance.signed import BinanceError, Params, request_params


def test_the_query_string_wins_over_the_body() -> None:
    params = request_params("symbol=BTCUSDT&side=SELL", b"side=BUY&quantity=1&price=")
    assert params == {"symbol": "BTCUSDT", "side": "SELL", "quantity": "1", "price": ""}


@pytest.mark.parametrize(
    ("reader", "raw", "code"),
    [
        ("decimal", "1.5e3", -1100),
        ("decimal", "-1", -1100),
        ("decimal", "", -1102),
        ("integer", "12a", -1100),
        ("integer", "", -1102),
    ],
)
def test_readers_answer_the_venue_codes(reader: str, raw: str, code: int) -> None:
    params = Params({"x": raw})
    with pytest.raises(BinanceError) as caught:
        getattr(params, reader)("x", required=True)
    assert caught.value.code == code and caught.value.status == 400
    assert "'x'" in caught.value.msg


def test_readers_accept_what_the_venue_accepts() -> None:
    params = Params({"p": "0.10000000", "n": "42", "b": "TRUE"})
    assert str(params.decimal("p")) == "0.10000000"
    assert params.integer("n") == 42
    assert params.boolean("b", default=False) is True
    assert params.decimal("missing") is None
    assert params.boolean("missing", default=True) is True
