"""Property tests of the bus: matcher vs a reference, overflow policies vs reference models."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.bus import Bus, Subscription, topic_matches
from connector.errors import SubscriptionOverflow

# A small alphabet so that random patterns match random topics often.
_tokens = st.sampled_from(["a", "b", "c"])
_topics = st.lists(_tokens, min_size=1, max_size=4).map(".".join)
_patterns = st.builds(
    lambda body, tail: ".".join(body + ([">"] if tail else [])),
    st.lists(st.sampled_from(["a", "b", "*"]), min_size=0, max_size=4),
    st.booleans(),
).filter(bool)


def _reference_match(pattern: list[str], topic: list[str]) -> bool:
    """Token by token, recursively: the NATS rules read straight off the spec."""
    if not pattern:
        return not topic
    head, rest = pattern[0], pattern[1:]
    if head == ">":
        return len(topic) >= 1
    if not topic:
        return False
    if head == "*" or head == topic[0]:
        return _reference_match(rest, topic[1:])
    return False


@settings(max_examples=400, deadline=None)
@given(pattern=_patterns, topic=_topics)
def test_matcher_agrees_with_reference(pattern: str, topic: str) -> None:
    expected = _reference_match(pattern.split("."), topic.split("."))
    assert expected == topic_matches(pattern, topic)


@settings(max_examples=200, deadline=None)
@given(pattern=_patterns, topics=st.lists(_topics, min_size=1, max_size=12))
def test_bus_delivers_exactly_the_matching_topics(pattern: str, topics: list[str]) -> None:
    bus = Bus()
    sub = bus.subscribe(pattern, overflow="drop_oldest", buffer=100)
    for i, topic in enumerate(topics):
        bus.publish(topic, i)
    expected = [
        (t, i) for i, t in enumerate(topics) if _reference_match(pattern.split("."), t.split("."))
    ]
    got = []
    while True:
        try:
            got.append(sub.receive_item_nowait())
        except trio.WouldBlock:
            break
    assert expected == got


# A schedule is a list of steps: publish on topic index k (0..2), or receive (None).
_schedules = st.lists(st.one_of(st.integers(0, 2), st.none()), max_size=60)
_TOPICS = ["ticker.x.a", "ticker.x.b", "ticker.x.c"]


def _run(
    overflow: str, size: int, schedule: list[int | None], on_receive: Callable[[object], None]
) -> tuple[Subscription, list[tuple[str, int]]]:
    """Run ``schedule`` against a real subscription; return it and what was published."""
    bus = Bus()
    sub = bus.subscribe("ticker.>", overflow=overflow, buffer=size)
    published: list[tuple[str, int]] = []
    routed = 0  # published while the subscription was registered
    for step in schedule:
        if step is None:
            try:
                on_receive(sub.receive_item_nowait())
            except (trio.WouldBlock, SubscriptionOverflow) as exc:
                on_receive(exc)
        else:
            item = (_TOPICS[step], len(published))
            published.append(item)
            routed += not sub.closed
            bus.publish(*item)
    stats = sub.statistics()
    assert routed == stats.delivered + stats.dropped + stats.buffered
    return sub, published


@settings(max_examples=300, deadline=None)
@given(size=st.integers(1, 4), schedule=_schedules)
def test_drop_oldest_matches_reference_model(size: int, schedule: list[int | None]) -> None:
    model: list[tuple[str, int]] = []
    dropped = 0
    received: list[object] = []
    expected: list[object] = []
    counter = 0
    for step in schedule:
        if step is None:
            expected.append(model.pop(0) if model else trio.WouldBlock)
        else:
            if len(model) == size:
                model.pop(0)
                dropped += 1
            model.append((_TOPICS[step], counter))
            counter += 1

    sub, _ = _run("drop_oldest", size, schedule, received.append)
    normalized = [type(r) if isinstance(r, BaseException) else r for r in received]
    assert expected == normalized
    assert (dropped, len(model)) == (sub.statistics().dropped, sub.statistics().buffered)


@settings(max_examples=300, deadline=None)
@given(size=st.integers(1, 4), schedule=_schedules)
def test_latest_matches_reference_model(size: int, schedule: list[int | None]) -> None:
    # Pending topics in first-arrival order, each with its newest event.
    model: list[list[object]] = []
    dropped = 0
    expected: list[object] = []
    counter = 0
    for step in schedule:
        if step is None:
            expected.append(tuple(model.pop(0)) if model else trio.WouldBlock)
        else:
            topic = _TOPICS[step]
            slot = next((entry for entry in model if entry[0] == topic), None)
            if slot is not None:
                slot[1] = counter
                dropped += 1
            else:
                if len(model) == size:
                    model.pop(0)
                    dropped += 1
                model.append([topic, counter])
            counter += 1

    received: list[object] = []
    sub, _ = _run("latest", size, schedule, received.append)
    normalized = [type(r) if isinstance(r, BaseException) else r for r in received]
    assert expected == normalized
    assert (dropped, len(model)) == (sub.statistics().dropped, sub.statistics().buffered)


@settings(max_examples=300, deadline=None)
@given(size=st.integers(1, 4), schedule=_schedules)
def test_fail_raises_exactly_on_overflow_and_never_delivers_a_gap(
    size: int, schedule: list[int | None]
) -> None:
    buffered = 0
    failed = False
    expected: list[object] = []
    for step in schedule:
        if step is None:
            if failed:
                expected.append(SubscriptionOverflow)
            elif buffered:
                buffered -= 1
                expected.append("event")
            else:
                expected.append(trio.WouldBlock)
        elif not failed:
            if buffered == size:
                failed = True
            else:
                buffered += 1

    received: list[object] = []
    sub, published = _run("fail", size, schedule, received.append)
    shape = [type(r) if isinstance(r, BaseException) else "event" for r in received]
    assert expected == shape
    delivered = [r for r in received if not isinstance(r, BaseException)]
    assert published[: len(delivered)] == delivered
    assert failed == sub.closed


@pytest.mark.parametrize("overflow", ["drop_oldest", "latest", "fail"])
def test_policies_never_exceed_their_buffer(overflow: str) -> None:
    bus = Bus()
    sub = bus.subscribe("ticker.>", overflow=overflow, buffer=3)
    for i in range(3):
        bus.publish(f"ticker.x.{i}", i)
    assert 3 == sub.statistics().buffered
    bus.publish("ticker.x.new", 99)
    assert 3 >= sub.statistics().buffered
