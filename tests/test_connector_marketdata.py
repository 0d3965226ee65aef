"""The ``Connector`` with its default configuration: three venues on the built-in simulator.

The Connector starts the simulator itself (the ``simulator`` child of the root),
then one venue subtree per venue; everything below goes over real loopback
sockets.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import attrs
import pytest
import trio

from connector.connector import Connector
from connector.errors import UnknownInstrument
from connector.health import BreakerState
from connector.model import BookStatus, BookUpdate, ConsolidatedBook, ConsolidatedQuote, Symbol
from connector.replay import replay_file
from connector.supervision import ChildState, SupervisorSnapshot
from connector.venues.registry import TRADERS

VENUES = ("binance", "bybit", "okx")
SYMBOLS = ("BTC-USDT-SPOT", "ETH-USDT-SPOT", "BTC-USDT-PERP", "ETH-USDT-PERP")
VALID_WITHIN = 10
TIMEOUT = 30


async def _all_books_valid(c: Connector) -> None:
    """Wait (bounded by the caller) until every configured book is valid."""
    views = [c.order_book(venue, symbol) for venue in VENUES for symbol in SYMBOLS]
    async with c.subscribe("orderbook.>") as updates:
        while not all(view.valid for view in views):
            await updates.receive()


async def test_books_become_valid_match_their_last_update_and_consolidate_all_venues() -> None:
    with trio.fail_after(TIMEOUT):
        async with Connector() as c:
            assert {"binance", "bybit", "okx"} == set(c.config.venues)
            async with c.subscribe("consolidated.bbo.*") as quotes:
                with trio.fail_after(VALID_WITHIN):
                    await _all_books_valid(c)
                    while True:
                        quote = await quotes.receive()
                        assert isinstance(quote, ConsolidatedQuote)
                        if quote.symbol == Symbol.parse("BTC-USDT-SPOT") and 3 == len(quote.venues):
                            break
            book = c.consolidated_book("BTC-USDT-SPOT", depth=5)
            wanted = {f"orderbook.{v}.{s}" for v in VENUES for s in SYMBOLS}
            async with c.subscribe("orderbook.>", overflow="latest") as updates:
                last: dict[str, BookUpdate] = {}

                def drain() -> None:
                    while True:
                        try:
                            topic, update = updates.receive_item_nowait()
                        except trio.WouldBlock:
                            return
                        assert isinstance(update, BookUpdate)
                        last[topic] = update

                # Rounds until every book has published (a loaded machine may be slow);
                # `latest` keeps each topic's newest update, so `last` stays current.
                with trio.move_on_after(VALID_WITHIN):
                    while {t for t, u in last.items() if u.state.valid} != wanted:
                        await trio.sleep(0.3)
                        drain()
                drain()
                # no checkpoint since the last receive: the views show these updates
                compared = {
                    topic: (
                        (u.best_bid, u.best_ask),
                        (
                            c.order_book(u.venue, u.symbol).best_bid(),
                            c.order_book(u.venue, u.symbol).best_ask(),
                        ),
                    )
                    for topic, u in last.items()
                    if u.state.valid
                }

    assert wanted == set(compared)
    for topic, (published, viewed) in compared.items():
        assert published == viewed, topic
        assert published[0] is not None and published[1] is not None
    # The consolidated views.
    assert isinstance(book, ConsolidatedBook)
    assert VENUES == book.venues
    assert set(VENUES) == {lv.venue for lv in book.bids} == {lv.venue for lv in book.asks}
    assert [lv.price for lv in book.bids] == sorted((lv.price for lv in book.bids), reverse=True)
    assert [lv.price for lv in book.asks] == sorted(lv.price for lv in book.asks)
    assert 15 == len(book.bids)
    assert quote.bid is not None and quote.ask is not None
    assert quote.bid.venue in VENUES and quote.ask.venue in VENUES


async def test_status_statistics_unknown_books_and_views_once_stopped() -> None:
    with trio.fail_after(TIMEOUT):
        async with Connector() as c:
            with pytest.raises(UnknownInstrument, match="kraken"):
                c.order_book("kraken", "BTC-USDT-SPOT")
            with pytest.raises(UnknownInstrument, match="SOL-USDT-SPOT"):
                c.order_book("binance", "SOL-USDT-SPOT")
            view = c.order_book("okx", Symbol.parse("ETH-USDT-PERP"))
            with trio.fail_after(VALID_WITHIN):
                await _all_books_valid(c)
            assert view.valid
            status = c.status()
            text = status.render()
            stats = c.statistics()

    assert ("okx", "ETH-USDT-PERP") == (view.venue, str(view.symbol))
    # Once the connector has stopped, its book views say so.
    assert view.state.status is BookStatus.INVALID
    assert "connector stopped" == view.state.reason
    assert [] == view.bids(5)
    # The status: running venue subtrees and closed breakers.
    children = {child.name: child for child in status.tree.children}
    assert {"simulator", "health", "risk", "persistence", "aggregator"} | {
        f"venue:{v}" for v in VENUES
    } == set(children)
    for venue in VENUES:
        subtree = children[f"venue:{venue}"]
        assert isinstance(subtree, SupervisorSnapshot)
        # On the simulator every venue that can trade trades, with the demo account.
        # The account reconciles before orders are taken.
        trading = [
            ("order_state", ChildState.RUNNING),
            ("account", ChildState.RUNNING),
            ("orders", ChildState.RUNNING),
        ]
        assert [
            ("clock", ChildState.RUNNING),
            ("market_data", ChildState.RUNNING),
            *(trading if venue in TRADERS else []),
        ] == [(child.name, child.state) for child in subtree.children]
    # Public sockets: OKX one; Bybit one per category; Binance spot plus USDⓈ-M /public
    # and /market. Private (the account service): Bybit and OKX one, Binance one per market.
    sockets = {"okx": 1 + 1, "bybit": 2 + 1, "binance": 3 + 2}
    assert {venue: (BreakerState.CLOSED, sockets[venue], 0) for venue in VENUES} == {
        venue: (h.state, h.connected, h.consecutive_failures) for venue, h in status.venues.items()
    }
    assert "venue binance: breaker closed, 5 connected" in text
    # The statistics: one frozen tree of every venue counter.
    assert set(VENUES) == set(stats.venues)
    assert stats.bus.published > 0
    assert set(VENUES) == {h.venue for h in stats.health.venues}
    for venue, venue_stats in stats.venues.items():
        assert {Symbol.parse(s) for s in SYMBOLS} == set(venue_stats.books), venue
        assert all(book.state.status is BookStatus.VALID for book in venue_stats.books.values())
        assert all(book.snapshots_applied >= 1 for book in venue_stats.books.values())
        assert venue_stats.feed.frames > 0
        assert venue_stats.connections and all(w.connected for w in venue_stats.connections)
        assert sum(limiter.acquired for limiter in venue_stats.limiters.values()) >= 2, venue
        assert venue_stats.clock is not None and venue_stats.clock.samples >= 3
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        stats.bus = stats.bus  # type: ignore[misc]


async def test_a_recorded_session_replays_to_valid_books_without_gaps(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl.zst"
    with trio.fail_after(TIMEOUT):
        async with Connector(record=path) as c:
            with trio.fail_after(VALID_WITHIN):
                await _all_books_valid(c)
                # Until every book applied a delta after its snapshot, so the
                # recording holds some for each (a loaded machine's 0.5 s may not).
                async with c.subscribe("orderbook.>") as updates:
                    while not all(
                        book.deltas_applied > 0
                        for stats in c.statistics().venues.values()
                        for book in stats.books.values()
                    ):
                        await updates.receive()

    summary = replay_file(path).summary()

    books = summary["books"]
    assert isinstance(books, list)
    assert {(v, s) for v in VENUES for s in SYMBOLS} == {(b["venue"], b["symbol"]) for b in books}
    assert 0 == summary["malformed"]
    for book in books:
        key = (book["venue"], book["symbol"])
        assert (0, 0) == (book["gaps"], book["crossed"]), key
        assert book["deltas_applied"] > 0, key
        assert book["snapshots_applied"] >= 1, key


async def test_okx_swap_sizes_are_base_units_like_every_other_venue() -> None:
    # OKX counts a linear swap in contracts of ctVal (0.01 BTC); orders take base
    # units, so a book read in contracts would size an order 100 times too large.
    with trio.fail_after(TIMEOUT):
        async with Connector() as c:
            sim = c.simulator
            assert sim is not None and sim.running is not None
            venue = sim.running.venues["okx"]
            truth = venue.book("swap", "BTC-USDT-SWAP")
            contract = truth.instrument.contract_size
            assert Decimal("0.01") == contract
            view = c.order_book("okx", "BTC-USDT-PERP")
            async with c.subscribe("orderbook.okx.BTC-USDT-PERP") as updates:
                update = await updates.receive()
                while not update.state.valid:
                    update = await updates.receive()
                venue.pause()
                # The updates in flight when the venue paused arrive; then the books agree.
                while update.seq != truth.update_id:
                    update = await updates.receive()
            _, bids, asks = truth.depth(5)
            assert [(p, q * contract) for p, q in bids] == [tuple(lv) for lv in view.bids(5)]
            assert [(p, q * contract) for p, q in asks] == [tuple(lv) for lv in view.asks(5)]
            assert isinstance(update, BookUpdate)
            assert (bids[0][0], bids[0][1] * contract) == tuple(update.best_bid or ())
            consolidated = c.consolidated_book("BTC-USDT-PERP", depth=5)
            okx_levels = [(lv.price, lv.qty) for lv in consolidated.bids if lv.venue == "okx"]
            assert [(p, q * contract) for p, q in bids[: len(okx_levels)]] == okx_levels
