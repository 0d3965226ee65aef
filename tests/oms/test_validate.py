"""Order normalisation and validation against instrument filters."""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.errors import InvalidOrder
from connector.model import (
    AmendOrder,
    Instrument,
    InstrumentStatus,
    Market,
    Order,
    OrderStatus,
    OrderType,
    PlaceOrder,
    Side,
    Symbol,
    TimeInForce,
)
from connector.oms.service import base_units
from connector.oms.validate import as_decimal, normalize_amend, normalize_place, place_order
from connector.venues.okx import parse_instruments
from tests.conftest import fixture_path

D = Decimal
BTC = Instrument(
    venue="okx",
    symbol=Symbol.parse("BTC-USDT-PERP"),
    native_id="BTC-USDT-SWAP",
    market=Market.SWAP,
    tick_size=D("0.1"),
    lot_step=D("0.01"),
    min_qty=D("0.01"),
    min_notional=D("5"),
    max_qty=D("100"),
    contract_size=D("0.01"),
)


def violations(**kwargs: object) -> tuple[str, ...]:
    args: dict[str, object] = {
        "side": "buy",
        "type": "limit",
        "qty": "1",
        "price": "60000",
        "client_order_id": "c1",
    }
    args.update(kwargs)
    with pytest.raises(InvalidOrder) as caught:
        place_order(BTC, **args)  # type: ignore[arg-type]
    return caught.value.violations


def test_strings_are_accepted_for_enums_and_numbers() -> None:
    order = place_order(
        BTC,
        side="SELL",
        type="limit",
        qty="1.5",
        price=60000,
        time_in_force="post_only",
        client_order_id="c1",
    )

    assert (
        PlaceOrder(
            venue="okx",
            symbol=BTC.symbol,
            side=Side.SELL,
            type=OrderType.LIMIT,
            qty=D("1.50"),
            price=D("60000.0"),
            time_in_force=TimeInForce.POST_ONLY,
            client_order_id="c1",
        )
        == order
    )


def test_price_rounds_to_the_passive_side_and_quantity_is_written_at_the_lot_precision() -> None:
    buy = place_order(
        BTC, side="buy", type="limit", qty="1.2300", price="1000.07", client_order_id="b"
    )
    sell = place_order(
        BTC, side=Side.SELL, type=OrderType.LIMIT, qty="1.23", price="1000.03", client_order_id="s"
    )

    assert (D("1.23"), D("1000.0")) == (buy.qty, buy.price)
    assert "1.23" == str(buy.qty)
    assert (D("1.23"), D("1000.1")) == (sell.qty, sell.price)


def test_a_quantity_between_two_lots_is_refused_not_rounded() -> None:
    # An order of another size than asked is not the caller's order (0.009 of 1.239
    # here; on a small lot or a contract instrument, a third of it or more).
    with pytest.raises(InvalidOrder) as refused:
        place_order(BTC, side="buy", type="limit", qty="1.239", price="1000", client_order_id="b")
    assert (
        "lot_step: 1.239 is not a whole number of lots of 0.01 (the nearest below is 1.23)",
    ) == refused.value.violations


@pytest.mark.parametrize(
    ("kwargs", "filter_name"),
    [
        ({"qty": "0.005"}, "lot_step"),
        ({"qty": "-1"}, "qty"),
        ({"qty": "200"}, "max_qty"),
        ({"qty": "0.01", "price": "100"}, "min_notional"),
        ({"price": None}, "price"),
        ({"type": "market"}, "price"),
        ({"type": "market", "price": None, "time_in_force": "post_only"}, "time_in_force"),
        ({"type": "market", "price": None, "time_in_force": "fok"}, "time_in_force"),
        ({"price": "0.01"}, "tick_size"),
        ({"side": "long"}, "side"),
        ({"type": "stop"}, "type"),
        ({"time_in_force": "day"}, "time_in_force"),
        ({"qty": 1.5}, "qty"),
        ({"price": "NaN"}, "price"),
        ({"price": "abc"}, "price"),
        ({"reduce_only": "yes"}, "reduce_only"),
    ],
)
def test_each_broken_filter_is_named(kwargs: dict[str, object], filter_name: str) -> None:
    found = violations(**kwargs)

    assert filter_name == found[0].split(":")[0], found


def test_min_qty_is_checked_on_whole_lots() -> None:
    coarse = attrs.evolve(BTC, min_qty=D("0.1"), min_notional=D(0))

    with pytest.raises(InvalidOrder, match="min_qty") as caught:
        place_order(coarse, side="buy", type="limit", qty="0.09", price="100", client_order_id="c")
    assert ("min_qty: 0.09 is below the minimum 0.1",) == caught.value.violations


