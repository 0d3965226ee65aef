"""The Binance front-end: one port per market, the websocket session, flush timers.

Each market gets its own port, as the real venue has separate hosts
(``api.binance.com``/``stream.binance.com`` and ``fapi``/``fstream``); on each
port the REST paths (``/api/v3/...`` for spot, ``/fapi/v1/...`` and the empty
COIN-M ``/dapi/v1/exchangeInfo`` for futures) and the websocket paths are
served:

* spot: ``/ws``, ``/ws/<s>[/<s>...]``, ``/stream?streams=a/b`` (every stream);
* USDⓈ-M (since 2026-04-23): ``/public/...`` and ``/market/...``, each with
  ``/ws``, ``/ws/<s>...`` and ``/stream?streams=...``; a stream on the other
  route is acknowledged and silent. The unrouted ``/ws`` and ``/stream``
  accept everything but deliver only ``/public`` streams. Setting
  ``routing = "legacy"`` serves the venue as it was before: every stream on
  ``/ws`` and ``/stream``, no routed paths.

A ``SUBSCRIBE`` naming a malformed stream gets ``{"error": {"code": 2, "msg":
"Invalid request: invalid stream"}, "id": n}`` and subscribes nothing.

Books can be as deep as the venue's deepest snapshot (spot 5000 levels per
side, USDⓈ-M 1000; settings ``spot_book_depth``, ``linear_book_depth``): a
REST ``depth`` request deepens its book to the levels it asks for plus a
margin (:meth:`~connector.sim.binance.rest.BinanceRest.require`), the
synthetic flow keeping quiet levels beyond its active ones
(:meth:`~connector.sim.flow.SyntheticFlow.deepen`). Until then a book holds
the flow's levels (about 25 per side), so a start need not rest thousands of
levels on every book.

Limits (overridable with :class:`BinanceSettings` names in
``FrontendOptions.settings``): request weight per IP (429, then 418 ban),
server pings (spot 20 s, futures 180 s), 24 h connection lifetime, streams per
connection (1024 on both; beyond: an error reply), incoming messages per
second (spot 5, futures 10; beyond: close 1008 "Too many requests").
"""

from __future__ import annotations

import attrs
import msgspec
import trio

from connector.errors import ConfigError
from connector.sim.binance.history import MarketHistory
from connector.sim.binance.names import parse_stream
from connector.sim.binance.rest import BinanceRest
from connector.sim.binance.spot_orders import SpotTrading
from connector.sim.binance.spot_rest import SpotPrivateRest
from connector.sim.binance.spot_user import UserDataHub
from connector.sim.binance.spot_wsapi import SpotWsApi
from connector.sim.binance.streams import MarketStreams
from connector.sim.binance.usdm_routes import UsdmTrading
from connector.sim.binance.wire import Listing
from connector.sim.faults import SESSION_KINDS, FaultInjector, FaultKind, FaultRule
from connector.sim.http import Router
from connector.sim.hub import BookBatch, SimVenue
from connector.sim.ratelimit import BinanceWeightLimiter
from connector.sim.server import FrontendOptions, VenueServer
from connector.sim.settings import FrontendSettings
from connector.sim.topics import TopicStatistics
from connector.sim.ws import WsConnection, WsSettings

__all__ = ["BinanceFrontend", "BinanceSettings", "BinanceStatistics", "create_frontend"]

_enc = msgspec.json.Encoder()
_dec = msgspec.json.Decoder()

MARKETS = ("spot", "linear")


@attrs.frozen(kw_only=True)
class BinanceSettings(FrontendSettings):
    """Tunable limits of the Binance front-end (real values by default)."""

    spot_weight_limit: int = 6000
    linear_weight_limit: int = 2400
    weight_window: float = 60.0
    strikes_before_ban: int = 3
    ban_seconds: float = 120.0
    spot_ping_interval: float | None = 20.0
    linear_ping_interval: float | None = 180.0
    max_lifetime: float | None = 86400.0
    spot_stream_limit: int = 1024
    linear_stream_limit: int = 1024
    spot_incoming_per_second: float | None = 5.0
    linear_incoming_per_second: float | None = 10.0
    #: ``routed`` (the venue since 2026-04-23) or ``legacy`` (every USDⓈ-M stream on ``/ws``).
    routing: str = "routed"
    spot_book_depth: int = 5000
    linear_book_depth: int = 1000


