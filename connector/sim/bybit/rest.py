"""Bybit v5 public REST: time, instruments, order book, tickers, recent trades.

Every route passes the venue's :class:`~connector.sim.rest.RestChain`: the
per-endpoint rate limit (retCode 10006 with HTTP 200 and the
``X-Bapi-Limit*`` headers, which also go out with every other answer), then
its parameter checks (retCode 10001). The order book answers from the
``orderbook.1000`` topic's view (as documented, its ``u`` is that stream's),
so its ``u``/``seq`` chain with the stream.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable

from connector.sim.bybit.klines import KLINE_INTERVALS, BybitCandles, kline_row
from connector.sim.bybit.streams import BookTopic
from connector.sim.bybit.wire import (
    REST_BOOK_DEPTH,
    JsonDict,
    envelope,
    error_body,
    instrument_item,
    orderbook_result,
    price_format,
    qty_format,
    recent_trade_item,
    side_name,
    ticker_item,
)
from connector.sim.faults import FaultInjector
from connector.sim.http import Response, Router, json_response
from connector.sim.hub import SimBook, SimVenue
from connector.sim.ratelimit import BybitLimiter
from connector.sim.rest import (
    Check,
    Reply,
    RestCall,
    RestChain,
    int_check,
    limit_check,
    lookup_check,
    parse_int,
)

__all__ = ["BybitRest"]

#: REST depth limits per category (``limit`` parameter): (default, maximum);
#: "Get Orderbook" (checked 2026-12-02): spot 1-1000 (default 1), linear 1-1000 (default 25).
_REST_LIMITS: dict[str, tuple[int, int]] = {"spot": (1, 1000), "linear": (25, 1000)}
#: Recent trades per category: (default, maximum).
_TRADE_LIMITS: dict[str, tuple[int, int]] = {"spot": (60, 60), "linear": (500, 1000)}
#: Klines per request (``limit``): (default, maximum); larger values are clamped.
_KLINE_LIMIT = (200, 1000)
_CATEGORIES = ("spot", "linear", "inverse", "option")

BookTopicFor = Callable[[str, str, int], BookTopic]
"""``book_topic(category, symbol, depth)``: the websocket topic (made on first use)."""


class BybitRest:
    """The REST routes of the Bybit front-end (shared by its ports).

    Args:
        venue: The venue hub.
        injector: The run's fault injector (stale snapshots).
        limiter: The per-endpoint rate limiter.
        book_topic: The book topic the order book answers from.
        candles: The venue's candles (``/v5/market/kline``).
    """

    name = "bybit"

    def __init__(
        self,
        venue: SimVenue,
        injector: FaultInjector,
        limiter: BybitLimiter,
        book_topic: BookTopicFor,
        candles: BybitCandles,
    ) -> None:
        self.venue = venue
        self.candles = candles
        self.injector = injector
        self.book_topic = book_topic
        self.symbol_ids = {
            key: 5 + i for i, key in enumerate(sorted(venue.books, key=lambda k: (k[0], k[1])))
        }
        self.chain = RestChain(limit_check(lambda req: limiter.check(req.client, req.path)))

    def _error(self, message: str) -> Reply:
        return lambda: json_response(error_body(10001, message, self.venue.now_ms()))

    def _ok(self, result: object) -> Response:
        return json_response(envelope(result, self.venue.now_ms()))

    def register(self, router: Router) -> None:
        """Add the REST routes to ``router``."""
        chain = self.chain
        category = lookup_check(
            "category",
            lambda _call, raw: raw if raw in _CATEGORIES else None,
            missing=self._error("Illegal category"),
            unknown=self._error("Illegal category"),
        )

        def symbol(*, optional: bool = False) -> Callable[[RestCall], Response | None]:
            return lookup_check(
                "symbol",
                lambda call, raw: self.venue.find(call.get("category", str), raw),
                missing=self._error("params error: symbol invalid"),
                unknown=self._error("Not supported symbols"),
                name="book",
                optional=optional,
            )

        def limits(table: dict[str, tuple[int, int]]) -> tuple[Callable[[RestCall], int], ...]:
            def default(call: RestCall) -> int:
                return table[call.get("book", SimBook).market][0]

            def maximum(call: RestCall) -> int:
                return table[call.get("book", SimBook).market][1]

            return default, maximum

        depth_default, depth_max = limits(_REST_LIMITS)
        trades_default, trades_max = limits(_TRADE_LIMITS)
        bad_limit = self._error("params error: limit invalid")
        chain.get(router, "/v5/market/time", self.time)
        self._register_kline(router, category, symbol())
        chain.get(router, "/v5/market/instruments-info", self.instruments, category)
        chain.get(
            router,
            "/v5/market/orderbook",
            self.orderbook,
            category,
            symbol(),
            int_check(
                "limit",
                default=depth_default,
                valid=lambda call: range(1, depth_max(call) + 1),
                invalid=bad_limit,
                blank_is_default=False,
            ),
        )
        chain.get(router, "/v5/market/tickers", self.tickers, category, symbol(optional=True))
        chain.get(
            router,
            "/v5/market/recent-trade",
            self.recent_trades,
            category,
            symbol(),
            int_check(
                "limit",
                default=trades_default,
                valid=lambda call: range(1, trades_max(call) + 1),
                invalid=None,
                malformed=bad_limit,
                blank_is_default=False,
            ),
        )

    def _register_kline(self, router: Router, category: Check, symbol: Check) -> None:
        def interval(call: RestCall) -> Response | None:
            raw = call.query.get("interval", "")
            if raw not in KLINE_INTERVALS:
                return self._error("params error: interval invalid")()
            call.put("interval", raw)
            return None

        def bounds(call: RestCall) -> Response | None:
            for name in ("start", "end"):
                raw = call.query.get(name)
                if raw is None or raw == "":
                    continue
                value = parse_int(raw, 0)
                if value is None or value < 0:
                    return self._error(f"params error: {name} invalid")()
                call.put(name, value)
            return None

        self.chain.get(
            router,
            "/v5/market/kline",
            self.kline,
            category,
            symbol,
            interval,
            bounds,
            int_check(
                "limit",
                default=_KLINE_LIMIT[0],
                valid=range(1, _KLINE_LIMIT[1] + 1),
                invalid=None,
                malformed=self._error("params error: limit invalid"),
            ),
        )

    async def kline(self, call: RestCall) -> Response:
        """``/v5/market/kline``: candles of the simulated trades, newest first."""
        found = call.get("book", SimBook)
        series = self.candles.series(found.market, found.native_id, call.get("interval", str))
        candles = self.candles.select(
            series,
            self.venue.now_ms(),
            limit=call.get("limit", int),
            start_ms=call.find("start", int),
            end_ms=call.find("end", int),
        )
        rows = [kline_row(found, c) for c in candles]
        return self._ok({"symbol": found.native_id, "category": found.market, "list": rows})

    async def time(self, call: RestCall) -> Response:
        """``/v5/market/time`` (its ``time`` from the same nanoseconds as the result)."""
        now_ns = self.venue.now_ns()
        result = {"timeSecond": str(now_ns // 1_000_000_000), "timeNano": str(now_ns)}
        return json_response(
            {
                "retCode": 0,
                "retMsg": "OK",
                "result": result,
                "retExtInfo": {},
                "time": now_ns // 1_000_000,
            }
        )

    async def instruments(self, call: RestCall) -> Response:
        """``/v5/market/instruments-info``."""
        category = call.get("category", str)
        symbol = call.query.get("symbol")
        items = []
        for inst in self.venue.instruments(category) if category in ("spot", "linear") else []:
            if symbol is not None and symbol != inst.native_id:
                continue
            items.append(instrument_item(inst, self.symbol_ids[(inst.market, inst.native_id)]))
        result: JsonDict = {"category": category, "list": items}
        if category != "spot":
            result["nextPageCursor"] = ""
        return self._ok(result)

    async def orderbook(self, call: RestCall) -> Response:
        """``/v5/market/orderbook``: the top ``limit`` levels of ``orderbook.1000``."""
        found = call.get("book", SimBook)
        limit = call.get("limit", int)
        category = found.market
        topic = self.book_topic(category, found.native_id, REST_BOOK_DEPTH)
        topic.refresh()
        stale = self.injector.stale_updates(self.name, category, call.request.path)
        u, seq, bids, asks = topic.view(stale)
        result = orderbook_result(
            found.native_id,
            [(p, q) for _, p, q, _ in bids[:limit]],
            [(p, q) for _, p, q, _ in asks[:limit]],
            ts_ms=self.venue.now_ms(),
            u=u,
            seq=seq,
            cts_ms=topic.cts_ms,
        )
        return self._ok(result)

    async def tickers(self, call: RestCall) -> Response:
        """``/v5/market/tickers`` (one symbol or the whole category)."""
        category = call.get("category", str)
        now = self.venue.now_ms()
        book = call.find("book", SimBook)
        books: Iterable[SimBook]
        if book is not None:
            books = [book]
        else:
            books = [b for b in self.venue.books.values() if b.market == category]
        items = [ticker_item(b, now, rest=True) for b in books]
        return self._ok({"category": category, "list": items})

    async def recent_trades(self, call: RestCall) -> Response:
        """``/v5/market/recent-trade`` (newest first)."""
        found = call.get("book", SimBook)
        inst = found.instrument
        pf = price_format(inst)
        qf = qty_format(inst)
        items = []
        for t in reversed(found.recent_trades(call.get("limit", int))):
            exec_id = (
                str(2_290_000_000_000_000_000 + t.trade_id)
                if found.market == "spot"
                else str(uuid.UUID(int=t.trade_id))
            )
            items.append(
                recent_trade_item(
                    inst.native_id,
                    exec_id=exec_id,
                    price=pf(t.price),
                    size=qf(t.qty),
                    side=side_name(t.aggressor),
                    time_ms=t.ts_ms,
                )
            )
        return self._ok({"category": found.market, "list": items})
