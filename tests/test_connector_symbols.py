"""Symbols added and removed at run time (``Connector.add_symbol``, ``remove_symbol``),
on each simulated venue: books, topics, the venue's subscriptions, reconnects, errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal

import pytest
import trio

from connector import Connector, OrderStatus, RiskRejected, sim
from connector.config import Config, RiskConfig, VenueConfig
from connector.errors import ConfigError, UnknownInstrument
from connector.model import BookStatus, BookUpdate, Symbol, Trade
from connector.sim import SimRun
from connector.sim.faults import FaultKind, FaultPlan
from tests.rig import buffered, first_bid, rig

VENUES = ("binance", "bybit", "okx")
CONFIGURED = Symbol.parse("BTC-USDT-PERP")
OTHER = Symbol.parse("SOL-USDT-PERP")
ADDED = Symbol.parse("ETH-USDT-PERP")
SPOT = Symbol.parse("ETH-USDT-SPOT")
UNLISTED = Symbol.parse("DOGE-USDT-SPOT")
NATIVE = {"binance": "ethusdt", "bybit": "ETHUSDT", "okx": "ETH-USDT-SWAP"}
"""The added symbol's id in each simulated venue's stream names."""
CHANNELS = ("book", "trades")


@asynccontextmanager
async def _connector(
    venue: str,
    symbols: tuple[Symbol, ...],
    faults: FaultPlan | None = None,
    listed: int | None = None,
) -> AsyncIterator[tuple[Connector, SimRun]]:
    """``venue`` on the simulator streaming ``symbols``' books and trades, market data
    only, once the books of the first ``listed`` (all) symbols are valid."""
    async with sim.run(venues=(venue,), rate=50.0, faults=faults) as running:
        venues = {
            name: VenueConfig(
                name=name,
                endpoint="custom",
                urls=running.urls[name],
                symbols=symbols,
                channels=CHANNELS,
            )
            if name == venue
            else VenueConfig(name=name, enabled=False)
            for name in VENUES
        }
        async with Connector(Config(venues=venues), trading=False) as c:
            for symbol in symbols[:listed]:
                await _valid(c, venue, symbol)
            yield c, running


async def _valid(c: Connector, venue: str, symbol: Symbol) -> None:
    view = c.order_book(venue, symbol)
    async with c.subscribe(f"orderbook.{venue}.{symbol}") as updates:
        while not view.valid or view.best_ask() is None:
            await updates.receive()


async def _streaming(c: Connector, venue: str, symbol: Symbol, updates: int = 5) -> None:
    """Until ``updates`` book updates of ``symbol`` came, each valid: its stream carries
    changes (not only a snapshot)."""
    async with c.subscribe(f"orderbook.{venue}.{symbol}") as books:
        seen = 0
        while seen < updates:
            update = await books.receive()
            assert isinstance(update, BookUpdate)
            seen = seen + 1 if update.state.valid else 0


async def _trade(c: Connector, venue: str, symbol: Symbol) -> Trade:
    async with c.subscribe(f"trade.{venue}.{symbol}") as trades:
        trade = await trades.receive()
    assert isinstance(trade, Trade)
    return trade


def _subscriptions(running: SimRun, venue: str) -> int:
    """(connection, stream) pairs the simulated venue serves now."""
    stats = running.frontends[venue].statistics()
    return stats.topics.subscriptions  # type: ignore[attr-defined,no-any-return]


async def _until_subscriptions(c: Connector, running: SimRun, venue: str, count: int) -> None:
    """Until the simulated venue serves ``count`` subscriptions, looking again at every
    book update (the simulated flow moves the books many times a second)."""
    async with c.subscribe(f"orderbook.{venue}.>") as ticks:
        while _subscriptions(running, venue) != count:
            await ticks.receive()


def _connects(c: Connector, venue: str) -> int:
    return sum(conn.connects for conn in c.statistics().venues[venue].connections)


@pytest.mark.parametrize("venue", VENUES)
@pytest.mark.timeout(60)
async def test_a_symbol_added_at_run_time_streams_as_configured_until_removed(venue: str) -> None:
    async with _connector(venue, (CONFIGURED,)) as (c, running):
        sockets = len(c.statistics().venues[venue].connections)
        served = _subscriptions(running, venue)
        with pytest.raises(UnknownInstrument):
            c.order_book(venue, ADDED)

        with trio.fail_after(20):
            await c.add_symbol(venue, str(ADDED))
            view = c.order_book(venue, ADDED)  # at once, valid once synced
            await _valid(c, venue, ADDED)
            await _streaming(c, venue, ADDED)
            assert ADDED == (await _trade(c, venue, ADDED)).symbol
            await c.add_symbol(venue, ADDED)  # streamed already: nothing changes
            await _until_subscriptions(c, running, venue, served + len(CHANNELS))

        # On the sockets already open: the venue's limits allow it.
        assert sockets == len(c.statistics().venues[venue].connections)
        assert ADDED in c.statistics().venues[venue].books

        with trio.fail_after(20):
            async with (
                c.subscribe(f"orderbook.{venue}.{ADDED}", buffer=10_000) as books,
                c.subscribe(f"trade.{venue}.{ADDED}", buffer=10_000) as trades,
            ):
                await c.remove_symbol(venue, ADDED)
                removed = [u for u in buffered(books) if isinstance(u, BookUpdate)]
                buffered(trades)
                await _until_subscriptions(c, running, venue, served)
                # The configured symbol goes on; the removed one publishes nothing more.
                for _ in range(3):
                    await _trade(c, venue, CONFIGURED)
                await _valid(c, venue, CONFIGURED)
                assert [] == buffered(books)
                assert [] == buffered(trades)
        await c.remove_symbol(venue, ADDED)  # not streamed: nothing changes

        assert BookStatus.INVALID == removed[-1].state.status
        assert not view.valid  # a view held says its book is no longer kept
        with pytest.raises(UnknownInstrument, match=f"{venue} does not stream the book of"):
            c.order_book(venue, ADDED)
        assert ADDED not in c.statistics().venues[venue].books


@pytest.mark.parametrize("venue", VENUES)
@pytest.mark.timeout(60)
async def test_a_reconnect_after_add_and_remove_subscribes_the_current_set(venue: str) -> None:
    # The added symbol's first frame closes its socket: the reconnect must carry it,
    # and not the symbol removed before.
    plan = FaultPlan(seed=3).disconnect(
        after_frames=1, venue=venue, stream=NATIVE[venue], max_count=1
    )
    async with _connector(venue, (CONFIGURED, OTHER), faults=plan) as (c, running):
        served = _subscriptions(running, venue)
        connects = _connects(c, venue)
        with trio.fail_after(30):
            async with c.subscribe(f"trade.{venue}.{OTHER}", buffer=10_000) as other:
                await c.remove_symbol(venue, OTHER)
                await c.add_symbol(venue, ADDED)
                while not any(f.kind is FaultKind.DISCONNECT for f in running.fault_log):
                    await _trade(c, venue, CONFIGURED)
                while _connects(c, venue) == connects:
                    await _trade(c, venue, CONFIGURED)
                await _streaming(c, venue, ADDED)
                await _trade(c, venue, ADDED)
                await _streaming(c, venue, CONFIGURED)
                await _until_subscriptions(c, running, venue, served)
                buffered(other)
                for _ in range(3):
                    await _trade(c, venue, ADDED)
                assert [] == buffered(other)
        with pytest.raises(UnknownInstrument):
            c.order_book(venue, OTHER)


@pytest.mark.parametrize("venue", VENUES)
@pytest.mark.timeout(60)
async def test_a_symbol_added_while_the_sockets_still_connect_streams(venue: str) -> None:
    # Right after the start the sockets are still dialing: Binance's URL names its
    # streams, so the one dialed before the add carries the streams of then.
    async with _connector(venue, (CONFIGURED,), listed=0) as (c, _):
        # Every book streamed is listed from the start, syncing until its first message.
        assert {CONFIGURED} == set(c.statistics().venues[venue].books)
        with trio.fail_after(20):
            await c.add_symbol(venue, ADDED)
            assert {CONFIGURED, ADDED} == set(c.statistics().venues[venue].books)
            await _valid(c, venue, ADDED)
            await _streaming(c, venue, ADDED)
            await _valid(c, venue, CONFIGURED)


@pytest.mark.parametrize("venue", VENUES)
@pytest.mark.timeout(60)
async def test_an_add_and_a_remove_racing_leave_a_book_only_when_the_add_won(venue: str) -> None:
    async with _connector(venue, (CONFIGURED,)) as (c, _):
        with trio.fail_after(30):
            for _ in range(6):  # either may come first: trio shuffles its runs
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(c.add_symbol, venue, ADDED)
                    nursery.start_soon(c.remove_symbol, venue, ADDED)
                books = c.statistics().venues[venue].books
                try:
                    c.order_book(venue, ADDED)
                except UnknownInstrument:
                    assert ADDED not in books  # no book left behind, syncing forever
                    continue
                await _valid(c, venue, ADDED)
                await c.remove_symbol(venue, ADDED)


@pytest.mark.timeout(60)
async def test_a_snapshot_asked_for_a_removed_book_is_not_given_to_the_one_added_again() -> None:
    # Every Binance USDⓈ-M book snapshot is answered 1 s after it was taken: the one
    # asked for before the remove comes back to a book added again since, older than it.
    late = FaultPlan(seed=5).late_rest(1.0, 1.0, venue="binance", path="/fapi/v1/depth")
    async with _connector("binance", (CONFIGURED,), faults=late) as (c, running):

        def asked() -> int:
            return sum(1 for f in running.fault_log if f.kind is FaultKind.REST_LATE)

        with trio.fail_after(30):
            before = asked()
            await c.add_symbol("binance", ADDED)
            async with c.subscribe("orderbook.binance.>") as ticks:
                while asked() == before:  # the added book's snapshot taken, not yet answered
                    await ticks.receive()
            await c.remove_symbol("binance", ADDED)
            await c.add_symbol("binance", ADDED)
            await _valid(c, "binance", ADDED)  # by its own snapshot, asked for after the other
            await _streaming(c, "binance", ADDED)
        book = c.statistics().venues["binance"].books[ADDED]
        # One snapshot asked for and loaded (its first sync), none found wrong.
        assert (1, 0, 1) == (book.resyncs, book.gaps, book.snapshots_applied)


@pytest.mark.parametrize("venue", VENUES)
@pytest.mark.timeout(60)
async def test_a_symbol_that_cannot_be_streamed_is_refused_naming_why(venue: str) -> None:
    async with _connector(venue, (CONFIGURED,)) as (c, running):
        served = _subscriptions(running, venue)
        with pytest.raises(UnknownInstrument, match=f"{venue} .*DOGE-USDT-PERP"):
            await c.add_symbol(venue, "DOGE-USDT-PERP")  # not listed
        with pytest.raises(ConfigError, match=f"{venue}.*BTC-USDT-FUT-20261225"):
            await c.add_symbol(venue, "BTC-USDT-FUT-20261225")  # no market for futures
        with pytest.raises(UnknownInstrument, match="ETH-USDT-SPOT is on its spot market"):
            await c.add_symbol(venue, "ETH-USDT-SPOT")  # a market no configured symbol uses
        with pytest.raises(UnknownInstrument, match="venue 'kraken' is not configured"):
            await c.add_symbol("kraken", ADDED)
        with pytest.raises(UnknownInstrument, match="venue 'kraken' is not configured"):
            await c.remove_symbol("kraken", ADDED)
        with pytest.raises(ConfigError, match="DOGE"):
            await c.add_symbol(venue, "DOGE")  # not a symbol

        assert served == _subscriptions(running, venue)
        with pytest.raises(UnknownInstrument):
            c.order_book(venue, "DOGE-USDT-PERP")


@pytest.mark.parametrize(("venue", "sockets"), [("binance", 1), ("bybit", 1), ("okx", 0)])
@pytest.mark.timeout(60)
async def test_a_symbol_no_open_socket_can_carry_gets_a_new_one(venue: str, sockets: int) -> None:
    # The spot market is configured (its instruments are loaded), but with a symbol the
    # venue does not list: no spot socket. OKX carries both markets on one socket.
    async with _connector(venue, (CONFIGURED, UNLISTED), listed=1) as (c, _):
        assert {venue: (UNLISTED,)} == c.status().unlisted
        before = len(c.statistics().venues[venue].connections)
        with trio.fail_after(20):
            await c.add_symbol(venue, SPOT)
            await _streaming(c, venue, SPOT)
            assert SPOT == (await _trade(c, venue, SPOT)).symbol
            await _streaming(c, venue, CONFIGURED)

        assert before + sockets == len(c.statistics().venues[venue].connections)


@pytest.mark.parametrize("venue", VENUES)
@pytest.mark.timeout(60)
async def test_orders_need_the_book_of_an_added_symbol_only_while_it_is_streamed(
    venue: str,
) -> None:
    # With a price band, an order needs its symbol's book: taken while the symbol is
    # streamed, refused (as for an invalid book) once it is removed.
    band = RiskConfig(price_band_pct=Decimal("5"))
    with trio.fail_after(45):
        async with rig(venue, risk=band) as r:
            c = r.c
            await c.add_symbol(venue, ADDED)
            instrument = c.instrument(venue, ADDED)
            # Inside the band, below the bids: it rests.
            price = await first_bid(c, venue, ADDED) * Decimal("0.97") // instrument.tick_size
            price *= instrument.tick_size
            lots = -(-instrument.min_notional * 2 // (price * instrument.lot_step))
            qty = max(instrument.min_qty, lots * instrument.lot_step)
            order = await c.place_order(venue, ADDED, "buy", "limit", qty, price)
            assert ADDED == order.symbol
            assert [order.client_order_id] == [o.client_order_id for o in c.orders.open(venue)]

            await c.remove_symbol(venue, ADDED)
            with pytest.raises(RiskRejected, match="no valid book mid"):
                await c.place_order(venue, ADDED, "buy", "limit", qty, price)
            canceled = await c.cancel_order(venue, ADDED, order.client_order_id)
            assert OrderStatus.CANCELED == canceled.status
