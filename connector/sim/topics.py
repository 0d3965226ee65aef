"""Topics and subscriptions: who hears what on a front-end's websockets.

A :class:`Topic` is one named stream (``btcusdt@depth``, ``orderbook.50.BTCUSDT``,
``books:BTC-USDT``) with its subscribed connections; :meth:`Topic.publish`
fans one frame out to all of them (through each connection's fault plan and
bounded send buffer, see :mod:`connector.sim.ws`). Venue topics subclass it
to keep their stream state (a book view, the last ticker) and, where a venue
sends something different to one connection (a Bybit restart snapshot, an
OKX corrupted checksum, a Binance combined-stream wrapper), to override
:meth:`Topic.publish` or :meth:`Topic.detach`.

A :class:`TopicBoard` is one front-end's registry: topics by key, each
connection's subscriptions in the order it made them, subscribe, unsubscribe
and dropping everything of a connection when it closes. Its
:meth:`TopicBoard.statistics` counts connections, topics, subscriptions and
frames.

Memory: a board holds one entry per topic created (with ``prune`` a topic
leaves the board with its last subscriber) and one per subscription.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Generic, TypeVar

import attrs

from connector.sim.ws import WsConnection

__all__ = ["Topic", "TopicBoard", "TopicStatistics"]


class Topic:
    """One named stream and the connections subscribed to it.

    Attributes:
        name: The stream name; also the ``stream`` the fault plan matches.
        subs: Subscribed connections by connection id, in subscription order.
        published: Messages published while someone listened.
        sent: Frames handed to connections.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.subs: dict[int, WsConnection] = {}
        self.published = 0
        self.sent = 0

    def attach(self, conn: WsConnection) -> None:
        """Add a subscriber."""
        self.subs[conn.conn_id] = conn

    def detach(self, conn_id: int) -> None:
        """Remove a subscriber (no-op when it is not one)."""
        self.subs.pop(conn_id, None)

    def publish(self, frame: str) -> None:
        """Send ``frame`` to every subscriber (nothing happens without one)."""
        subs = self.subs
        if not subs:
            return
        self.published += 1
        conns = list(subs.values())
        self.sent += len(conns)
        name = self.name
        for conn in conns:
            conn.send(frame, name)


K = TypeVar("K")
T = TypeVar("T", bound=Topic)


@attrs.frozen(kw_only=True)
class TopicStatistics:
    """Counters of one :class:`TopicBoard`.

    Attributes:
        connections: Connections registered now.
        topics: Topics with at least one subscriber now.
        subscriptions: (connection, topic) pairs now.
        published: Messages published to at least one subscriber, ever.
        sent: Frames handed to connections, ever.
    """

    connections: int
    topics: int
    subscriptions: int
    published: int
    sent: int


class TopicBoard(Generic[K, T]):
    """Topics by key and the subscriptions of every connection.

    Args:
        prune: Forget a topic once its last subscriber leaves (for topics
            that keep no state worth keeping).
    """

    def __init__(self, *, prune: bool = False) -> None:
        self._prune = prune
        self._topics: dict[K, T] = {}
        self._conns: dict[int, dict[K, T]] = {}
        self._gone_published = 0
        self._gone_sent = 0

    def get(self, key: K) -> T | None:
        """The topic of ``key``, or None."""
        return self._topics.get(key)

    def active(self, key: K) -> T | None:
        """The topic of ``key`` when someone listens to it, else None."""
        topic = self._topics.get(key)
        return topic if topic is not None and topic.subs else None

    def topic(self, key: K, create: Callable[[], T]) -> T:
        """The topic of ``key``, made with ``create()`` the first time."""
        topic = self._topics.get(key)
        if topic is None:
            topic = create()
            self._topics[key] = topic
        return topic

    def topics(self) -> Iterable[T]:
        """Every topic, in creation order."""
        return self._topics.values()

    def connect(self, conn: WsConnection) -> None:
        """Register ``conn``; its subscriptions are dropped when it closes."""
        if conn.conn_id in self._conns:
            return
        self._conns[conn.conn_id] = {}
        conn.on_close.append(lambda: self.disconnect(conn))

    def disconnect(self, conn: WsConnection) -> None:
        """Drop every subscription of ``conn`` and forget it (idempotent)."""
        mine = self._conns.pop(conn.conn_id, None)
        if not mine:
            return
        for key, topic in list(mine.items()):
            self._leave(conn.conn_id, key, topic)
        mine.clear()

    async def serve(self, conn: WsConnection, on_message: Callable[[str | bytes], None]) -> None:
        """A websocket session: ``on_message`` for each client message until it closes.

        The connection is registered for the session and its subscriptions
        are dropped when it ends.
        """
        self.connect(conn)
        try:
            while (message := await conn.receive()) is not None:
                on_message(message)
        finally:
            self.disconnect(conn)

    def subscriptions(self, conn: WsConnection) -> Mapping[K, T]:
        """``conn``'s subscriptions in the order it made them."""
        return self._conns.get(conn.conn_id, {})

    def subscribe(self, conn: WsConnection, key: K, topic: T) -> bool:
        """Subscribe ``conn`` to ``topic`` under ``key``; False when it already is."""
        mine = self._conns.get(conn.conn_id)
        if mine is None:
            self.connect(conn)
            mine = self._conns[conn.conn_id]
        if key in mine:
            return False
        self._topics.setdefault(key, topic)
        mine[key] = topic
        topic.attach(conn)
        return True

    def unsubscribe(self, conn: WsConnection, key: K) -> T | None:
        """End ``conn``'s subscription to ``key``; the topic, or None when there was none."""
        mine = self._conns.get(conn.conn_id)
        topic = mine.pop(key, None) if mine is not None else None
        if topic is not None:
            self._leave(conn.conn_id, key, topic)
        return topic

    def _leave(self, conn_id: int, key: K, topic: T) -> None:
        topic.detach(conn_id)
        if self._prune and not topic.subs and self._topics.get(key) is topic:
            del self._topics[key]
            self._gone_published += topic.published
            self._gone_sent += topic.sent

    def sent_by_type(self) -> dict[type[T], int]:
        """Frames sent per topic class (topics still on the board)."""
        out: dict[type[T], int] = {}
        for topic in self._topics.values():
            kind = type(topic)
            out[kind] = out.get(kind, 0) + topic.sent
        return out

    def statistics(self) -> TopicStatistics:
        """A frozen snapshot of the board's counters."""
        topics = self._topics.values()
        return TopicStatistics(
            connections=len(self._conns),
            topics=sum(1 for t in topics if t.subs),
            subscriptions=sum(len(mine) for mine in self._conns.values()),
            published=self._gone_published + sum(t.published for t in topics),
            sent=self._gone_sent + sum(t.sent for t in topics),
        )
