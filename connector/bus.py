"""The in-process topic bus: publish without blocking, subscribe by pattern.

Topics are dot-separated tokens, ``{type}.{venue}.{key}``, for example
``ticker.binance.BTC-USDT-SPOT``, ``order.okx.filled`` or ``risk.alert``.
Patterns follow NATS: ``*`` matches exactly one token and ``>`` (only as the
last token) matches one or more trailing tokens::

    bus = Bus()
    async with bus.subscribe("ticker.*.BTC-USDT-SPOT") as ticks:
        async for tick in ticks:
            ...
    async for order_event in bus.subscribe("order.>"):
        ...

:meth:`Bus.publish` never awaits and never blocks: matching is cached per
topic, so a publish is a dict lookup plus one non-blocking put per matching
subscription. Each subscription has a bounded buffer and an :class:`Overflow`
policy chosen at subscribe time (defaults depend on the topic type, see
:func:`default_overflow`).

A subscription is registered with the bus as soon as :meth:`Bus.subscribe`
returns, so nothing published after that is missed. It is unregistered when
any of these happens:

* its ``async with`` block is left;
* a plain ``async for`` loop over it (not inside ``async with``) is left, by
  ``break``, an exception, cancellation or the end of iteration;
* :meth:`Subscription.close` is called;
* the last reference to the :class:`Subscription` object goes away (a
  subscription that is never entered nor iterated does not stay registered);
* a ``fail`` subscription overflows, or the bus is closed.

:meth:`Bus.listen` registers a :class:`Listener` instead: a callback run inside
each matching publish, with no buffer and no task to wake. It is for the
library's own consumers that only note what they see (the aggregator follows
every book update this way, so a user's subscriber is the only task a book
update wakes).
"""

from __future__ import annotations

import weakref
from collections import OrderedDict, deque
from collections.abc import Callable
from types import TracebackType

import attrs
import structlog
import trio

from connector.errors import LocalError, SubscriptionOverflow
from connector.topics import (
    CRITICAL_TYPES,
    DEFAULT_BUFFER_DROP_OLDEST,
    DEFAULT_BUFFER_FAIL,
    DEFAULT_BUFFER_LATEST,
    MARKET_DATA_TYPES,
    Overflow,
    default_buffer,
    default_overflow,
    matches,
    topic_matches,
    validate_pattern,
    validate_topic,
)

__all__ = [
    "CRITICAL_TYPES",
    "DEFAULT_BUFFER_DROP_OLDEST",
    "DEFAULT_BUFFER_FAIL",
    "DEFAULT_BUFFER_LATEST",
    "MARKET_DATA_TYPES",
    "Bus",
    "BusStatistics",
    "Listener",
    "Overflow",
    "Subscription",
    "SubscriptionStatistics",
    "default_overflow",
    "topic_matches",
    "validate_pattern",
    "validate_topic",
]

log = structlog.get_logger(__name__)

# The per-topic match cache is cleared when it grows past this many topics, so
# a stream of ever-new topics cannot grow memory without bound.
_CACHE_LIMIT = 65_536


@attrs.frozen(kw_only=True)
class SubscriptionStatistics:
    """A snapshot of one subscription.

    Every event routed to the subscription is exactly one of ``delivered``,
    ``dropped`` (discarded by the overflow policy: dropped oldest, conflated
    away, or discarded when a ``fail`` subscription overflowed) or ``buffered``.
    """

    pattern: str
    overflow: Overflow
    buffer_size: int
    delivered: int
    dropped: int
    buffered: int


@attrs.frozen(kw_only=True)
class BusStatistics:
    """A snapshot of the bus: live subscriptions and listeners, publishes so far, cached topics."""

    subscriptions: int
    published: int
    cached_topics: int
    listeners: int


