"""The trading API end to end against the built-in simulator (``endpoint = "sim"``: the
venues trade with the simulator's demo accounts).

One test per venue and market opens one ``Connector`` (starting it takes most of the
time) and runs the scenarios below in turn, driving it only through the public API:
``place_order``, ``amend_order``, ``cancel_order``, ``cancel_all``, ``c.orders``,
``c.fills``, ``c.statistics`` and the bus topics; after each scenario the local orders
must agree with the simulated venue's own records.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal

import attrs
import pytest
import trio

from connector import (
    Connector,
    InvalidOrder,
    OrderNotFound,
    OrderRejected,
    OrderStatus,
    RiskAlert,
    RiskAlertKind,
    RiskRejected,
    TimeInForce,
    UnknownInstrument,
    sim,
)
from connector.config import Config, RiskConfig, VenueConfig
from connector.model import Symbol
from connector.oms.order_socket import OrderSocketStatistics
from connector.venues.registry import TRADERS
from tests.rig import PERP, venue_configs
from tests.trading.helpers import assert_agrees_with_venue

TIMEOUT = 30

CASES = [
    pytest.param("binance", "BTC-USDT-PERP", Decimal("0.01"), id="binance-usdm"),
    pytest.param("binance", "BTC-USDT-SPOT", Decimal("0.01"), id="binance-spot"),
    pytest.param("bybit", "BTC-USDT-PERP", Decimal("0.01"), id="bybit-linear"),
    pytest.param("bybit", "BTC-USDT-SPOT", Decimal("0.01"), id="bybit-spot"),
    pytest.param("okx", "BTC-USDT-PERP", Decimal("0.01"), id="okx-swap"),
    pytest.param("okx", "BTC-USDT-SPOT", Decimal("0.01"), id="okx-spot"),
]
"""(venue, symbol, a small quantity): each market whose simulated order entry exists."""


def config(
    venue: str, symbol: str, risk: RiskConfig | None = None, order_entry: str = "rest"
) -> Config:
    venues = {
        name: VenueConfig(
            name=name,
            symbols=(Symbol.parse(symbol),),
            channels=("book",),
            order_entry=order_entry,
        )
        if name == venue
        else VenueConfig(name=name, enabled=False)
        for name in ("binance", "bybit", "okx")
    }
    return Config(venues=venues, risk=risk or RiskConfig())


@asynccontextmanager
async def trading(
    venue: str, symbol: str, risk: RiskConfig | None = None, order_entry: str = "rest"
) -> AsyncIterator[tuple[Connector, Decimal, Decimal]]:
    """A connector trading ``symbol`` on ``venue``, once its book is valid (and its order
    socket logged in, with ``order_entry = "websocket"``): ``(c, bid, ask)``."""
    if venue not in TRADERS:
        pytest.skip(f"{venue}: no trading adapter registered yet")
    async with Connector(config(venue, symbol, risk, order_entry)) as c:
        async with c.subscribe(f"connection.{venue}") as changes:
            while order_entry == "websocket" and not _order_socket(c, venue).ready:
                await changes.receive()
        view = c.order_book(venue, symbol)
        with trio.fail_after(10):
            async with c.subscribe(f"orderbook.{venue}.{symbol}") as updates:
                while not view.valid or view.best_bid() is None or view.best_ask() is None:
                    await updates.receive()
        bid, ask = view.best_bid(), view.best_ask()
        assert bid is not None and ask is not None
        yield c, bid.price, ask.price


RISK = RiskConfig(max_order_notional=Decimal("100000"))
"""A limit far above the scenarios' orders (about 600 USDT), below 10 BTC."""


def _order_socket(c: Connector, venue: str) -> OrderSocketStatistics:
    """The venue's one order socket (one symbol: one market)."""
    sockets = list(c.statistics().orders[venue].order_sockets.values())
    assert sockets, f"{venue} has no order socket"
    (found,) = sockets
    return found


@pytest.mark.parametrize(("venue", "symbol", "qty"), CASES)
async def test_trading_scenarios(venue: str, symbol: str, qty: Decimal) -> None:
    with trio.fail_after(TIMEOUT):
        async with trading(venue, symbol, RISK) as (c, bid, ask):
            assert {} == c.statistics().orders[venue].order_sockets
            for scenario in SCENARIOS:
                await scenario(c, venue, symbol, qty, bid, ask)
                assert [] == c.orders.open(), scenario.__name__
                assert_agrees_with_venue(c, venue)


