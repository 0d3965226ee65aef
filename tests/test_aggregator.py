"""The aggregator on a real ``Bus`` with real ``OrderBook``s behind its book source.

Each test plays the part of the venue sessions: it loads a book, sets its
state and publishes the ``BookUpdate`` a keeper would publish, then reads the
consolidated events. Timing runs on the ``autojump_clock``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal

import attrs
import pytest
import trio
import trio.testing

from connector.aggregator import Aggregator
from connector.book.orderbook import OrderBook
from connector.bus import Bus, Subscription
from connector.model import (
    BookLevel,
    BookState,
    BookUpdate,
    ConsolidatedBook,
    ConsolidatedQuote,
    Market,
    Symbol,
    VenueLevel,
)

BTC = Symbol.parse("BTC-USDT-SPOT")
ETH = Symbol.parse("ETH-USDT-SPOT")
STALE_AFTER = 5.0
TIMEOUT = 30


def _levels(*pairs: tuple[str, str]) -> list[BookLevel]:
    return [BookLevel(Decimal(p), Decimal(q)) for p, q in pairs]


@attrs.frozen
class Live:
    """A live book as a session's keeper shows it."""

    book: OrderBook
    state: BookState

    def bids(self, n: int | None = None) -> list[BookLevel]:
        return self.book.bids(n)

    def asks(self, n: int | None = None) -> list[BookLevel]:
        return self.book.asks(n)


@attrs.define
class Venues:
    """The live books the aggregator reads, and how a session would publish them."""

    bus: Bus
    books: dict[tuple[str, Symbol], Live] = attrs.field(factory=dict)

    def source(self, venue: str, symbol: Symbol) -> Live | None:
        return self.books.get((venue, symbol))

    def show(
        self,
        venue: str,
        bids: list[BookLevel],
        asks: list[BookLevel],
        *,
        symbol: Symbol = BTC,
        state: BookState = BookState.VALID,
    ) -> None:
        book = OrderBook()
        if state.valid:
            book.load_snapshot(bids, asks)
        self.books[(venue, symbol)] = Live(book, state)
        self.bus.publish(
            f"orderbook.{venue}.{symbol}",
            BookUpdate(
                venue=venue,
                market=Market.SPOT,
                symbol=symbol,
                seq=1,
                state=state,
                bids=tuple(book.bids()),
                asks=tuple(book.asks()),
                best_bid=book.best_bid(),
                best_ask=book.best_ask(),
                snapshot=True,
            ),
        )


@asynccontextmanager
async def running() -> AsyncIterator[tuple[Venues, Aggregator, Subscription, Subscription]]:
    bus = Bus()
    venues = Venues(bus)
    aggregator = Aggregator(bus, venues.source, depth=5, stale_after=STALE_AFTER)
    async with trio.open_nursery() as nursery:
        await nursery.start(aggregator.run)
        async with (
            bus.subscribe("consolidated.bbo.>") as bbo,
            bus.subscribe("consolidated.book.>") as books,
        ):
            yield venues, aggregator, bbo, books
        nursery.cancel_scope.cancel()


async def _next_book(books: Subscription) -> ConsolidatedBook:
    event = await books.receive()
    assert isinstance(event, ConsolidatedBook)
    return event


async def _next_quote(bbo: Subscription) -> ConsolidatedQuote:
    event = await bbo.receive()
    assert isinstance(event, ConsolidatedQuote)
    return event


async def _drain_quotes(bbo: Subscription) -> list[ConsolidatedQuote]:
    out = []
    while True:
        try:
            event = bbo.receive_nowait()
        except trio.WouldBlock:
            return out
        assert isinstance(event, ConsolidatedQuote)
        out.append(event)


