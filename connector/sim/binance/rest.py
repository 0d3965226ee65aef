"""Binance REST of one market: ping, time, exchange info, depth, tickers, trades, klines.

Spot serves ``/api/v3/...``, USDⓈ-M ``/fapi/v1/...`` and an empty COIN-M
``/dapi/v1/exchangeInfo`` (clients that load every market type ask for it).
Every route passes the market's :class:`~connector.sim.rest.RestChain`: the
request weight of the route (per IP, header ``X-MBX-USED-WEIGHT-1M`` on every
answer; 429, then 418 and a ban), then its parameter checks (-1102 missing,
-1121 unknown symbol, -1120 bad interval, -1130 bad ``limit``, -1127 a
USDⓈ-M ``aggTrades`` window of an hour or more). An unknown path is an HTTP
404 with an HTML page, as the venue answers. REST ``lastUpdateId`` is the
engine's update id at that moment, so the documented snapshot + diff
procedure rebuilds the engine's book. A ``depth`` request first deepens the
book (:meth:`BinanceRest.require`), so the snapshot holds the levels it asks
for. ``aggTrades`` and ``klines`` read the market's
:class:`~connector.sim.binance.history.MarketHistory`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from connector.model import Side
from connector.sim.binance.history import MarketHistory
from connector.sim.binance.info import coin_info, futures_info, spot_info
from connector.sim.binance.usdm_codes import UNKNOWN_ERROR
from connector.sim.binance.wire import (
    FUT_DEPTH_LIMITS,
    Listing,
    book_ticker_obj,
    error_body,
    kline_row,
    price_ticker_obj,
    ticker_obj,
)
from connector.sim.depth import DEPTH_MARGIN
from connector.sim.faults import FaultInjector, FaultKind, RestVerdict
from connector.sim.http import Request, Response, Router, json_response
from connector.sim.hub import SimBook, SimVenue
from connector.sim.ratelimit import BinanceWeightLimiter, binance_depth_weight
from connector.sim.rest import (
    CallHandler,
    Check,
    Reply,
    RestCall,
    RestChain,
    int_check,
    limit_check,
    lookup_check,
    parse_int,
)

__all__ = ["BinanceRest"]

Weight = Callable[[Request], int]

_MANDATORY_SYMBOL = "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."
_BAD_LIMIT = "Data sent for parameter 'limit' is not valid."
_MANDATORY_INTERVAL = "Mandatory parameter 'interval' was not sent, was empty/null, or malformed."
_HOUR_MS = 3_600_000
_NOT_FOUND_HTML = (
    b"<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n"
    b"<center><h1>404 Not Found</h1></center>\r\n</body>\r\n</html>\r\n"
)


async def not_found(req: Request) -> Response:
    """The venue's reply to an unknown path: HTTP 404 with an HTML page, not JSON."""
    return Response(status=404, body=_NOT_FOUND_HTML, content_type="text/html")


def _error(status: int, code: int, msg: str) -> Reply:
    return lambda: json_response(error_body(code, msg), status=status)


def _fixed(weight: int) -> Weight:
    return lambda _req: weight


