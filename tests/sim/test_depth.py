"""The depth keeper: books as deep as the deepest view asked of them."""

from __future__ import annotations

import itertools
from decimal import Decimal

import trio

from connector.model import Side
from connector.sim.depth import DEPTH_OWNER, DepthKeeper
from connector.sim.hub import SimVenue
from connector.sim.instruments import default_instruments


def venue(seed: int = 1) -> SimVenue:
    insts = [i for i in default_instruments(("bybit",)) if i.venue == "bybit"]
    return SimVenue("bybit", insts, seed=seed)


def prices(v: SimVenue, side: Side) -> list[Decimal]:
    bids, asks = v.book("linear", "BTCUSDT").engine.depth(None)
    return [lv.price for lv in (bids if side is Side.BUY else asks)]


def test_require_rests_levels_beyond_the_worst_on_the_flows_grid() -> None:
    v = venue()
    book = v.book("linear", "BTCUSDT")
    before = {side: prices(v, side) for side in (Side.BUY, Side.SELL)}
    keeper = DepthKeeper(v, margin=50)

    keeper.require("linear", "BTCUSDT", 1000)

    step = book.flow.spacing * book.instrument.tick_size
    for side in (Side.BUY, Side.SELL):
        after = prices(v, side)
        assert 1050 == len(after)
        assert before[side] == after[: len(before[side])]
        tail = after[len(before[side]) - 1 :]
        assert all(abs(a - b) == step for a, b in itertools.pairwise(tail))
    owners = {o.owner for o in book.engine.open_orders()}
    assert {"flow", DEPTH_OWNER} == owners
    other = v.book("spot", "BTCUSDT").engine
    assert other.level_count(Side.BUY) < 50


def test_require_publishes_the_orders_and_asks_only_once_per_depth() -> None:
    v = venue()
    batches = []
    v.listen(batches.append)
    keeper = DepthKeeper(v, margin=10)

    keeper.require("linear", "ETHUSDT", 200)
    keeper.require("linear", "ETHUSDT", 50)
    keeper.require("linear", "NOPE", 200)

    assert 1 == len(batches)
    assert keeper.added == len(batches[0].results)
    assert {("linear", "ETHUSDT"): 210} == keeper.targets


def test_the_same_seed_rests_the_same_book() -> None:
    books = []
    for _ in range(2):
        v = venue(seed=9)
        DepthKeeper(v).require("spot", "SOLUSDT", 400)
        books.append(v.book("spot", "SOLUSDT").engine.depth(None))
    assert books[0] == books[1]


def test_fill_tops_a_swept_side_up_again_and_disabled_keeps_the_flows_depth() -> None:
    v = venue()
    keeper = DepthKeeper(v, margin=0)
    keeper.require("linear", "BTCUSDT", 300)
    v.move_market("linear", "BTCUSDT", "-1")  # sells through the bids
    swept = v.book("linear", "BTCUSDT").engine.level_count(Side.BUY)

    added = keeper.fill()

    assert swept < 300
    assert added > 0
    assert 300 <= v.book("linear", "BTCUSDT").engine.level_count(Side.BUY)
    off = venue()
    DepthKeeper(off, enabled=False).require("linear", "BTCUSDT", 300)
    assert off.book("linear", "BTCUSDT").engine.level_count(Side.BUY) < 50


async def test_run_tops_up_while_running_and_not_while_paused(autojump_clock: object) -> None:
    v = venue()
    keeper = DepthKeeper(v, margin=0, interval=1.0)
    keeper.require("linear", "BTCUSDT", 300)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(keeper.run)
        v.pause()
        v.move_market("linear", "BTCUSDT", "-1")
        await trio.sleep(5)
        paused = v.book("linear", "BTCUSDT").engine.level_count(Side.BUY)
        v.resume()
        await trio.sleep(1.5)
        resumed = v.book("linear", "BTCUSDT").engine.level_count(Side.BUY)
        nursery.cancel_scope.cancel()
    assert paused < 300 <= resumed
