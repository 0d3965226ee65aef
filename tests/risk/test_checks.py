"""Pre-trade risk checks and the kill switch."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.config import RiskConfig
from connector.errors import RiskRejected
from connector.model import OrderType, PlaceOrder, Side, Symbol
from connector.risk.checks import Exposure, RiskChecks

D = Decimal
SYM = Symbol.parse("BTC-USDT-PERP")
SECOND = 1_000_000_000
BOOK = Exposure(mid=D("100"))


def order(
    side: Side = Side.BUY,
    qty: str = "1",
    price: str | None = "100",
    *,
    reduce_only: bool = False,
    venue: str = "okx",
) -> PlaceOrder:
    return PlaceOrder(
        venue=venue,
        symbol=SYM,
        side=side,
        type=OrderType.LIMIT if price is not None else OrderType.MARKET,
        qty=D(qty),
        price=None if price is None else D(price),
        reduce_only=reduce_only,
        client_order_id="c",
    )


def limit_of(decision: RiskRejected | None) -> str | None:
    return None if decision is None else decision.limit


def test_no_limits_allow_everything() -> None:
    checks = RiskChecks(RiskConfig())

    assert checks.check(order(qty="1000000"), Exposure(), now_ns=0) is None


@pytest.mark.parametrize(
    ("limits", "placed", "exposure", "expected"),
    [
        ({"max_order_notional": D("500")}, order(qty="5"), BOOK, None),
        ({"max_order_notional": D("500")}, order(qty="5.01"), BOOK, "max_order_notional"),
        ({"max_order_notional": D("500")}, order(qty="6", price=None), BOOK, "max_order_notional"),
        ({"max_order_notional": D("500")}, order(price=None), Exposure(), "max_order_notional"),
        (
            {"max_order_notional": D("5")},
            order(qty="10"),
            Exposure(contract_size=D("0.001")),
            None,
        ),
        ({"price_band_pct": D("5")}, order(price="105"), BOOK, None),
        ({"price_band_pct": D("5")}, order(price="94.9"), BOOK, "price_band_pct"),
        ({"price_band_pct": D("5")}, order(price="100"), Exposure(), "price_band_pct"),
        ({"price_band_pct": D("5")}, order(price=None), Exposure(), None),
        ({"max_position_qty": D("2")}, order(qty="2"), Exposure(), None),
        (
            {"max_position_qty": D("2")},
            order(qty="1"),
            Exposure(position_qty=D("1"), open_buy_qty=D("0.5")),
            "max_position_qty",
        ),
        (
            {"max_position_qty": D("2")},
            order(Side.SELL, qty="1"),
            Exposure(position_qty=D("5")),
            None,
        ),
        (
            {"max_position_qty": D("2")},
            order(Side.SELL, qty="3"),
            Exposure(position_qty=D("0")),
            "max_position_qty",
        ),
        (
            {"max_position_qty": D("2")},
            order(Side.SELL, qty="9", reduce_only=True),
            Exposure(position_qty=D("9")),
            None,
        ),
        ({"max_open_orders": 3}, order(), Exposure(open_orders=2), None),
        ({"max_open_orders": 3}, order(), Exposure(open_orders=3), "max_open_orders"),
    ],
)
def test_each_limit_names_itself(
    limits: dict[str, object], placed: PlaceOrder, exposure: Exposure, expected: str | None
) -> None:
    checks = RiskChecks(RiskConfig(**limits))  # type: ignore[arg-type]

    assert expected == limit_of(checks.check(placed, exposure, now_ns=0))


LIMITS = RiskConfig(
    max_order_notional=D("500"),
    price_band_pct=D("5"),
    max_position_qty=D("3"),
    max_open_orders=1,
    max_orders_per_second=1,
)
"""Every limit; the open-order count and the rate already at theirs."""


@pytest.mark.parametrize(
    ("before", "after", "exposure", "expected"),
    [
        # Grows past the notional, moves out of the band, grows past the position
        # (its own open 1 is counted in the exposure already: 1 + 2 more = 3 passes).
        (order(qty="1"), order(qty="6"), BOOK, "max_order_notional"),
        (order(price="100"), order(price="94"), BOOK, "price_band_pct"),
        (order(qty="1"), order(qty="3"), Exposure(mid=D("100"), open_buy_qty=D("1")), None),
        (
            order(qty="1"),
            order(qty="3.5"),
            Exposure(mid=D("100"), open_buy_qty=D("1")),
            "max_position_qty",
        ),
        # Less of the same order always passes, even past the limits as they are now
        # (and without a valid book to price it).
        (order(qty="7", price="80"), order(qty="6", price="80"), Exposure(), None),
        # A new price in the band passes; a smaller order at a new price is still priced.
        (order(qty="4", price="100"), order(qty="4", price="104"), BOOK, None),
        (order(qty="2", price="100"), order(qty="1", price="90"), BOOK, "price_band_pct"),
    ],
)
def test_an_amendment_is_checked_on_what_it_makes_worse(
    before: PlaceOrder, after: PlaceOrder, exposure: Exposure, expected: str | None
) -> None:
    checks = RiskChecks(LIMITS)

    assert expected == limit_of(checks.check_amend(before, after, exposure))


def test_killed_an_open_order_may_only_be_made_smaller() -> None:
    checks = RiskChecks(RiskConfig())
    checks.kill("manual", now_ns=1)

    assert checks.check_amend(order(qty="2"), order(qty="1"), BOOK) is None
    assert "kill_switch" == limit_of(checks.check_amend(order(), order(price="101"), BOOK))
    assert "kill_switch" == limit_of(checks.check_amend(order(), order(qty="2"), BOOK))
    reducing = order(Side.SELL, qty="1", reduce_only=True)
    assert checks.check_amend(reducing, order(Side.SELL, qty="2", reduce_only=True), BOOK) is None


def test_kill_switch_refuses_all_but_reduce_only_until_resumed() -> None:
    checks = RiskChecks(RiskConfig())

    state = checks.kill("manual", now_ns=5)
    decision = checks.check(order(), Exposure(), now_ns=6)

    assert (True, "manual", 5) == (state.killed, state.reason, state.since_ns)
    assert "kill_switch" == limit_of(decision)
    assert decision is not None and "manual" in str(decision)
    assert checks.check(order(reduce_only=True), Exposure(), now_ns=6) is None
    assert 5 == checks.kill("again", now_ns=9).since_ns
    assert not checks.resume().killed
    assert checks.check(order(), Exposure(), now_ns=7) is None
    assert {"kill_switch": 1} == checks.statistics().rejected


def test_kill_switch_from_configuration_starts_killed() -> None:
    checks = RiskChecks(RiskConfig(kill_switch=True))

    assert checks.kill_switch.killed
    assert "kill_switch" == limit_of(checks.check(order(), Exposure(), now_ns=0))


def test_order_rate_is_a_token_bucket_per_venue() -> None:
    checks = RiskChecks(RiskConfig(max_orders_per_second=2.0))
    for _ in range(2):
        assert checks.check(order(), Exposure(), now_ns=0) is None
        checks.record_order("okx", now_ns=0)

    assert "max_orders_per_second" == limit_of(checks.check(order(), Exposure(), now_ns=0))
    assert checks.check(order(venue="bybit"), Exposure(), now_ns=0) is None
    assert checks.check(order(), Exposure(), now_ns=SECOND // 2) is None
    checks.record_order("okx", now_ns=SECOND // 2)
    assert "max_orders_per_second" == limit_of(
        checks.check(order(), Exposure(), now_ns=SECOND // 2)
    )


def test_slow_rate_allows_one_order_per_period() -> None:
    checks = RiskChecks(RiskConfig(max_orders_per_second=0.5))
    checks.record_order("okx", now_ns=0)

    assert "max_orders_per_second" == limit_of(checks.check(order(), Exposure(), now_ns=SECOND))
    assert checks.check(order(), Exposure(), now_ns=2 * SECOND) is None


@given(
    rate=st.sampled_from([1.0, 3.0, 10.0]),
    gaps=st.lists(st.integers(min_value=0, max_value=SECOND), min_size=1, max_size=60),
)
def test_recorded_orders_never_exceed_the_rate_plus_burst(rate: float, gaps: list[int]) -> None:
    checks = RiskChecks(RiskConfig(max_orders_per_second=rate))
    now = 0
    sent: list[int] = []
    for gap in gaps:
        now += gap
        if checks.check(order(), Exposure(), now_ns=now) is None:
            checks.record_order("okx", now_ns=now)
            sent.append(now)

    for start in sent:
        in_window = [t for t in sent if start <= t < start + SECOND]
        assert len(in_window) <= max(1.0, rate) + rate


SPOT = Symbol.parse("BTC-USDT-SPOT")


def spot(side: Side = Side.BUY, qty: str = "1", price: str | None = "600") -> PlaceOrder:
    return PlaceOrder(
        venue="binance",
        symbol=SPOT,
        side=side,
        type=OrderType.LIMIT if price is not None else OrderType.MARKET,
        qty=D(qty),
        price=None if price is None else D(price),
        client_order_id="c",
    )


@pytest.mark.parametrize(
    ("placed", "exposure", "expected"),
    [
        (spot(), Exposure(available=D("600")), None),
        (spot(), Exposure(available=D("550")), "needs 600 USDT, available 550 USDT on binance"),
        (spot(price=None), Exposure(available=D("650"), mid=D("600")), None),
        (
            spot(price=None),
            Exposure(available=D("650"), mid=D("700")),
            "needs 700 USDT, available 650 USDT on binance",
        ),
        (spot(price=None), Exposure(available=D("1e9")), "no valid book to price the market buy"),
        (spot(Side.SELL, "0.5"), Exposure(available=D("0.5")), None),
        (spot(Side.SELL, "0.5"), Exposure(), "needs 0.5 BTC, available 0 BTC on binance"),
        (order(qty="1000"), Exposure(), None),  # a derivative: margin is not modelled
        (order(Side.SELL, reduce_only=True), Exposure(), None),
    ],
)
def test_check_balance_refuses_a_spot_order_needing_more_than_available(
    placed: PlaceOrder, exposure: Exposure, expected: str | None
) -> None:
    checks = RiskChecks(RiskConfig(check_balance=True))
    decision = checks.check(placed, exposure, now_ns=0)
    if expected is None:
        assert decision is None
    else:
        assert decision is not None
        assert ("check_balance", f"risk limit check_balance: {expected}") == (
            decision.limit,
            str(decision),
        )


def test_check_balance_is_off_by_default() -> None:
    assert RiskChecks(RiskConfig()).check(spot(), Exposure(), now_ns=0) is None
