"""The venue session: the trio side of a venue, the same for every venue.

It builds the venue's supervision subtree (design.md section 3)::

    venue:<name>   one_for_one, 10 restarts in 60 s
    ├── clock        ClockSync on the venue's server-time endpoint
    └── market_data  instruments, websocket shards, snapshots and resyncs

and carries out what the venue's sans-I/O driver (:mod:`connector.venues.driver`)
describes. The :class:`VenueContext` (REST clients and limiters per host, the
clock, the connection budget) and the :class:`VenueFeed` (books and
publications) live as long as the session, so REST connections stay warm and
``Connector.order_book`` views stay valid across restarts of its tasks.
"""

from __future__ import annotations

import random
import ssl
import time
from collections.abc import Callable, Hashable, Mapping, Sequence

import attrs
import httpx
import structlog
import trio

from connector.book.keeper import KeeperStatistics
from connector.bus import Bus
from connector.capture import CaptureWriter
from connector.config.values import DEFAULT_REORDER_WINDOW
from connector.errors import ConnectorError, TransientError, UnknownInstrument
from connector.model import BookSnapshot, ConnectionEvent, Instrument, Market, Symbol
from connector.net.clock import ClockEstimate
from connector.net.ratelimit import Lane, LimiterStatistics
from connector.net.ws import (
    Answer,
    FrameHandler,
    Heartbeat,
    Watchdog,
    WsConnection,
    WsStatistics,
)
from connector.net.ws_transport import WsTransport
from connector.supervision import Backoff, ChildSpec, Restart, Strategy, Supervisor
from connector.venues.common import SymbolMap
from connector.venues.context import RestOutcome, VenueContext
from connector.venues.driver import (
    ConnectionPlan,
    HeartbeatRule,
    PagedInstruments,
    RestCall,
    StreamSpec,
    VenueDriver,
)
from connector.venues.feed import FeedStatistics, VenueFeed

__all__ = ["MarketDataService", "VenueSession", "VenueStatistics"]

log = structlog.get_logger(__name__)

BookKey = tuple[Market, Symbol]

_MAX_INSTRUMENT_PAGES = 50
"""Pages of one market's instrument list read at most (Bybit linear: 1,000 a page)."""

CHANGE_SPACING = 0.25
"""Seconds at least between the subscription frames one socket sends at run time
(symbols added and removed): under every venue's documented rate of client messages
(Binance spot: 5 a second, pongs included; beyond, it closes the socket)."""


@attrs.frozen(kw_only=True)
class VenueStatistics:
    """One venue's counters, as :meth:`connector.Connector.statistics` reports them.

    Attributes:
        feed: Frames and events decoded, malformed and unknown ones.
        books: Each followed book's keeper counters and state, by canonical symbol.
        connections: Each websocket's counters (empty before market data starts).
        limiters: Each REST host's limiter (base URL -> counters and tokens left).
        clock: The venue clock estimate (``None`` before the first sample).
    """

    feed: FeedStatistics
    books: Mapping[Symbol, KeeperStatistics]
    connections: tuple[WsStatistics, ...]
    limiters: Mapping[str, LimiterStatistics]
    clock: ClockEstimate | None