async def test_bbo_takes_the_best_bid_and_the_best_ask_across_venues_naming_each(
    autojump_clock: trio.testing.MockClock,
) -> None:
    with trio.fail_after(TIMEOUT):
        async with running() as (venues, aggregator, bbo, _books):
            venues.show("binance", _levels(("100", "1")), _levels(("103", "1")))
            venues.show("bybit", _levels(("101", "2")), _levels(("104", "1")))
            venues.show("okx", _levels(("99", "3")), _levels(("102", "5")))
            await trio.testing.wait_all_tasks_blocked()

            quote = aggregator.quote(BTC)
            published = await _drain_quotes(bbo)

    assert quote is not None
    assert VenueLevel("bybit", Decimal("101"), Decimal("2")) == quote.bid
    assert VenueLevel("okx", Decimal("102"), Decimal("5")) == quote.ask
    assert ("binance", "bybit", "okx") == quote.venues
    assert quote == published[-1]


async def test_books_that_are_not_valid_are_left_out(
    autojump_clock: trio.testing.MockClock,
) -> None:
    with trio.fail_after(TIMEOUT):
        async with running() as (venues, aggregator, _bbo, _books):
            venues.show("binance", _levels(("100", "1")), _levels(("103", "1")))
            venues.show("okx", _levels(("101", "1")), _levels(("102", "1")))
            await trio.testing.wait_all_tasks_blocked()
            both = aggregator.quote(BTC)

            venues.show("okx", [], [], state=BookState.invalid("gap: expected 5, got 7"))
            venues.show("bybit", [], [], state=BookState.syncing("waiting for snapshot"))
            await trio.testing.wait_all_tasks_blocked()
            one = aggregator.quote(BTC)
            book = aggregator.book(BTC)

    assert both is not None and one is not None
    assert ("binance", "okx") == both.venues
    assert ("binance",) == one.venues
    assert (Decimal("100"), Decimal("103")) == (
        one.bid.price if one.bid else None,
        one.ask.price if one.ask else None,
    )
    assert {"binance"} == {level.venue for level in book.bids + book.asks}


async def test_a_book_that_goes_quiet_drops_out_at_its_deadline(
    autojump_clock: trio.testing.MockClock,
) -> None:
    with trio.fail_after(TIMEOUT):
        async with running() as (venues, _aggregator, bbo, _books):
            start = trio.current_time()
            venues.show("binance", _levels(("100", "1")), _levels(("103", "1")))
            venues.show("bybit", _levels(("101", "1")), _levels(("104", "1")))
            await trio.testing.wait_all_tasks_blocked()
            await _drain_quotes(bbo)
            await trio.sleep(3)
            venues.show("bybit", _levels(("101", "1")), _levels(("104", "1")))

            quote = await _next_quote(bbo)  # nothing else arrives: the deadline publishes
            binance_gone = trio.current_time() - start
            quote_later = await _next_quote(bbo)
            bybit_gone = trio.current_time() - start

    assert ("bybit",) == quote.venues
    assert VenueLevel("bybit", Decimal("101"), Decimal("1")) == quote.bid
    assert STALE_AFTER == pytest.approx(binance_gone, abs=0.01)
    assert () == quote_later.venues
    assert (None, None) == (quote_later.bid, quote_later.ask)
    assert 3 + STALE_AFTER == pytest.approx(bybit_gone, abs=0.01)


async def test_a_book_that_comes_after_every_book_went_stale_still_drops_out_at_its_deadline(
    autojump_clock: trio.testing.MockClock,
) -> None:
    with trio.fail_after(TIMEOUT):
        async with running() as (venues, _aggregator, bbo, _books):
            venues.show("binance", _levels(("100", "1")), _levels(("103", "1")))
            await trio.sleep(STALE_AFTER + 1)  # binance went stale: no deadline is left
            await _drain_quotes(bbo)
            await trio.sleep(10)
            start = trio.current_time()
            venues.show("okx", _levels(("99", "1")), _levels(("102", "1")))
            shown = await _next_quote(bbo)
            gone = await _next_quote(bbo)
            okx_gone = trio.current_time() - start

    assert ("okx",) == shown.venues
    assert () == gone.venues
    assert STALE_AFTER == pytest.approx(okx_gone, abs=0.01)