class _Channel:
    """The bus-side state of one subscription: buffer, policy, counters, waiters.

    The bus holds channels strongly (the hot path calls ``put``); users hold the
    :class:`Subscription` handle, whose loss closes the channel.
    """

    def __init__(
        self,
        bus: Bus,
        pattern: str,
        tokens: tuple[str, ...],
        overflow: Overflow,
        size: int,
    ) -> None:
        self.bus: Bus | None = bus
        self.pattern = pattern
        self.tokens = tokens
        self.overflow = overflow
        self.size = size
        self.delivered = 0
        self.dropped = 0
        self.failed = False
        self.closed = False  # closed by its consumer: nothing more is received
        self.ended = False  # the bus closed: buffered events remain receivable
        self.latest = overflow is Overflow.LATEST
        self.queue: deque[tuple[str, object]] = deque(
            maxlen=size if overflow is Overflow.DROP_OLDEST else None
        )
        self.pending: OrderedDict[str, object] = OrderedDict()
        # Tasks waiting in receive(), first come first woken (a lighter ParkingLot:
        # waking the consumer is most of a publish's cost).
        self.waiters: list[trio.lowlevel.Task] = []
        self.handle: weakref.ref[Subscription] | None = None
        self.put: Callable[[str, object], None]
        if overflow is Overflow.DROP_OLDEST:
            self.put = self._put_drop_oldest
        elif overflow is Overflow.LATEST:
            self.put = self._put_latest
        else:
            self.put = self._put_fail

    # -- producer side (sync, never blocks) ---------------------------------

    def _put_drop_oldest(self, topic: str, event: object) -> None:
        queue = self.queue
        if len(queue) == self.size:
            self.dropped += 1  # the deque's maxlen discards the oldest on append
        queue.append((topic, event))
        if self.waiters:
            trio.lowlevel.reschedule(self.waiters.pop(0))

    def _put_latest(self, topic: str, event: object) -> None:
        pending = self.pending
        if topic in pending:
            pending[topic] = event  # keeps the topic's place (first arrival)
            self.dropped += 1
            return
        if len(pending) == self.size:
            pending.popitem(last=False)
            self.dropped += 1
        pending[topic] = event
        if self.waiters:
            trio.lowlevel.reschedule(self.waiters.pop(0))

    def _put_fail(self, topic: str, event: object) -> None:
        queue = self.queue
        if len(queue) >= self.size:
            self._fail()
            return
        queue.append((topic, event))
        if self.waiters:
            trio.lowlevel.reschedule(self.waiters.pop(0))

    def _fail(self) -> None:
        self.dropped += len(self.queue) + 1
        self.queue.clear()
        self.failed = True
        log.warning("bus.subscription_overflow", pattern=self.pattern, buffer=self.size)
        self._detach()

    # -- consumer side -------------------------------------------------------

    def buffered(self) -> int:
        return len(self.pending) if self.latest else len(self.queue)

    def overflow_error(self) -> SubscriptionOverflow:
        return SubscriptionOverflow(
            f"subscription {self.pattern!r} overflowed its buffer of {self.size} events "
            "(overflow='fail'); re-read state, then subscribe again"
        )

    def receive_nowait(self) -> tuple[str, object]:
        if self.latest:
            if self.pending:
                self.delivered += 1
                return self.pending.popitem(last=False)
        elif self.queue:
            self.delivered += 1
            return self.queue.popleft()
        if self.failed:
            raise self.overflow_error()
        if self.closed:
            raise trio.ClosedResourceError(f"subscription {self.pattern!r} is closed")
        if self.ended:
            raise trio.EndOfChannel(f"the bus of subscription {self.pattern!r} is closed")
        raise trio.WouldBlock

    def _would_block(self) -> bool:
        """Nothing buffered and more may come (not closed, failed or ended: all detach)."""
        return not (self.pending if self.latest else self.queue) and self.bus is not None

    async def receive(self) -> tuple[str, object]:
        await trio.lowlevel.checkpoint_if_cancelled()
        if self._would_block():
            while self._would_block():
                await self._park()
            return self.receive_nowait()
        item = self.receive_nowait()
        await trio.lowlevel.cancel_shielded_checkpoint()
        return item

    async def _park(self) -> None:
        """Wait until a put or a close reschedules this task (or it is cancelled)."""
        task = trio.lowlevel.current_task()
        waiters = self.waiters
        waiters.append(task)

        def abort(_: trio.lowlevel.RaiseCancelT) -> trio.lowlevel.Abort:
            waiters.remove(task)
            return trio.lowlevel.Abort.SUCCEEDED

        await trio.lowlevel.wait_task_rescheduled(abort)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.queue.clear()
        self.pending.clear()
        self._detach()

    def end(self) -> None:
        self.ended = True
        self._detach()

    def _detach(self) -> None:
        bus, self.bus = self.bus, None
        if bus is not None:
            bus._unregister(self)
        waiters, self.waiters = self.waiters, []
        for task in waiters:
            trio.lowlevel.reschedule(task)

    def statistics(self) -> SubscriptionStatistics:
        return SubscriptionStatistics(
            pattern=self.pattern,
            overflow=self.overflow,
            buffer_size=self.size,
            delivered=self.delivered,
            dropped=self.dropped,
            buffered=self.buffered(),
        )