class VenueSession:
    """One venue: its context, its feed, its subtree.

    Args:
        driver: The venue.
        symbols: Canonical symbols to follow.
        channels: Channels to subscribe (book, trades, ticker, bbo).
        bus: Where events go.
        urls: Called when a URL is needed: ``{"<market>.rest": ..., "<market>.ws": ...}``
            (for the simulator the URLs exist only once it serves).
        stale_after: Seconds without a book message before that book is invalid
            (``None``: 30 s, or the venue's documented longest silence of a
            healthy book stream plus 15 s when that is longer, as on OKX).
        capture: Where ``connector record`` writes every frame and REST body.
        on_rest_outcome: Told of every REST request's outcome (the health breaker).
        transport: The REST clients' httpx transport (``None``: real sockets).
        ws_transport: The websockets' transport (``None``: our own client, ``WsClientTransport``).
        ssl_context: Called for the TLS context that checks the venue's certificates
            (see :class:`~connector.venues.context.VenueContext`).
        request_timeout: Seconds one REST request waits for its answer.
        reorder_window: Seconds a book holds deltas ahead of it, waiting for the
            missing ones (swapped frames), before it resyncs; 0: a gap resyncs at once.
    """

    DEFAULT_STALE_AFTER = 30.0
    """Seconds of silence that make a book stale when nothing else is configured."""

    def __init__(
        self,
        driver: VenueDriver,
        *,
        symbols: Sequence[Symbol],
        channels: Sequence[str],
        bus: Bus,
        urls: Callable[[], Mapping[str, str]],
        stale_after: float | None = None,
        capture: CaptureWriter | None = None,
        on_rest_outcome: RestOutcome | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        ws_transport: WsTransport | None = None,
        ssl_context: Callable[[], ssl.SSLContext | None] | None = None,
        request_timeout: float = 10.0,
        reorder_window: float = DEFAULT_REORDER_WINDOW,
    ) -> None:
        self.name = driver.name
        self.driver = driver
        self.adapter = driver.market_data
        self.wanted = tuple(symbols)
        self._markets = tuple(dict.fromkeys(self.adapter.market_for(s) for s in self.wanted))
        self.channels = tuple(channels)
        self.bus = bus
        self.stale_after = stale_after
        self.reorder_window = reorder_window
        self.symbols = SymbolMap(driver.name)
        self.market_data = MarketDataService(self)
        self.feed = VenueFeed(
            self.adapter,
            self.symbols,
            bus.publish,
            on_resync=self.market_data.request_resync,
            touch=self.market_data.touch,
            on_hold=self.market_data.hold if reorder_window > 0 else None,
        )
        self.context = VenueContext(
            driver,
            markets=self.markets(),
            urls=urls,
            capture=capture,
            on_rest_outcome=on_rest_outcome,
            transport=transport,
            ws_transport=ws_transport,
            timeout=request_timeout,
            ssl_context=ssl_context,
        )
        self._children = [
            ChildSpec("clock", self.context.clock, restart=Restart.TRANSIENT),
            ChildSpec("market_data", self.market_data, restart=Restart.TRANSIENT),
        ]
        self.supervisor = self._supervisor()

    def _supervisor(self) -> Supervisor:
        return Supervisor(
            f"venue:{self.name}",
            self._children,
            strategy=Strategy.ONE_FOR_ONE,
            intensity=10,
            period=60.0,
            backoff=Backoff(initial=0.5, maximum=30.0),
        )

    def add_children(self, children: Sequence[ChildSpec]) -> None:
        """Services of this venue started after market data (``orders``, ``order_state``,
        ``account``); call before the session runs."""
        self._children.extend(children)
        self.supervisor = self._supervisor()

    def markets(self) -> list[Market]:
        """The venue markets the configured symbols live in, in first-seen order: its
        instruments, private streams and order sockets cover these (symbols added at
        run time must be on one of them; removing symbols does not change them)."""
        return list(self._markets)

    async def add_symbol(self, symbol: Symbol) -> None:
        """Follow one more symbol: its channels are subscribed as a configured one's,
        on an open socket of its market where the venue's per-connection limits allow,
        else on a new one; its book syncs as any other. Returns once the subscription
        is sent (or its socket started); a symbol already followed changes nothing.

        Raises:
            ConfigError: The venue has no market for the symbol's kind.
            UnknownInstrument: Its market is not one of :meth:`markets`, the
                instruments are not loaded yet, or the venue does not list it.
        """
        market = self.adapter.market_for(symbol)
        if market not in self._markets:
            raise UnknownInstrument(
                f"{self.name}: {symbol} is on its {market.value} market, which no configured"
                f" symbol uses (streamed: {', '.join(m.value for m in self._markets)}): add a"
                f" {market.value} symbol to [venues.{self.name}] symbols"
            )
        if not len(self.symbols):
            raise UnknownInstrument(
                f"{self.name}: instruments are not loaded yet; retry once connected"
            )
        instrument = self.symbols.by_symbol(market, symbol)
        if symbol in self.wanted:
            return
        self.wanted += (symbol,)
        self.feed.follow(symbol)
        log.info("marketdata.symbol_added", venue=self.name, symbol=str(symbol))
        await self.market_data.follow(market, instrument)

    async def remove_symbol(self, symbol: Symbol) -> None:
        """Stop following a symbol: its streams are unsubscribed (and left out of every
        reconnect), its book is marked invalid and dropped, its topics stop. A symbol
        not followed changes nothing.

        Raises:
            ConfigError: The venue has no market for the symbol's kind.
        """
        market = self.adapter.market_for(symbol)
        if symbol not in self.wanted:
            return
        self.wanted = tuple(s for s in self.wanted if s != symbol)
        self.feed.drop(market, symbol, "symbol removed")
        log.info("marketdata.symbol_removed", venue=self.name, symbol=str(symbol))
        await self.market_data.unfollow(market, symbol)

    def unlisted(self) -> tuple[Symbol, ...]:
        """The wanted symbols the venue does not list (delisted, a typo), once its
        instruments are loaded (before: none)."""
        if not len(self.symbols):
            return ()
        return tuple(
            s for s in self.wanted if self.symbols.get(self.adapter.market_for(s), s) is None
        )

    def staleness_window(self, heartbeat: HeartbeatRule) -> float:
        """Seconds without a book message before a book on such a socket is stale."""
        if self.stale_after is not None:
            return self.stale_after
        return max(self.DEFAULT_STALE_AFTER, heartbeat.book_silence + 15.0)

    def statistics(self) -> VenueStatistics:
        """A frozen snapshot of the venue's counters."""
        rest = self.context.statistics()
        return VenueStatistics(
            feed=self.feed.statistics(),
            books={
                symbol: keeper.statistics() for (_, symbol), keeper in self.feed.keepers().items()
            },
            connections=tuple(c.statistics() for c in self.market_data.connections),
            limiters=rest.limiters,
            clock=rest.clock,
        )

    def publish_connection(self, event: ConnectionEvent) -> None:
        """Publish a websocket's state change on ``connection.{venue}``."""
        self.bus.publish(f"connection.{self.name}", event)

    def signed_socket(
        self, conn_id: str, url: str, handler: FrameHandler, heartbeat: HeartbeatRule
    ) -> WsConnection:
        """A websocket of this venue that logs in (a private stream, an order socket):
        the venue's connection budget and transport, its state on ``connection.{venue}``,
        and no recorder (its login frames are signed; URLs may carry listenKeys)."""
        return WsConnection(
            venue=self.name,
            conn_id=conn_id,
            url=url,
            handler=handler,
            heartbeat=Heartbeat(
                interval=heartbeat.interval,
                ping=heartbeat.ping,
                timeout=heartbeat.timeout,
                protocol_ping=heartbeat.protocol_ping,
            ),
            budget=self.context.budget,
            on_status=self.publish_connection,
            transport=self.context.ws_transport,
        )


