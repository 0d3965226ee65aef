"""Tests of the topic bus: matching, defaults, overflow policies, wake-ups, no leaks."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator

import pytest
import trio
import trio.testing

from connector.bus import (
    DEFAULT_BUFFER_DROP_OLDEST,
    DEFAULT_BUFFER_FAIL,
    DEFAULT_BUFFER_LATEST,
    Bus,
    BusStatistics,
    Overflow,
    Subscription,
    SubscriptionStatistics,
    default_overflow,
    topic_matches,
    validate_pattern,
    validate_topic,
)
from connector.errors import LocalError, SubscriptionOverflow

# -- matching and validation --------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "topic", "expected"),
    [
        ("ticker.binance.BTC-USDT-SPOT", "ticker.binance.BTC-USDT-SPOT", True),
        ("ticker.binance.BTC-USDT-SPOT", "ticker.binance.ETH-USDT-SPOT", False),
        ("ticker.*.BTC-USDT-SPOT", "ticker.okx.BTC-USDT-SPOT", True),
        ("ticker.*", "ticker.okx.BTC-USDT-SPOT", False),
        ("ticker.*.*", "ticker.okx", False),
        ("ticker.>", "ticker.okx.BTC-USDT-SPOT", True),
        ("ticker.>", "ticker.okx", True),
        ("ticker.>", "ticker", False),
        (">", "risk.alert", True),
        (">", "risk", True),
        ("*", "risk", True),
        ("*", "risk.alert", False),
        ("*.*", "risk.alert", True),
        ("order.*.>", "order.okx.filled", True),
        ("order.*.>", "order.okx", False),
        ("risk.alert", "risk.alerts", False),
        ("risk.alert", "risk.alert.x", False),
    ],
)
def test_topic_matches_follows_nats_wildcards(pattern: str, topic: str, expected: bool) -> None:
    assert expected == topic_matches(pattern, topic)


@pytest.mark.parametrize(
    ("topic", "fragment"),
    [
        ("", "non-empty"),
        ("ticker..BTC", "empty token"),
        (".ticker", "empty token"),
        ("ticker.", "empty token"),
        ("ticker.*.BTC", "wildcards"),
        ("ticker.>", "wildcards"),
        ("ticker.a*.BTC", "wildcards"),
        ("ticker.bin ance", "whitespace"),
    ],
)
def test_validate_topic_rejects_bad_topic_naming_it(topic: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment) as info:
        validate_topic(topic)
    assert repr(topic) in str(info.value)


@pytest.mark.parametrize(
    ("pattern", "fragment"),
    [
        ("", "non-empty"),
        ("ticker..BTC", "empty token"),
        ("ticker.>.BTC", "last token"),
        (">.x", "last token"),
        ("ticker.bin*", "whole tokens"),
        ("ticker.>>", "whole tokens"),
    ],
)
def test_validate_pattern_rejects_bad_pattern_naming_it(pattern: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment) as info:
        validate_pattern(pattern)
    assert repr(pattern) in str(info.value)


def test_subscribe_rejects_invalid_pattern() -> None:
    with pytest.raises(ValueError, match=r"'order\.>\.x'"):
        Bus().subscribe("order.>.x")


def test_publish_rejects_wildcard_topic_every_time() -> None:
    bus = Bus()
    for _ in range(2):
        with pytest.raises(ValueError, match=r"'ticker\.\*'"):
            bus.publish("ticker.*", 1)
    assert 0 == bus.statistics().cached_topics


# -- defaults -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "overflow", "buffer"),
    [
        ("ticker.binance.BTC-USDT-SPOT", Overflow.DROP_OLDEST, DEFAULT_BUFFER_DROP_OLDEST),
        ("trade.>", Overflow.DROP_OLDEST, DEFAULT_BUFFER_DROP_OLDEST),
        ("orderbook.okx.*", Overflow.DROP_OLDEST, DEFAULT_BUFFER_DROP_OLDEST),
        ("quote.*.*", Overflow.DROP_OLDEST, DEFAULT_BUFFER_DROP_OLDEST),
        ("consolidated.>", Overflow.DROP_OLDEST, DEFAULT_BUFFER_DROP_OLDEST),
        ("connection.bybit", Overflow.DROP_OLDEST, DEFAULT_BUFFER_DROP_OLDEST),
        ("health.*", Overflow.DROP_OLDEST, DEFAULT_BUFFER_DROP_OLDEST),
        ("order.okx.filled", Overflow.FAIL, DEFAULT_BUFFER_FAIL),
        ("position.>", Overflow.FAIL, DEFAULT_BUFFER_FAIL),
        ("balance.bybit.USDT", Overflow.FAIL, DEFAULT_BUFFER_FAIL),
        ("risk.alert", Overflow.FAIL, DEFAULT_BUFFER_FAIL),
        ("*.binance.>", Overflow.FAIL, DEFAULT_BUFFER_FAIL),
        (">", Overflow.FAIL, DEFAULT_BUFFER_FAIL),
        ("something.else", Overflow.FAIL, DEFAULT_BUFFER_FAIL),
    ],
)
def test_subscribe_defaults_overflow_and_buffer_by_topic_type(
    pattern: str, overflow: Overflow, buffer: int
) -> None:
    sub = Bus().subscribe(pattern)
    stats = sub.statistics()
    assert overflow == default_overflow(pattern)
    assert (overflow, buffer) == (stats.overflow, stats.buffer_size)
    assert overflow == sub.overflow


def test_subscribe_accepts_overflow_by_name_and_explicit_buffer() -> None:
    bus = Bus()
    latest = bus.subscribe("order.>", overflow="latest")
    sized = bus.subscribe("ticker.>", overflow=Overflow.FAIL, buffer=7)
    assert (Overflow.LATEST, DEFAULT_BUFFER_LATEST) == (
        latest.statistics().overflow,
        latest.statistics().buffer_size,
    )
    assert (Overflow.FAIL, 7) == (sized.statistics().overflow, sized.statistics().buffer_size)


@pytest.mark.parametrize("overflow", ["drop_newest", "FAIL", ""])
def test_subscribe_rejects_unknown_overflow_listing_choices(overflow: str) -> None:
    with pytest.raises(ValueError, match="drop_oldest") as info:
        Bus().subscribe("ticker.>", overflow=overflow)
    assert repr(overflow) in str(info.value)


@pytest.mark.parametrize("buffer", [0, -1])
def test_subscribe_rejects_buffer_below_one(buffer: int) -> None:
    with pytest.raises(ValueError, match="buffer"):
        Bus().subscribe("ticker.>", buffer=buffer)


# -- publish, routing, statistics -------------------------------------------


def test_publish_with_no_subscriber_is_counted_and_cached() -> None:
    bus = Bus()
    bus.publish("ticker.binance.BTC-USDT-SPOT", object())
    bus.publish("ticker.binance.BTC-USDT-SPOT", object())
    expected_bus = BusStatistics(subscriptions=0, published=2, cached_topics=1, listeners=0)
    assert expected_bus == bus.statistics()


def test_publish_routes_to_every_matching_subscription_only() -> None:
    bus = Bus()
    exact = bus.subscribe("ticker.binance.BTC-USDT-SPOT")
    venue = bus.subscribe("ticker.binance.*")
    other = bus.subscribe("ticker.okx.*")
    bus.publish("ticker.binance.BTC-USDT-SPOT", "t1")
    assert "t1" == exact.receive_nowait()
    assert "t1" == venue.receive_nowait()
    with pytest.raises(trio.WouldBlock):
        other.receive_nowait()


def test_subscribe_invalidates_cached_match() -> None:
    bus = Bus()
    bus.publish("risk.alert", "before")
    sub = bus.subscribe("risk.>")
    bus.publish("risk.alert", "after")
    assert "after" == sub.receive_nowait()
    with pytest.raises(trio.WouldBlock):
        sub.receive_nowait()


def test_closed_subscription_gets_nothing_and_raises_closed() -> None:
    bus = Bus()
    sub = bus.subscribe("ticker.>")
    bus.publish("ticker.a.b", 1)
    sub.close()
    sub.close()
    bus.publish("ticker.a.b", 2)
    assert sub.closed
    assert () == bus.subscriptions()
    with pytest.raises(trio.ClosedResourceError):
        sub.receive_nowait()


def test_receive_item_nowait_returns_topic_and_event() -> None:
    bus = Bus()
    sub = bus.subscribe("ticker.>")
    bus.publish("ticker.okx.BTC-USDT-SPOT", 5)
    assert ("ticker.okx.BTC-USDT-SPOT", 5) == sub.receive_item_nowait()


def test_statistics_count_delivered_dropped_buffered() -> None:
    bus = Bus()
    sub = bus.subscribe("trade.>", buffer=2)
    for i in range(5):
        bus.publish("trade.binance.BTC-USDT-SPOT", i)
    assert 3 == sub.receive_nowait()
    expected = SubscriptionStatistics(
        pattern="trade.>",
        overflow=Overflow.DROP_OLDEST,
        buffer_size=2,
        delivered=1,
        dropped=3,
        buffered=1,
    )
    assert expected == sub.statistics()
    expected_bus = BusStatistics(subscriptions=1, published=5, cached_topics=1, listeners=0)
    assert expected_bus == bus.statistics()


# -- overflow policies ----------------------------------------------------------


def test_drop_oldest_keeps_newest_events_in_order() -> None:
    bus = Bus()
    sub = bus.subscribe("ticker.>", buffer=3)
    for i in range(10):
        bus.publish("ticker.a.b", i)
    assert [7, 8, 9] == [sub.receive_nowait() for _ in range(3)]
    assert 7 == sub.statistics().dropped


def test_latest_keeps_newest_per_topic_in_first_arrival_order() -> None:
    bus = Bus()
    sub = bus.subscribe("ticker.>", overflow="latest", buffer=10)
    bus.publish("ticker.a.x", 1)
    bus.publish("ticker.a.y", 2)
    bus.publish("ticker.a.x", 3)
    bus.publish("ticker.a.z", 4)
    bus.publish("ticker.a.y", 5)
    got = [sub.receive_item_nowait() for _ in range(3)]
    assert [("ticker.a.x", 3), ("ticker.a.y", 5), ("ticker.a.z", 4)] == got
    assert 2 == sub.statistics().dropped


def test_latest_drops_oldest_pending_topic_when_topics_exceed_buffer() -> None:
    bus = Bus()
    sub = bus.subscribe("ticker.>", overflow="latest", buffer=2)
    bus.publish("ticker.a.x", 1)
    bus.publish("ticker.a.y", 2)
    bus.publish("ticker.a.z", 3)
    assert [("ticker.a.y", 2), ("ticker.a.z", 3)] == [sub.receive_item_nowait() for _ in range(2)]
    assert 1 == sub.statistics().dropped


def test_fail_overflow_raises_naming_pattern_and_size_and_unregisters() -> None:
    bus = Bus()
    sub = bus.subscribe("order.>", buffer=2)
    bus.publish("order.okx.filled", 1)
    bus.publish("order.okx.filled", 2)
    assert not sub.closed
    bus.publish("order.okx.filled", 3)
    assert sub.closed
    assert () == bus.subscriptions()
    for _ in range(2):
        with pytest.raises(SubscriptionOverflow, match=r"'order\.>'.*buffer of 2 events"):
            sub.receive_nowait()
    assert 3 == sub.statistics().dropped


async def test_fail_overflow_ends_async_for_with_subscription_overflow() -> None:
    bus = Bus()
    got = []
    with trio.fail_after(5), pytest.raises(SubscriptionOverflow):
        async with bus.subscribe("position.>", buffer=1) as sub:
            bus.publish("position.okx.BTC-USDT-PERP", 1)
            async for event in sub:
                got.append(event)
                bus.publish("position.okx.BTC-USDT-PERP", 2)
                bus.publish("position.okx.BTC-USDT-PERP", 3)
    assert [1] == got
    assert () == bus.subscriptions()


# -- waiting and waking -----------------------------------------------------------


async def test_waiting_receive_wakes_on_publish_from_sync_code() -> None:
    bus = Bus()
    sub = bus.subscribe("risk.alert")
    got: list[object] = []

    async def consume() -> None:
        got.append(await sub.receive())

    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(consume)
            await trio.testing.wait_all_tasks_blocked()
            assert [] == got
            bus.publish("risk.alert", "breach")
    assert ["breach"] == got


async def test_cancelled_receive_loses_no_event() -> None:
    bus = Bus()
    sub = bus.subscribe("order.>")
    with trio.move_on_after(0.01):
        await sub.receive()
    bus.publish("order.okx.filled", "f")
    with trio.fail_after(5):
        assert "f" == await sub.receive()


async def test_tasks_waiting_on_one_subscription_are_woken_one_per_event_first_come_first() -> None:
    bus = Bus()
    sub = bus.subscribe("order.>")
    got: list[tuple[str, object]] = []

    async def consume(name: str, scope: trio.CancelScope | None = None) -> None:
        with scope or trio.CancelScope():
            got.append((name, await sub.receive()))

    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            gone = trio.CancelScope()
            for name, scope in (("first", gone), ("second", None), ("third", None)):
                nursery.start_soon(consume, name, scope)
                await trio.testing.wait_all_tasks_blocked()
            gone.cancel()  # the first leaves: the events go to the others, in order
            await trio.testing.wait_all_tasks_blocked()
            bus.publish("order.okx.filled", 1)
            await trio.testing.wait_all_tasks_blocked()
            bus.publish("order.okx.filled", 2)
    assert [("second", 1), ("third", 2)] == got


async def test_receive_does_not_block_when_events_are_buffered(
    autojump_clock: trio.testing.MockClock,
) -> None:
    bus = Bus()
    sub = bus.subscribe("trade.>")
    for i in range(3):
        bus.publish("trade.x.y", i)
    start = trio.current_time()
    assert [0, 1, 2] == [await sub.receive() for _ in range(3)]
    assert start == trio.current_time()


async def test_bus_close_delivers_buffered_then_ends_every_loop() -> None:
    bus = Bus()
    a = bus.subscribe("ticker.>")
    b = bus.subscribe("order.>")
    idle = bus.subscribe("trade.>")
    results: dict[str, list[object]] = {"a": [], "b": []}

    async def consume(name: str, sub: Subscription) -> None:
        async for event in sub:
            results[name].append(event)

    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(consume, "a", a)
            nursery.start_soon(consume, "b", b)
            await trio.testing.wait_all_tasks_blocked()
            bus.publish("ticker.x.y", 1)
            bus.publish("ticker.x.y", 2)
            bus.close()
            bus.publish("ticker.x.y", 3)
    assert {"a": [1, 2], "b": []} == results
    assert () == bus.subscriptions()
    with pytest.raises(trio.EndOfChannel):
        await idle.receive()
    with pytest.raises(LocalError, match="closed"):
        bus.subscribe("ticker.>")


async def test_items_yields_topic_event_pairs() -> None:
    bus = Bus()
    sub = bus.subscribe("balance.>")
    bus.publish("balance.okx.USDT", 10)
    bus.publish("balance.bybit.BTC", 20)
    got = []
    with trio.fail_after(5):
        async for pair in sub.items():
            got.append(pair)
            if len(got) == 2:
                break
    assert [("balance.okx.USDT", 10), ("balance.bybit.BTC", 20)] == got
    assert () == bus.subscriptions()


# -- no subscription left behind ---------------------------------------------------


class _Boom(Exception):
    pass


async def _loop_and_leave(bus: Bus, how: str, use_with: bool) -> list[object]:
    """Consume ``ticker.>`` and leave the loop after the second event in the way ``how``."""
    got: list[object] = []

    async def body(sub: Subscription) -> None:
        if how == "cancel":
            with trio.move_on_after(1):
                async for event in sub:
                    got.append(event)
            return
        async for event in sub:
            got.append(event)
            if len(got) == 2:
                if how == "break":
                    break
                raise _Boom

    async def feed() -> None:
        await trio.testing.wait_all_tasks_blocked()
        for i in range(2):
            bus.publish("ticker.a.b", i)

    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(feed)
            if use_with:
                async with bus.subscribe("ticker.>") as sub:
                    await body(sub)
            else:
                await body(bus.subscribe("ticker.>"))
    return got


@pytest.mark.parametrize("use_with", [True, False], ids=["async_with", "plain_for"])
@pytest.mark.parametrize("how", ["break", "exception", "cancel"])
async def test_no_subscription_left_after_leaving_loop(
    how: str, use_with: bool, autojump_clock: trio.testing.MockClock
) -> None:
    bus = Bus()
    if how == "exception":
        with pytest.RaisesGroup(_Boom):
            await _loop_and_leave(bus, how, use_with)
    else:
        assert [0, 1] == await _loop_and_leave(bus, how, use_with)
    assert () == bus.subscriptions()
    assert 0 == bus.statistics().subscriptions


async def test_plain_for_over_named_subscription_unregisters_on_break() -> None:
    bus = Bus()
    sub = bus.subscribe("ticker.>")
    bus.publish("ticker.a.b", 1)
    with trio.fail_after(5):
        async for _event in sub:
            break
    assert sub.closed
    assert () == bus.subscriptions()


async def test_cancelling_consumer_task_unregisters_plain_for() -> None:
    bus = Bus()

    async def consume() -> None:
        async for _event in bus.subscribe("ticker.>"):
            pass

    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(consume)
            await trio.testing.wait_all_tasks_blocked()
            assert 1 == len(bus.subscriptions())
            nursery.cancel_scope.cancel()
    assert () == bus.subscriptions()


async def test_leaving_loop_inside_async_with_keeps_subscription_until_block_ends() -> None:
    bus = Bus()
    with trio.fail_after(5):
        async with bus.subscribe("ticker.>") as sub:
            bus.publish("ticker.a.b", 1)
            bus.publish("ticker.a.b", 2)
            async for _event in sub:
                break
            assert (sub,) == bus.subscriptions()
            assert 2 == await sub.receive()
    assert () == bus.subscriptions()


async def test_closing_async_generator_around_loop_unregisters() -> None:
    bus = Bus()

    async def relay() -> AsyncIterator[object]:
        async for event in bus.subscribe("ticker.>"):
            yield event

    gen = relay()
    bus_ready = gen.asend(None)
    with trio.move_on_after(0.01):
        await bus_ready
    assert () == bus.subscriptions()

    gen2 = relay()
    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:

            async def feed() -> None:
                await trio.testing.wait_all_tasks_blocked()
                bus.publish("ticker.a.b", 1)

            nursery.start_soon(feed)
            assert 1 == await gen2.__anext__()
    assert 1 == len(bus.subscriptions())
    await gen2.aclose()
    assert () == bus.subscriptions()


def test_unused_subscription_is_unregistered_when_dropped() -> None:
    bus = Bus()
    bus.subscribe("ticker.>")
    gc.collect()
    assert 0 == bus.statistics().subscriptions
    kept = bus.subscribe("ticker.>")
    assert (kept,) == bus.subscriptions()


def test_has_subscribers_follows_matching_subscriptions_as_they_come_and_go() -> None:
    bus = Bus()
    topic = "consolidated.book.BTC-USDT-SPOT"
    assert not bus.has_subscribers(topic)
    other = bus.subscribe("consolidated.bbo.>")
    assert not bus.has_subscribers(topic)
    books = bus.subscribe("consolidated.book.*")
    assert bus.has_subscribers(topic)
    assert not bus.has_subscribers("consolidated.book.BTC-USDT-SPOT.extra")
    books.close()
    assert not bus.has_subscribers(topic)
    other.close()


def test_has_subscribers_rejects_an_invalid_topic() -> None:
    with pytest.raises(ValueError, match="wildcard"):
        Bus().has_subscribers("consolidated.book.*")


# -- listeners ------------------------------------------------------------------


def test_a_listener_is_called_inside_each_matching_publish_in_order() -> None:
    bus = Bus()
    heard: list[tuple[str, object]] = []
    with bus.listen("orderbook.>", lambda topic, event: heard.append((topic, event))):
        bus.publish("orderbook.okx.BTC-USDT-SPOT", 1)
        bus.publish("ticker.okx.BTC-USDT-SPOT", 2)
        assert [("orderbook.okx.BTC-USDT-SPOT", 1)] == heard  # before publish returned
        bus.publish("orderbook.bybit.BTC-USDT-PERP", 3)
        assert 1 == bus.statistics().listeners
    bus.publish("orderbook.okx.BTC-USDT-SPOT", 4)

    assert [("orderbook.okx.BTC-USDT-SPOT", 1), ("orderbook.bybit.BTC-USDT-PERP", 3)] == heard
    assert 0 == bus.statistics().listeners


async def test_a_listener_and_a_subscription_of_the_same_topic_both_get_every_event() -> None:
    bus = Bus()
    heard: list[object] = []
    with bus.listen("trade.>", lambda _topic, event: heard.append(event)):
        async with bus.subscribe("trade.>") as trades:
            for n in range(3):
                bus.publish("trade.okx.BTC-USDT-SPOT", n)
            received = [trades.receive_nowait() for _ in range(3)]

    assert [0, 1, 2] == heard == received


def test_closing_the_bus_tells_each_listener_once_and_refuses_new_ones() -> None:
    bus = Bus()
    closed: list[str] = []
    listener = bus.listen("risk.alert", lambda _t, _e: None, on_close=lambda: closed.append("x"))
    bus.close()
    bus.close()
    listener.close()

    assert ["x"] == closed
    assert listener.closed
    with pytest.raises(LocalError, match="closed"):
        bus.listen("risk.alert", lambda _t, _e: None)


def test_listen_rejects_an_invalid_pattern_naming_it() -> None:
    with pytest.raises(ValueError, match=r"'orderbook\.>\.x'"):
        Bus().listen("orderbook.>.x", lambda _t, _e: None)


def test_has_subscribers_counts_a_listener() -> None:
    bus = Bus()
    topic = "orderbook.okx.BTC-USDT-SPOT"
    with bus.listen("orderbook.*.*", lambda _t, _e: None):
        assert bus.has_subscribers(topic)
    assert not bus.has_subscribers(topic)
