"""Binance front-end of the simulator: spot and USDⓈ-M futures, REST and streams.

Each market gets its own port, as the real venue has separate hosts
(``api.binance.com``/``stream.binance.com`` and ``fapi``/``fstream``); on each
port the REST paths (``/api/v3/...`` for spot, ``/fapi/v1/...`` for futures)
and the websocket paths (``/ws``, ``/ws/<streams>``, ``/stream?streams=...``)
are served. Frame shapes, key order and JSON types follow real captures:
hftbacktest's ``examples/{spot,usdm}/btcusdt_20240808.gz`` and cryptofeed's
``BINANCE*.ws.1.0``/``*.http.0.0``/``*.0`` (see ``tests/sim/test_binance.py``).

Streams (``<sym>`` is the lower-case symbol):

* ``<sym>@depth`` (spot 1000 ms, futures 250 ms), ``@depth@100ms``, futures
  ``@depth@500ms``: diff events batching every engine update of the window
  (``U`` first update id, ``u`` last, futures ``pu`` = previous event's ``u``);
  ``@depth@0ms``: one event per engine update (benchmarks).
* ``<sym>@depth5|10|20[@100ms]`` partial book (spot ``lastUpdateId/bids/asks``,
  futures a ``depthUpdate`` with ``pu``), ``@trade``, ``@aggTrade``,
  ``@bookTicker``, ``@ticker``.

REST ``lastUpdateId`` is the engine's update id at that moment, so the
documented snapshot + diff procedure rebuilds the engine's book.

Limits (overridable with :class:`BinanceSettings` names in
``FrontendOptions.settings``): request weight per IP (429, then 418 ban),
server pings (spot 20 s, futures 180 s), 24 h connection lifetime, streams per
connection (spot 1024, futures 200; beyond: an error reply), incoming messages
per second (spot 5, futures 10; beyond: close 1008 "Too many requests").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import attrs
import msgspec
import structlog
import trio

from connector.model import Side
from connector.sim.engine import EngineResult
from connector.sim.faults import FaultInjector, RestVerdict
from connector.sim.hub import BookBatch, SimBook, SimVenue
from connector.sim.ratelimit import BinanceWeightLimiter, binance_depth_weight
from connector.sim.server import (
    FrontendOptions,
    Request,
    Response,
    Router,
    VenueServer,
    WsConnection,
    WsSettings,
    json_response,
    settings_from,
)

__all__ = ["BinanceFrontend", "BinanceSettings", "BinanceStatistics", "create_frontend"]

log = structlog.get_logger(__name__)

_enc = msgspec.json.Encoder()
_dec = msgspec.json.Decoder()

MARKETS = ("spot", "linear")
_SPOT_DEPTH_LIMITS = range(1, 5001)
_FUT_DEPTH_LIMITS = (5, 10, 20, 50, 100, 500, 1000)
_PARTIAL_LEVELS = (5, 10, 20)


@attrs.frozen(kw_only=True)
class BinanceSettings:
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
    linear_stream_limit: int = 200
    spot_incoming_per_second: float | None = 5.0
    linear_incoming_per_second: float | None = 10.0
    send_buffer: int = 10_000


@attrs.frozen(kw_only=True)
class BinanceStatistics:
    """Counters of the Binance front-end."""

    events: int
    connections: int
    subscriptions: int


def _places(step: Decimal) -> int:
    exp = step.normalize().as_tuple().exponent
    return max(0, -int(exp))


class _Fmt:
    """Formats an instrument's prices and quantities as the venue does."""

    def __init__(self, market: str, tick: Decimal, lot: Decimal) -> None:
        if market == "spot":
            self.p = ".8f"
            self.q = ".8f"
        else:
            self.p = f".{_places(tick)}f"
            self.q = f".{_places(lot)}f"

    def price(self, value: Decimal) -> str:
        return format(value, self.p)

    def qty(self, value: Decimal) -> str:
        return format(value, self.q)


class _DiffWindow:
    """Engine changes of one symbol accumulated over one stream interval."""

    __slots__ = ("asks", "bids", "first", "interval_ms", "last", "names", "prev")

    def __init__(self, interval_ms: int) -> None:
        self.interval_ms = interval_ms
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}
        self.first: int | None = None
        self.last: int | None = None
        self.prev: int | None = None
        self.names: set[str] = set()

    def add(self, result: EngineResult) -> None:
        if self.first is None:
            self.first = result.update_id
        self.last = result.update_id
        bids = self.bids
        asks = self.asks
        for side, price, qty in result.changes:
            if side is Side.BUY:
                bids[price] = qty
            else:
                asks[price] = qty


class _Partial:
    """A partial-book stream of one symbol at one interval."""

    __slots__ = ("first", "interval_ms", "levels", "names", "prev_u")

    def __init__(self, levels: int, interval_ms: int) -> None:
        self.levels = levels
        self.interval_ms = interval_ms
        self.names: set[str] = set()
        self.prev_u: int | None = None
        self.first: int | None = None