class _Shard:
    """Frame handler of one websocket: everything it receives goes to the feed."""

    def __init__(
        self,
        session: VenueSession,
        plan: ConnectionPlan,
        watchdog: Watchdog,
        on_subscribed: Callable[[Sequence[BookKey]], None] | None = None,
    ) -> None:
        self._feed = session.feed
        self._adapter = session.adapter
        self._symbols = session.symbols
        self.plan = plan
        # The plans this socket carried since it last opened, by URL: one that dialed
        # before a run-time change opened with the streams its URL named then.
        self._plans = {plan.url: plan}
        self.watchdog = watchdog
        self.connected = trio.Event()
        self._books = _book_keys(plan.streams)
        self._on_subscribed = on_subscribed
        # Books reported stale with no message of the stream since, each with its seq
        # then: stale again, their stream is stuck (an open socket the venue stopped
        # feeding, or stopped feeding them) and is replaced.
        self._silent: dict[BookKey, int] = {}
        self.connection: WsConnection | None = None
        self._changing = trio.Lock()
        self._changed = -CHANGE_SPACING

    async def send_changes(self, frames: Sequence[str]) -> None:
        """Send subscription changes on the open socket, :data:`CHANGE_SPACING` apart
        (a socket that is down gets them from its plan when it connects again)."""
        async with self._changing:
            for frame in frames:
                if not self.connected.is_set() or self.connection is None:
                    return
                await trio.sleep_until(self._changed + CHANGE_SPACING)
                self._changed = trio.current_time()
                await self.connection.send(frame)

    def heard(self, key: BookKey) -> None:
        """A message of the stream for one book arrived."""
        self._silent.pop(key, None)

    def replan(self, plan: ConnectionPlan) -> list[BookKey]:
        """Carry ``plan``'s streams from now on (a reconnect subscribes them, at its
        URL); returns the books it gained. The books it lost leave the staleness watch."""
        books = _book_keys(plan.streams)
        for key in set(self._books) - set(books):
            self.watchdog.forget(key)
            self._silent.pop(key, None)
        gained = [key for key in books if key not in self._books]
        if self.connected.is_set():
            now = trio.current_time()
            for key in gained:
                self.watchdog.touch(key, now)
        self.plan, self._books = plan, books
        self._plans[plan.url] = plan
        if self.connection is not None:
            self.connection.url = plan.url
        return gained

    def on_open(self) -> Sequence[str]:
        self.connected.set()
        now = trio.current_time()
        for key in self._books:
            self.watchdog.touch(key, now)
        if self._on_subscribed is not None:
            self._on_subscribed(self._books)
        frames = self._adapter.subscribe_frames(self.plan)
        dialed = self._plans.get(self.connection.dialed_url) if self.connection else None
        if dialed is not None and dialed.url != self.plan.url:
            # The streams changed while the socket dialed a URL that names streams
            # (Binance): it carries those of then; change them to the plan's now.
            current, dialed_streams = set(self.plan.streams), set(dialed.streams)
            added = [s for s in self.plan.streams if s not in dialed_streams]
            removed = [s for s in dialed.streams if s not in current]
            frames = [*frames, *self._adapter.change_streams(dialed, added, removed)[1]]
        self._plans = {self.plan.url: self.plan}
        return frames

    def on_frame(self, data: str | bytes, ts_recv_ns: int) -> Answer | None:
        closing = self._feed.on_frame(data, self.plan.market, ts_recv_ns)
        if closing is None:
            return None
        # The venue asks for a new connection before it closes this one: its books
        # resync on the new one now rather than whenever the close comes.
        log.info("marketdata.venue_closing", venue=self._feed.venue, notice=closing)
        return Answer(replace=f"venue closing the connection: {closing}")

    def on_stale(self, key: Hashable) -> None:
        for book in self._books:
            if book != key:
                continue
            seq = self._seq(book)
            if book in self._silent and self.connection is not None:
                # Resynced after its first silence (REST snapshot or resubscription) and
                # still not one message. The stream is stuck when no other book of the
                # socket speaks (the socket no longer carries its streams), when the
                # resync moved the book (the venue's book changed and its stream said
                # nothing of it: the venue stopped feeding this book alone), or when the
                # resync was a resubscription (whose snapshot never came). A book that
                # is only quiet has none of these. Replaced at once, on purpose.
                before = self._silent[book]
                moved = seq > before
                resubscribed = self._resyncs_by_resubscribing(book)
                if moved or resubscribed or not self._speaking(book):
                    why = (
                        f"its book moved from {before} to {seq} unsaid"
                        if moved
                        else "its resubscription brought no snapshot"
                        if resubscribed
                        else ""
                    )
                    log.warning("book.stream_stuck", venue=self._feed.venue,
                                symbol=str(book[1]), before=before, seq=seq)  # fmt: skip
                    self.connection.reconnect(
                        f"stream stuck: no message for {book[1]} since a resync"
                        + (f" ({why})" if why else ""),
                        planned=True,
                    )
                    return
            self._silent[book] = seq
            log.warning("book.stale", venue=self._feed.venue, symbol=str(book[1]))
            self._feed.invalidate("stale stream: no update in time", [book])

    def _seq(self, book: BookKey) -> int:
        keeper = self._feed.book(book[1])
        return 0 if keeper is None else keeper.seq

    def _resyncs_by_resubscribing(self, book: BookKey) -> bool:
        """Whether ``book`` resyncs by a resubscription (Bybit, OKX where its stream
        pushes snapshots): the venue answers one with a snapshot, so silence after it
        is a stuck stream, whether or not the book is quiet."""
        market, symbol = book
        return self._adapter.snapshot_call(market, self._symbols.by_symbol(market, symbol)) is None

    def _speaking(self, book: BookKey) -> bool:
        """Whether another book of this socket had a message of its stream within the
        staleness window (the socket carries data: ``book`` alone is quiet)."""
        now = trio.current_time()
        for other in self._books:
            if other == book or other in self._silent:
                continue
            seen = self.watchdog.last_touched(other)
            if seen is not None and now - seen < self.watchdog.after:
                return True
        return False

    def on_close(self, reason: str) -> None:
        # Once per outage: a failed reconnect attempt closes again, and a resync
        # waiting for the socket waits on this event until the next open sets it.
        if self.connected.is_set():
            self.connected = trio.Event()
        self._silent.clear()
        for key in self._books:
            self.watchdog.forget(key)
        self._feed.invalidate(f"disconnected: {reason}", self._books)


