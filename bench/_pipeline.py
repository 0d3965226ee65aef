"""The pipeline ``bench/replay.py`` times in-process: feed, bus and one subscriber."""

from __future__ import annotations

import time
from collections.abc import Sequence

import attrs
import trio

from connector.bus import Bus, Overflow
from connector.model import BookUpdate, Market
from connector.venues.common import SymbolMap
from connector.venues.feed import VenueFeed
from connector.venues.registry import driver_for

__all__ = ["BATCH", "Frame", "Pipeline", "PipelineResult", "run_pipeline", "run_pipeline_trio"]

BATCH = 32
"""Frames fed between two turns of the ``trio`` consumer."""

Frame = tuple[int, str]
"""``(local receive ns, raw text)`` of one captured line."""


def is_snapshot(data: str) -> bool:
    """The captured line is the REST depth snapshot (hftbacktest keeps it among the frames)."""
    return data.startswith('{"lastUpdateId"')


@attrs.frozen(kw_only=True)
class PipelineResult:
    """What one run did: counts, the consumer's last reading, the final book."""

    frames: int
    depth_frames: int
    events: int
    dropped: int
    last_best: tuple[str, str, str, str] | None
    bids: list[list[str]]
    asks: list[list[str]]
    final_state: str
    final_seq: int
    deltas_applied: int
    seconds: float
    cpu_seconds: float


class Pipeline:
    """The connector's market-data path with a bus and one best-bid/ask subscriber.

    A :class:`VenueFeed` for Binance (what a live session and ``connector replay``
    run) publishing to a real :class:`Bus`; the REST snapshot line is parsed by
    the adapter and loaded with ``VenueFeed.on_snapshot``, as replay does.
    """

    def __init__(self, *, buffer: int = 1024) -> None:
        self.bus = Bus()
        self.sub = self.bus.subscribe("orderbook.>", buffer=buffer, overflow=Overflow.DROP_OLDEST)
        adapter = driver_for("binance").market_data
        symbols = SymbolMap("binance", resolver=adapter.guess_instrument)
        self.adapter = adapter
        self.feed = VenueFeed(adapter, symbols, self.bus.publish, snapshot_depth=10)
        self.events = 0
        self.last: BookUpdate | None = None

    def frame(self, ts_ns: int, data: str) -> None:
        """One captured line: the REST snapshot, or a websocket frame."""
        if is_snapshot(data):
            ((market, symbol),) = self.feed.keepers()
            instrument = self.feed.symbols.by_symbol(market, symbol)
            snapshot = self.adapter.parse_snapshot(market, instrument, data.encode(), ts_ns)
            self.feed.on_snapshot(snapshot)
        else:
            self.feed.on_frame(data, Market.LINEAR, ts_ns)

    def consume(self, event: object) -> None:
        """The subscriber's work per event: read the best bid and ask."""
        if type(event) is BookUpdate:
            bid = event.best_bid
            ask = event.best_ask
            if bid is not None and ask is not None:
                self.last = event
        self.events += 1

    def result(self, frames: int, depth: int, seconds: float, cpu: float) -> PipelineResult:
        """The run's counts, the subscriber's last reading and the final top 10 levels."""
        ((_, keeper),) = self.feed.keepers().items()
        last = self.last
        best = None
        if last is not None and last.best_bid is not None and last.best_ask is not None:
            bid, ask = last.best_bid, last.best_ask
            best = (str(bid.price), str(bid.qty), str(ask.price), str(ask.qty))
        return PipelineResult(
            frames=frames,
            depth_frames=depth,
            events=self.events,
            dropped=self.sub.statistics().dropped,
            last_best=best,
            bids=[[str(lv.price), str(lv.qty)] for lv in keeper.book.bids(10)],
            asks=[[str(lv.price), str(lv.qty)] for lv in keeper.book.asks(10)],
            final_state=keeper.state.status.value,
            final_seq=keeper.seq,
            deltas_applied=keeper.statistics().deltas_applied,
            seconds=seconds,
            cpu_seconds=cpu,
        )


def run_pipeline(frames: Sequence[Frame]) -> PipelineResult:
    """Run ``frames`` through the pipeline; the subscriber drains after every frame."""
    pipe = Pipeline()
    receive = pipe.sub.receive_nowait
    consume = pipe.consume
    depth = sum(1 for _, data in frames if '"e":"depthUpdate"' in data[:80])
    cpu = time.process_time()
    start = time.perf_counter()
    for ts_ns, data in frames:
        pipe.frame(ts_ns, data)
        while True:
            try:
                event = receive()
            except trio.WouldBlock:
                break
            consume(event)
    seconds = time.perf_counter() - start
    return pipe.result(len(frames), depth, seconds, time.process_time() - cpu)


def run_pipeline_trio(frames: Sequence[Frame], batch: int = BATCH) -> PipelineResult:
    """Run ``frames`` with a trio consumer task between batches of ``batch`` frames."""
    pipe = Pipeline()
    depth = sum(1 for _, data in frames if '"e":"depthUpdate"' in data[:80])

    async def main() -> tuple[float, float]:
        sub = pipe.sub
        consume = pipe.consume

        async def consumer() -> None:
            # Wait for an event, then take everything already buffered.
            while True:
                consume(await sub.receive())
                while True:
                    try:
                        event = sub.receive_nowait()
                    except trio.WouldBlock:
                        break
                    consume(event)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(consumer)
            await trio.lowlevel.checkpoint()
            cpu = time.process_time()
            start = time.perf_counter()
            process = pipe.frame
            for i in range(0, len(frames), batch):
                for ts_ns, data in frames[i : i + batch]:
                    process(ts_ns, data)
                await trio.lowlevel.checkpoint()
            while pipe.sub.statistics().buffered:
                await trio.lowlevel.checkpoint()
            seconds = time.perf_counter() - start
            cpu = time.process_time() - cpu
            nursery.cancel_scope.cancel()
        return seconds, cpu

    seconds, cpu = trio.run(main)
    return pipe.result(len(frames), depth, seconds, cpu)
