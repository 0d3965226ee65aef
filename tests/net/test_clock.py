from __future__ import annotations

import trio

from connector.net.clock import ClockEstimator, ClockSample, ClockSync


def test_clock_estimator_takes_rtt_midpoint() -> None:
    est = ClockEstimator()
    # sent at 1000, venue read 1600, received at 1200: midpoint 1100 -> offset 500
    est.add(1000, 1600, 1200)
    result = est.estimate()
    assert result is not None
    assert 500 == result.offset_ns
    assert 200 == result.rtt_ns


def test_clock_estimator_ignores_slow_outlier() -> None:
    est = ClockEstimator()
    for i in range(4):
        est.add(i * 10_000, i * 10_000 + 50 + 500, i * 10_000 + 100)  # offset 500, rtt 100
    est.add(100_000, 100_000 + 900_000, 100_000 + 1_000_000)  # queued: rtt 1 ms, offset 400 us
    result = est.estimate()
    assert result is not None
    assert 500 == result.offset_ns


def test_clock_estimator_is_empty_before_samples() -> None:
    assert ClockEstimator().estimate() is None


async def test_clock_sync_resamples_on_request(autojump_clock: trio.abc.Clock) -> None:
    calls = 0
    wall = 0

    def now() -> int:
        return wall

    async def fetch() -> ClockSample:
        nonlocal calls, wall
        calls += 1
        sent = wall
        wall += 2_000_000  # 2 ms round trip, venue 5 s ahead
        return ClockSample(
            sent_ns=sent, server_ns=wall - 1_000_000 + 5_000_000_000, received_ns=wall
        )

    sync = ClockSync("x", fetch, interval=60.0, samples=3, wall_clock_ns=now)
    async with trio.open_nursery() as nursery:
        await nursery.start(sync.run)
        assert 3 == calls
        assert 5_000_000_000 == sync.offset_ns()
        sync.request_resync()
        await trio.sleep(0.001)
        assert 4 == calls
        await trio.sleep(61)
        assert 5 == calls
        nursery.cancel_scope.cancel()