@attrs.frozen(kw_only=True)
class BinanceStatistics:
    """Counters of the Binance front-end.

    Attributes:
        events: Events published to at least one connection.
        connections: Websocket connections open.
        subscriptions: Streams with at least one subscriber.
        topics: The subscription counters of both markets together.
        trade_requests: Order-entry requests on the WebSocket APIs (both markets).
    """

    events: int
    connections: int
    subscriptions: int
    topics: TopicStatistics
    trade_requests: int = 0


class _Market:
    """Everything one market (spot or linear) serves: REST, streams, one port."""

    def __init__(
        self, fe: BinanceFrontend, market: str, settings: BinanceSettings, options: FrontendOptions
    ) -> None:
        self.market = market
        spot = market == "spot"
        self.stream_limit = settings.spot_stream_limit if spot else settings.linear_stream_limit
        routed = not spot and settings.routing == "routed"
        #: Routes an unrouted connection gets (None: every stream).
        self.unrouted: frozenset[str] | None = frozenset({"public"}) if routed else None
        listings = {b.native_id: Listing(b) for b in fe.venue.books.values() if b.market == market}
        self.history = MarketHistory(market, listings, fe.venue.now_ms())
        limiter = BinanceWeightLimiter(
            limit=settings.spot_weight_limit if spot else settings.linear_weight_limit,
            window=settings.weight_window,
            strikes_before_ban=settings.strikes_before_ban,
            ban_seconds=settings.ban_seconds,
            wall_ms=fe.venue.now_ms,
        )
        self.rest = BinanceRest(
            fe.venue,
            fe.injector,
            market,
            listings,
            limiter,
            self.history,
            settings.spot_book_depth if spot else settings.linear_book_depth,
        )
        self.streams = MarketStreams(
            fe.venue, market, listings, self.history, lambda ms: fe.ensure_timer(self, ms)
        )
        ws = WsSettings(
            send_buffer=settings.send_buffer,
            ping_interval=settings.spot_ping_interval if spot else settings.linear_ping_interval,
            # Spot drops a client after a minute without a pong, USDⓈ-M after ten.
            pong_timeout=None if spot else 600.0,
            max_lifetime=settings.max_lifetime,
            max_incoming_per_second=(
                settings.spot_incoming_per_second if spot else settings.linear_incoming_per_second
            ),
            # The WebSocket APIs' limits are request weight and order counts.
            unmetered_paths=frozenset({"/ws-api/v3" if spot else "/ws-fapi/v1"}),
        )
        router = Router()
        self.rest.register(router)
        #: USDⓈ-M order entry, accounts, user data and ws-fapi (None on spot).
        self.usdm = None if spot else UsdmTrading(fe.venue, listings, limiter)
        if self.usdm is not None:
            self.usdm.register(router)
        #: Spot trading (private REST, the WebSocket API and its user data).
        self.trading: SpotTrading | None = None
        self.users: UserDataHub | None = None
        self.wsapi: SpotWsApi | None = None
        if spot:
            self.trading = SpotTrading(fe.venue, listings)
            self.users = UserDataHub(self.trading, fe.venue.now_ms)
            SpotPrivateRest(self.trading, limiter).register(router)
            self.wsapi = SpotWsApi(fe.venue, self.trading, self.users, limiter)
            router.websocket("/ws-api/v3", self.wsapi.handler)
        for route in ("", "/public", "/market") if routed else ("",):
            router.websocket(route + "/ws", self.ws_handler)
            router.websocket(route + "/ws/", self.ws_handler, prefix=True)
            router.websocket(route + "/stream", self.ws_handler)
        self.server = VenueServer(
            "binance",
            router,
            injector=fe.injector,
            market=market,
            ws_settings=ws,
            rate_limited=self.rest.fault_429,
            server_error=self.rest.fault_5xx,
            host=options.host,
            port=options.port(market),
            latency=settings.latency,
        )

    async def ws_handler(self, conn: WsConnection) -> None:
        """One websocket session: the streams in the URL, then the JSON control protocol."""
        streams = self.streams
        path = conn.path
        routes = self.unrouted
        for route in ("public", "market"):
            if path.startswith(f"/{route}/"):
                routes = frozenset({route})
                path = path[len(route) + 1 :]
        conn.state["routes"] = routes
        combined = path == "/stream"
        conn.state["combined"] = combined
        initial: list[str] = []
        if combined:
            raw = conn.query.get("streams", "")
            initial = [s for s in raw.split("/") if s]
        elif path.startswith("/ws/"):
            initial = [s for s in path[4:].split("/") if s]
        if len(initial) > self.stream_limit:
            conn.close(1008, "too many streams")
            return
        for name in initial:
            streams.subscribe(conn, name, parse_stream(self.market, name))
        await streams.board.serve(conn, lambda message: self._on_message(conn, message))

    def _on_message(self, conn: WsConnection, message: str | bytes) -> None:
        def reply(value: object) -> None:
            conn.send(_enc.encode(value).decode())

        def error(code: int, msg: str, req_id: object) -> None:
            reply({"error": {"code": code, "msg": msg}, "id": req_id})

        try:
            value = _dec.decode(message)
        except msgspec.DecodeError:
            error(3, "Invalid JSON: expected value at line 1 column 1", None)
            return
        if not isinstance(value, dict):
            error(2, "Invalid request: expected an object", None)
            return
        req_id = value.get("id")
        if req_id is not None and (
            not isinstance(req_id, (int, str))
            or isinstance(req_id, bool)
            or (isinstance(req_id, int) and req_id < 0)
        ):
            error(2, "Invalid request: request ID must be an unsigned integer", None)
            return
        method = value.get("method")
        streams = self.streams
        subs = streams.subscribed(conn)
        if method == "LIST_SUBSCRIPTIONS":
            reply({"result": subs, "id": req_id})
            return
        if method not in ("SUBSCRIBE", "UNSUBSCRIBE"):
            if not isinstance(method, str):
                error(2, "Invalid request: missing field `method`", req_id)
            else:
                error(
                    2,
                    f"Invalid request: unknown variant `{method}`, expected one of `SUBSCRIBE`, "
                    "`UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY`",
                    req_id,
                )
            return
        params = value.get("params")
        if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
            error(2, "Invalid request: missing field `params`", req_id)
            return
        if method == "SUBSCRIBE":
            parsed = [parse_stream(self.market, p) for p in params]
            if any(p is None for p in parsed):
                error(2, "Invalid request: invalid stream", req_id)
                return
            current = set(subs)
            new = [p for p in params if p not in current]
            if len(subs) + len(new) > self.stream_limit:
                error(
                    2,
                    f"Invalid request: too many streams; a connection may listen to at most "
                    f"{self.stream_limit} streams",
                    req_id,
                )
                return
            for name in new:
                streams.subscribe(conn, name, parse_stream(self.market, name))
        else:
            for name in params:
                streams.unsubscribe(conn, name)
        reply({"result": None, "id": req_id})