@pytest.mark.parametrize(
    ("venue", "symbol", "qty"),
    CASES,
)
async def test_trading_scenarios_with_websocket_order_entry(
    venue: str, symbol: str, qty: Decimal
) -> None:
    """The same scenarios with places, amends and cancels on the venue's order socket
    (Binance's WebSocket APIs, Bybit ``/v5/trade``, OKX's order ops on
    ``/ws/v5/private``): every one the connector sent there, the venue counted there,
    and none fell back to REST."""
    with trio.fail_after(TIMEOUT):
        async with trading(venue, symbol, RISK, order_entry="websocket") as (c, bid, ask):
            for scenario in SCENARIOS:
                await scenario(c, venue, symbol, qty, bid, ask)
                assert [] == c.orders.open(), scenario.__name__
                assert_agrees_with_venue(c, venue)
            socket = _order_socket(c, venue)
            assert socket.fallbacks == 0
            assert socket.sent >= 8
            assert socket.rpc.replies == socket.sent
            assert c.simulator is not None and c.simulator.running is not None
            served = c.simulator.running.frontends[venue].statistics()
            assert socket.sent == served.trade_requests  # type: ignore[attr-defined]


async def place_amend_cancel_and_wait(
    c: Connector, venue: str, symbol: str, qty: Decimal, bid: Decimal, ask: Decimal
) -> None:
    async with c.subscribe(f"order.{venue}.*") as events:
        order = await c.place_order(venue, symbol, "buy", "limit", qty, bid * Decimal("0.9"))
        assert OrderStatus.NEW == order.status
        assert order.venue_order_id
        assert qty == order.qty
        assert [order] == c.orders.open(venue)
        assert order == c.orders.get(order.client_order_id)

        if (venue, symbol) == ("binance", "BTC-USDT-SPOT"):
            # Binance spot amends in place only down in quantity (keepPriority).
            amended = await c.amend_order(venue, symbol, order.client_order_id, qty=qty / 2)
            assert qty / 2 == amended.qty and order.price == amended.price
        else:
            price = bid * Decimal("0.91")
            amended = await c.amend_order(venue, symbol, order.client_order_id, price=price)
            assert amended.price is not None and order.price is not None
            assert amended.price > order.price
            assert abs(amended.price - price) < price * Decimal("0.0001")
        assert OrderStatus.NEW == amended.status
        # A wait that times out says for what, and where the order is.
        with pytest.raises(trio.TooSlowError) as slow:
            await c.orders.wait(order.client_order_id, OrderStatus.FILLED, timeout=0.05)
        cid = order.client_order_id
        assert f"order {cid}: filled or later not reached within 0.05 s (still new)" == str(
            slow.value
        )

        canceled = await c.cancel_order(venue, symbol, order.client_order_id)
        assert OrderStatus.CANCELED == canceled.status
        assert canceled == await c.orders.wait(order.client_order_id, timeout=1)
        # Canceling a finished order answers with it, sending nothing.
        assert canceled == await c.cancel_order(venue, symbol, order.client_order_id)

        seen = []
        while True:
            try:
                seen.append(type(events.receive_nowait()).__name__)
            except trio.WouldBlock:
                break
    assert ["OrderSubmitted", "OrderAccepted", "OrderAmended", "OrderCanceled"] == seen


async def market_orders(
    c: Connector, venue: str, symbol: str, qty: Decimal, bid: Decimal, ask: Decimal
) -> None:
    before = c.statistics().orders[venue].book.orders
    order = await c.place_order(venue, symbol, "buy", "market", qty)
    done = await c.orders.wait(order.client_order_id, timeout=5)
    assert OrderStatus.FILLED == done.status
    assert TimeInForce.IOC == order.time_in_force == done.time_in_force  # asked: the default
    assert qty == done.filled_qty
    assert done.avg_fill_price is not None
    assert abs(done.avg_fill_price - ask) < ask * Decimal("0.01")
    # Flatten (reduce-only where there are positions).
    spot = symbol.endswith("-SPOT")
    close = await c.place_order(venue, symbol, "sell", "market", qty, reduce_only=not spot)
    assert OrderStatus.FILLED == (await c.orders.wait(close.client_order_id)).status
    for fill in c.fills(venue):
        assert fill.client_order_id in (order.client_order_id, close.client_order_id)
    assert before + 2 == c.statistics().orders[venue].book.orders


