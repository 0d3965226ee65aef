"""OKX order rate limits: per account, operation and instrument; batches by order count."""

from __future__ import annotations

from connector.sim.okx.limits import OrderLimits


def test_okx_limits_count_per_instrument_and_operation_in_a_sliding_window() -> None:
    limits = OrderLimits(per_instrument=2, batch_orders=5)
    now = 1_000_000
    assert [True, True, False] == [limits.allow("a", "place", ["X"], now) for _ in range(3)]
    assert limits.allow("a", "cancel", ["X"], now)  # another operation
    assert limits.allow("a", "place", ["Y"], now)  # another instrument
    assert limits.allow("b", "place", ["X"], now)  # another account
    assert not limits.allow("a", "place", ["X"], now + 1_999)
    assert limits.allow("a", "place", ["X"], now + 2_010)  # slid out (2 ms buckets)
    assert 2 == limits.refused


def test_okx_limits_count_batches_by_orders_per_instrument_and_refuse_without_charging() -> None:
    limits = OrderLimits(per_instrument=60, batch_orders=3)
    assert limits.allow("a", "place", ["X", "X", "Y"], 0)
    assert not limits.allow("a", "place", ["X", "X"], 1)  # X: 2 + 2 > 3, nothing charged
    assert limits.allow("a", "place", ["Y", "Y"], 2)  # Y: 3
    assert not limits.allow("a", "place", ["Y", "Z"], 3)  # Y full: Z is not charged either
    assert limits.allow("a", "place", ["X", "Z"], 4)  # X: 3, Z: 1
    assert limits.allow("a", "place", ["X"], 5)  # a batch of one is a single order