def _book_keys(streams: Sequence[StreamSpec]) -> list[BookKey]:
    return [(s.market, s.instrument.symbol) for s in streams if s.channel == "book"]


class MarketDataService:
    """Service: loads instruments, opens the shards, fetches snapshots and resyncs.

    Resync requests go through one bounded queue (one entry per book at most);
    each book is resynced at most once per ``min_resync_interval`` seconds, and
    REST snapshots draw on the venue's rate limiter. Where snapshots come over
    the socket (Bybit, OKX), a book whose snapshot has not come
    ``snapshot_timeout`` seconds after its (re)subscription is resubscribed: the
    snapshot frame may have been lost (a stalled or lossy socket), and deltas
    alone never make a book valid again.
    """

    def __init__(
        self,
        session: VenueSession,
        *,
        min_resync_interval: float = 1.0,
        snapshot_timeout: float = 3.0,
    ) -> None:
        self._session = session
        self._min_interval = min_resync_interval
        self._snapshot_timeout = snapshot_timeout
        self._nursery: trio.Nursery | None = None
        self._rng = random.Random()
        self.connections: list[WsConnection] = []
        self._shards: list[_Shard] = []
        self._shard_of: dict[BookKey, tuple[_Shard, WsConnection]] = {}
        self._pending: set[BookKey] = set()
        self._accepting = False
        self._last_resync: dict[BookKey, float] = {}
        self._send, self._receive = trio.open_memory_channel[tuple[Market, Instrument]](0)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        session = self._session
        # A restart starts clean: requests queued by the last run died with its worker.
        self.connections = []
        self._shards = []
        self._shard_of = {}
        self._pending = set()
        context = session.context
        markets = session.markets()
        try:
            await self._load_instruments(markets)
            streams = self._streams()
            plans = session.adapter.plan_connections(context.urls(), streams)
            size = max(1, sum(1 for s in streams if s.channel == "book"))
            self._send, self._receive = trio.open_memory_channel[tuple[Market, Instrument]](size)
            self._accepting = True
            session.feed.invalidate("market data (re)starting")
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                nursery.start_soon(self._resync_worker)
                for plan in plans:
                    await self._open(nursery, plan)
                task_status.started()
        finally:
            self._nursery = None
            self._accepting = False

    async def _open(self, nursery: trio.Nursery, plan: ConnectionPlan) -> None:
        """Start one websocket carrying ``plan``'s streams."""
        session = self._session
        context = session.context
        hb = session.adapter.heartbeat(plan.market)
        watchdog = Watchdog(after=session.staleness_window(hb))
        shard = _Shard(session, plan, watchdog, self._expect_snapshots)
        conn = WsConnection(
            venue=session.name,
            conn_id=f"{session.name}-{plan.market.value}-{len(self.connections)}",
            url=plan.url,
            handler=shard,
            heartbeat=Heartbeat(interval=hb.interval, ping=hb.ping, timeout=hb.timeout),
            on_status=session.publish_connection,
            budget=context.budget,
            watchdog=watchdog,
            recorder=context.frame_recorder(plan.market),
            transport=context.ws_transport,
            rng=self._rng,
        )
        shard.connection = conn
        for key in _book_keys(plan.streams):
            self._carry(key, shard, conn)
        self.connections.append(conn)
        self._shards.append(shard)
        await nursery.start(conn.run)

    def _carry(self, key: BookKey, shard: _Shard, conn: WsConnection) -> None:
        """``shard`` (on ``conn``) carries the book ``key``, which exists from now on
        (syncing: listed in the statistics before its first message)."""
        self._shard_of[key] = (shard, conn)
        self._session.feed.keeper(*key)

    async def follow(self, market: Market, instrument: Instrument) -> None:
        """Subscribe a symbol added at run time (the session's ``wanted`` holds it).

        Its streams join an open socket where :meth:`MarketDataAdapter.plan_connections`
        fits them on it (the venue's per-connection limits, its routes), else a new
        socket carries them. Not running: the next run subscribes ``wanted``.
        """
        nursery = self._nursery
        if nursery is None:
            return
        session = self._session
        adapter = session.adapter
        specs = [s for ch in session.channels for s in adapter.streams(market, instrument, ch)]
        urls = session.context.urls()
        sends: list[tuple[_Shard, list[str], list[BookKey]]] = []
        for part in adapter.plan_connections(urls, specs):
            for shard in self._shards:
                if len(adapter.plan_connections(urls, shard.plan.streams + part.streams)) != 1:
                    continue
                plan, frames = adapter.change_streams(shard.plan, part.streams, ())
                gained = shard.replan(plan)
                assert shard.connection is not None  # set when the shard is made
                for key in gained:
                    self._carry(key, shard, shard.connection)
                sends.append((shard, frames, gained))
                break
            else:
                await self._open(nursery, part)
        for shard, frames, gained in sends:
            if shard.connected.is_set():  # else its next connect subscribes the new plan
                await shard.send_changes(frames)
                self._expect_snapshots(gained)

    async def unfollow(self, market: Market, symbol: Symbol) -> None:
        """Unsubscribe a symbol removed at run time from the sockets that carry it; they
        stay open (a socket left with no stream takes the next symbol added)."""
        key = (market, symbol)
        self._shard_of.pop(key, None)
        self._last_resync.pop(key, None)
        for shard in self._shards:
            gone = [s for s in shard.plan.streams if (s.market, s.instrument.symbol) == key]
            if not gone:
                continue
            plan, frames = self._session.adapter.change_streams(shard.plan, (), gone)
            shard.replan(plan)
            await shard.send_changes(frames)

    async def _load_instruments(self, markets: Sequence[Market]) -> None:
        session = self._session
        adapter = session.adapter
        loaded = SymbolMap(session.name)
        for market in markets:
            call: RestCall | None = adapter.instruments_call(market)
            for _ in range(_MAX_INSTRUMENT_PAGES):
                if call is None:
                    break
                response = await session.context.call(market, call, lane=Lane.BULK)
                loaded.extend(adapter.parse_instruments(market, response.body))
                if isinstance(adapter, PagedInstruments):
                    call = adapter.next_instruments_call(market, call, response.body)
                else:
                    call = None
            if call is not None:
                log.warning(
                    "marketdata.instrument_pages_capped",
                    venue=session.name,
                    market=market.value,
                    pages=_MAX_INSTRUMENT_PAGES,
                )
        for instrument in loaded:
            session.symbols.add(instrument)
        log.info("marketdata.instruments", venue=session.name, count=len(loaded))

    def _streams(self) -> list[StreamSpec]:
        session = self._session
        streams: list[StreamSpec] = []
        for symbol in session.wanted:
            market = session.adapter.market_for(symbol)
            try:
                instrument = session.symbols.by_symbol(market, symbol)
            except ConnectorError as exc:
                log.error(
                    "marketdata.unknown_symbol",
                    venue=session.name,
                    symbol=str(symbol),
                    error=str(exc),
                )
                continue
            for channel in session.channels:
                streams.extend(session.adapter.streams(market, instrument, channel))
        return streams

    def touch(self, key: BookKey) -> None:
        """A message of the stream for one book arrived: re-arm its staleness watchdog
        (the feed calls this)."""
        shard_conn = self._shard_of.get(key)
        if shard_conn is not None:
            shard = shard_conn[0]
            shard.watchdog.touch(key, trio.current_time())
            shard.heard(key)

    def hold(self, key: BookKey) -> None:
        """A book holds deltas ahead of it (the feed calls this): its gap may fill
        within the reorder window; then the feed judges it. The shard's watchdog task
        keeps the deadline (no task per book)."""
        feed = self._session.feed
        shard_conn = self._shard_of.get(key)
        if shard_conn is None:
            feed.expire_held(key)
            return
        at = trio.current_time() + self._session.reorder_window
        shard_conn[0].watchdog.alarm(key, at, lambda: feed.expire_held(key))

    def request_resync(self, market: Market, instrument: Instrument) -> None:
        """Queue a fresh snapshot (or resubscription) for one book (the feed calls this).

        Ignored while the service is not running: every run starts by
        invalidating every book, which asks again.
        """
        key = (market, instrument.symbol)
        if not self._accepting or key in self._pending:
            return
        try:
            self._send.send_nowait((market, instrument))
        except trio.WouldBlock:
            log.error(
                "marketdata.resync_queue_full",
                venue=self._session.name,
                symbol=str(instrument.symbol),
            )
            return
        self._pending.add(key)

    async def _resync_worker(self) -> None:
        async with trio.open_nursery() as nursery:
            async for market, instrument in self._receive:
                nursery.start_soon(self._resync, market, instrument)

    async def _resync(self, market: Market, instrument: Instrument) -> None:
        key = (market, instrument.symbol)
        feed = self._session.feed
        book = feed.book(instrument.symbol)
        failed = False
        snapshot: BookSnapshot | None = None
        try:
            snapshot = await self._fetch_or_resubscribe(market, instrument)
        except ConnectorError as exc:
            failed = True
            log.error(
                "marketdata.resync_failed",
                venue=self._session.name,
                symbol=str(instrument.symbol),
                error=str(exc),
            )
        finally:
            self._pending.discard(key)
        if instrument.symbol not in self._session.wanted:
            return  # removed meanwhile
        # Removed and added again meanwhile: the snapshot is the old book's, and the new
        # book's own request was folded into this one (one pending request a book).
        renewed = book is not None and feed.book(instrument.symbol) is not book
        if failed or renewed:
            self.request_resync(market, instrument)
            return
        if snapshot is not None:
            feed.on_snapshot(snapshot)
        else:
            self._expect_snapshots([key], resubscribed=True)
        # A book reported stale gets a new staleness window: one made valid by REST
        # whose stream stays silent is reported again (the watchdog reports a silence
        # once), and then its socket is replaced (``_Shard.on_stale``) rather than the
        # book left "valid" and frozen.
        shard_conn = self._shard_of.get(key)
        if shard_conn is not None:
            shard_conn[0].watchdog.rearm(key, trio.current_time())

    def _expect_snapshots(self, keys: Sequence[BookKey], *, resubscribed: bool = False) -> None:
        """Books just (re)subscribed: resync any whose snapshot does not come in time.

        After a resubscription the deadline is always set: the next resync of a
        book whose venue no longer pushes snapshots (OKX) may be a REST one.
        """
        nursery = self._nursery
        if nursery is None:
            return
        feed = self._session.feed
        for key in keys:
            if key[1] not in self._session.wanted:
                continue  # removed meanwhile: no book to make
            instrument = self._session.symbols.by_symbol(*key)
            call = self._session.adapter.snapshot_call(key[0], instrument)
            if call is not None and not resubscribed:
                continue  # REST snapshots: the resync worker retries those itself
            applied = feed.keeper(*key).statistics().snapshots_applied
            nursery.start_soon(self._snapshot_deadline, key, instrument, applied)

    async def _snapshot_deadline(self, key: BookKey, instrument: Instrument, applied: int) -> None:
        await trio.sleep(self._snapshot_timeout)
        if key[1] not in self._session.wanted:
            return  # removed meanwhile
        keeper = self._session.feed.keeper(*key)
        if keeper.state.valid or keeper.statistics().snapshots_applied != applied:
            return
        log.warning(
            "marketdata.snapshot_missing",
            venue=self._session.name,
            symbol=str(key[1]),
            waited=self._snapshot_timeout,
        )
        self.request_resync(key[0], instrument)

    async def _fetch_or_resubscribe(
        self, market: Market, instrument: Instrument
    ) -> BookSnapshot | None:
        """Once the book's socket is up: its REST snapshot, or a resubscription."""
        session = self._session
        key = (market, instrument.symbol)
        shard_conn = self._shard_of.get(key)
        if shard_conn is None:
            return None
        shard, conn = shard_conn
        await trio.sleep_until(self._last_resync.get(key, -1e9) + self._min_interval)
        await shard.connected.wait()
        self._last_resync[key] = trio.current_time()
        call = session.adapter.snapshot_call(market, instrument)
        if call is None:
            stream = next(
                s
                for s in shard.plan.streams
                if s.channel == "book" and s.instrument.symbol == instrument.symbol
            )
            for frame in session.adapter.resubscribe_frames(stream):
                await conn.send(frame)
            return None
        while True:
            try:
                response = await session.context.call(market, call, lane=Lane.BULK)
            except TransientError as exc:
                wait = getattr(exc, "retry_after", None) or 1.0
                log.warning(
                    "marketdata.snapshot_retry",
                    venue=session.name,
                    symbol=str(instrument.symbol),
                    error=str(exc),
                    wait=wait,
                )
                await trio.sleep(wait)
                continue
            return session.adapter.parse_snapshot(market, instrument, response.body, time.time_ns())