class BinanceRest:
    """The REST routes of one Binance market.

    Args:
        venue: The venue hub.
        injector: The run's fault injector (stale snapshots).
        market: ``spot`` or ``linear``.
        symbols: The market's listings by symbol.
        limiter: The market's request-weight limiter.
        history: The market's aggregate trades and candles.
        book_depth: The most levels per side a book is deepened to.
    """

    def __init__(
        self,
        venue: SimVenue,
        injector: FaultInjector,
        market: str,
        symbols: Mapping[str, Listing],
        limiter: BinanceWeightLimiter,
        history: MarketHistory,
        book_depth: int,
    ) -> None:
        self.venue = venue
        self.book_depth = book_depth
        self.history = history
        self.injector = injector
        self.market = market
        self.spot = market == "spot"
        self.symbols = symbols
        self.limiter = limiter
        self.prefix = "/api/v3" if self.spot else "/fapi/v1"
        self._weights: dict[str, Weight] = {}
        self.chain = RestChain(
            limit_check(lambda req: limiter.check(req.client, self._weights[req.path](req)))
        )

    def require(self, book: SimBook, levels: int) -> None:
        """Deepen ``book`` to ``book_depth`` levels per side when a snapshot of
        ``levels`` asks for more than it holds (with a margin).

        The whole depth, not just the levels asked for: the venue's book is that
        deep, and a client that keeps only its snapshot's levels (the connector asks
        1000 of spot's 5000) must meet the far levels a real book has beyond them.
        The synthetic flow rests them quietly and keeps that depth from then on
        (:meth:`~connector.sim.flow.SyntheticFlow.deepen`); they go out as a book
        update, so diff-stream subscribers see them. Books are deepened when a deep
        snapshot is first asked for rather than at start, which runs that never
        ask need not pay for.
        """
        if book.flow.depth < min(levels + DEPTH_MARGIN, self.book_depth):
            self.venue.publish(book, book.flow.deepen(self.book_depth))

    def _route(
        self,
        router: Router,
        name: str,
        weight: Weight,
        handler: CallHandler,
        *checks: Check,
        prefix: str | None = None,
    ) -> None:
        path = f"{prefix or self.prefix}/{name}"
        self._weights[path] = weight
        self.chain.get(router, path, handler, *checks)

    def register(self, router: Router) -> None:
        """Add the REST routes (and the 404 reply) to ``router``."""
        spot = self.spot

        def symbol(*, optional: bool = False) -> Check:
            return lookup_check(
                "symbol",
                lambda _call, raw: self.symbols.get(raw),
                missing=_error(400, -1102, _MANDATORY_SYMBOL),
                unknown=_error(400, -1121, "Invalid symbol."),
                optional=optional,
            )

        def by_symbol(one: int, every: int) -> Weight:
            return lambda req: one if req.query.get("symbol") else every

        self._route(router, "ping", _fixed(1), self.ping)
        self._route(router, "time", _fixed(1), self.time)
        self._route(router, "exchangeInfo", _fixed(20 if spot else 1), self.exchange_info)
        self._route(
            router,
            "depth",
            self._depth_weight,
            self.depth,
            symbol(),
            int_check(
                "limit",
                default=self._depth_default,
                # Spot truncates a larger limit to 5000; USDⓈ-M knows seven values.
                valid=range(1, 5001) if spot else FUT_DEPTH_LIMITS,
                invalid=None if spot else _error(400, -1130, _BAD_LIMIT),
                malformed=_error(400, -1130, _BAD_LIMIT),
            ),
        )
        self._route(
            router,
            "ticker/24hr",
            by_symbol(2 if spot else 1, 80 if spot else 40),
            self.ticker_24hr,
            symbol(optional=True),
        )
        self._route(
            router,
            "ticker/bookTicker",
            by_symbol(2, 4 if spot else 5),
            self.book_ticker,
            symbol(optional=True),
        )
        for prefix in (None,) if spot else (None, "/fapi/v2"):
            self._route(
                router,
                "ticker/price",
                by_symbol(2 if spot else 1, 4 if spot else 2),
                self.ticker_price,
                symbol(optional=True),
                prefix=prefix,
            )
        self._route(
            router,
            "trades",
            _fixed(25 if spot else 5),
            self.trades,
            symbol(),
            int_check(
                "limit", default=500, valid=range(1, 1001), invalid=_error(400, -1130, _BAD_LIMIT)
            ),
        )
        limit_of = self._limit_check
        self._route(
            router,
            "aggTrades",
            _fixed(4 if spot else 20),
            self.agg_trades,
            symbol(),
            limit_of(500, 1000),
            self._window_check,
        )
        self._route(
            router,
            "klines",
            _fixed(2) if spot else self._kline_weight,
            self.klines,
            symbol(),
            self._interval_check,
            limit_of(500, 1000 if spot else 1500),
            self._times_check,
        )
        if not spot:
            self._weights["/dapi/v1/exchangeInfo"] = _fixed(1)
            self.chain.get(router, "/dapi/v1/exchangeInfo", self.coin_exchange_info)
        router.not_found = not_found

    @staticmethod
    def _limit_check(default: int, most: int) -> Check:
        return int_check(
            "limit",
            default=default,
            valid=range(1, most + 1),
            invalid=_error(400, -1130, _BAD_LIMIT),
        )

    def _interval_check(self, call: RestCall) -> Response | None:
        raw = call.query.get("interval", "")
        if not raw:
            return _error(400, -1102, _MANDATORY_INTERVAL)()
        if raw not in self.history.intervals:
            return _error(400, -1120, "Invalid interval.")()
        call.put("interval", raw)
        return None

    def _window_check(self, call: RestCall) -> Response | None:
        """``fromId``, ``startTime``, ``endTime`` as integers (USDⓈ-M: a window under an hour)."""
        refused = self._times_check(call)
        if refused is not None:
            return refused
        start = call.values.get("startTime")
        end = call.values.get("endTime")
        if (
            not self.spot
            and isinstance(start, int)
            and isinstance(end, int)
            and end - start >= _HOUR_MS
        ):
            return _error(400, -1127, "More than 1 hours between startTime and endTime.")()
        return None

    @staticmethod
    def _times_check(call: RestCall) -> Response | None:
        """``fromId``, ``startTime``, ``endTime``, when sent, as integers."""
        for name in ("fromId", "startTime", "endTime"):
            raw = call.query.get(name)
            if raw is None:
                continue
            value = parse_int(raw, 0)
            if value is None:
                return _error(400, -1100, f"Illegal characters found in parameter '{name}'.")()
            call.put(name, value)
        return None

    @staticmethod
    def _kline_weight(req: Request) -> int:
        limit = parse_int(req.query.get("limit"), 500) or 500
        if limit < 100:
            return 1
        if limit < 500:
            return 2
        if limit <= 1000:
            return 5
        return 10

    @property
    def _depth_default(self) -> int:
        return 100 if self.spot else 500

    def _depth_weight(self, req: Request) -> int:
        limit = parse_int(req.query.get("limit"), self._depth_default)
        if limit is not None and self.spot:
            limit = max(1, min(limit, 5000))
        valid = limit is not None and (
            1 <= limit <= 5000 if self.spot else limit in FUT_DEPTH_LIMITS
        )
        return binance_depth_weight(self.market, limit if limit is not None and valid else 100)

    # ---------------------------------------------------------------- faults

    def fault_429(self, req: Request, verdict: RestVerdict) -> Response:
        """The venue's reply to a REST_429 fault: -1003 with the used weight."""
        msg = (
            f"Too many requests; current limit of IP({req.client}) is "
            f"{self.limiter.limit} requests per minute. Please use the websocket for live "
            "updates to avoid polling the API."
        )
        headers = (
            ("X-MBX-USED-WEIGHT-1M", str(self.limiter.used(req.client))),
            ("Retry-After", str(max(1, round(verdict.retry_after)))),
        )
        return json_response(error_body(-1003, msg), status=429, headers=headers)

    def fault_5xx(self, req: Request, verdict: RestVerdict) -> Response:
        """The venue's reply to a 5xx fault: -1001, or on USDⓈ-M, for a request that was
        handled (REST_ERROR_AFTER, 503), the "Unknown error" answer whose execution
        status is unknown (USDⓈ-M general info)."""
        if (
            not self.spot
            and verdict.kind is FaultKind.REST_ERROR_AFTER
            and verdict.status == UNKNOWN_ERROR.status
        ):
            return json_response(UNKNOWN_ERROR.body(), status=UNKNOWN_ERROR.status)
        msg = "Internal error; unable to process your request. Please try again."
        return json_response(error_body(-1001, msg), status=verdict.status)

    # -------------------------------------------------------------- handlers

    async def ping(self, call: RestCall) -> Response:
        """``ping``."""
        return json_response({})

    async def time(self, call: RestCall) -> Response:
        """``time``."""
        return json_response({"serverTime": self.venue.now_ms()})

    async def exchange_info(self, call: RestCall) -> Response:
        """``exchangeInfo``."""
        info = spot_info if self.spot else futures_info
        return json_response(info(self.symbols.values(), self.venue.now_ms(), self.limiter.limit))

    async def depth(self, call: RestCall) -> Response:
        """``depth`` (a stale snapshot under the fault)."""
        sym = call.get("symbol", Listing)
        limit = call.get("limit", int)
        self.require(sym.book, limit)
        stale = self.injector.stale_updates("binance", self.market, call.request.path)
        update_id, bids, asks = sym.book.depth_at(stale, limit)
        f = sym.fmt
        b = [[f.price(p), f.qty(q)] for p, q in bids]
        a = [[f.price(p), f.qty(q)] for p, q in asks]
        if self.spot:
            body: dict[str, object] = {"lastUpdateId": update_id, "bids": b, "asks": a}
        else:
            now = self.venue.now_ms()
            body = {"lastUpdateId": update_id, "E": now, "T": now, "bids": b, "asks": a}
        return json_response(body)

    async def ticker_24hr(self, call: RestCall) -> Response:
        """``ticker/24hr`` (one symbol or every one)."""
        return self._per_symbol(call, ticker_obj)

    async def book_ticker(self, call: RestCall) -> Response:
        """``ticker/bookTicker`` (one symbol or every one)."""
        return self._per_symbol(call, book_ticker_obj)

    async def ticker_price(self, call: RestCall) -> Response:
        """``ticker/price`` (one symbol or every one): the last trade's price."""
        return self._per_symbol(call, price_ticker_obj)

    def _per_symbol(
        self, call: RestCall, entry: Callable[[Listing, bool, int], dict[str, object]]
    ) -> Response:
        """The ``symbol``'s entry, or a list of every symbol's when none is given."""
        now = self.venue.now_ms()
        sym = call.find("symbol", Listing)
        if sym is not None:
            return json_response(entry(sym, self.spot, now))
        return json_response([entry(s, self.spot, now) for s in self.symbols.values()])

    async def trades(self, call: RestCall) -> Response:
        """``trades`` (oldest first)."""
        sym = call.get("symbol", Listing)
        spot = self.spot
        f = sym.fmt
        out = []
        for t in sym.book.recent_trades(call.get("limit", int)):
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
        return json_response(out)

    async def agg_trades(self, call: RestCall) -> Response:
        """``aggTrades`` (oldest first; ids shared with the ``@aggTrade`` stream)."""
        sym = call.get("symbol", Listing)
        f = sym.fmt
        found = self.history.agg_trades(
            sym.symbol,
            call.get("limit", int),
            from_id=call.find("fromId", int),
            start_ms=call.find("startTime", int),
            end_ms=call.find("endTime", int),
        )
        out = []
        for a in found:
            item: dict[str, object] = {
                "a": a.agg_id,
                "p": f.price(a.price),
                "q": f.qty(a.qty),
                "f": a.first_id,
                "l": a.last_id,
                "T": a.ts_ms,
                "m": a.maker_is_buyer,
            }
            if self.spot:
                item["M"] = True
            out.append(item)
        return json_response(out)

    async def klines(self, call: RestCall) -> Response:
        """``klines``: candles of the simulated trades, oldest first."""
        sym = call.get("symbol", Listing)
        interval = call.get("interval", str)
        series = self.history.candles.series(self.market, sym.symbol, interval)
        candles = series.last(
            call.get("limit", int),
            self.venue.now_ms(),
            start_ms=call.find("startTime", int),
            end_ms=call.find("endTime", int),
        )
        return json_response([kline_row(sym, self.spot, c) for c in candles])

    async def coin_exchange_info(self, call: RestCall) -> Response:
        """COIN-M ``/dapi/v1/exchangeInfo``: the documented shape, no symbols."""
        return json_response(coin_info(self.venue.now_ms(), self.limiter.limit))
