"""Binance REST of one market: ping, time, exchange info, depth, tickers, trades.

Spot serves ``/api/v3/...``, USDⓈ-M ``/fapi/v1/...``. Every route passes the
market's :class:`~connector.sim.rest.RestChain`: the request weight of the
route (per IP, header ``X-MBX-USED-WEIGHT-1M`` on every answer; 429, then 418
and a ban), then its parameter checks (-1102 missing, -1121 unknown symbol,
-1130 bad ``limit``). REST ``lastUpdateId`` is the engine's update id at that
moment, so the documented snapshot + diff procedure rebuilds the engine's
book.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from connector.model import Side
from connector.sim.binance.info import futures_info, spot_info
from connector.sim.binance.wire import (
    FUT_DEPTH_LIMITS,
    Listing,
    book_ticker_obj,
    error_body,
    ticker_obj,
)
from connector.sim.faults import FaultInjector, RestVerdict
from connector.sim.http import Request, Response, Router, json_response, not_found
from connector.sim.hub import SimVenue
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
    """

    def __init__(
        self,
        venue: SimVenue,
        injector: FaultInjector,
        market: str,
        symbols: Mapping[str, Listing],
        limiter: BinanceWeightLimiter,
    ) -> None:
        self.venue = venue
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

    def _route(
        self, router: Router, name: str, weight: Weight, handler: CallHandler, *checks: Check
    ) -> None:
        path = f"{self.prefix}/{name}"
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
                valid=range(1, 5001) if spot else FUT_DEPTH_LIMITS,
                invalid=_error(400, -1130, _BAD_LIMIT),
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
        router.not_found = not_found

    @property
    def _depth_default(self) -> int:
        return 100 if self.spot else 500

    def _depth_weight(self, req: Request) -> int:
        limit = parse_int(req.query.get("limit"), self._depth_default)
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
        """The venue's reply to a REST_ERROR fault: -1001."""
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
        now = self.venue.now_ms()
        sym = call.find("symbol", Listing)
        if sym is not None:
            return json_response(ticker_obj(sym, self.spot, now))
        return json_response([ticker_obj(s, self.spot, now) for s in self.symbols.values()])

    async def book_ticker(self, call: RestCall) -> Response:
        """``ticker/bookTicker`` (one symbol or every one)."""
        now = self.venue.now_ms()
        sym = call.find("symbol", Listing)
        if sym is not None:
            return json_response(book_ticker_obj(sym, self.spot, now))
        return json_response([book_ticker_obj(s, self.spot, now) for s in self.symbols.values()])

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