class _IteratorBase:
    """Iterates a subscription; leaving the loop closes it unless ``async with`` owns it.

    A ``break`` or an exception in the loop body drops the last reference to
    this object, and ``__del__`` closes the subscription at once.
    """

    __slots__ = ("_owns", "_sub")

    def __init__(self, sub: Subscription) -> None:
        self._sub = sub
        self._owns = not sub._entered

    async def _next(self) -> tuple[str, object]:
        try:
            return await self._sub._channel.receive()
        except (trio.EndOfChannel, trio.ClosedResourceError):
            self._finish()
            raise StopAsyncIteration from None
        except BaseException:
            self._finish()
            raise

    def _finish(self) -> None:
        if self._owns:
            self._sub.close()

    async def aclose(self) -> None:
        """Stop iterating; closes the subscription unless ``async with`` owns it."""
        self._finish()
        await trio.lowlevel.checkpoint()

    def __del__(self) -> None:
        self._finish()


class _EventIterator(_IteratorBase):
    __slots__ = ()

    def __aiter__(self) -> _EventIterator:
        return self

    async def __anext__(self) -> object:
        return (await self._next())[1]


class _ItemIterator(_IteratorBase):
    __slots__ = ()

    def __aiter__(self) -> _ItemIterator:
        return self

    async def __anext__(self) -> tuple[str, object]:
        return await self._next()


class Subscription:
    """Events whose topic matches a pattern, from the moment of subscribing.

    Get one from :meth:`Bus.subscribe`. Use it as ``async with bus.subscribe(p)
    as sub: async for event in sub`` or as ``async for event in
    bus.subscribe(p)``; see the module docstring for when it is unregistered.
    Inside ``async with``, leaving an ``async for`` loop keeps the subscription
    open until the block ends.

    The buffer holds at most ``buffer`` events (``latest``: distinct topics);
    what happens beyond that is the :class:`Overflow` policy. Iteration ends
    cleanly when the subscription is closed, or when the bus is closed and the
    buffered events have been delivered; for a ``fail`` subscription that
    overflowed it raises :class:`~connector.errors.SubscriptionOverflow`.
    """

    def __init__(self, channel: _Channel) -> None:
        self._channel = channel
        self._entered = False

    @property
    def pattern(self) -> str:
        """The pattern given to ``subscribe``."""
        return self._channel.pattern

    @property
    def overflow(self) -> Overflow:
        """The overflow policy in force."""
        return self._channel.overflow

    @property
    def closed(self) -> bool:
        """Whether no new event can arrive (closed, bus closed, or failed)."""
        return self._channel.bus is None

    async def receive(self) -> object:
        """Wait for and return the next event.

        Raises:
            SubscriptionOverflow: a ``fail`` subscription overflowed.
            trio.ClosedResourceError: the subscription was closed.
            trio.EndOfChannel: the bus was closed and nothing is buffered.
        """
        return (await self._channel.receive())[1]

    async def receive_item(self) -> tuple[str, object]:
        """Like :meth:`receive`, but return ``(topic, event)``."""
        return await self._channel.receive()

    def receive_nowait(self) -> object:
        """Return the next buffered event without waiting.

        Raises:
            trio.WouldBlock: nothing is buffered yet.
            SubscriptionOverflow: a ``fail`` subscription overflowed.
            trio.ClosedResourceError: the subscription was closed.
            trio.EndOfChannel: the bus was closed and nothing is buffered.
        """
        return self._channel.receive_nowait()[1]

    def receive_item_nowait(self) -> tuple[str, object]:
        """Like :meth:`receive_nowait`, but return ``(topic, event)``."""
        return self._channel.receive_nowait()

    def items(self) -> _ItemIterator:
        """Iterate ``(topic, event)`` pairs; leaving the loop behaves as for events."""
        return _ItemIterator(self)

    def close(self) -> None:
        """Unregister from the bus and discard the buffer; idempotent, never blocks."""
        self._channel.close()

    def statistics(self) -> SubscriptionStatistics:
        """A frozen snapshot of this subscription's counters."""
        return self._channel.statistics()

    def __aiter__(self) -> _EventIterator:
        return _EventIterator(self)

    async def __aenter__(self) -> Subscription:
        self._entered = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        # Abandoned without close: nobody can receive any more, so stop routing.
        self._channel.close()

    def __repr__(self) -> str:
        ch = self._channel
        return (
            f"<Subscription {ch.pattern!r} {ch.overflow.value} "
            f"buffered={ch.buffered()}/{ch.size} closed={self.closed}>"
        )