def test_halted_instrument_is_refused() -> None:
    halted = attrs.evolve(BTC, status=InstrumentStatus.HALTED)

    with pytest.raises(InvalidOrder, match="status"):
        place_order(halted, side="buy", type="limit", qty="1", price="100", client_order_id="c")


def test_market_order_notional_is_checked_with_a_reference_price() -> None:
    kwargs = {"side": "buy", "type": "market", "qty": "0.01", "client_order_id": "m"}
    assert place_order(BTC, **kwargs).price is None  # type: ignore[arg-type]

    with pytest.raises(InvalidOrder, match="min_notional"):
        place_order(BTC, reference_price=D("100"), **kwargs)  # type: ignore[arg-type]


def test_a_reduce_only_order_below_min_notional_passes_where_the_venue_spares_it() -> None:
    spared = attrs.evolve(BTC, reduce_only_exempt_from_min_notional=True)

    def sell(instrument: Instrument, type: str, *, reduce_only: bool) -> PlaceOrder:
        return place_order(
            instrument,
            side="sell",
            type=type,
            qty="0.01",
            price="100" if type == "limit" else None,
            reference_price=D("100"),
            reduce_only=reduce_only,
            client_order_id="r",
        )

    assert [True, True] == [sell(spared, t, reduce_only=True).reduce_only for t in TYPES]
    for instrument, reduce_only in ((spared, False), (BTC, True)):
        for type_ in TYPES:
            with pytest.raises(InvalidOrder, match="min_notional"):
                sell(instrument, type_, reduce_only=reduce_only)


TYPES = ("limit", "market")


def test_order_for_another_instrument_is_refused() -> None:
    command = PlaceOrder(
        venue="okx",
        symbol=Symbol.parse("ETH-USDT-PERP"),
        side=Side.BUY,
        type=OrderType.LIMIT,
        qty=D("1"),
        price=D("3000"),
        client_order_id="c",
    )

    with pytest.raises(InvalidOrder, match="instrument"):
        normalize_place(command, BTC)


def test_all_problems_are_listed() -> None:
    with pytest.raises(InvalidOrder) as refused:
        place_order(BTC, side="buy", type="limit", qty="200", price="0.01", client_order_id="c")

    found = refused.value.violations
    assert ["max_qty", "tick_size"] == sorted(v.split(":")[0] for v in found)
    assert "invalid order: " + "; ".join(found) == str(refused.value)  # each named


@pytest.mark.parametrize(
    ("price", "expected"),
    [
        ("100", ()),
        ("1000", ()),
        ("1000.1", ("max_price: 1000.1 is above the maximum 1000",)),
        ("9.9", ("min_price: 9.9 is below the minimum 10",)),
    ],
)
def test_a_limit_price_is_checked_against_the_venues_bounds(
    price: str, expected: tuple[str, ...]
) -> None:
    bounded = attrs.evolve(BTC, min_price=D("10"), max_price=D("1000"), min_notional=D(0))
    try:
        place_order(bounded, side="sell", type="limit", qty="1", price=price, client_order_id="c")
    except InvalidOrder as refused:
        assert expected == refused.violations
    else:
        assert () == expected


def open_order(**changes: object) -> Order:
    order = Order(
        venue="okx",
        symbol=BTC.symbol,
        client_order_id="c1",
        side=Side.BUY,
        type=OrderType.LIMIT,
        qty=D("2"),
        price=D("60000"),
        status=OrderStatus.PARTIALLY_FILLED,
        filled_qty=D("0.5"),
    )
    return attrs.evolve(order, **changes)


def test_amend_is_quantized_and_checked() -> None:
    amend = AmendOrder(
        venue="okx", symbol=BTC.symbol, client_order_id="c1", qty=D("1.000"), price=D("59999.99")
    )

    assert attrs.evolve(amend, qty=D("1.00"), price=D("59999.9")) == normalize_amend(
        amend, BTC, open_order()
    )
    with pytest.raises(InvalidOrder, match=r"lot_step: 1\.009 is not a whole number of lots"):
        normalize_amend(attrs.evolve(amend, qty=D("1.009")), BTC, open_order())


