"""The risk service: live exposure for the checks, alerts, and the kill switch's cancellations."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import attrs
import pytest
import trio

from connector.bus import Bus, Subscription
from connector.config import RiskConfig, load_config
from connector.errors import ConfigError, ConnectionLost, RiskRejected
from connector.model import (
    Order,
    OrderStatus,
    OrderType,
    PlaceOrder,
    RiskAlert,
    RiskAlertKind,
    Side,
    Symbol,
)
from connector.risk.service import RiskService, VenueRisk

PERP = Symbol.parse("BTC-USDT-PERP")
D = Decimal


def order(cid: str, side: Side = Side.BUY, qty: str = "1", venue: str = "okx") -> Order:
    return Order(
        venue=venue,
        symbol=PERP,
        client_order_id=cid,
        side=side,
        type=OrderType.LIMIT,
        qty=D(qty),
        price=D("100"),
        status=OrderStatus.NEW,
    )


def place(qty: str = "1", side: Side = Side.BUY, reduce_only: bool = False) -> PlaceOrder:
    return PlaceOrder(
        venue="okx",
        symbol=PERP,
        side=side,
        type=OrderType.LIMIT,
        qty=D(qty),
        price=D("100"),
        client_order_id="new",
        reduce_only=reduce_only,
    )


class Venue:
    """A venue's state as plain values, and a cancel that ends every open order."""

    def __init__(self, orders: list[Order], *, position: str = "0", fail: bool = False) -> None:
        self.orders = orders
        self.position = D(position)
        self.fail = fail

    def risk(self) -> VenueRisk:
        return VenueRisk(
            open_orders=lambda: [o for o in self.orders if not o.status.is_terminal],
            position=lambda _symbol: self.position,
            mid=lambda _symbol: D("100"),
            cancel_all=self.cancel_all,
        )

    async def cancel_all(self) -> list[Order]:
        await trio.sleep(0.01)
        if self.fail:
            raise ConnectionLost("venue unreachable")
        self.orders = [attrs.evolve(o, status=OrderStatus.CANCELED) for o in self.orders]
        return self.orders


def drain(sub: Subscription) -> list[RiskAlert]:
    out = []
    while True:
        try:
            alert = sub.receive_nowait()
        except trio.WouldBlock:
            return out
        assert isinstance(alert, RiskAlert)
        out.append(alert)


async def test_exposure_comes_from_the_registered_venue() -> None:
    service = RiskService(RiskConfig(), Bus())
    venue = Venue([order("a"), order("b", Side.SELL, "2"), order("c", qty="3")], position="-1")
    service.register("okx", venue.risk())
    exposure = service.exposure(place())
    assert (D(-1), D(4), D(2), 3, D(100)) == (
        exposure.position_qty,
        exposure.open_buy_qty,
        exposure.open_sell_qty,
        exposure.open_orders,
        exposure.mid,
    )


async def test_a_breach_raises_and_is_published() -> None:
    bus = Bus()
    service = RiskService(RiskConfig(max_open_orders=2), bus)
    service.register("okx", Venue([order("a"), order("b")]).risk())
    async with bus.subscribe("risk.alert") as alerts:
        with pytest.raises(RiskRejected) as refused:
            service.check(place())
        assert "max_open_orders" == refused.value.limit
        [alert] = drain(alerts)
    assert (RiskAlertKind.BREACH, "max_open_orders", "new") == (
        alert.kind,
        alert.limit,
        alert.client_order_id,
    )
    assert {"max_open_orders": 1} == dict(service.state.rejected)


async def test_the_position_limit_counts_the_open_orders_of_the_symbol() -> None:
    service = RiskService(RiskConfig(max_position_qty=D(5)), Bus())
    venue = Venue([order("a"), order("b", Side.SELL, "2"), order("c", qty="3")], position="-1")
    service.register("okx", venue.risk())
    service.check(place("2"))  # -1 + 4 open + 2 = 5: at the limit
    with pytest.raises(RiskRejected) as refused:
        service.check(place("3"))  # 6
    assert "max_position_qty" == refused.value.limit


