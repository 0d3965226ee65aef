"""``VenueSession`` against the simulator on loopback: the whole venue subtree.

Each test starts ``connector.sim`` and one session on its URLs, with a capture
file so the test can see what went over the wire (REST snapshot requests,
resubscription frames).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import attrs
import pytest
import structlog.testing
import trio

from connector import sim
from connector.bus import Bus, Subscription
from connector.capture import CaptureRecord, CaptureWriter, read_capture
from connector.model import BookStatus, BookUpdate, Market, Symbol
from connector.sim.faults import FaultPlan
from connector.supervision import ChildState
from connector.venues.registry import driver_for
from connector.venues.session import VenueSession

TIMEOUT = 20
BTC_SPOT = Symbol.parse("BTC-USDT-SPOT")
BTC_PERP = Symbol.parse("BTC-USDT-PERP")
ETH_PERP = Symbol.parse("ETH-USDT-PERP")
PERP_MARKET = {"binance": Market.LINEAR, "bybit": Market.LINEAR, "okx": Market.SWAP}


@attrs.define
class Running:
    session: VenueSession
    books: Subscription
    capture: CaptureWriter
    sim: sim.SimRun

    def records(self) -> list[CaptureRecord]:
        """What went over the wire (read after the session stopped)."""
        return list(read_capture(self.capture.path))


@asynccontextmanager
async def running(
    venue: str,
    tmp_path: Path,
    *,
    symbols: Sequence[Symbol] = (BTC_SPOT, BTC_PERP),
    channels: Sequence[str] = ("book", "trades"),
    faults: FaultPlan | None = None,
) -> AsyncIterator[Running]:
    bus = Bus()
    async with sim.run(venues=(venue,), faults=faults, rate=100.0) as simulated:
        capture = CaptureWriter(tmp_path / f"{venue}.jsonl")
        session = VenueSession(
            driver_for(venue),
            symbols=symbols,
            channels=channels,
            bus=bus,
            urls=lambda: simulated.urls[venue],
            capture=capture,
        )
        try:
            async with (
                bus.subscribe(f"orderbook.{venue}.>", buffer=100_000) as books,
                trio.open_nursery() as nursery,
            ):
                await nursery.start(session.supervisor.run)
                try:
                    yield Running(session, books, capture, simulated)
                finally:
                    nursery.cancel_scope.cancel()
        finally:
            await session.context.aclose()
            capture.close()


async def _until_valid(books: Subscription, symbols: set[Symbol]) -> dict[Symbol, BookUpdate]:
    """Receive book updates until each symbol has a valid one; the first valid of each."""
    found: dict[Symbol, BookUpdate] = {}
    while set(found) != symbols:
        update = await books.receive()
        assert isinstance(update, BookUpdate)
        if update.state.valid and update.symbol in symbols:
            found.setdefault(update.symbol, update)
    return found


def _drain(books: Subscription) -> None:
    while True:
        try:
            books.receive_nowait()
        except trio.WouldBlock:
            return


def _market(venue: str, symbol: Symbol) -> Market:
    return Market.SPOT if symbol == BTC_SPOT else PERP_MARKET[venue]


@pytest.mark.parametrize("venue", ["binance", "bybit", "okx"])
async def test_session_loads_instruments_connects_and_makes_every_book_valid(
    venue: str, tmp_path: Path
) -> None:
    with trio.fail_after(TIMEOUT):
        async with running(venue, tmp_path) as r:
            first = await _until_valid(r.books, {BTC_SPOT, BTC_PERP})
            session = r.session
            connections = [c.statistics() for c in session.market_data.connections]
            views = {s: session.feed.book(s) for s in (BTC_SPOT, BTC_PERP)}

    assert len(session.symbols) >= 6  # BTC, ETH, SOL in two markets
    assert connections and all(c.connected for c in connections)
    # OKX: one socket; Bybit: one per category; Binance: spot, and USDⓈ-M's /public
    # (depth) and /market (aggTrade) routes.
    assert {"okx": 1, "bybit": 2, "binance": 3}[venue] == len(connections)
    for symbol, update in first.items():
        assert update.snapshot
        assert update.best_bid is not None and update.best_ask is not None
        assert update.best_bid.price < update.best_ask.price
        found = views[symbol]
        assert found is not None and found.state.valid


@pytest.mark.parametrize("venue", ["binance", "bybit", "okx"])
async def test_session_subtree_is_named_after_the_venue_with_clock_and_market_data(
    venue: str, tmp_path: Path
) -> None:
    with trio.fail_after(TIMEOUT):
        async with running(venue, tmp_path, symbols=(BTC_SPOT,)) as r:
            snapshot = r.session.supervisor.snapshot()

    assert f"venue:{venue}" == snapshot.name
    assert [("clock", ChildState.RUNNING), ("market_data", ChildState.RUNNING)] == [
        (child.name, child.state) for child in snapshot.children
    ]


async def test_binance_resyncs_an_invalidated_book_from_a_rest_snapshot(tmp_path: Path) -> None:
    with trio.fail_after(TIMEOUT):
        async with running("binance", tmp_path) as r:
            await _until_valid(r.books, {BTC_SPOT, BTC_PERP})
            _drain(r.books)

            r.session.feed.invalidate("test: forced", [(Market.SPOT, BTC_SPOT)])
            again = await _until_valid(r.books, {BTC_SPOT})
            stats = r.session.feed.keeper(Market.SPOT, BTC_SPOT).statistics()
            perp = r.session.feed.keeper(Market.LINEAR, BTC_PERP).statistics()
    records = r.records()

    assert again[BTC_SPOT].snapshot
    assert (2, 1) == (stats.snapshots_applied, perp.snapshots_applied)
    depth = [
        rec.url
        for rec in records
        if rec.t == "http" and "/api/v3/depth" in rec.url and "symbol=BTCUSDT" in rec.url
    ]
    assert 2 == len(depth)


async def test_bybit_resyncs_an_invalidated_book_by_resubscribing(tmp_path: Path) -> None:
    with trio.fail_after(TIMEOUT):
        async with running("bybit", tmp_path) as r:
            await _until_valid(r.books, {BTC_SPOT, BTC_PERP})
            _drain(r.books)
            perp = _market("bybit", BTC_PERP)

            r.session.feed.invalidate("test: forced", [(perp, BTC_PERP)])
            again = await _until_valid(r.books, {BTC_PERP})
            stats = r.session.feed.keeper(perp, BTC_PERP).statistics()
    records = r.records()

    assert again[BTC_PERP].snapshot
    assert 2 <= stats.snapshots_applied
    sent = [rec.data for rec in records if rec.t == "send"]
    native = "BTCUSDT"
    unsubscribes = [s for s in sent if '"unsubscribe"' in s]
    assert 1 == len(unsubscribes)
    assert native in unsubscribes[0]
    later = sent[sent.index(unsubscribes[0]) + 1 :]
    assert any('"subscribe"' in s and native in s for s in later)
    assert not any(rec.t == "http" and "book" in rec.url.lower() for rec in records)


async def test_okx_resyncs_an_invalidated_book_from_a_rest_snapshot(tmp_path: Path) -> None:
    # OKX pushes no books snapshot since August 2026 (the simulator follows it):
    # the book aligns to GET /api/v5/market/books by seqId, and resyncs the same way.
    with trio.fail_after(TIMEOUT):
        async with running("okx", tmp_path) as r:
            await _until_valid(r.books, {BTC_SPOT, BTC_PERP})
            _drain(r.books)
            perp = _market("okx", BTC_PERP)

            r.session.feed.invalidate("test: forced", [(perp, BTC_PERP)])
            again = await _until_valid(r.books, {BTC_PERP})
            stats = r.session.feed.keeper(perp, BTC_PERP).statistics()
            spot = r.session.feed.keeper(Market.SPOT, BTC_SPOT).statistics()
    records = r.records()

    assert again[BTC_PERP].snapshot
    assert (2, 1) == (stats.snapshots_applied, spot.snapshots_applied)
    books = [
        rec.url
        for rec in records
        if rec.t == "http" and "/api/v5/market/books" in rec.url and "BTC-USDT-SWAP" in rec.url
    ]
    assert 2 == len(books)
    sent = [rec.data for rec in records if rec.t == "send"]
    assert not any('"unsubscribe"' in s for s in sent)


async def test_an_invalidated_book_publishes_invalid_before_it_is_valid_again(
    tmp_path: Path,
) -> None:
    with trio.fail_after(TIMEOUT):
        async with running("bybit", tmp_path, symbols=(BTC_PERP, ETH_PERP)) as r:
            await _until_valid(r.books, {BTC_PERP, ETH_PERP})
            _drain(r.books)

            r.session.feed.invalidate("test: forced", [(Market.LINEAR, BTC_PERP)])
            states = []
            while not states or states[-1] is not BookStatus.VALID:
                update = await r.books.receive()
                assert isinstance(update, BookUpdate)
                if update.symbol == BTC_PERP:
                    states.append(update.state.status)
            eth = r.session.feed.keeper(Market.LINEAR, ETH_PERP).statistics()

    assert BookStatus.INVALID is states[0]
    assert BookStatus.VALID is states[-1]
    assert 1 == eth.snapshots_applied  # the other book was left alone


@pytest.mark.parametrize("venue", ["binance", "bybit", "okx"])
async def test_clock_offset_follows_the_venues_skew(venue: str, tmp_path: Path) -> None:
    skew_ms = 1500
    with trio.fail_after(TIMEOUT):
        async with running(
            venue,
            tmp_path,
            symbols=(BTC_SPOT,),
            faults=FaultPlan().clock_skew(skew_ms, venue=venue),
        ) as r:
            offset_ns = r.session.context.clock.offset_ns()

    assert skew_ms * 1_000_000 == pytest.approx(offset_ns, abs=100_000_000)


async def test_unknown_configured_symbol_is_logged_and_skipped(tmp_path: Path) -> None:
    unknown = Symbol.parse("NOPE-USDT-SPOT")
    with trio.fail_after(TIMEOUT), structlog.testing.capture_logs() as logs:
        async with running("binance", tmp_path, symbols=(unknown, BTC_SPOT)) as r:
            await _until_valid(r.books, {BTC_SPOT})
            snapshot = r.session.supervisor.snapshot()
            keepers = set(r.session.feed.keepers())

    unknown_logs = [e for e in logs if e["event"] == "marketdata.unknown_symbol"]
    assert ["NOPE-USDT-SPOT"] == [e["symbol"] for e in unknown_logs]
    assert "error" == unknown_logs[0]["log_level"]
    assert {(Market.SPOT, BTC_SPOT)} == keepers
    assert all(child.restarts == 0 for child in snapshot.children)