async def an_ioc_that_meets_nothing_expires(
    c: Connector, venue: str, symbol: str, qty: Decimal, bid: Decimal, ask: Decimal
) -> None:
    # Binance says EXPIRED; Bybit and OKX say canceled with why (EC_NoImmediateQtyToFill,
    # cancelSource 14): one status for one outcome on every venue.
    order = await c.place_order(
        venue, symbol, "buy", "limit", qty, bid * Decimal("0.95"), time_in_force="ioc"
    )
    done = await c.orders.wait(order.client_order_id, timeout=5)
    assert (OrderStatus.EXPIRED, Decimal(0)) == (done.status, done.filled_qty)


async def refusals(
    c: Connector, venue: str, symbol: str, qty: Decimal, bid: Decimal, ask: Decimal
) -> None:
    before = len(c.orders.all())
    async with c.subscribe("risk.alert") as alerts:
        with pytest.raises(InvalidOrder) as invalid:
            await c.place_order(venue, symbol, "buy", "limit", qty / 10**9, bid)
        assert invalid.value.violations[0].split(":")[0] in ("lot_step", "min_qty", "min_notional")
        # Between two lots (in base units on every market: an OKX swap's lot is whole
        # contracts): refused, never rounded to another size than asked.
        lot = c.instrument(venue, symbol).lot_step
        assert 0 == qty % lot
        with pytest.raises(InvalidOrder) as between:
            await c.place_order(venue, symbol, "buy", "limit", qty + lot / 2, bid)
        assert [f"lot_step: {qty + lot / 2} is not a whole number of lots of {lot}"] == [
            v.split(" (")[0] for v in between.value.violations
        ]

        with pytest.raises(RiskRejected) as risky:
            await c.place_order(venue, symbol, "buy", "limit", Decimal(10), bid)
        assert "max_order_notional" == risky.value.limit
        alert = alerts.receive_nowait()
        assert isinstance(alert, RiskAlert)
        assert (RiskAlertKind.BREACH, "max_order_notional") == (alert.kind, alert.limit)

    # Over the venue's market-order maximum, which every simulated market publishes
    # (Bybit linear a tenth of its limit maximum) but OKX spot (maxMktSz counts USDT:
    # the order passes validation and the risk limit refuses it).
    with pytest.raises((InvalidOrder, RiskRejected)) as too_big:
        await c.place_order(venue, symbol, "buy", "market", Decimal(10**6))
    named = [v.split(":")[0] for v in getattr(too_big.value, "violations", ())]
    assert ("max_market_qty" in named) is ((venue, symbol) != ("okx", "BTC-USDT-SPOT")), named
    if (venue, symbol) == ("bybit", "BTC-USDT-PERP"):
        with pytest.raises(InvalidOrder) as over_market:
            await c.place_order(venue, symbol, "buy", "market", Decimal(151))
        assert ["max_market_qty"] == [v.split(":")[0] for v in over_market.value.violations]
    # A fill-or-kill market order no venue runs (Bybit would run it as IOC).
    with pytest.raises(InvalidOrder) as fok:
        await c.place_order(venue, symbol, "buy", "market", qty, time_in_force="fok")
    assert ["time_in_force"] == [v.split(":")[0] for v in fok.value.violations]
    # The refusals before sending: nothing reached the order state.
    assert before == len(c.orders.all())
    # An amendment is checked as the order it makes: one past a limit is refused
    # before anything is sent, and the order stays as it was.
    resting = await c.place_order(venue, symbol, "buy", "limit", qty, bid * Decimal("0.9"))
    with pytest.raises(RiskRejected) as grown:
        await c.amend_order(venue, symbol, resting.client_order_id, qty=Decimal(10))
    assert "max_order_notional" == grown.value.limit
    assert resting == c.orders.get(resting.client_order_id)
    assert (
        OrderStatus.CANCELED
        == (await c.cancel_order(venue, symbol, resting.client_order_id)).status
    )
    # A cancel of an order the venue never had names it.
    with pytest.raises(OrderNotFound) as missing:
        await c.cancel_order(venue, symbol, "neverplaced1")
    assert f"{venue} has no order neverplaced1: " in str(missing.value)
    assert "neverplaced1" == missing.value.client_order_id
    # So does an amendment of one (it is read from the venue first).
    with pytest.raises(OrderNotFound) as unamended:
        await c.amend_order(venue, symbol, "neverplaced1", qty=qty)
    assert "neverplaced1" == unamended.value.client_order_id

    # Post-only that would take: Binance refuses it with its code; Bybit and OKX
    # accept it, then cancel it (read back by the cancel).
    crossing = ask * Decimal("1.001")
    if venue == "binance":
        with pytest.raises(OrderRejected) as refused:
            await c.place_order(
                venue, symbol, "buy", "limit", qty, crossing, time_in_force="post_only"
            )
        assert refused.value.code
        order = c.orders.get(refused.value.client_order_id)
        assert order is not None and OrderStatus.REJECTED == order.status
    else:
        placed = await c.place_order(
            venue, symbol, "buy", "limit", qty, crossing, time_in_force="post_only"
        )
        ended = await c.cancel_order(venue, symbol, placed.client_order_id)
        assert OrderStatus.CANCELED == ended.status
        assert 0 == ended.filled_qty