class Listener:
    """A synchronous consumer: ``callback(topic, event)`` runs inside each matching publish.

    Get one from :meth:`Bus.listen`; ``with bus.listen(...)`` closes it at the end of
    the block. Nothing is buffered and no task is woken, so the callback must be
    quick, must not block and must not raise: it runs in the publisher's task (a
    connection's, for market data), and an exception would reach the publisher.
    ``on_close`` is called once if the bus closes while the listener is registered.
    """

    def __init__(
        self,
        bus: Bus,
        pattern: str,
        tokens: tuple[str, ...],
        callback: Callable[[str, object], None],
        on_close: Callable[[], None] | None,
    ) -> None:
        self.bus: Bus | None = bus
        self.pattern = pattern
        self.tokens = tokens
        self.put = callback
        self._on_close = on_close

    @property
    def closed(self) -> bool:
        """Whether it no longer receives anything (closed, or the bus closed)."""
        return self.bus is None

    def close(self) -> None:
        """Unregister from the bus; idempotent."""
        bus, self.bus = self.bus, None
        if bus is not None:
            bus._forget(self)

    def end(self) -> None:
        """The bus is closing: unregistered, tell the owner."""
        if self.bus is None:
            return
        self.close()
        if self._on_close is not None:
            self._on_close()

    def __enter__(self) -> Listener:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Listener {self.pattern!r} closed={self.closed}>"