class _Symbol:
    """Per-symbol stream state of one market."""

    def __init__(self, book: SimBook) -> None:
        inst = book.instrument
        self.book = book
        self.symbol = book.native_id
        self.lower = book.native_id.lower()
        self.fmt = _Fmt(book.market, inst.tick_size, inst.lot_step)
        self.windows: dict[int, _DiffWindow] = {}
        self.partials: dict[tuple[int, int], _Partial] = {}
        self.best: tuple[object, object] | None = None
        self.agg_id = 0
        self.trade_ids: dict[int, int] = {}


def _parse_stream(market: str, name: str) -> tuple[str, int, int] | None:
    """``(kind, interval_ms, levels)`` of a stream name's suffix, or None if unknown."""
    try:
        _sym, rest = name.split("@", 1)
    except ValueError:
        return None
    parts = rest.split("@")
    kind = parts[0]
    speed = parts[1] if len(parts) > 1 else None
    if len(parts) > 2:
        return None
    default_ms = 1000 if market == "spot" else 250
    if kind == "depth":
        if speed is None:
            return ("depth", default_ms, 0)
        allowed = (
            {"0ms": 0, "100ms": 100, "1000ms": 1000}
            if market == "spot"
            else {
                "0ms": 0,
                "100ms": 100,
                "250ms": 250,
                "500ms": 500,
            }
        )
        ms = allowed.get(speed)
        return None if ms is None else ("depth", ms, 0)
    if kind.startswith("depth") and kind[5:].isdigit():
        levels = int(kind[5:])
        if levels not in _PARTIAL_LEVELS:
            return None
        if speed is None:
            return ("partial", default_ms, levels)
        allowed_p = (
            {"100ms": 100, "1000ms": 1000}
            if market == "spot"
            else {
                "100ms": 100,
                "250ms": 250,
                "500ms": 500,
            }
        )
        ms = allowed_p.get(speed)
        return None if ms is None else ("partial", ms, levels)
    if speed is None and kind in ("trade", "aggTrade", "bookTicker", "ticker"):
        return (kind, 0, 0)
    return None