async def cancel_all(
    c: Connector, venue: str, symbol: str, qty: Decimal, bid: Decimal, ask: Decimal
) -> None:
    placed = [
        await c.place_order(venue, symbol, "buy", "limit", qty, bid * Decimal(f"0.9{i}"))
        for i in range(3)
    ]
    assert 3 == len(c.orders.open(venue, symbol))
    canceled = await c.cancel_all(venue)
    assert sorted(o.client_order_id for o in placed) == sorted(o.client_order_id for o in canceled)
    assert all(OrderStatus.CANCELED == o.status for o in canceled)
    # A symbol the venue does not list (a typo): said, not "nothing to cancel".
    with pytest.raises(UnknownInstrument, match=rf"^{venue} does not list DOGE-USDT-PERP$"):
        await c.cancel_all(venue, "DOGE-USDT-PERP")
    with pytest.raises(UnknownInstrument, match=r"^no trading venue lists DOGE-USDT-PERP$"):
        await c.cancel_all(symbol="DOGE-USDT-PERP")


@pytest.mark.parametrize(("venue", "symbol", "qty"), CASES)
async def test_cancel_all_cancels_a_symbol_in_few_requests(
    venue: str, symbol: str, qty: Decimal
) -> None:
    # One request per symbol (OKX: per 20 orders) instead of one per order (Bybit cancels
    # 10 orders a second one by one: a kill switch over 100 open orders would take 10 s).
    count = 12
    with trio.fail_after(TIMEOUT):
        async with trading(venue, symbol, RISK) as (c, bid, _ask):
            placed = [
                await c.place_order(venue, symbol, "buy", "limit", qty, bid * Decimal(f"0.9{i:02}"))
                for i in range(count)
            ]
            before = _requests(c, venue)
            canceled = await c.cancel_all(venue)
            sent = _requests(c, venue) - before
            assert {o.client_order_id for o in placed} == {o.client_order_id for o in canceled}
            assert all(OrderStatus.CANCELED == o.status for o in canceled)
            assert [] == c.orders.open()
            assert_agrees_with_venue(c, venue)
            # The open-orders listing, the one cancel (OKX: one batch of 12), and at most
            # a background request or two (a clock sample): never one per order.
            assert sent < count // 2, sent


def _requests(c: Connector, venue: str) -> int:
    assert c.simulator is not None and c.simulator.running is not None
    servers = c.simulator.running.frontends[venue].servers  # type: ignore[attr-defined]
    return sum(server.statistics().requests for server in set(servers.values()))


@pytest.mark.parametrize(("venue", "symbol", "qty"), CASES)
async def test_cancel_all_returns_as_the_stream_tells_each_end(
    venue: str, symbol: str, qty: Decimal, autojump_clock: trio.abc.Clock
) -> None:
    # Where the bulk cancel is only acknowledged, each order's end comes by the private
    # stream: cancel_all wakes on it, rather than at its next look at the order state
    # (the first of those after 20 ms, the read-back's first delay).
    with trio.fail_after(TIMEOUT):
        async with trading(venue, symbol, RISK) as (c, bid, _ask):
            for i in range(3):
                await c.place_order(venue, symbol, "buy", "limit", qty, bid * Decimal(f"0.9{i:02}"))
            start = trio.current_time()
            canceled = await c.cancel_all(venue)
            took = trio.current_time() - start
            assert [OrderStatus.CANCELED] * 3 == [o.status for o in canceled]
            assert took < 0.02, took


SCENARIOS = (
    place_amend_cancel_and_wait,
    market_orders,
    an_ioc_that_meets_nothing_expires,
    refusals,
    cancel_all,
)


async def test_an_instrument_is_given_as_orders_are_checked_against_it() -> None:
    async with trading("okx", "BTC-USDT-PERP") as (c, _, _):
        swap = c.instrument("okx", "BTC-USDT-PERP")
        # The venue lists lots of 0.01 contracts of 0.01 BTC: given in base units.
        assert (Decimal("0.0001"), Decimal(1)) == (swap.lot_step, swap.contract_size)
        assert "BTC-USDT-SWAP" == swap.native_id
        with pytest.raises(UnknownInstrument, match="'kraken' is not configured"):
            c.instrument("kraken", "BTC-USDT-PERP")