async def test_the_aggregator_ends_with_end_of_channel_when_the_bus_closes() -> None:
    bus = Bus()
    aggregator = Aggregator(bus, Venues(bus).source, stale_after=STALE_AFTER)
    with trio.fail_after(TIMEOUT), pytest.raises(ExceptionGroup) as raised:
        async with trio.open_nursery() as nursery:
            await nursery.start(aggregator.run)
            bus.close()

    # A plain EndOfChannel, as any subscriber's loop ends, not a group of its own tasks.
    assert [trio.EndOfChannel] == [type(exc) for exc in raised.value.exceptions]


async def test_consolidated_book_merges_levels_best_first_with_their_venue(
    autojump_clock: trio.testing.MockClock,
) -> None:
    with trio.fail_after(TIMEOUT):
        async with running() as (venues, aggregator, _bbo, _books):
            venues.show(
                "binance",
                _levels(("100", "1"), ("98", "1"), ("96", "1")),
                _levels(("103", "1"), ("105", "1")),
            )
            venues.show(
                "okx", _levels(("99", "2"), ("98", "2")), _levels(("102", "2"), ("106", "2"))
            )
            await trio.testing.wait_all_tasks_blocked()

            book = aggregator.book(BTC)
            top = aggregator.book(BTC, depth=1)
            none = aggregator.book(BTC, depth=0)
            with pytest.raises(ValueError, match="-1 levels: expected 0 or more"):
                aggregator.book(BTC, depth=-1)

    assert ((), ()) == (none.bids, none.asks)
    assert [
        ("binance", "100"),
        ("okx", "99"),
        ("binance", "98"),
        ("okx", "98"),
        ("binance", "96"),
    ] == [(lv.venue, str(lv.price)) for lv in book.bids]
    assert [("okx", "102"), ("binance", "103"), ("binance", "105"), ("okx", "106")] == [
        (lv.venue, str(lv.price)) for lv in book.asks
    ]
    assert ("binance", "okx") == book.venues
    assert [("binance", "100"), ("okx", "99")] == [(lv.venue, str(lv.price)) for lv in top.bids]


async def test_bbo_is_published_only_on_change_and_the_book_every_time(
    autojump_clock: trio.testing.MockClock,
) -> None:
    with trio.fail_after(TIMEOUT):
        async with running() as (venues, _aggregator, bbo, books):
            venues.show("binance", _levels(("100", "1")), _levels(("103", "1")))
            first_book = await _next_book(books)
            first_quotes = await _drain_quotes(bbo)

            # a deeper level changes: the top stays
            venues.show("binance", _levels(("100", "1"), ("90", "4")), _levels(("103", "1")))
            second_book = await _next_book(books)
            await trio.testing.wait_all_tasks_blocked()
            unchanged = await _drain_quotes(bbo)

            # the top changes
            venues.show("binance", _levels(("100", "2")), _levels(("103", "1")))
            await _next_book(books)
            changed = await _next_quote(bbo)

    assert 1 == len(first_quotes)
    assert 1 == len(first_book.bids) and 2 == len(second_book.bids)
    assert [] == unchanged
    assert VenueLevel("binance", Decimal("100"), Decimal("2")) == changed.bid


async def test_symbols_are_consolidated_separately(
    autojump_clock: trio.testing.MockClock,
) -> None:
    with trio.fail_after(TIMEOUT):
        async with running() as (venues, aggregator, bbo, _books):
            venues.show("binance", _levels(("100", "1")), _levels(("103", "1")))
            venues.show("okx", _levels(("2000", "1")), _levels(("2001", "1")), symbol=ETH)
            await trio.testing.wait_all_tasks_blocked()
            topics = set()
            while True:
                try:
                    topic, _ = bbo.receive_item_nowait()
                except trio.WouldBlock:
                    break
                topics.add(topic)
            btc, eth = aggregator.quote(BTC), aggregator.quote(ETH)

    assert {"consolidated.bbo.BTC-USDT-SPOT", "consolidated.bbo.ETH-USDT-SPOT"} == topics
    assert btc is not None and eth is not None
    assert (("binance",), ("okx",)) == (btc.venues, eth.venues)
    assert aggregator.quote(Symbol.parse("SOL-USDT-SPOT")) is None


