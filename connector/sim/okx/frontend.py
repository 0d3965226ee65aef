"""The OKX front-end: one port for both markets, the websocket session, push timers.

One port serves both markets (``spot`` and ``swap``), as OKX's single host
does; the URL map has keys for both. Per-connection output is bounded by the
server's send buffer (a slow consumer is disconnected).
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Callable, Mapping

import attrs
import msgspec
import trio

from connector.sim.accounts import Authenticated
from connector.sim.depth import DepthKeeper
from connector.sim.faults import FaultInjector, FaultKind, FaultRule, RestVerdict
from connector.sim.http import Request, Response, Router, json_response
from connector.sim.hub import BookBatch, SimVenue
from connector.sim.mirror import WireBook
from connector.sim.okx.account import OkxAccount
from connector.sim.okx.auth import verify_ws_login
from connector.sim.okx.candles import CHANNEL_BARS, CandleChannel, OkxCandles
from connector.sim.okx.limits import OrderLimits
from connector.sim.okx.modes import AccountMode, AccountModes
from connector.sim.okx.ops import OkxOrders
from connector.sim.okx.private import OkxPrivate
from connector.sim.okx.rest import OkxRest
from connector.sim.okx.streams import BookChannel, Channel, TickerChannel, TradeChannel, wire_book
from connector.sim.okx.trading import OkxTrading
from connector.sim.okx.wire import (
    BUSINESS_PREFIXES,
    CHANNEL_DEPTH,
    VIP_CHANNELS,
    WS_ERRORS,
    JsonDict,
    encode,
    error_body,
    error_event,
    inst_id_code,
    subscribe_event,
)
from connector.sim.ratelimit import OkxLimiter
from connector.sim.server import FrontendOptions, VenueServer
from connector.sim.settings import FrontendSettings
from connector.sim.topics import TopicBoard, TopicStatistics
from connector.sim.ws import WsConnection, WsSettings

__all__ = ["OkxFrontend", "OkxSettings", "OkxStatistics", "create_frontend"]

_dec = msgspec.json.Decoder()
_UPGRADE_NOTICE = "The connection will soon be closed for a service upgrade. Please reconnect."

_CHANNEL_INTERVAL: dict[str, float] = {"books": 0.100, "books5": 0.100, "bbo-tbt": 0.010}
_TICKER_INTERVAL = 0.100
_CANDLE_INTERVAL = 1.0  # "the fastest interval 1 second"

_Key = tuple[str, str]
_ORDER_PATHS = tuple(
    f"/api/v5/trade/{name}"
    for name in (
        "batch-orders",
        "cancel-order",
        "cancel-batch-orders",
        "amend-order",
        "amend-batch-orders",
        "mass-cancel",
    )
)
_Topic = Channel | CandleChannel


@attrs.frozen(kw_only=True)
class OkxSettings(FrontendSettings):
    """Options of the OKX front-end (``FrontendOptions.settings`` names).

    Attributes:
        idle_timeout: Close a connection after this many seconds without a
            message from the client (OKX: 30).
        heartbeat: Seconds without a book change after which ``books`` sends an
            empty update with ``seqId == prevSeqId`` (OKX: about 60).
        immediate: Publish one book message per engine change (benchmarks).
        legacy_books: Behave as OKX did before 2026: a ``books`` subscription
            gets a 400-level snapshot (``prevSeqId`` ``-1``) first, and
            ``checksum`` is the real CRC32. Off: no pushed snapshot (delisted
            in production in August 2026; clients align to the REST book by
            ``seqId``) and ``checksum`` 0 (since June 2026) unless the run asks
            for real checksums (``FrontendOptions.okx_checksum``).
        deep_books: Deepen a book to the 400 levels of ``books`` (and the REST
            book) plus a margin when that channel is first asked for, with
            resting orders beyond the synthetic flow's levels
            (:mod:`connector.sim.depth`); False keeps the flow's depth (about
            25 levels per side).
        rest_limits: Requests per ``rest_window`` per path and IP.
        rest_default_limit: Limit of paths not in ``rest_limits``.
        rest_window: Rate-limit window (OKX: 2 s).
        acct_lv: The account mode every account starts in (``GET
            /api/v5/account/config`` ``acctLv``): 1 Spot mode, 2 Futures mode,
            3 Multi-currency margin, 4 Portfolio margin (spot orders ``cross``).
        pos_mode: The position mode every account starts in: ``net_mode`` or
            ``long_short_mode`` (not with ``acct_lv`` 4).
    """

    idle_timeout: float | None = 30.0
    heartbeat: float = 60.0
    immediate: bool = False
    legacy_books: bool = False
    deep_books: bool = True
    rest_limits: Mapping[str, int] = attrs.field(
        factory=lambda: {
            "/api/v5/market/books": 40,
            "/api/v5/market/trades": 100,
            "/api/v5/public/time": 10,
            # Signed routes: OKX's per-user limits (docs, checked 2026-12-03); order entry
            # is limited per account and instrument by ``connector.sim.okx.limits``.
            **dict.fromkeys(_ORDER_PATHS, 100_000),
            "/api/v5/trade/order": 100_000,
            "/api/v5/trade/orders-pending": 60,
            "/api/v5/trade/orders-history": 40,
            "/api/v5/trade/fills": 60,
            "/api/v5/trade/fills-history": 10,
            "/api/v5/account/balance": 10,
            "/api/v5/account/positions": 10,
            "/api/v5/account/config": 5,
            "/api/v5/account/trade-fee": 5,
            "/api/v5/asset/currencies": 6,
        }
    )
    rest_default_limit: int = 20
    rest_window: float = 2.0
    acct_lv: int = 2
    pos_mode: str = "net_mode"


@attrs.frozen(kw_only=True)
class OkxStatistics:
    """Counters of the OKX front-end (``private_connections``: ``/ws/v5/private``
    sessions opened; ``orders_rate_limited``: order requests refused with 50011;
    ``trade_requests``: order ops on the private socket)."""

    connections: int
    subscriptions: int
    book_messages: int
    trade_messages: int
    ticker_messages: int
    corrupted_checksums: int
    topics: TopicStatistics
    private_connections: int = 0
    orders_rate_limited: int = 0
    trade_requests: int = 0


class OkxFrontend:
    """OKX v5 public REST and websocket endpoints over one :class:`SimVenue`.

    Args:
        venue: The hub of the ``okx`` venue.
        injector: The run's fault injector.
        options: Host, port (``ports["spot"]``, else ``ports["swap"]``),
            ``okx_checksum`` and :class:`OkxSettings` names in ``options.settings``.
    """

    name = "okx"

    def __init__(
        self, venue: SimVenue, injector: FaultInjector, options: FrontendOptions | None = None
    ) -> None:
        self.venue = venue
        self.injector = injector
        self.options = options if options is not None else FrontendOptions()
        self.settings = OkxSettings.from_options(self.options.settings, self.name)
        self.real_checksum = self.options.okx_checksum or self.settings.legacy_books
        self.push_snapshot = self.settings.legacy_books
        self.depth = DepthKeeper(venue, enabled=self.settings.deep_books)
        self.candles = OkxCandles({b.native_id: b for b in venue.books.values()}, venue.now_ms())
        # Whether any frame may need a corrupted checksum (saves a check per frame).
        self.corrupt_rules = bool(
            injector.rules(self.name, frozenset({FaultKind.CORRUPT_CHECKSUM}))
        )
        self.rest = OkxRest(
            venue,
            injector,
            OkxLimiter(
                self.settings.rest_limits,
                default=self.settings.rest_default_limit,
                window=self.settings.rest_window,
            ),
            self._books_channel,
            self.candles,
        )
        self.board: TopicBoard[_Key, _Topic] = TopicBoard()
        self._mirrors: dict[tuple[str, str], WireBook] = {}
        self._conn_counter = itertools.count(1)
        self.urls: dict[str, str] = {}
        self.order_limits = OrderLimits()
        self.orders = OkxOrders(
            venue.desk,
            {i.native_id: i for i in venue.instruments()},
            self.order_limits,
            venue.desk.leverage,
            lambda inst: venue.book(inst.market, inst.native_id).engine,
            AccountModes(
                AccountMode(
                    acct_lv=str(self.settings.acct_lv), pos_mode=str(self.settings.pos_mode)
                )
            ),
        )
        router = Router()
        self.rest.register(router)
        OkxTrading(venue, self.orders, self.rest.chain).register(router)
        self.account = OkxAccount(venue, self.orders, self.rest.chain)
        self.account.register(router)
        codes = {inst_id_code(i): i for i in self.orders.instruments}
        assert len(codes) == len(self.orders.instruments), "instIdCode collision"
        self.private = OkxPrivate(venue, self.orders, self.account, codes, self.conn_id)
        router.websocket("/ws/v5/public", self._ws)
        router.websocket("/ws/v5/business", self._ws_business)
        router.websocket("/ws/v5/private", self.private.serve)
        self.server = VenueServer(
            self.name,
            router,
            injector=injector,
            market=None,
            ws_settings=WsSettings(
                send_buffer=self.settings.send_buffer, idle_timeout=self.settings.idle_timeout
            ),
            rate_limited=self.rate_limited,
            server_error=self.server_error,
            market_of=self._market_of,
            host=self.options.host,
            port=self.options.port("spot") or self.options.port("swap"),
            latency=self.settings.latency,
        )
        #: The endpoint of each market: one port serves both (its ASGI app is ``server.app``).
        self.servers: dict[str, VenueServer] = {m: self.server for m in venue.markets()}

    def _market_of(self, req: Request) -> str | None:
        """The market a REST request names (``instType``, else ``instId``: a ``-SWAP``
        one is swap; in its query or its JSON body, a batch's first order), for fault
        rules aimed at one market; ``None`` when it names none (the websockets and
        public time serve both)."""
        inst_type: object = req.query.get("instType")
        inst_id: object = req.query.get("instId")
        if inst_type is None and inst_id is None and req.method == "POST" and req.body:
            try:
                body = _dec.decode(req.body)
            except msgspec.DecodeError:
                body = None
            if isinstance(body, list) and body:
                body = body[0]
            if isinstance(body, dict):
                inst_type, inst_id = body.get("instType"), body.get("instId")
        if isinstance(inst_type, str):
            market = inst_type.lower()
            return market if market in self.servers else None
        if isinstance(inst_id, str) and inst_id:
            return "swap" if inst_id.endswith("-SWAP") else "spot"
        return None

    def server_error(self, req: Request, verdict: RestVerdict) -> Response:
        """The venue's reply to a REST error fault: the gateway's bare 5xx, or with a
        ``code`` the v5 error envelope (HTTP 200) carrying it (50001 "Service temporarily
        unavailable", 50004 "Endpoint request timeout", 50013 "Systems are busy")."""
        if verdict.code is None:
            return Response(status=verdict.status, body=b"", content_type="text/html")
        said = {
            50001: "Service temporarily unavailable. Please try again later.",
            50004: "Endpoint request timeout (does not mean that the request was successful "
            "or failed, please check the request result).",
            50013: "Systems are busy. Please try again later.",
        }
        return json_response(error_body(str(verdict.code), said.get(verdict.code, "Error")))

    def rate_limited(self, req: Request, verdict: RestVerdict) -> Response:
        """The venue's reply to a REST_429 fault: HTTP 429, code ``50011``."""
        return json_response(error_body("50011", "Too Many Requests"), status=429)

    def statistics(self) -> OkxStatistics:
        """A frozen snapshot of the front-end's counters."""
        topics = self.board.statistics()
        sent = self.board.sent_by_type()
        return OkxStatistics(
            connections=topics.connections,
            subscriptions=topics.subscriptions,
            book_messages=sent.get(BookChannel, 0),
            trade_messages=sent.get(TradeChannel, 0),
            ticker_messages=sent.get(TickerChannel, 0),
            corrupted_checksums=sum(
                c.corrupted for c in self.board.topics() if isinstance(c, BookChannel)
            ),
            topics=topics,
            private_connections=self.private.sessions,
            trade_requests=self.private.order_requests,
            orders_rate_limited=self.order_limits.refused,
        )

    # ------------------------------------------------------------ publishing

    async def run(
        self, *, task_status: trio.TaskStatus[dict[str, str]] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Serve until cancelled; started with ``{"spot.rest": ..., "swap.ws": ...}``."""
        self._mirrors = {key: wire_book(book) for key, book in self.venue.books.items()}
        unlisten = self.venue.listen(self._on_batch)
        try:
            async with trio.open_nursery() as nursery:
                for interval in sorted(set(_CHANNEL_INTERVAL.values())):
                    nursery.start_soon(self._book_timer, interval)
                nursery.start_soon(self._ticker_timer)
                nursery.start_soon(self._candle_timer)
                nursery.start_soon(self.depth.run)
                nursery.start_soon(
                    self.injector.run_timed,
                    self.name,
                    frozenset({FaultKind.SERVER_SHUTDOWN}),
                    self._service_upgrade,
                )
                base: str = await nursery.start(self.server.run)
                for market in self.venue.markets():
                    self.urls[f"{market}.rest"] = base
                    self.urls[f"{market}.ws"] = base.replace("http://", "ws://", 1)
                task_status.started(dict(self.urls))
        finally:
            unlisten()

    async def _service_upgrade(self, rule: FaultRule) -> None:
        """A SERVER_SHUTDOWN rule: the venue's notice of a service upgrade (``event``
        ``notice``, code 64008, pushed before the upgrade) on every websocket
        connection, public and private, which closes ``rule.seconds`` later."""
        connections = list(self.server.connections.values())
        for conn in connections:
            notice = {
                "event": "notice",
                "code": "64008",
                "msg": _UPGRADE_NOTICE,
                "connId": conn.state.get("connId", ""),
            }
            conn.send(encode(notice))
        self.injector.record(self.name, rule.kind, detail=f"connections={len(connections)}")
        await trio.sleep(rule.seconds)
        for conn in connections:
            conn.close(1001, "service upgrade")

    def _on_batch(self, batch: BookBatch) -> None:
        mirror = self._mirrors.get((batch.market, batch.native_id))
        if mirror is None:
            return
        book = self.venue.books[(batch.market, batch.native_id)]
        self.candles.record(batch, book.last_trade_id)
        mirror.feed(batch.results, immediate=self.settings.immediate)
        groups = [(len(r.trades), i) for i, r in enumerate(batch.results) if r.trades]
        ticker = self.board.get(("tickers", batch.native_id))
        if isinstance(ticker, TickerChannel):
            ticker.dirty = True
        if groups:
            trades = self.board.get(("trades", batch.native_id))
            if isinstance(trades, TradeChannel):
                trades.publish_trades(groups)

    async def _book_timer(self, interval: float) -> None:
        heartbeat = self.settings.heartbeat
        while True:
            await trio.sleep(interval)
            now = trio.current_time()
            for channel in list(self.board.topics()):
                if (
                    not isinstance(channel, BookChannel)
                    or _CHANNEL_INTERVAL[channel.channel] != interval
                ):
                    continue
                if not self.settings.immediate:
                    channel.refresh()
                if (
                    channel.channel == "books"
                    and channel.subs
                    and now - channel.last_sent >= heartbeat
                ):
                    channel.heartbeat()

    async def _ticker_timer(self) -> None:
        while True:
            await trio.sleep(_TICKER_INTERVAL)
            for channel in list(self.board.topics()):
                if isinstance(channel, TickerChannel):
                    channel.tick()

    async def _candle_timer(self) -> None:
        while True:
            await trio.sleep(_CANDLE_INTERVAL)
            now = self.venue.now_ms()
            for channel in list(self.board.topics()):
                if isinstance(channel, CandleChannel):
                    channel.tick(now)

    # ------------------------------------------------------------- websocket

    def conn_id(self) -> str:
        """A new ``connId`` (8 hex digits, as OKX's)."""
        return format(zlib.crc32(f"{self.venue.seed}/{next(self._conn_counter)}".encode()), "08x")

    async def _ws(self, conn: WsConnection) -> None:
        await self._serve_public(conn, business=False)

    async def _ws_business(self, conn: WsConnection) -> None:
        await self._serve_public(conn, business=True)

    async def _serve_public(self, conn: WsConnection, *, business: bool) -> None:
        conn_id = conn.state["connId"] = self.conn_id()

        def on_message(raw: str | bytes) -> None:
            text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
            if text == "ping":
                conn.send("pong")
            else:
                self._on_message(conn, conn_id, text, business=business)

        await self.board.serve(conn, on_message)

    def _login(
        self,
        conn: WsConnection,
        conn_id: str,
        args: object,
        req_id: str | None,
        reply: Callable[[JsonDict], None],
    ) -> None:
        """``login`` on ``/ws/v5/public`` (the ``*-l2-tbt`` books need it) and
        ``/ws/v5/business``: checked as on the private socket; it opens no private
        channel here."""
        decision = verify_ws_login(
            args if isinstance(args, list) else [],
            keyring=self.venue.desk.keyring,
            now_ns=self.venue.now_ns(),
        )
        if not isinstance(decision, Authenticated):
            reply(error_event(str(decision.code), decision.message, conn_id, req_id))
            return
        out: JsonDict = {} if req_id is None else {"id": req_id}
        out.update({"event": "login", "code": "0", "msg": "", "connId": conn_id})
        reply(out)

    def _on_message(self, conn: WsConnection, conn_id: str, text: str, *, business: bool) -> None:
        def reply(value: JsonDict) -> None:
            conn.send(encode(value))

        try:
            message = _dec.decode(text)
        except msgspec.DecodeError:
            message = None
        if not isinstance(message, dict) or "op" not in message:
            reply(error_event("60012", f"Invalid request: {text}", conn_id, None))
            return
        req_raw = message.get("id")
        req_id = str(req_raw) if req_raw is not None else None
        op = message.get("op")
        if op == "login":
            self._login(conn, conn_id, message.get("args"), req_id, reply)
            return
        if op not in ("subscribe", "unsubscribe"):
            reply(error_event("60019", f"Invalid op: {op}", conn_id, req_id))
            return
        args = message.get("args")
        if not isinstance(args, list) or not args:
            reply(error_event("60012", f"Invalid request: {text}", conn_id, req_id))
            return
        snapshots: list[tuple[str, str]] = []
        for arg in args:
            if not isinstance(arg, dict) or not isinstance(arg.get("channel"), str):
                reply(error_event("60012", f"Invalid request: {text}", conn_id, req_id))
                continue
            channel_name = str(arg["channel"])
            inst_id = arg.get("instId")
            if not isinstance(inst_id, str) or not inst_id:
                reply(
                    error_event(
                        "60013", f"Invalid args: {channel_name} instId is empty", conn_id, req_id
                    )
                )
                continue
            echo: JsonDict = {"channel": channel_name, "instId": inst_id}
            key = (channel_name, inst_id)
            if op == "unsubscribe":
                self.board.unsubscribe(conn, key)
                reply(subscribe_event("unsubscribe", echo, conn_id, req_id))
                continue
            channel = self._resolve(channel_name, inst_id, business=business)
            if channel is None:
                code = self._refusal(channel_name, business=business)
                detail = f"channel:{channel_name},instId:{inst_id}"
                reply(error_event(code, WS_ERRORS[code].format(detail), conn_id, req_id))
                continue
            reply(subscribe_event("subscribe", echo, conn_id, req_id))
            if key in self.board.subscriptions(conn):
                continue
            if isinstance(channel, BookChannel):
                # Push what is pending to the others first: the newcomer starts from now.
                channel.refresh()
                if channel.channel != "books" or self.push_snapshot:
                    snapshots.append((channel.name, channel.snapshot_frame()))
            elif isinstance(channel, TickerChannel):
                snapshots.append((channel.name, channel.frame()))
            elif isinstance(channel, CandleChannel):
                current = channel.current_frame(self.venue.now_ms())
                if current is not None:
                    snapshots.append((channel.name, current))
            self.board.subscribe(conn, key, channel)
        for stream, frame in snapshots:
            conn.send(frame, stream=stream)

    @staticmethod
    def _refusal(channel: str, *, business: bool) -> str:
        """The error code of a subscription the simulator does not serve."""
        if channel in VIP_CHANNELS:
            return "64003"  # books-l2-tbt, books50-l2-tbt: VIP4 and up only
        if not business and channel.startswith(BUSINESS_PREFIXES):
            return "64001"  # candles are on /ws/v5/business only
        return "60018"

    def _books_channel(self, inst_id: str) -> BookChannel:
        """The ``books`` channel of ``inst_id`` (made on first use), which the REST book reads."""
        channel = self._resolve("books", inst_id, business=False)
        assert isinstance(channel, BookChannel), inst_id
        return channel

    def _resolve(self, channel: str, inst_id: str, *, business: bool) -> _Topic | None:
        book = self.rest.by_inst.get(inst_id)
        if book is None or channel in VIP_CHANNELS:
            return None
        key = (channel, inst_id)
        if business:
            bar = channel.removeprefix("candle")
            if not channel.startswith("candle") or bar not in CHANNEL_BARS:
                return None
            return self.board.topic(key, lambda: CandleChannel(bar, book, self.candles))
        if channel in CHANNEL_DEPTH:
            mirror = self._mirrors[(book.market, inst_id)]
            if self.board.get(key) is None:
                # As deep as the venue's book before the view is built.
                self.depth.require(book.market, inst_id, CHANNEL_DEPTH[channel])
            return self.board.topic(
                key,
                lambda: BookChannel(
                    channel,
                    mirror,
                    self.venue,
                    checksum=self.real_checksum,
                    corrupt=self.corrupt_rules,
                ),
            )
        if channel == "tickers":
            return self.board.topic(key, lambda: TickerChannel(book, self.venue))
        if channel == "trades":
            return self.board.topic(key, lambda: TradeChannel(book))
        return None


def create_frontend(
    venue: SimVenue, injector: FaultInjector, options: FrontendOptions
) -> OkxFrontend:
    """Front-end factory used by :func:`connector.sim.run`."""
    return OkxFrontend(venue, injector, options)
