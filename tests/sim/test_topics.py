"""The topic board: subscriptions, fan-out, dropping a closed connection, counters."""

from __future__ import annotations

from connector.sim.faults import FaultInjector
from connector.sim.topics import Topic, TopicBoard, TopicStatistics
from connector.sim.ws import WsConnection, WsSettings


def _conn(conn_id: int, injector: FaultInjector) -> WsConnection:
    return WsConnection(
        conn_id=conn_id,
        venue="test",
        market=None,
        path="/ws",
        query={},
        headers={},
        client="127.0.0.1",
        settings=WsSettings(send_buffer=100),
        injector=injector,
    )


def _queued(conn: WsConnection) -> list[object]:
    return list(conn._queue)


async def test_publish_reaches_every_subscriber_once_and_counts() -> None:
    injector = FaultInjector(None)
    a, b = _conn(1, injector), _conn(2, injector)
    board: TopicBoard[str, Topic] = TopicBoard()
    topic = board.topic("t", lambda: Topic("t"))
    assert board.subscribe(a, "t", topic)
    assert board.subscribe(b, "t", topic)
    assert not board.subscribe(a, "t", topic)

    topic.publish("x")

    assert (["x"], ["x"]) == (_queued(a), _queued(b))
    assert TopicStatistics(connections=2, topics=1, subscriptions=2, published=1, sent=2) == (
        board.statistics()
    )


async def test_publish_without_subscribers_sends_and_counts_nothing() -> None:
    board: TopicBoard[str, Topic] = TopicBoard()
    topic = board.topic("t", lambda: Topic("t"))
    topic.publish("x")
    assert TopicStatistics(connections=0, topics=0, subscriptions=0, published=0, sent=0) == (
        board.statistics()
    )


async def test_subscriptions_keep_their_order_and_unsubscribe_ends_one() -> None:
    conn = _conn(1, FaultInjector(None))
    board: TopicBoard[str, Topic] = TopicBoard()
    for name in ("c", "a", "b"):
        board.subscribe(conn, name, board.topic(name, lambda n=name: Topic(n)))  # type: ignore[misc]
    assert ["c", "a", "b"] == list(board.subscriptions(conn))
    removed = board.unsubscribe(conn, "a")
    assert removed is board.get("a")
    assert removed is not None and not removed.subs
    assert None is board.unsubscribe(conn, "a")
    assert ["c", "b"] == list(board.subscriptions(conn))


async def test_closing_a_connection_drops_all_its_subscriptions() -> None:
    injector = FaultInjector(None)
    a, b = _conn(1, injector), _conn(2, injector)
    board: TopicBoard[str, Topic] = TopicBoard()
    board.connect(a)
    topic = board.topic("t", lambda: Topic("t"))
    board.subscribe(a, "t", topic)
    board.subscribe(b, "t", topic)

    a.close(1000, "bye")

    assert [2] == list(topic.subs)
    assert {} == dict(board.subscriptions(a))
    assert 1 == board.statistics().connections


async def test_a_pruning_board_forgets_an_abandoned_topic_but_keeps_its_counts() -> None:
    conn = _conn(1, FaultInjector(None))
    board: TopicBoard[str, Topic] = TopicBoard(prune=True)
    topic = board.topic("t", lambda: Topic("t"))
    board.subscribe(conn, "t", topic)
    topic.publish("x")
    board.unsubscribe(conn, "t")
    assert None is board.get("t")
    assert (1, 1) == (board.statistics().published, board.statistics().sent)


class _Other(Topic):
    pass


async def test_sent_frames_are_counted_per_topic_class() -> None:
    conn = _conn(1, FaultInjector(None))
    board: TopicBoard[str, Topic] = TopicBoard()
    plain = board.topic("p", lambda: Topic("p"))
    other = board.topic("o", lambda: _Other("o"))
    board.subscribe(conn, "p", plain)
    board.subscribe(conn, "o", other)
    plain.publish("1")
    plain.publish("2")
    other.publish("3")
    assert {Topic: 2, _Other: 1} == board.sent_by_type()