async def test_the_price_band_reads_the_book_mid() -> None:
    service = RiskService(RiskConfig(price_band_pct=D(5)), Bus())
    service.register("okx", Venue([]).risk())
    service.check(place())  # at the mid (100)
    with pytest.raises(RiskRejected) as refused:
        service.check(attrs.evolve(place(), price=D("110")))
    assert "price_band_pct" == refused.value.limit


async def test_kill_cancels_every_venue_reports_failures_and_holds_until_resume(
    autojump_clock: trio.abc.Clock,
) -> None:
    bus = Bus()
    service = RiskService(RiskConfig(), bus, wall_clock_ns=lambda: 42)
    good = Venue([order("a"), order("b")])
    bad = Venue([order("x", venue="bybit")], fail=True)
    service.register("okx", good.risk())
    service.register("bybit", bad.risk())
    async with bus.subscribe("risk.alert") as alerts:
        state = await service.kill("drawdown")
        assert state.killed and "drawdown" == state.reason and 42 == state.since_ns
        assert all(o.status is OrderStatus.CANCELED for o in good.orders)
        with pytest.raises(RiskRejected, match="kill_switch"):
            service.check(place())
        service.check(place(side=Side.SELL, reduce_only=True))  # reduce-only passes
        assert not service.resume().killed
        service.check(place())
        kinds = [(a.kind, a.canceled, a.failed) for a in drain(alerts)]
    assert [
        (RiskAlertKind.KILL, 0, 0),
        (RiskAlertKind.KILL_DONE, 2, 1),
        (RiskAlertKind.BREACH, 0, 0),
        (RiskAlertKind.RESUME, 0, 0),
    ] == kinds


async def test_configured_kill_switch_starts_killed() -> None:
    service = RiskService(RiskConfig(kill_switch=True), Bus(), wall_clock_ns=lambda: 77)
    assert service.state.killed and "configuration" == service.state.reason
    assert 77 == service.state.since_ns  # killed since the start
    with pytest.raises(RiskRejected):
        service.check(place())


async def test_check_balance_reads_what_is_available_of_the_drawn_asset() -> None:
    bus = Bus()
    service = RiskService(RiskConfig(check_balance=True), bus)
    venue = Venue([])
    service.register("okx", venue.risk())
    available = {"USDT": D("150"), "BTC": D("1")}
    service.register_available("okx", available.get)
    spot = Symbol.parse("BTC-USDT-SPOT")
    buy = attrs.evolve(place(), symbol=spot)  # 1 at 100: needs 100 USDT
    service.check(buy)
    service.check(attrs.evolve(buy, side=Side.SELL))  # needs 1 BTC
    async with bus.subscribe("risk.alert") as alerts:
        with pytest.raises(RiskRejected) as refused:
            service.check(attrs.evolve(buy, qty=D("2")))
        [alert] = drain(alerts)
    assert "risk limit check_balance: needs 200 USDT, available 150 USDT on okx" == str(
        refused.value
    )
    assert ("check_balance", "okx") == (alert.limit, alert.venue)
    # A market buy is priced at the mid (100); a derivative is not checked.
    service.check(attrs.evolve(buy, type=OrderType.MARKET, price=None))
    service.check(attrs.evolve(place(), qty=D("1000")))


def test_check_balance_is_read_from_the_risk_table(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text("[risk]\ncheck_balance = true\n", encoding="utf-8")
    assert load_config(good, env={}).risk.check_balance
    assert not load_config(None, env={}).risk.check_balance
    bad = tmp_path / "bad.toml"
    bad.write_text('[risk]\ncheck_balance = "yes"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_config(bad, env={})
    [problem] = refused.value.problems
    assert problem.startswith("risk.check_balance = ")
    assert "expected true or false" in problem
