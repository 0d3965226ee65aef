"""A resync after a timestamp rejection adopts the venue's clock at once, however many
samples agreed on the old offset (a clock step: NTP, a VM resumed)."""

from __future__ import annotations

import pytest
import trio

from connector.errors import ConnectionLost
from connector.net.clock import ClockSample, ClockSync

MS = 1_000_000


class Venue:
    """A venue clock ``skew`` ns ahead of ours; each reading takes 2 ms (plus ``delay``
    seconds of trio time before it, when set)."""

    def __init__(self) -> None:
        self.wall = 0
        self.skew = 0
        self.readings = 0
        self.delay = 0.0
        self.fail = False

    def now(self) -> int:
        return self.wall

    async def fetch(self) -> ClockSample:
        self.readings += 1
        skew = self.skew  # read when the request goes out
        if self.delay:
            await trio.sleep(self.delay)
        if self.fail:
            raise ConnectionLost("no route")
        sent = self.wall
        self.wall += 2 * MS
        return ClockSample(sent_ns=sent, server_ns=sent + MS + skew, received_ns=self.wall)


async def test_a_resync_adopts_a_clock_step_however_many_samples_said_otherwise() -> None:
    venue = Venue()
    clock = ClockSync("x", venue.fetch, wall_clock_ns=venue.now)
    for _ in range(9):
        await clock.sample()
    assert 0 == clock.offset_ns()
    venue.skew = 7_000 * MS
    await clock.resync()
    assert 7_000 * MS == clock.offset_ns()
    assert clock.estimate is not None and 1 == clock.estimate.samples
    venue.skew = -45_000 * MS
    await clock.resync()
    assert -45_000 * MS == clock.offset_ns()
    assert 11 == venue.readings


async def test_a_requested_resync_adopts_a_clock_step_in_the_background(
    autojump_clock: trio.abc.Clock,
) -> None:
    venue = Venue()
    clock = ClockSync("x", venue.fetch, interval=60.0, samples=3, wall_clock_ns=venue.now)
    async with trio.open_nursery() as nursery:
        await nursery.start(clock.run)
        venue.skew = 7_000 * MS
        clock.request_resync()
        await trio.sleep(0.001)
        assert 4 == venue.readings
        assert 7_000 * MS == clock.offset_ns()
        await trio.sleep(61)  # the periodic samples add to the fresh one
        assert clock.estimate is not None and 2 == clock.estimate.samples
        assert 7_000 * MS == clock.offset_ns()
        nursery.cancel_scope.cancel()


async def test_overlapping_resyncs_share_one_reading(autojump_clock: trio.abc.Clock) -> None:
    venue = Venue()
    venue.delay = 0.1
    clock = ClockSync("x", venue.fetch, wall_clock_ns=venue.now)
    venue.skew = 7_000 * MS
    async with trio.open_nursery() as nursery:
        for _ in range(3):
            nursery.start_soon(clock.resync)
    assert 1 == venue.readings
    assert 7_000 * MS == clock.offset_ns()


async def test_a_sample_in_flight_across_a_resync_is_dropped(
    autojump_clock: trio.abc.Clock,
) -> None:
    venue = Venue()
    venue.delay = 0.1
    clock = ClockSync("x", venue.fetch, wall_clock_ns=venue.now)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(clock.sample)  # read before the step, back after the resync
        await trio.sleep(0.01)
        venue.skew = 7_000 * MS
        venue.delay = 0.0
        await clock.resync()
    assert 7_000 * MS == clock.offset_ns()
    assert clock.estimate is not None and 1 == clock.estimate.samples


async def test_a_failed_resync_keeps_the_samples() -> None:
    venue = Venue()
    clock = ClockSync("x", venue.fetch, wall_clock_ns=venue.now)
    venue.skew = 500 * MS
    await clock.sample()
    venue.fail = True
    with pytest.raises(ConnectionLost):
        await clock.resync()
    assert 500 * MS == clock.offset_ns()
    venue.fail = False
    venue.skew = 900 * MS
    await clock.resync()  # a later one is not held up by the failed one
    assert 900 * MS == clock.offset_ns()