class Bus:
    """Routes published events to the subscriptions whose pattern matches the topic.

    :meth:`publish` is synchronous and never blocks; it may be called from any
    code running in the trio thread (e.g. a connection task). Matches are cached
    per topic (at most 65,536 topics; past that the cache starts over) and the
    cache is cleared on every subscribe and unsubscribe.
    """

    def __init__(self) -> None:
        self._channels: dict[_Channel, None] = {}
        self._listeners: dict[Listener, None] = {}
        self._cache: dict[str, tuple[Callable[[str, object], None], ...]] = {}
        self._published = 0
        self._closed = False

    def publish(self, topic: str, event: object) -> None:
        """Hand ``event`` to every subscription matching ``topic``; never blocks.

        Raises:
            ValueError: ``topic`` is not a valid topic (checked once per topic).
        """
        self._published += 1
        try:
            puts = self._cache[topic]
        except KeyError:
            puts = self._resolve(topic)
        for put in puts:
            put(topic, event)

    def has_subscribers(self, topic: str) -> bool:
        """Whether a :meth:`publish` on ``topic`` now would reach any subscription or listener.

        As cheap as a publish to nobody (the same per-topic cache), so a
        publisher can skip building an event that nobody would receive.

        Raises:
            ValueError: ``topic`` is not a valid topic (checked once per topic).
        """
        try:
            puts = self._cache[topic]
        except KeyError:
            puts = self._resolve(topic)
        return bool(puts)

    def _resolve(self, topic: str) -> tuple[Callable[[str, object], None], ...]:
        tokens = validate_topic(topic)
        consumers: list[Listener | _Channel] = [*self._listeners, *self._channels]
        puts = tuple(c.put for c in consumers if matches(c.tokens, tokens))
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[topic] = puts
        return puts

    def subscribe(
        self,
        pattern: str,
        *,
        buffer: int | None = None,
        overflow: Overflow | str | None = None,
    ) -> Subscription:
        """Start receiving events whose topic matches ``pattern``.

        Args:
            pattern: Dot-separated tokens; ``*`` matches one token, a final
                ``>`` one or more.
            buffer: Bound of the buffer: events, or distinct topics for
                ``latest``. Defaults to 1024 (``drop_oldest``, ``latest``) or
                4096 (``fail``).
            overflow: Policy when the buffer is full; defaults by topic type,
                see :func:`default_overflow`.

        Returns:
            A registered subscription (see :class:`Subscription`).

        Raises:
            ValueError: invalid pattern, buffer or overflow name.
            LocalError: the bus is closed.
        """
        tokens = validate_pattern(pattern)
        if overflow is None:
            policy = default_overflow(pattern)
        else:
            try:
                policy = Overflow(overflow)
            except ValueError:
                choices = ", ".join(repr(o.value) for o in Overflow)
                raise ValueError(
                    f"invalid overflow {overflow!r} for pattern {pattern!r}: use one of {choices}"
                ) from None
        size = default_buffer(policy) if buffer is None else buffer
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"invalid buffer {buffer!r} for pattern {pattern!r}: must be >= 1")
        if self._closed:
            raise LocalError(f"cannot subscribe to {pattern!r}: the bus is closed")
        channel = _Channel(self, pattern, tokens, policy, size)
        sub = Subscription(channel)
        channel.handle = weakref.ref(sub)
        self._channels[channel] = None
        self._cache.clear()
        return sub

    def listen(
        self,
        pattern: str,
        callback: Callable[[str, object], None],
        *,
        on_close: Callable[[], None] | None = None,
    ) -> Listener:
        """Call ``callback(topic, event)`` inside every publish whose topic matches ``pattern``.

        For the library's own quick, synchronous consumers (see :class:`Listener`);
        listeners are called before subscriptions are handed the event.

        Args:
            pattern: As for :meth:`subscribe`.
            callback: Called in the publisher's task; must not block or raise.
            on_close: Called once if the bus closes while the listener is registered.

        Raises:
            ValueError: invalid pattern.
            LocalError: the bus is closed.
        """
        tokens = validate_pattern(pattern)
        if self._closed:
            raise LocalError(f"cannot listen to {pattern!r}: the bus is closed")
        listener = Listener(self, pattern, tokens, callback, on_close)
        self._listeners[listener] = None
        self._cache.clear()
        return listener

    def _unregister(self, channel: _Channel) -> None:
        if channel in self._channels:
            del self._channels[channel]
            self._cache.clear()

    def _forget(self, listener: Listener) -> None:
        if listener in self._listeners:
            del self._listeners[listener]
            self._cache.clear()

    def subscriptions(self) -> tuple[Subscription, ...]:
        """The live (registered) subscriptions, oldest first."""
        live = []
        for channel in self._channels:
            sub = channel.handle() if channel.handle is not None else None
            if sub is not None:
                live.append(sub)
        return tuple(live)

    def statistics(self) -> BusStatistics:
        """A frozen snapshot of the bus counters."""
        return BusStatistics(
            subscriptions=len(self._channels),
            published=self._published,
            cached_topics=len(self._cache),
            listeners=len(self._listeners),
        )

    def close(self) -> None:
        """Unregister every subscription and listener and wake their consumers.

        Consumers first receive what is already buffered, then their loops end
        (``receive`` raises ``trio.EndOfChannel``); listeners' ``on_close`` is
        called. Later publishes go nowhere; later subscribes and listens raise
        :class:`~connector.errors.LocalError`. Idempotent.
        """
        self._closed = True
        for channel in list(self._channels):
            channel.end()
        for listener in list(self._listeners):
            listener.end()
        self._cache.clear()