async def test_depth_is_built_only_for_a_subscriber_and_the_bbo_comes_from_the_updates(
    autojump_clock: trio.testing.MockClock,
) -> None:
    bus = Bus()
    venues = Venues(bus)
    reads: list[tuple[str, Symbol]] = []

    def source(venue: str, symbol: Symbol) -> Live | None:
        reads.append((venue, symbol))
        return venues.source(venue, symbol)

    aggregator = Aggregator(bus, source, depth=5, stale_after=STALE_AFTER)
    with trio.fail_after(TIMEOUT):
        async with trio.open_nursery() as nursery:
            await nursery.start(aggregator.run)
            async with bus.subscribe("consolidated.bbo.>") as bbo:
                venues.show("binance", _levels(("100", "1")), _levels(("103", "1")))
                venues.show("okx", _levels(("101", "2")), _levels(("104", "1")))
                await trio.testing.wait_all_tasks_blocked()
                quotes = await _drain_quotes(bbo)
                reads_without_subscriber = list(reads)

                async with bus.subscribe("consolidated.book.>") as books:
                    venues.show("binance", _levels(("100", "3")), _levels(("103", "1")))
                    book = await _next_book(books)
            nursery.cancel_scope.cancel()

    assert [] == reads_without_subscriber
    assert VenueLevel("okx", Decimal("101"), Decimal("2")) == quotes[-1].bid
    assert VenueLevel("binance", Decimal("103"), Decimal("1")) == quotes[-1].ask
    assert {("binance", BTC), ("okx", BTC)} == set(reads)
    assert [("okx", "101"), ("binance", "100")] == [(lv.venue, str(lv.price)) for lv in book.bids]


async def test_equal_best_prices_on_two_venues_name_the_first_venue(
    autojump_clock: trio.testing.MockClock,
) -> None:
    with trio.fail_after(TIMEOUT):
        async with running() as (venues, aggregator, _bbo, _books):
            venues.show("okx", _levels(("100", "2")), _levels(("103", "2")))
            venues.show("binance", _levels(("100", "1")), _levels(("103", "1")))
            await trio.testing.wait_all_tasks_blocked()
            quote = aggregator.quote(BTC)
            book = aggregator.book(BTC, depth=1)

    assert quote is not None
    assert (quote.bid, quote.ask) == (book.bids[0], book.asks[0])
    assert ("binance", "binance") == (
        quote.bid.venue if quote.bid else None,
        quote.ask.venue if quote.ask else None,
    )


async def test_without_a_consolidated_reader_updates_publish_nothing_and_quote_is_current(
    autojump_clock: trio.testing.MockClock,
) -> None:
    bus = Bus()
    venues = Venues(bus)
    aggregator = Aggregator(bus, venues.source, stale_after=STALE_AFTER)
    with trio.fail_after(TIMEOUT):
        async with trio.open_nursery() as nursery:
            await nursery.start(aggregator.run)
            venues.show("binance", _levels(("100", "1")), _levels(("103", "1")))
            venues.show("okx", _levels(("101", "2")), _levels(("104", "1")))
            await trio.testing.wait_all_tasks_blocked()
            published = bus.statistics().published
            quote = aggregator.quote(BTC)
            nursery.cancel_scope.cancel()

    assert 2 == published  # the two book updates, nothing consolidated
    assert quote is not None
    assert VenueLevel("okx", Decimal("101"), Decimal("2")) == quote.bid
    assert VenueLevel("binance", Decimal("103"), Decimal("1")) == quote.ask


async def test_a_book_subscriber_runs_before_the_aggregator_publishes_for_its_update(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # Trio runs the tasks one publish wakes in random order: repeat to cover both.
    seen: list[int] = []
    with trio.fail_after(TIMEOUT):
        async with running() as (venues, _aggregator, bbo, _books):
            updates = venues.bus.subscribe("orderbook.>")
            for n in range(1, 21):
                venues.show("binance", _levels((str(n), "1")), _levels(("1000", "1")))
                await updates.receive()
                seen.append(bbo.statistics().buffered)  # quotes published by now
                await _next_quote(bbo)
            updates.close()

    assert [0] * 20 == seen