async def test_an_order_on_a_market_no_configured_symbol_uses_says_so() -> None:
    # OKX lists BTC-USDT-SWAP; only its spot market's instruments were loaded here.
    async with trading("okx", "BTC-USDT-SPOT") as (c, bid, _):
        with pytest.raises(UnknownInstrument) as unloaded:
            await c.place_order("okx", "BTC-USDT-PERP", "buy", "limit", Decimal("0.01"), bid)
        assert (
            "okx: BTC-USDT-PERP is on its swap market, which no configured symbol uses, so its"
            " instruments are not loaded: add BTC-USDT-PERP to [venues.okx] symbols"
        ) == str(unloaded.value)


@pytest.mark.parametrize("venue", sorted(TRADERS))
async def test_a_configured_symbol_the_venue_does_not_list_leaves_the_others_trading(
    venue: str, autojump_clock: trio.abc.Clock
) -> None:
    # A delisted symbol, or a typo, among the configured ones: market data names it,
    # and the venue is reconciled and trades its other symbols (Binance lists fills
    # per symbol: the unlisted one stopped its every reconciliation).
    unlisted = Symbol.parse("ZZZ-USDT-PERP")
    with trio.fail_after(60):  # virtual seconds
        async with sim.run(venues=(venue,), rate=50.0) as running:
            venues = venue_configs(running, venue)
            venues[venue] = attrs.evolve(venues[venue], symbols=(PERP, unlisted))
            async with Connector(Config(venues=venues)) as c:
                assert (True, None) == (
                    c.status().reconciled[venue],
                    c.status().unreconciled.get(venue),
                )
                order = await c.place_order(
                    venue, PERP, "buy", "limit", Decimal("0.01"), Decimal("50000")
                )
                assert OrderStatus.NEW is order.status
                with pytest.raises(UnknownInstrument, match="ZZZ-USDT-PERP"):
                    await c.place_order(venue, unlisted, "buy", "limit", Decimal("1"), Decimal("1"))


async def test_a_client_order_id_names_one_order_across_the_venues(
    autojump_clock: trio.abc.Clock,
) -> None:
    # `c.orders.get` and `c.orders.wait` take the id alone: an id one venue's order
    # has is refused on every venue, before anything is sent.
    with trio.fail_after(60):  # virtual seconds
        async with sim.run(venues=("bybit", "okx"), rate=50.0) as running:
            venues = {
                **venue_configs(running, "bybit"),
                "okx": venue_configs(running, "okx")["okx"],
            }
            async with Connector(Config(venues=venues)) as c:
                order = await c.place_order(
                    "okx", PERP, "buy", "limit", Decimal("0.01"), Decimal("50000"),
                    client_order_id="myOrder1",
                )  # fmt: skip
                for venue in ("okx", "bybit"):
                    with pytest.raises(InvalidOrder) as reused:
                        await c.place_order(
                            venue, PERP, "buy", "limit", Decimal("0.01"), Decimal("50000"),
                            client_order_id="myOrder1",
                        )  # fmt: skip
                    assert ("client_order_id: myOrder1 is already used on okx",) == (
                        reused.value.violations
                    )
                assert [] == running.truth("bybit").orders(running.truth("bybit").default_account())
                assert order == c.orders.get("myOrder1")


@pytest.mark.parametrize("venue", sorted(TRADERS))
async def test_the_position_limit_counts_a_fill_the_venue_reported_before_it_came(
    venue: str,
) -> None:
    # Binance answers a market order "filled" before its fill reaches the position:
    # the next order, placed at once, must still count it.
    limit = RiskConfig(max_position_qty=Decimal("0.03"))
    with trio.fail_after(TIMEOUT):
        async with trading(venue, "BTC-USDT-PERP", limit) as (c, _bid, _ask):
            first = await c.place_order(venue, "BTC-USDT-PERP", "buy", "market", Decimal("0.03"))
            with pytest.raises(RiskRejected) as refused:
                await c.place_order(venue, "BTC-USDT-PERP", "buy", "market", Decimal("0.03"))
            assert "max_position_qty" == refused.value.limit
            await c.orders.wait(first.client_order_id, timeout=5)
            truth = c.simulator.truth(venue)  # type: ignore[union-attr]
            assert [Decimal("0.03")] == [p.size for p in truth.positions(truth.default_account())]