class _Market:
    """Everything one market (spot or linear) serves."""

    def __init__(
        self, fe: BinanceFrontend, market: str, settings: BinanceSettings, options: FrontendOptions
    ) -> None:
        self.fe = fe
        self.market = market
        self.venue = fe.venue
        self.settings = settings
        spot = market == "spot"
        self.prefix = "/api/v3" if spot else "/fapi/v1"
        self.stream_limit = settings.spot_stream_limit if spot else settings.linear_stream_limit
        self.symbols: dict[str, _Symbol] = {
            b.native_id: _Symbol(b) for b in fe.venue.books.values() if b.market == market
        }
        self.by_lower = {s.lower: s for s in self.symbols.values()}
        self.subs: dict[str, set[WsConnection]] = defaultdict(set)
        self.limiter = BinanceWeightLimiter(
            limit=settings.spot_weight_limit if spot else settings.linear_weight_limit,
            window=settings.weight_window,
            strikes_before_ban=settings.strikes_before_ban,
            ban_seconds=settings.ban_seconds,
            wall_ms=fe.venue.now_ms,
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
        )
        router = Router()
        p = self.prefix
        router.get(f"{p}/ping", self.ping)
        router.get(f"{p}/time", self.time)
        router.get(f"{p}/exchangeInfo", self.exchange_info)
        router.get(f"{p}/depth", self.depth)
        router.get(f"{p}/ticker/24hr", self.ticker_24hr)
        router.get(f"{p}/ticker/bookTicker", self.book_ticker)
        router.get(f"{p}/trades", self.trades)
        router.not_found = self.not_found
        router.websocket("/ws", self.ws_handler)
        router.websocket("/ws/", self.ws_handler, prefix=True)
        router.websocket("/stream", self.ws_handler)
        self.server = VenueServer(
            "binance",
            router,
            injector=fe.injector,
            market=market,
            ws_settings=ws,
            rate_limited=self.fault_429,
            server_error=self.fault_5xx,
            host=options.host,
            port=options.port(market),
        )
        self.events = 0

    # ------------------------------------------------------------------ REST

    def _charge(
        self, req: Request, weight: int
    ) -> tuple[Response | None, tuple[tuple[str, str], ...]]:
        verdict = self.limiter.check(req.client, weight)
        if not verdict.allowed:
            return verdict.response(), verdict.headers
        return None, verdict.headers

    def _ok(self, value: object, headers: tuple[tuple[str, str], ...]) -> Response:
        return json_response(value, headers=headers)

    @staticmethod
    def _error(
        status: int, code: int, msg: str, headers: tuple[tuple[str, str], ...] = ()
    ) -> Response:
        return json_response({"code": code, "msg": msg}, status=status, headers=headers)

    def _symbol_param(
        self, req: Request, headers: tuple[tuple[str, str], ...]
    ) -> _Symbol | Response:
        raw = req.query.get("symbol")
        if not raw:
            return self._error(
                400,
                -1102,
                "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.",
                headers,
            )
        sym = self.symbols.get(raw)
        if sym is None:
            return self._error(400, -1121, "Invalid symbol.", headers)
        return sym

    def _int_param(self, req: Request, name: str, default: int) -> int | None:
        raw = req.query.get(name)
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except ValueError:
            return None

    async def not_found(self, req: Request) -> Response:
        return Response(status=404, body=b"", content_type="text/html")

    def fault_429(self, req: Request, verdict: RestVerdict) -> Response:
        msg = (
            f"Too many requests; current limit of IP({req.client}) is "
            f"{self.limiter.limit} requests per minute. Please use the websocket for live "
            "updates to avoid polling the API."
        )
        return self._error(
            429,
            -1003,
            msg,
            (
                ("X-MBX-USED-WEIGHT-1M", str(self.limiter.used(req.client))),
                ("Retry-After", str(max(1, round(verdict.retry_after)))),
            ),
        )

    def fault_5xx(self, req: Request, verdict: RestVerdict) -> Response:
        return self._error(
            verdict.status,
            -1001,
            "Internal error; unable to process your request. Please try again.",
        )

    async def ping(self, req: Request) -> Response:
        refused, headers = self._charge(req, 1)
        return refused or self._ok({}, headers)

    async def time(self, req: Request) -> Response:
        refused, headers = self._charge(req, 1)
        return refused or self._ok({"serverTime": self.venue.now_ms()}, headers)

    async def exchange_info(self, req: Request) -> Response:
        refused, headers = self._charge(req, 20 if self.market == "spot" else 1)
        if refused:
            return refused
        if self.market == "spot":
            return self._ok(self._spot_info(), headers)
        return self._ok(self._futures_info(), headers)

    def _rate_limits(self) -> list[dict[str, object]]:
        if self.market == "spot":
            return [
                {
                    "rateLimitType": "REQUEST_WEIGHT",
                    "interval": "MINUTE",
                    "intervalNum": 1,
                    "limit": self.limiter.limit,
                },
                {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
                {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
                {
                    "rateLimitType": "RAW_REQUESTS",
                    "interval": "MINUTE",
                    "intervalNum": 5,
                    "limit": 61000,
                },
            ]
        return [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": self.limiter.limit,
            },
            {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 300},
        ]

    def _spot_info(self) -> dict[str, object]:
        symbols = []
        for sym in self.symbols.values():
            inst = sym.book.instrument
            f = sym.fmt
            max_qty = inst.max_qty
            symbols.append(
                {
                    "symbol": sym.symbol,
                    "status": "TRADING",
                    "baseAsset": inst.base,
                    "baseAssetPrecision": 8,
                    "quoteAsset": inst.quote,
                    "quotePrecision": 8,
                    "quoteAssetPrecision": 8,
                    "baseCommissionPrecision": 8,
                    "quoteCommissionPrecision": 8,
                    "orderTypes": [
                        "LIMIT",
                        "LIMIT_MAKER",
                        "MARKET",
                        "STOP_LOSS",
                        "STOP_LOSS_LIMIT",
                        "TAKE_PROFIT",
                        "TAKE_PROFIT_LIMIT",
                    ],
                    "icebergAllowed": True,
                    "ocoAllowed": True,
                    "otoAllowed": True,
                    "quoteOrderQtyMarketAllowed": True,
                    "allowTrailingStop": True,
                    "cancelReplaceAllowed": True,
                    "isSpotTradingAllowed": True,
                    "isMarginTradingAllowed": False,
                    "filters": [
                        {
                            "filterType": "PRICE_FILTER",
                            "minPrice": f.price(inst.tick_size),
                            "maxPrice": f.price(Decimal(1000000)),
                            "tickSize": f.price(inst.tick_size),
                        },
                        {
                            "filterType": "LOT_SIZE",
                            "minQty": f.qty(inst.min_qty),
                            "maxQty": f.qty(max_qty),
                            "stepSize": f.qty(inst.lot_step),
                        },
                        {"filterType": "ICEBERG_PARTS", "limit": 10},
                        {
                            "filterType": "MARKET_LOT_SIZE",
                            "minQty": f.qty(Decimal(0)),
                            "maxQty": f.qty(max_qty),
                            "stepSize": f.qty(Decimal(0)),
                        },
                        {
                            "filterType": "TRAILING_DELTA",
                            "minTrailingAboveDelta": 10,
                            "maxTrailingAboveDelta": 2000,
                            "minTrailingBelowDelta": 10,
                            "maxTrailingBelowDelta": 2000,
                        },
                        {
                            "filterType": "PERCENT_PRICE_BY_SIDE",
                            "bidMultiplierUp": "5",
                            "bidMultiplierDown": "0.2",
                            "askMultiplierUp": "5",
                            "askMultiplierDown": "0.2",
                            "avgPriceMins": 5,
                        },
                        {
                            "filterType": "NOTIONAL",
                            "minNotional": f.price(inst.min_notional),
                            "applyMinToMarket": True,
                            "maxNotional": "9000000.00000000",
                            "applyMaxToMarket": False,
                            "avgPriceMins": 5,
                        },
                        {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
                        {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": 5},
                    ],
                    "permissions": [],
                    "permissionSets": [["SPOT"]],
                    "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
                    "allowedSelfTradePreventionModes": [
                        "EXPIRE_TAKER",
                        "EXPIRE_MAKER",
                        "EXPIRE_BOTH",
                    ],
                }
            )
        return {
            "timezone": "UTC",
            "serverTime": self.venue.now_ms(),
            "rateLimits": self._rate_limits(),
            "exchangeFilters": [],
            "symbols": symbols,
        }

    def _futures_info(self) -> dict[str, object]:
        symbols = []
        assets: dict[str, None] = {}
        for sym in self.symbols.values():
            inst = sym.book.instrument
            f = sym.fmt
            assets.setdefault(inst.quote, None)
            symbols.append(
                {
                    "symbol": sym.symbol,
                    "pair": sym.symbol,
                    "contractType": "PERPETUAL",
                    "deliveryDate": 4133404800000,
                    "onboardDate": 1569398400000,
                    "status": "TRADING",
                    "maintMarginPercent": "2.5000",
                    "requiredMarginPercent": "5.0000",
                    "baseAsset": inst.base,
                    "quoteAsset": inst.quote,
                    "marginAsset": inst.quote,
                    "pricePrecision": _places(inst.tick_size),
                    "quantityPrecision": _places(inst.lot_step),
                    "baseAssetPrecision": 8,
                    "quotePrecision": 8,
                    "underlyingType": "COIN",
                    "underlyingSubType": [],
                    "settlePlan": 0,
                    "triggerProtect": "0.0500",
                    "liquidationFee": "0.012500",
                    "marketTakeBound": "0.05",
                    "filters": [
                        {
                            "minPrice": f.price(inst.tick_size),
                            "maxPrice": f.price(Decimal(4529764)),
                            "filterType": "PRICE_FILTER",
                            "tickSize": f.price(inst.tick_size),
                        },
                        {
                            "stepSize": f.qty(inst.lot_step),
                            "filterType": "LOT_SIZE",
                            "maxQty": f.qty(inst.max_qty),
                            "minQty": f.qty(inst.min_qty),
                        },
                        {
                            "stepSize": f.qty(inst.lot_step),
                            "filterType": "MARKET_LOT_SIZE",
                            "maxQty": f.qty(inst.max_qty),
                            "minQty": f.qty(inst.min_qty),
                        },
                        {"limit": 200, "filterType": "MAX_NUM_ORDERS"},
                        {"limit": 10, "filterType": "MAX_NUM_ALGO_ORDERS"},
                        {
                            "notional": format(inst.min_notional.normalize(), "f"),
                            "filterType": "MIN_NOTIONAL",
                        },
                        {
                            "multiplierDown": "0.9500",
                            "multiplierUp": "1.0500",
                            "multiplierDecimal": "4",
                            "filterType": "PERCENT_PRICE",
                        },
                    ],
                    "orderTypes": [
                        "LIMIT",
                        "MARKET",
                        "STOP",
                        "STOP_MARKET",
                        "TAKE_PROFIT",
                        "TAKE_PROFIT_MARKET",
                        "TRAILING_STOP_MARKET",
                    ],
                    "timeInForce": ["GTC", "IOC", "FOK", "GTX", "GTD"],
                }
            )
        return {
            "timezone": "UTC",
            "serverTime": self.venue.now_ms(),
            "futuresType": "U_MARGINED",
            "rateLimits": self._rate_limits(),
            "exchangeFilters": [],
            "assets": [
                {"asset": a, "marginAvailable": True, "autoAssetExchange": "-10000"} for a in assets
            ],
            "symbols": symbols,
        }

    async def depth(self, req: Request) -> Response:
        spot = self.market == "spot"
        limit = self._int_param(req, "limit", 100 if spot else 500)
        valid = limit is not None and (1 <= limit <= 5000 if spot else limit in _FUT_DEPTH_LIMITS)
        weight = binance_depth_weight(self.market, limit if limit is not None and valid else 100)
        refused, headers = self._charge(req, weight)
        if refused:
            return refused
        sym = self._symbol_param(req, headers)
        if isinstance(sym, Response):
            return sym
        if not valid:
            return self._error(400, -1130, "Data sent for parameter 'limit' is not valid.", headers)
        assert limit is not None
        stale = self.fe.injector.stale_updates("binance", self.market, req.path)
        update_id, bids, asks = sym.book.depth_at(stale, limit)
        f = sym.fmt
        b = [[f.price(p), f.qty(q)] for p, q in bids]
        a = [[f.price(p), f.qty(q)] for p, q in asks]
        if spot:
            body: dict[str, object] = {"lastUpdateId": update_id, "bids": b, "asks": a}
        else:
            now = self.venue.now_ms()
            body = {"lastUpdateId": update_id, "E": now, "T": now, "bids": b, "asks": a}
        return self._ok(body, headers)

    def _ticker_obj(self, sym: _Symbol) -> dict[str, object]:
        t = sym.book.ticker()
        f = sym.fmt
        change = t.last - t.open
        pct = (change / t.open * 100) if t.open else Decimal(0)
        wavg = t.quote_volume / t.volume if t.volume else t.last
        now = self.venue.now_ms()
        open_ms = max(t.open_time_ms, now - 86_400_000) if t.open_time_ms else now
        out: dict[str, object] = {
            "symbol": sym.symbol,
            "priceChange": f.price(change),
            "priceChangePercent": format(pct, ".3f"),
            "weightedAvgPrice": f.price(wavg),
        }
        if self.market == "spot":
            bid, ask = sym.book.engine.best_bid(), sym.book.engine.best_ask()
            out["prevClosePrice"] = f.price(t.open)
            out["lastPrice"] = f.price(t.last)
            out["lastQty"] = f.qty(t.last_qty)
            out["bidPrice"] = f.price(bid.price if bid else Decimal(0))
            out["bidQty"] = f.qty(bid.qty if bid else Decimal(0))
            out["askPrice"] = f.price(ask.price if ask else Decimal(0))
            out["askQty"] = f.qty(ask.qty if ask else Decimal(0))
        else:
            out["lastPrice"] = f.price(t.last)
            out["lastQty"] = f.qty(t.last_qty)
        out.update(
            {
                "openPrice": f.price(t.open),
                "highPrice": f.price(t.high),
                "lowPrice": f.price(t.low),
                "volume": f.qty(t.volume),
                "quoteVolume": format(t.quote_volume, ".8f"),
                "openTime": open_ms,
                "closeTime": now,
                "firstId": t.first_trade_id if t.count else -1,
                "lastId": t.last_trade_id if t.count else -1,
                "count": t.count,
            }
        )
        return out

    async def ticker_24hr(self, req: Request) -> Response:
        one = bool(req.query.get("symbol"))
        spot = self.market == "spot"
        refused, headers = self._charge(req, (2 if spot else 1) if one else (80 if spot else 40))
        if refused:
            return refused
        if one:
            sym = self._symbol_param(req, headers)
            if isinstance(sym, Response):
                return sym
            return self._ok(self._ticker_obj(sym), headers)
        return self._ok([self._ticker_obj(s) for s in self.symbols.values()], headers)

    def _book_ticker_obj(self, sym: _Symbol) -> dict[str, object]:
        bid, ask = sym.book.engine.best_bid(), sym.book.engine.best_ask()
        f = sym.fmt
        zero = Decimal(0)
        out: dict[str, object] = {
            "symbol": sym.symbol,
            "bidPrice": f.price(bid.price if bid else zero),
            "bidQty": f.qty(bid.qty if bid else zero),
            "askPrice": f.price(ask.price if ask else zero),
            "askQty": f.qty(ask.qty if ask else zero),
        }
        if self.market != "spot":
            out["time"] = self.venue.now_ms()
        return out

    async def book_ticker(self, req: Request) -> Response:
        one = bool(req.query.get("symbol"))
        refused, headers = self._charge(req, 2 if one else (4 if self.market == "spot" else 5))
        if refused:
            return refused
        if one:
            sym = self._symbol_param(req, headers)
            if isinstance(sym, Response):
                return sym
            return self._ok(self._book_ticker_obj(sym), headers)
        return self._ok([self._book_ticker_obj(s) for s in self.symbols.values()], headers)

    async def trades(self, req: Request) -> Response:
        spot = self.market == "spot"
        refused, headers = self._charge(req, 25 if spot else 5)
        if refused:
            return refused
        sym = self._symbol_param(req, headers)
        if isinstance(sym, Response):
            return sym
        limit = self._int_param(req, "limit", 500)
        if limit is None or not 1 <= limit <= 1000:
            return self._error(400, -1130, "Data sent for parameter 'limit' is not valid.", headers)
        f = sym.fmt
        out = []
        for t in sym.book.recent_trades(limit):
            item: dict[str, object] = {
                "id": t.trade_id,
                "price": f.price(t.price),
                "qty": f.qty(t.qty),
                "quoteQty": f.price(t.quote_qty) if spot else format(t.quote_qty.normalize(), "f"),
                "time": t.ts_ms,
                "isBuyerMaker": t.aggressor is Side.SELL,
            }
            if spot:
                item["isBestMatch"] = True
            out.append(item)
        return self._ok(out, headers)

    # ------------------------------------------------------------- websocket

    async def ws_handler(self, conn: WsConnection) -> None:
        combined = conn.path == "/stream"
        subs: dict[str, None] = {}
        conn.state["combined"] = combined
        conn.state["subs"] = subs
        conn.on_close.append(lambda: self._drop_conn(conn))
        initial: list[str] = []
        if combined:
            raw = conn.query.get("streams", "")
            initial = [s for s in raw.split("/") if s]
        elif conn.path.startswith("/ws/"):
            initial = [s for s in conn.path[4:].split("/") if s]
        if len(initial) > self.stream_limit:
            conn.close(1008, "too many streams")
            return
        for name in initial:
            self._subscribe(conn, name)
        while True:
            message = await conn.receive()
            if message is None:
                return
            self._on_message(conn, message)

    def _reply(self, conn: WsConnection, value: object) -> None:
        conn.send(_enc.encode(value).decode())

    def _error_reply(self, conn: WsConnection, code: int, msg: str, req_id: object) -> None:
        self._reply(conn, {"error": {"code": code, "msg": msg}, "id": req_id})

    def _on_message(self, conn: WsConnection, message: str | bytes) -> None:
        try:
            value = _dec.decode(message)
        except msgspec.DecodeError:
            self._error_reply(conn, 3, "Invalid JSON: expected value at line 1 column 1", None)
            return
        if not isinstance(value, dict):
            self._error_reply(conn, 2, "Invalid request: expected an object", None)
            return
        req_id = value.get("id")
        if req_id is not None and (
            not isinstance(req_id, (int, str))
            or isinstance(req_id, bool)
            or (isinstance(req_id, int) and req_id < 0)
        ):
            self._error_reply(
                conn, 2, "Invalid request: request ID must be an unsigned integer", None
            )
            return
        method = value.get("method")
        subs: dict[str, None] = conn.state["subs"]  # type: ignore[assignment]
        if method == "LIST_SUBSCRIPTIONS":
            self._reply(conn, {"result": list(subs), "id": req_id})
            return
        if method not in ("SUBSCRIBE", "UNSUBSCRIBE"):
            if not isinstance(method, str):
                self._error_reply(conn, 2, "Invalid request: missing field `method`", req_id)
            else:
                self._error_reply(
                    conn,
                    2,
                    f"Invalid request: unknown variant `{method}`, expected one of `SUBSCRIBE`, "
                    "`UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY`",
                    req_id,
                )
            return
        params = value.get("params")
        if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
            self._error_reply(conn, 2, "Invalid request: missing field `params`", req_id)
            return
        if method == "SUBSCRIBE":
            new = [p for p in params if p not in subs]
            if len(subs) + len(new) > self.stream_limit:
                self._error_reply(
                    conn,
                    2,
                    f"Invalid request: too many streams; a connection may listen to at most "
                    f"{self.stream_limit} streams",
                    req_id,
                )
                return
            for name in new:
                self._subscribe(conn, name)
        else:
            for name in params:
                self._unsubscribe(conn, name)
        self._reply(conn, {"result": None, "id": req_id})

    def _subscribe(self, conn: WsConnection, name: str) -> None:
        subs: dict[str, None] = conn.state["subs"]  # type: ignore[assignment]
        if name in subs:
            return
        subs[name] = None
        self.subs[name].add(conn)
        parsed = _parse_stream(self.market, name)
        sym = self.by_lower.get(name.split("@", 1)[0])
        if parsed is None or sym is None:
            return
        kind, ms, levels = parsed
        if kind == "depth" and ms > 0:
            window = sym.windows.get(ms)
            if window is None:
                window = _DiffWindow(ms)
                sym.windows[ms] = window
                self.fe._ensure_timer(self, ms)
            window.names.add(name)
        elif kind == "partial":
            partial = sym.partials.get((levels, ms))
            if partial is None:
                partial = _Partial(levels, ms)
                sym.partials[(levels, ms)] = partial
                self.fe._ensure_timer(self, ms)
            partial.names.add(name)
        elif kind == "ticker":
            self.fe._ensure_timer(self, 1000)

    def _unsubscribe(self, conn: WsConnection, name: str) -> None:
        subs: dict[str, None] = conn.state["subs"]  # type: ignore[assignment]
        subs.pop(name, None)
        holders = self.subs.get(name)
        if holders is not None:
            holders.discard(conn)
            if not holders:
                del self.subs[name]

    def _drop_conn(self, conn: WsConnection) -> None:
        subs: dict[str, None] = conn.state.get("subs", {})  # type: ignore[assignment]
        for name in list(subs):
            self._unsubscribe(conn, name)

    def _emit(self, name: str, data: bytes) -> None:
        holders = self.subs.get(name)
        if not holders:
            return
        self.events += 1
        raw: str | None = None
        wrapped: str | None = None
        for conn in tuple(holders):
            if conn.state["combined"]:
                if wrapped is None:
                    wrapped = '{"stream":"' + name + '","data":' + data.decode() + "}"
                conn.send(wrapped, name)
            else:
                if raw is None:
                    raw = data.decode()
                conn.send(raw, name)

    # --------------------------------------------------------------- events

    def on_batch(self, batch: BookBatch) -> None:
        sym = self.symbols.get(batch.native_id)
        if sym is None:
            return
        subs = self.subs
        low = sym.lower
        spot = self.market == "spot"
        tx_ms = batch.ts_ns // 1_000_000
        windows = sym.windows
        zero_name = low + "@depth@0ms"
        zero = zero_name in subs
        next_trade_id = sym.book.last_trade_id + 1
        if low + "@trade" in subs or low + "@aggTrade" in subs:
            next_trade_id -= sum(len(r.trades) for r in batch.results)
        for result in batch.results:
            if result.changes:
                for window in windows.values():
                    if window.names:
                        window.add(result)
                for partial in sym.partials.values():
                    if partial.first is None:
                        partial.first = result.update_id
                if zero:
                    self._emit(
                        zero_name, self._diff_event(sym, [result], tx_ms, result.update_id - 1)
                    )
            if result.trades:
                self._on_trades(sym, result, tx_ms, spot, next_trade_id)
                next_trade_id += len(result.trades)
        book_name = low + "@bookTicker"
        if book_name in subs:
            engine = sym.book.engine
            bid, ask = engine.best_bid(), engine.best_ask()
            best = (bid, ask)
            if best != sym.best and bid is not None and ask is not None:
                sym.best = best
                f = sym.fmt
                if spot:
                    data: dict[str, object] = {
                        "u": engine.update_id,
                        "s": sym.symbol,
                        "b": f.price(bid.price),
                        "B": f.qty(bid.qty),
                        "a": f.price(ask.price),
                        "A": f.qty(ask.qty),
                    }
                else:
                    data = {
                        "e": "bookTicker",
                        "u": engine.update_id,
                        "s": sym.symbol,
                        "b": f.price(bid.price),
                        "B": f.qty(bid.qty),
                        "a": f.price(ask.price),
                        "A": f.qty(ask.qty),
                        "T": tx_ms,
                        "E": self.venue.now_ms(),
                    }
                self._emit(book_name, _enc.encode(data))

    def _on_trades(
        self, sym: _Symbol, result: EngineResult, tx_ms: int, spot: bool, first_id: int
    ) -> None:
        subs = self.subs
        f = sym.fmt
        trade_name = sym.lower + "@trade"
        agg_name = sym.lower + "@aggTrade"
        # Trade ids follow the hub's per-book numbering (the REST /trades ids).
        if trade_name in subs:
            now = self.venue.now_ms()
            for i, t in enumerate(result.trades):
                maker_is_buyer = t.aggressor is Side.SELL
                if spot:
                    data: dict[str, object] = {
                        "e": "trade",
                        "E": now,
                        "s": sym.symbol,
                        "t": first_id + i,
                        "p": f.price(t.price),
                        "q": f.qty(t.qty),
                        "T": tx_ms,
                        "m": maker_is_buyer,
                        "M": True,
                    }
                else:
                    data = {
                        "e": "trade",
                        "E": now,
                        "T": tx_ms,
                        "s": sym.symbol,
                        "t": first_id + i,
                        "p": f.price(t.price),
                        "q": f.qty(t.qty),
                        "X": "MARKET",
                        "m": maker_is_buyer,
                    }
                self._emit(trade_name, _enc.encode(data))
        if agg_name in subs:
            now = self.venue.now_ms()
            groups: list[tuple[Decimal, Decimal, int, int, bool]] = []
            for i, t in enumerate(result.trades):
                if groups and groups[-1][0] == t.price:
                    price, qty, first, _last, m = groups[-1]
                    groups[-1] = (price, qty + t.qty, first, first_id + i, m)
                else:
                    groups.append(
                        (t.price, t.qty, first_id + i, first_id + i, t.aggressor is Side.SELL)
                    )
            for price, qty, first, last, m in groups:
                sym.agg_id += 1
                if spot:
                    data = {
                        "e": "aggTrade",
                        "E": now,
                        "s": sym.symbol,
                        "a": sym.agg_id,
                        "p": f.price(price),
                        "q": f.qty(qty),
                        "f": first,
                        "l": last,
                        "T": tx_ms,
                        "m": m,
                        "M": True,
                    }
                else:
                    data = {
                        "e": "aggTrade",
                        "E": now,
                        "a": sym.agg_id,
                        "s": sym.symbol,
                        "p": f.price(price),
                        "q": f.qty(qty),
                        "f": first,
                        "l": last,
                        "T": tx_ms,
                        "m": m,
                    }
                self._emit(agg_name, _enc.encode(data))

    def _diff_event(
        self, sym: _Symbol, results: Iterable[EngineResult], tx_ms: int, prev_u: int
    ) -> bytes:
        bids: dict[Decimal, Decimal] = {}
        asks: dict[Decimal, Decimal] = {}
        first = last = 0
        for r in results:
            if not first:
                first = r.update_id
            last = r.update_id
            for side, price, qty in r.changes:
                (bids if side is Side.BUY else asks)[price] = qty
        return self._depth_update(sym, first, last, prev_u, bids, asks, tx_ms)

    def _depth_update(
        self,
        sym: _Symbol,
        first: int,
        last: int,
        prev_u: int,
        bids: Mapping[Decimal, Decimal],
        asks: Mapping[Decimal, Decimal],
        tx_ms: int,
    ) -> bytes:
        f = sym.fmt
        b = [[f.price(p), f.qty(q)] for p, q in sorted(bids.items())]
        a = [[f.price(p), f.qty(q)] for p, q in sorted(asks.items())]
        now = self.venue.now_ms()
        data: dict[str, Any]
        if self.market == "spot":
            data = {
                "e": "depthUpdate",
                "E": now,
                "s": sym.symbol,
                "U": first,
                "u": last,
                "b": b,
                "a": a,
            }
        else:
            data = {
                "e": "depthUpdate",
                "E": now,
                "T": tx_ms,
                "s": sym.symbol,
                "U": first,
                "u": last,
                "pu": prev_u,
                "b": b,
                "a": a,
            }
        return _enc.encode(data)

    def flush(self, interval_ms: int) -> None:
        """Emit every window and partial book due at this interval."""
        now_ms = self.venue.now_ms()
        for sym in self.symbols.values():
            window = sym.windows.get(interval_ms)
            if window is not None and window.first is not None and window.last is not None:
                if any(n in self.subs for n in window.names):
                    prev = window.prev if window.prev is not None else window.first - 1
                    data = self._depth_update(
                        sym, window.first, window.last, prev, window.bids, window.asks, now_ms
                    )
                    for name in window.names:
                        self._emit(name, data)
                window.prev = window.last
                window.first = window.last = None
                window.bids = {}
                window.asks = {}
            for (_levels, ms), partial in sym.partials.items():
                if ms != interval_ms or not any(n in self.subs for n in partial.names):
                    continue
                self._emit_partial(sym, partial, now_ms)
            if interval_ms == 1000:
                name = sym.lower + "@ticker"
                if name in self.subs:
                    self._emit(name, _enc.encode(self._ticker_event(sym, now_ms)))

    def _emit_partial(self, sym: _Symbol, partial: _Partial, now_ms: int) -> None:
        _uid, bids, asks = sym.book.depth(partial.levels)
        f = sym.fmt
        engine = sym.book.engine
        b = [[f.price(p), f.qty(q)] for p, q in bids]
        a = [[f.price(p), f.qty(q)] for p, q in asks]
        if self.market == "spot":
            data: dict[str, object] = {"lastUpdateId": engine.update_id, "bids": b, "asks": a}
        else:
            first = partial.first if partial.first is not None else engine.update_id
            prev = partial.prev_u if partial.prev_u is not None else first - 1
            data = {
                "e": "depthUpdate",
                "E": self.venue.now_ms(),
                "T": now_ms,
                "s": sym.symbol,
                "U": first,
                "u": engine.update_id,
                "pu": prev,
                "b": b,
                "a": a,
            }
            partial.prev_u = engine.update_id
            partial.first = None
        encoded = _enc.encode(data)
        for name in partial.names:
            self._emit(name, encoded)

    def _ticker_event(self, sym: _Symbol, now_ms: int) -> dict[str, object]:
        t = self._ticker_obj(sym)
        data: dict[str, object] = {
            "e": "24hrTicker",
            "E": now_ms,
            "s": sym.symbol,
            "p": t["priceChange"],
            "P": t["priceChangePercent"],
            "w": t["weightedAvgPrice"],
        }
        if self.market == "spot":
            data["x"] = t["prevClosePrice"]
        data["c"] = t["lastPrice"]
        data["Q"] = t["lastQty"]
        if self.market == "spot":
            data["b"] = t["bidPrice"]
            data["B"] = t["bidQty"]
            data["a"] = t["askPrice"]
            data["A"] = t["askQty"]
        data.update(
            {
                "o": t["openPrice"],
                "h": t["highPrice"],
                "l": t["lowPrice"],
                "v": t["volume"],
                "q": t["quoteVolume"],
                "O": t["openTime"],
                "C": t["closeTime"],
                "F": t["firstId"],
                "L": t["lastId"],
                "n": t["count"],
            }
        )
        return data


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
        self.settings = settings_from(BinanceSettings, options.settings, "binance")
        self.markets: dict[str, _Market] = {
            m: _Market(self, m, self.settings, options) for m in MARKETS if m in venue.markets()
        }
        self._timers: set[tuple[str, int]] = set()
        self._nursery: trio.Nursery | None = None
        self.urls: dict[str, str] = {}

    def statistics(self) -> BinanceStatistics:
        """A frozen snapshot of the front-end's counters."""
        return BinanceStatistics(
            events=sum(m.events for m in self.markets.values()),
            connections=sum(len(m.server.connections) for m in self.markets.values()),
            subscriptions=sum(len(m.subs) for m in self.markets.values()),
        )

    def _ensure_timer(self, market: _Market, interval_ms: int) -> None:
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
            market.flush(interval_ms)

    def _on_batch(self, batch: BookBatch) -> None:
        market = self.markets.get(batch.market)
        if market is not None:
            market.on_batch(batch)

    async def run(
        self, *, task_status: trio.TaskStatus[dict[str, str]] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Serve every market until cancelled; started with the URL map."""
        unlisten = self.venue.listen(self._on_batch)
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                for name, market in self.markets.items():
                    base = await nursery.start(market.server.run)
                    self.urls[f"{name}.rest"] = base
                    self.urls[f"{name}.ws"] = base.replace("http://", "ws://", 1)
                task_status.started(dict(self.urls))
        finally:
            unlisten()
            self._nursery = None


def create_frontend(
    venue: SimVenue, injector: FaultInjector, options: FrontendOptions
) -> BinanceFrontend:
    """Front-end factory used by :func:`connector.sim.run`."""
    return BinanceFrontend(venue, injector, options)
