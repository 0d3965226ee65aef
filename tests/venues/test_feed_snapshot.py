"""A subscriber rebuilds a book from its ``orderbook.*`` updates, as ``BookUpdate`` says:
a snapshot update replaces the book, any other sets the levels it carries (qty 0
removes one). Against the simulator, over real loopback sockets."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import trio

from connector import Connector, sim
from connector.bus import Bus, Subscription
from connector.config import Config
from connector.model import BookLevel, BookUpdate, Symbol
from tests.rig import book_configs

PERP = Symbol.parse("BTC-USDT-PERP")
TIMEOUT = 30
LEVELS = 100


class RebuiltBook:
    """A book kept from the updates alone, the way a subscriber would."""

    def __init__(self) -> None:
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}
        self.seq = 0
        self.snapshots = 0

    def apply(self, update: BookUpdate) -> None:
        if update.snapshot:
            self.snapshots += 1
            self.bids.clear()
            self.asks.clear()
        for side, levels in ((self.bids, update.bids), (self.asks, update.asks)):
            for level in levels:
                if level.qty == 0:
                    side.pop(level.price, None)
                else:
                    side[level.price] = level.qty
        self.seq = update.seq

    def top(self, n: int) -> tuple[list[BookLevel], list[BookLevel]]:
        bids = sorted(self.bids.items(), reverse=True)[:n]
        asks = sorted(self.asks.items())[:n]
        return [BookLevel(p, q) for p, q in bids], [BookLevel(p, q) for p, q in asks]


async def _apply_until(updates: Subscription, book: RebuiltBook, done: Callable[[], bool]) -> None:
    while not done():
        update = await updates.receive()
        assert isinstance(update, BookUpdate)
        book.apply(update)


async def test_binance_book_rebuilt_from_its_updates_equals_the_view_after_a_one_percent_move() -> (
    None
):
    # Binance's diffs never send a level again until it changes: a level below the
    # top 50 is known to a subscriber only if the snapshot update carried it.
    with trio.fail_after(TIMEOUT):
        async with sim.run(venues=("binance",), rate=50.0) as running:
            venues = book_configs(running, "binance", (PERP,))
            bus = Bus()
            rebuilt = RebuiltBook()
            # Subscribed before the connector starts: the first snapshot update is seen.
            async with (
                bus.subscribe("orderbook.binance.BTC-USDT-PERP", buffer=100_000) as updates,
                Connector(Config(venues=venues), bus=bus) as c,
            ):
                view = c.order_book("binance", PERP)
                await _apply_until(updates, rebuilt, lambda: view.valid and rebuilt.seq == view.seq)
                hub = running.venue("binance")
                hub.pause()
                before = view.best_bid()
                hub.move_market("linear", "BTCUSDT", -1)  # sells through the bids
                moved = running.update_id("binance", "linear", "BTCUSDT")
                await _apply_until(updates, rebuilt, lambda: rebuilt.seq >= moved)
                assert view.valid
                assert moved == view.seq
                viewed = (view.bids(LEVELS), view.asks(LEVELS))
                dropped = updates.statistics().dropped

    assert 0 == dropped
    assert before is not None and viewed[0][0].price < before.price * Decimal("0.995")
    assert viewed == rebuilt.top(LEVELS)