@pytest.mark.parametrize(
    ("amend", "order", "filter_name"),
    [
        ({"qty": D("0.5")}, {}, "qty"),
        ({}, {}, "amend"),
        ({"price": D("1")}, {"status": OrderStatus.CANCELED}, "status"),
        ({"qty": D("0.01"), "price": D("100")}, {"filled_qty": D(0)}, "min_notional"),
    ],
)
def test_bad_amend_is_refused(
    amend: dict[str, object], order: dict[str, object], filter_name: str
) -> None:
    command = AmendOrder(venue="okx", symbol=BTC.symbol, client_order_id="c1", **amend)  # type: ignore[arg-type]

    with pytest.raises(InvalidOrder) as caught:
        normalize_amend(command, BTC, open_order(**order))
    assert filter_name in {v.split(":")[0] for v in caught.value.violations}


def test_an_amended_reduce_only_order_below_min_notional_passes_where_the_venue_spares_it() -> None:
    spared = attrs.evolve(BTC, reduce_only_exempt_from_min_notional=True)
    small = AmendOrder(
        venue="okx", symbol=BTC.symbol, client_order_id="c1", qty=D("0.01"), price=D("100")
    )
    closing = open_order(reduce_only=True, filled_qty=D(0))

    assert small == normalize_amend(small, spared, closing)
    for instrument, order in ((spared, open_order(filled_qty=D(0))), (BTC, closing)):
        with pytest.raises(InvalidOrder, match="min_notional"):
            normalize_amend(small, instrument, order)


@pytest.mark.parametrize(
    ("kwargs", "names", "first"),
    [
        ({"qty": 10**30}, ["qty", "max_qty"], f"qty: {10**30} is too large to count in lots"),
        ({"qty": "1e400"}, ["qty", "max_qty"], "qty: 1E+400 is too large to count in lots"),
        ({"price": D("1e30")}, ["price"], "price: 1E+30 is too large to count in ticks"),
        # So large that its notional (price x qty) cannot be counted either.
        ({"qty": D("1e999999")}, ["qty", "max_qty"], "qty: 1E+999999 is too large"),
    ],
)
def test_a_number_too_large_to_count_in_steps_is_named(
    kwargs: dict[str, object], names: list[str], first: str
) -> None:
    # More digits than a decimal holds once divided by the step: refused with what
    # is wrong named, like any other size the instrument does not take.
    found = violations(**kwargs)

    assert names == [v.split(":")[0] for v in found]
    assert found[0].startswith(first)


def test_a_spot_order_cannot_be_reduce_only() -> None:
    spot = attrs.evolve(BTC, symbol=Symbol.parse("BTC-USDT-SPOT"), market=Market.SPOT)

    with pytest.raises(InvalidOrder) as refused:
        place_order(
            spot, side="sell", type="market", qty="1", client_order_id="s", reduce_only=True
        )
    assert ("reduce_only: spot orders cannot be reduce-only (spot has no positions)",) == (
        refused.value.violations
    )


def test_as_decimal_refuses_floats_and_bools() -> None:
    assert D("1.10") == as_decimal("1.10", "qty")
    for bad in (1.1, True):
        with pytest.raises(InvalidOrder):
            as_decimal(bad, "qty")  # type: ignore[arg-type]


@given(
    lots=st.integers(min_value=1, max_value=10_000),
    price=st.decimals(min_value=D("1000"), max_value=D("100000"), places=4),
    side=st.sampled_from(Side),
)
def test_normalised_order_passes_the_instrument_filters(
    lots: int, price: Decimal, side: Side
) -> None:
    linear = attrs.evolve(BTC, contract_size=D(1))  # notional >= 0.01 x 1000 >= min 5
    qty = lots * linear.lot_step
    order = place_order(linear, side=side, type="limit", qty=qty, price=price, client_order_id="c")

    assert order.price is not None
    assert () == linear.check_order(order.qty, order.price)
    assert order.qty == qty
    assert order.price <= price if side is Side.BUY else order.price >= price
    assert abs(order.price - price) < BTC.tick_size


def test_an_inverse_contract_is_refused_since_it_has_no_base_quantity() -> None:
    # The venue's own list: BTC-USD-SWAP is sized in USD (ctVal 100, ctValCcy USD).
    body = fixture_path(
        "nautilus_trader/crates/adapters/okx/test_data/http_get_instruments_swap.json"
    ).read_bytes()
    by_id = {i.native_id: i for i in parse_instruments(Market.SWAP, body)}
    inverse, linear = by_id["BTC-USD-SWAP"], by_id["BTC-USDT-SWAP"]
    assert inverse.inverse and not linear.inverse

    with pytest.raises(InvalidOrder, match="inverse") as caught:
        place_order(inverse, side="buy", type="limit", qty="1", price="60000", client_order_id="c")
    assert any("sized in USD" in v for v in caught.value.violations)
    place_order(base_units(linear), side="buy", type="limit", qty="0.01", price="60000",
                client_order_id="c")  # fmt: skip
