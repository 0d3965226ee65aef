"""The Bybit front-end: one port for every category, the websocket session, push timers.

Bybit serves every category from one host (``api.bybit.com`` for REST,
``stream.bybit.com`` for ``/v5/public/{spot,linear,inverse,option}``), so one
port serves the REST paths for every ``category`` and the public socket path of
each category the venue lists (``/v5/public/spot``, ``/v5/public/linear``);
the URL map keeps a key per market (``spot.rest``, ``linear.ws`` ...), all on
that port. Fault rules aimed at one market still hit only it: a request's
market is its ``category`` parameter, a socket's its path. Per-connection
output is bounded by the server's send buffer (a slow consumer is
disconnected).
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Mapping

import attrs
import msgspec
import trio

from connector.sim.bybit.account import BybitAccount
from connector.sim.bybit.klines import KLINE_INTERVALS, KLINE_PUSH_SECONDS, BybitCandles, KlineTopic
from connector.sim.bybit.orders import OrderOps
from connector.sim.bybit.private import PrivateStream
from connector.sim.bybit.rest import BybitRest
from connector.sim.bybit.signed import OrderLimiter, SignedRest
from connector.sim.bybit.streams import BookTopic, TickerTopic, TopicKind, TradeTopic, wire_book
from connector.sim.bybit.trading import BybitTrading
from connector.sim.bybit.wire import (
    BOOK_DEPTHS,
    INTERVALS,
    encode,
    error_body,
    pong_reply,
    subscribe_reply,
)
from connector.sim.bybit.wsapi import TradeSocket
from connector.sim.depth import DepthKeeper
from connector.sim.desk import DeskEvent, PositionUpdated
from connector.sim.faults import FaultInjector, FaultKind, FaultRule, RestVerdict
from connector.sim.http import Request, Response, Router, json_response
from connector.sim.hub import BookBatch, SimVenue
from connector.sim.mirror import WireBook
from connector.sim.ratelimit import BybitLimiter
from connector.sim.server import FrontendOptions, VenueServer
from connector.sim.settings import FrontendSettings
from connector.sim.topics import TopicBoard, TopicStatistics
from connector.sim.ws import WsConnection, WsSettings

__all__ = ["BybitFrontend", "BybitSettings", "BybitStatistics", "create_frontend"]

_dec = msgspec.json.Decoder()

#: Ticker push intervals: linear 100 ms, spot 50 ms.
_TICKER_INTERVAL: dict[str, float] = {"linear": 0.100, "spot": 0.050}
#: ``orderbook.1`` re-sends its snapshot after this long without a change.
_LEVEL1_RESEND = 3.0

_Key = tuple[str, str]
"""``(category, topic name)``."""


@attrs.frozen(kw_only=True)
class BybitSettings(FrontendSettings):
    """Options of the Bybit front-end.

    Attributes:
        immediate: Publish one book message per engine change instead of at
            the documented push intervals (for benchmarks).
        deep_books: Deepen a book to the depth of the deepest topic or REST
            book asked of it (up to ``orderbook.1000`` and the 1000-level REST
            book) plus a margin, with resting orders beyond the synthetic
            flow's levels (:mod:`connector.sim.depth`); False keeps the flow's
            depth (about 25 levels per side).
        rest_limits: Requests per ``rest_window`` per endpoint path and IP.
        rest_default_limit: Limit for paths not in ``rest_limits``.
        rest_window: Rate-limit window in seconds.
        max_args_spot: Most topics one spot ``subscribe`` request may carry.
        kline_push: Seconds between ``kline.*`` pushes (about 1 s on the venue).
        order_limits: Per-UID order limits per ``(path, category)`` replacing
            the documented ones (:data:`connector.sim.bybit.signed.ORDER_LIMITS`).
    """

    immediate: bool = False
    deep_books: bool = True
    rest_limits: Mapping[str, int] = attrs.field(factory=dict)
    rest_default_limit: int = 600
    rest_window: float = 5.0
    max_args_spot: int = 10
    order_limits: Mapping[tuple[str, str], int] = attrs.field(factory=dict)
    kline_push: float = KLINE_PUSH_SECONDS


@attrs.frozen(kw_only=True)
class BybitStatistics:
    """Counters of the Bybit front-end (trading: private sessions and pushes, ``/v5/trade``
    requests, signed requests refused by the auth check, per-UID limit refusals)."""

    connections: int
    subscriptions: int
    book_messages: int
    trade_messages: int
    ticker_messages: int
    restart_snapshots: int
    topics: TopicStatistics
    private_sessions: int = 0
    private_pushes: int = 0
    trade_requests: int = 0
    auth_failures: int = 0
    order_limit_refusals: int = 0


class BybitFrontend:
    """Bybit v5 public REST and websocket endpoints over one :class:`SimVenue`.

    Args:
        venue: The hub of the ``bybit`` venue (markets ``spot`` and ``linear``).
        injector: The run's fault injector.
        options: Host, port (``ports["spot"]``, else ``ports["linear"]``) and
            :class:`BybitSettings` names in ``options.settings``.
    """

    name = "bybit"

    def __init__(
        self, venue: SimVenue, injector: FaultInjector, options: FrontendOptions | None = None
    ) -> None:
        self.venue = venue
        self.injector = injector
        self.options = options if options is not None else FrontendOptions()
        self.settings = BybitSettings.from_options(self.options.settings, self.name)
        limiter = BybitLimiter(
            self.settings.rest_limits,
            default=self.settings.rest_default_limit,
            window=self.settings.rest_window,
            wall_ms=venue.now_ms,
        )
        # Whether any message may turn into a restart snapshot (saves a check per frame).
        self.restart_rules = bool(
            injector.rules(self.name, frozenset({FaultKind.RESTART_SNAPSHOT}))
        )
        self.candles = BybitCandles(venue.books, venue.now_ms())
        self.rest = BybitRest(venue, injector, limiter, self._book_topic, self.candles)
        self.board: TopicBoard[_Key, TopicKind | KlineTopic] = TopicBoard()
        self._mirrors: dict[tuple[str, str], WireBook] = {}
        self._conn_counter = itertools.count(1)
        self.urls: dict[str, str] = {}
        self.depth = DepthKeeper(venue, enabled=self.settings.deep_books)
        self.categories = [m for m in ("spot", "linear") if m in venue.markets()]
        router = Router()
        self.rest.register(router)
        # Trading: signed REST, the private stream and the websocket order API.
        self.order_limiter = OrderLimiter(venue.now_ms, self.settings.order_limits)
        self.signed = SignedRest(venue, self.rest.chain, self.order_limiter)
        self.ops = OrderOps(venue)
        self.trading = BybitTrading(venue, self.signed, self.ops)
        self.account = BybitAccount(venue, self.signed)
        self.trading.register(router)
        self.account.register(router)
        self.private = PrivateStream(venue, self.trading, self.account)
        self.trade_socket = TradeSocket(venue, self.ops, self.order_limiter, self.trading)
        router.websocket("/v5/private", self.private.serve)
        router.websocket("/v5/trade", self.trade_socket.serve)
        for category in self.categories:
            router.websocket(f"/v5/public/{category}", self._ws)
        port = next((p for p in map(self.options.port, self.categories) if p), 0)
        self.server = VenueServer(
            self.name,
            router,
            injector=injector,
            ws_settings=WsSettings(send_buffer=self.settings.send_buffer),
            rate_limited=self.rate_limited,
            server_error=self.server_error,
            market_of=self._market_of,
            host=self.options.host,
            port=port,
            latency=self.settings.latency,
        )
        #: The endpoint of each market: one port serves them all (its ASGI app is ``server.app``).
        self.servers: dict[str, VenueServer] = {m: self.server for m in self.categories}

    def _market_of(self, req: Request) -> str | None:
        """The category of a request (``category`` in its query or JSON body) or public
        socket (its path), for fault rules."""
        if req.path.startswith("/v5/public/"):
            return req.path.rsplit("/", 1)[1]
        category: object = req.query.get("category")
        if category is None and req.method == "POST" and req.body:
            # Signed POSTs carry the category in their JSON body.
            try:
                body = _dec.decode(req.body)
            except msgspec.DecodeError:
                body = None
            category = body.get("category") if isinstance(body, dict) else None
        return category if isinstance(category, str) and category in self.categories else None

    def rate_limited(self, req: Request, verdict: RestVerdict) -> Response:
        """The venue's reply to a REST_429 fault: retCode 10006 (HTTP 200) with limit headers."""
        now = self.venue.now_ms()
        reset = now + int(max(verdict.retry_after, 0.0) * 1000)
        headers = (
            ("X-Bapi-Limit", str(self.settings.rest_default_limit)),
            ("X-Bapi-Limit-Status", "0"),
            ("X-Bapi-Limit-Reset-Timestamp", str(reset)),
        )
        return json_response(error_body(10006, "Too many visits!", now), headers=headers)

    def server_error(self, req: Request, verdict: RestVerdict) -> Response:
        """The venue's reply to a REST error fault: the gateway's bare 5xx, or with a
        ``code`` the v5 error body (HTTP 200) carrying it (10016 "internal server error;
        service is restarting", 10000 "server timeout": v5 error codes)."""
        if verdict.code is None:
            return Response(status=verdict.status, body=b"", content_type="text/html")
        said = {10000: "Server Timeout", 10016: "Internal server error."}
        message = said.get(verdict.code, "Server error")
        return json_response(error_body(verdict.code, message, self.venue.now_ms()))

    def statistics(self) -> BybitStatistics:
        """A frozen snapshot of the front-end's counters."""
        topics = self.board.statistics()
        sent = self.board.sent_by_type()
        return BybitStatistics(
            connections=topics.connections,
            subscriptions=topics.subscriptions,
            book_messages=sent.get(BookTopic, 0),
            trade_messages=sent.get(TradeTopic, 0),
            ticker_messages=sent.get(TickerTopic, 0),
            restart_snapshots=sum(
                t.restarts for t in self.board.topics() if isinstance(t, BookTopic)
            ),
            topics=topics,
            private_sessions=self.private.sessions,
            private_pushes=self.private.pushes,
            trade_requests=self.trade_socket.requests,
            auth_failures=self.signed.auth_failures,
            order_limit_refusals=self.order_limiter.refused,
        )

    # ------------------------------------------------------------ publishing

    def _book_topic(self, category: str, symbol: str, depth: int) -> BookTopic:
        mirror = self._mirrors[(category, symbol)]
        key = (category, f"orderbook.{depth}.{symbol}")
        if self.board.get(key) is None:
            # As deep as the venue's book before the view is built.
            self.depth.require(category, symbol, depth)
        topic = self.board.topic(
            key,
            lambda: BookTopic(category, mirror, depth, self.venue, restarts=self.restart_rules),
        )
        assert isinstance(topic, BookTopic)
        return topic

    def _on_batch(self, batch: BookBatch) -> None:
        mirror = self._mirrors.get((batch.market, batch.native_id))
        if mirror is None:
            return
        mirror.feed(batch.results, immediate=self.settings.immediate)
        ticker = self.board.get((batch.market, "tickers." + batch.native_id))
        if isinstance(ticker, TickerTopic):
            ticker.dirty = True
        trades = sum(len(r.trades) for r in batch.results)
        if trades:
            self.candles.record(batch, self.venue.book(batch.market, batch.native_id).last_trade_id)
            topic = self.board.get((batch.market, "publicTrade." + batch.native_id))
            if isinstance(topic, TradeTopic):
                seq = batch.results[-1].update_id
                topic.publish_trades(trades, seq, batch.ts_ns // 1_000_000)

    async def run(
        self, *, task_status: trio.TaskStatus[dict[str, str]] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Serve every category and push at the documented intervals until cancelled.

        Started with ``{"spot.rest": url, "spot.ws": url, "linear.rest": ..., ...}``
        (one base URL for all).
        """
        self._mirrors = {key: wire_book(book) for key, book in self.venue.books.items()}
        unlisten = self.venue.listen(self._on_batch)
        unlisten_desk = self.venue.desk.listen(self._record)
        try:
            async with trio.open_nursery() as nursery:
                intervals = sorted({iv for per in INTERVALS.values() for iv in per.values()})
                for interval in intervals:
                    nursery.start_soon(self._book_timer, interval)
                for interval in sorted(set(_TICKER_INTERVAL.values())):
                    nursery.start_soon(self._ticker_timer, interval)
                nursery.start_soon(self._kline_timer)
                nursery.start_soon(self.depth.run)
                nursery.start_soon(
                    self.injector.run_timed,
                    self.name,
                    frozenset({FaultKind.SERVER_SHUTDOWN}),
                    self._trade_restart,
                )
                base: str = await nursery.start(self.server.run)
                for market in self.categories:
                    self.urls[f"{market}.rest"] = base
                    self.urls[f"{market}.ws"] = base.replace("http://", "ws://", 1)
                task_status.started(dict(self.urls))
        finally:
            unlisten()
            unlisten_desk()

    async def _trade_restart(self, rule: FaultRule) -> None:
        """A SERVER_SHUTDOWN rule: the ``/v5/trade`` service restarts (its open sessions
        refuse new orders with 10019) and closes them ``rule.seconds`` later."""
        sessions = self.trade_socket.restart()
        self.injector.record(self.name, rule.kind, detail=f"sessions={len(sessions)}")
        await trio.sleep(rule.seconds)
        for conn in sessions:
            conn.close(1001, "service restart")

    def _record(self, event: DeskEvent) -> None:
        """Number fills and position changes (before any private session hears of them)."""
        self.trading.on_event(event)
        if isinstance(event, PositionUpdated):
            symbol = event.position.symbol
            seq = self.trading.seq_of("linear", symbol)
            self.account.position_seq[(event.account, symbol)] = (seq, event.ts_ms)

    async def _book_timer(self, interval: float) -> None:
        while True:
            await trio.sleep(interval)
            now = trio.current_time()
            for topic in list(self.board.topics()):
                if (
                    not isinstance(topic, BookTopic)
                    or INTERVALS[topic.category][topic.depth] != interval
                ):
                    continue
                if not self.settings.immediate:
                    topic.refresh()
                if topic.depth == 1 and topic.subs and now - topic.last_sent >= _LEVEL1_RESEND:
                    topic.resend_level1()

    async def _ticker_timer(self, interval: float) -> None:
        while True:
            await trio.sleep(interval)
            for topic in list(self.board.topics()):
                if isinstance(topic, TickerTopic) and _TICKER_INTERVAL[topic.category] == interval:
                    topic.tick()

    async def _kline_timer(self) -> None:
        while True:
            await trio.sleep(self.settings.kline_push)
            for topic in list(self.board.topics()):
                if isinstance(topic, KlineTopic):
                    topic.tick()

    # ------------------------------------------------------------- websocket

    async def _ws(self, conn: WsConnection) -> None:
        category = conn.path.rsplit("/", 1)[1]
        conn_id = str(uuid.UUID(int=(self.venue.seed << 64) + next(self._conn_counter)))
        await self.board.serve(conn, lambda raw: self._on_message(conn, category, conn_id, raw))

    def _on_message(
        self, conn: WsConnection, category: str, conn_id: str, raw: str | bytes
    ) -> None:
        def reply(op: str, *, success: bool, ret_msg: str, req_id: str | None) -> None:
            conn.send(
                encode(
                    subscribe_reply(
                        category,
                        op,
                        success=success,
                        ret_msg=ret_msg,
                        conn_id=conn_id,
                        req_id=req_id,
                    )
                )
            )

        try:
            message = _dec.decode(raw)
        except msgspec.DecodeError:
            reply("", success=False, ret_msg="error:request not json", req_id=None)
            return
        if not isinstance(message, dict):
            return
        op = message.get("op")
        req_raw = message.get("req_id")
        req_id = str(req_raw) if req_raw is not None else None
        if op == "ping":
            conn.send(encode(pong_reply(category, conn_id, req_id)))
            return
        if op not in ("subscribe", "unsubscribe"):
            op_name = str(op) if op is not None else ""
            reply(op_name, success=False, ret_msg=f"error:illegal op {op}", req_id=req_id)
            return
        args = message.get("args")
        if not isinstance(args, list) or not args or not all(isinstance(a, str) for a in args):
            reply(op, success=False, ret_msg="error:args invalid", req_id=req_id)
            return
        if category == "spot" and len(args) > self.settings.max_args_spot:
            ret_msg = f"args size >{self.settings.max_args_spot}"
            reply(op, success=False, ret_msg=ret_msg, req_id=req_id)
            return
        errors: list[str] = []
        snapshots: list[tuple[str, str]] = []
        for name in args:
            if op == "subscribe":
                error = self._subscribe(conn, category, name, snapshots)
            elif self.board.unsubscribe(conn, (category, name)) is None:
                error = f"error:not subscribed,topic:{name}"
            else:
                error = None
            if error:
                errors.append(error)
        ok_msg = "" if category == "linear" else op
        reply(op, success=not errors, ret_msg=";".join(errors) if errors else ok_msg, req_id=req_id)
        for stream, frame in snapshots:
            conn.send(frame, stream=stream)

    def _resolve(self, category: str, name: str) -> TopicKind | KlineTopic | None:
        parts = name.split(".")
        if len(parts) == 3 and parts[0] == "orderbook":
            try:
                depth = int(parts[1])
            except ValueError:
                return None
            if depth not in BOOK_DEPTHS[category] or (category, parts[2]) not in self._mirrors:
                return None
            return self._book_topic(category, parts[2], depth)
        if len(parts) != 2 or (category, parts[1]) not in self._mirrors:
            return None
        book = self.venue.book(category, parts[1])
        if parts[0] == "tickers":
            return self.board.topic(
                (category, name), lambda: TickerTopic(category, book, self.venue)
            )
        if parts[0] == "publicTrade":
            return self.board.topic((category, name), lambda: TradeTopic(category, book))
        return None

    def _resolve_kline(self, category: str, name: str) -> KlineTopic | None:
        parts = name.split(".")
        if len(parts) != 3 or parts[0] != "kline" or parts[1] not in KLINE_INTERVALS:
            return None
        if (category, parts[2]) not in self._mirrors:
            return None
        book = self.venue.book(category, parts[2])
        series = self.candles.series(category, parts[2], parts[1])
        topic = self.board.topic(
            (category, name),
            lambda: KlineTopic(category, book, parts[1], series, self.venue.now_ms),
        )
        assert isinstance(topic, KlineTopic)
        return topic

    def _subscribe(
        self, conn: WsConnection, category: str, name: str, snapshots: list[tuple[str, str]]
    ) -> str | None:
        key = (category, name)
        if key in self.board.subscriptions(conn):
            return f"error:already subscribed,topic:{name}"
        topic = self._resolve(category, name) or self._resolve_kline(category, name)
        if topic is None:
            return f"error:handler not found,topic:{name}"
        if isinstance(topic, BookTopic):
            # Publish what is pending to the others first, so the snapshot is current.
            topic.refresh()
            snapshots.append((name, topic.snapshot_frame(topic.u)))
        self.board.subscribe(conn, key, topic)
        if isinstance(topic, TickerTopic):
            snapshots.append((name, topic.snapshot_frame()))
            topic.dirty = True
        if isinstance(topic, KlineTopic):
            snapshots.append((name, topic.snapshot_frame()))
        return None


def create_frontend(
    venue: SimVenue, injector: FaultInjector, options: FrontendOptions
) -> BybitFrontend:
    """Front-end factory used by :func:`connector.sim.run`."""
    return BybitFrontend(venue, injector, options)