class BinanceFrontend:
    """Serves Binance spot and USDⓈ-M over one :class:`SimVenue`.

    Args:
        venue: The venue hub (instruments of markets ``spot`` and ``linear``).
        injector: The run's fault injector.
        options: Host, ports per market and :class:`BinanceSettings` names.
    """

    name = "binance"

    def __init__(self, venue: SimVenue, injector: FaultInjector, options: FrontendOptions) -> None:
        self.venue = venue
        self.injector = injector
        self.options = options
        self.settings = BinanceSettings.from_options(options.settings, self.name)
        if self.settings.routing not in ("routed", "legacy"):
            raise ConfigError(
                f"sim binance: routing must be 'routed' or 'legacy', not {self.settings.routing!r}"
            )
        self.markets: dict[str, _Market] = {
            m: _Market(self, m, self.settings, options) for m in MARKETS if m in venue.markets()
        }
        #: The endpoint of each market (its ASGI app is ``server.app``).
        self.servers: dict[str, VenueServer] = {m: mk.server for m, mk in self.markets.items()}
        self._timers: set[tuple[str, int]] = set()
        self._nursery: trio.Nursery | None = None
        self.urls: dict[str, str] = {}

    def statistics(self) -> BinanceStatistics:
        """A frozen snapshot of the front-end's counters."""
        per_market = [m.streams.statistics() for m in self.markets.values()]
        topics = TopicStatistics(
            connections=sum(s.connections for s in per_market),
            topics=sum(s.topics for s in per_market),
            subscriptions=sum(s.subscriptions for s in per_market),
            published=sum(s.published for s in per_market),
            sent=sum(s.sent for s in per_market),
        )
        return BinanceStatistics(
            events=topics.published,
            connections=sum(len(m.server.connections) for m in self.markets.values()),
            subscriptions=topics.topics,
            topics=topics,
            trade_requests=sum(
                m.wsapi.order_requests if m.wsapi is not None else 0 for m in self.markets.values()
            )
            + sum(
                m.usdm.wsapi.order_requests if m.usdm is not None else 0
                for m in self.markets.values()
            ),
        )

    def ensure_timer(self, market: _Market, interval_ms: int) -> None:
        """Start the flush timer of ``market`` at ``interval_ms`` unless it runs."""
        key = (market.market, interval_ms)
        if key in self._timers or self._nursery is None:
            return
        self._timers.add(key)
        self._nursery.start_soon(self._timer, market, interval_ms)

    @staticmethod
    async def _timer(market: _Market, interval_ms: int) -> None:
        interval = interval_ms / 1000
        deadline = trio.current_time()
        while True:
            deadline += interval
            await trio.sleep_until(deadline)
            if deadline < trio.current_time() - interval:
                deadline = trio.current_time()
            market.streams.flush(interval_ms)

    async def _session_fault(self, rule: FaultRule) -> None:
        if rule.kind is FaultKind.STREAM_TERMINATED:
            ended = sum(m.users.terminate_all() for m in self.markets.values() if m.users)
            self.injector.record(self.name, rule.kind, detail=f"subscriptions={ended}")
        elif rule.kind is FaultKind.LISTEN_KEY_EXPIRED:
            ended = 0
            for market in self.markets.values():
                if market.usdm is not None:
                    ended += market.usdm.keys.expire_all()
                    market.usdm.streams.expire()
            self.injector.record(self.name, rule.kind, detail=f"keys={ended}")
        else:
            # The WebSocket APIs wrap it as a connection event ("Connection events");
            # spot's market streams send it as one of their events ("General WSS
            # information": "A serverShutdown event will be sent when the server is
            # about to shutdown"). USDⓈ-M's market stream docs name no such event.
            now = self.venue.now_ms()
            wrapped = _enc.encode({"event": {"e": "serverShutdown", "E": now}}).decode()
            bare = _enc.encode({"e": "serverShutdown", "E": now}).decode()
            sessions, streams = [], []
            for market in self.markets.values():
                for conn in market.server.connections.values():
                    if conn.path.startswith(("/ws-api/", "/ws-fapi/")):
                        sessions.append(conn)
                    elif market.market == "spot":
                        streams.append(conn)
            for conn in sessions:
                conn.send(wrapped)
            for conn in streams:
                conn.send(bare)
            self.injector.record(
                self.name, rule.kind, detail=f"sessions={len(sessions)} streams={len(streams)}"
            )
            await trio.sleep(rule.seconds)
            for conn in (*sessions, *streams):
                conn.close(1001, "server shutdown")

    def _on_batch(self, batch: BookBatch) -> None:
        market = self.markets.get(batch.market)
        if market is not None:
            market.streams.on_batch(batch)

    async def run(
        self, *, task_status: trio.TaskStatus[dict[str, str]] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Serve every market until cancelled; started with the URL map."""
        unlisten = self.venue.listen(self._on_batch)
        stops = [m.users.start() for m in self.markets.values() if m.users is not None]
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                for name, market in self.markets.items():
                    if market.usdm is not None:
                        market.usdm.streams.start()
                        nursery.start_soon(market.usdm.streams.run_expiry)
                    base = await nursery.start(market.server.run)
                    self.urls[f"{name}.rest"] = base
                    self.urls[f"{name}.ws"] = base.replace("http://", "ws://", 1)
                nursery.start_soon(
                    self.injector.run_timed, self.name, SESSION_KINDS, self._session_fault
                )
                task_status.started(dict(self.urls))
        finally:
            unlisten()
            for market in self.markets.values():
                if market.usdm is not None:
                    market.usdm.streams.stop()
            for stop in stops:
                stop()
            self._nursery = None


def create_frontend(
    venue: SimVenue, injector: FaultInjector, options: FrontendOptions
) -> BinanceFrontend:
    """Front-end factory used by :func:`connector.sim.run`."""
    return BinanceFrontend(venue, injector, options)
