"""OKX v5 public REST: time, instruments, books, tickers, trades, candles.

Every route passes the venue's :class:`~connector.sim.rest.RestChain`: the
per-endpoint rate limit (HTTP 429, code ``50011``), then its parameter checks
with the real codes (50014 missing parameter and 51000 bad parameter with
HTTP 400, 51001 unknown instrument with HTTP 200, 51000 bad ``sz`` with HTTP
200).

``/api/v5/market/books`` answers from the instrument's ``books`` channel
(after publishing what is pending), with that channel's ``seqId``: a client
that buffers the stream finds the update with ``prevSeqId <= seqId <
next seqId``, as the documented procedure expects.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from connector.sim.faults import FaultInjector
from connector.sim.http import Request, Response, Router, json_response
from connector.sim.hub import SimBook, SimVenue
from connector.sim.okx.candles import REST_BARS, OkxCandles
from connector.sim.okx.streams import BookChannel
from connector.sim.okx.wire import (
    MARKETS,
    UNKNOWN_INSTRUMENT,
    JsonDict,
    books_rest_item,
    error_body,
    format_number,
    instrument_item,
    ok_body,
    ticker_item,
)
from connector.sim.ratelimit import OkxLimiter
from connector.sim.rest import (
    Check,
    Reply,
    RestCall,
    RestChain,
    int_check,
    limit_check,
    lookup_check,
)

__all__ = ["OkxRest"]

BookChannelFor = Callable[[str], BookChannel]
"""``book_channel(inst_id)``: the instrument's ``books`` channel (made on first use)."""

_INST_TYPES_LISTED = ("SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION")
_INST_TYPES_TICKERS = ("SPOT", "SWAP", "FUTURES", "OPTION")


def _error(code: str, msg: str, status: int = 200) -> Reply:
    return lambda: json_response(error_body(code, msg), status)


class OkxRest:
    """The REST routes of the OKX front-end.

    Args:
        venue: The venue hub.
        injector: The run's fault injector (stale snapshots).
        limiter: The per-endpoint rate limiter.
        book_channel: The ``books`` channel the order book answers from.
        candles: The venue's candles (:mod:`connector.sim.okx.candles`).
    """

    name = "okx"

    def __init__(
        self,
        venue: SimVenue,
        injector: FaultInjector,
        limiter: OkxLimiter,
        book_channel: BookChannelFor,
        candles: OkxCandles,
    ) -> None:
        self.venue = venue
        self.injector = injector
        self.limiter = limiter
        self.book_channel = book_channel
        self.candles = candles
        self.by_inst: Mapping[str, SimBook] = {b.native_id: b for b in venue.books.values()}
        self.chain = RestChain(limit_check(lambda req: limiter.check(req.client, req.path)))

    def register(self, router: Router) -> None:
        """Add the REST routes (and the 404 reply) to ``router``."""
        chain = self.chain
        inst = lookup_check(
            "instId",
            lambda _call, raw: self.by_inst.get(raw),
            missing=_error("50014", "Parameter instId can not be empty.", 400),
            unknown=_error("51001", UNKNOWN_INSTRUMENT),
        )

        chain.get(router, "/api/v5/public/time", self.time)
        chain.get(
            router,
            "/api/v5/public/instruments",
            self.instruments,
            self._inst_type(_INST_TYPES_LISTED),
            self._option_family,
        )
        chain.get(
            router,
            "/api/v5/market/books",
            self.books,
            inst,
            int_check(
                "sz", default=1, valid=range(1, 401), invalid=_error("51000", "Parameter sz error")
            ),
        )
        chain.get(router, "/api/v5/market/ticker", self.ticker, inst)
        chain.get(
            router, "/api/v5/market/tickers", self.tickers, self._inst_type(_INST_TYPES_TICKERS)
        )
        chain.get(
            router,
            "/api/v5/market/trades",
            self.trades,
            inst,
            int_check("limit", default=100, valid=range(1, 501), invalid=None),
        )
        bar = lookup_check(
            "bar",
            lambda _call, raw: raw if raw in REST_BARS else None,
            missing=_error("50014", "Parameter bar can not be empty.", 400),
            unknown=_error("51000", "Parameter bar error", 400),
            optional=True,
        )
        for path, most in (
            ("/api/v5/market/candles", 300),
            ("/api/v5/market/history-candles", 100),
        ):
            chain.get(
                router,
                path,
                self.candle_rows,
                inst,
                bar,
                int_check(
                    "limit",
                    default=100,
                    valid=range(1, most + 1),
                    invalid=_error("51000", "Parameter limit error", 400),
                ),
                self._timestamps,
            )
        router.not_found = self.not_found

    @staticmethod
    def _inst_type(allowed: tuple[str, ...]) -> Check:
        return lookup_check(
            "instType",
            lambda _call, raw: raw if raw in allowed else None,
            missing=_error("50014", "Parameter instType can not be empty.", 400),
            unknown=_error("51000", "Parameter instType error", 400),
        )

    @staticmethod
    def _option_family(call: RestCall) -> Response | None:
        query = call.query
        if query.get("instType") == "OPTION" and not (query.get("uly") or query.get("instFamily")):
            return _error("50015", "Either parameter uly or instFamily is required", 400)()
        return None

    @staticmethod
    def _timestamps(call: RestCall) -> Response | None:
        for name in ("after", "before"):
            raw = call.query.get(name, "")
            if not raw:
                continue
            if not raw.isdigit():
                return _error("51000", f"Parameter {name} error", 400)()
            call.put(name, int(raw))
        return None

    async def candle_rows(self, call: RestCall) -> Response:
        """``/api/v5/market/candles`` and ``history-candles``: rows newest first."""
        found = call.get("instId", SimBook)
        rows = self.candles.rows(
            found.native_id,
            call.find("bar", str) or "1m",
            now_ms=self.venue.now_ms(),
            limit=call.get("limit", int),
            after=call.find("after", int),
            before=call.find("before", int),
        )
        return json_response({"code": "0", "msg": "", "data": rows})

    async def not_found(self, req: Request) -> Response:
        """OKX's 404 body."""
        body = {
            "code": 404,
            "data": {},
            "detailMsg": "",
            "error_code": "404",
            "error_message": "Not Found",
            "msg": "Not Found",
        }
        return json_response(body, status=404)

    async def time(self, call: RestCall) -> Response:
        """``/api/v5/public/time``."""
        return json_response(ok_body([{"ts": str(self.venue.now_ms())}]))

    async def instruments(self, call: RestCall) -> Response:
        """``/api/v5/public/instruments``."""
        market = MARKETS.get(call.get("instType", str))
        inst_id = call.query.get("instId")
        items = [
            instrument_item(inst)
            for inst in (self.venue.instruments(market) if market else [])
            if inst_id is None or inst.native_id == inst_id
        ]
        return json_response(ok_body(items))

    async def books(self, call: RestCall) -> Response:
        """``/api/v5/market/books``: the ``books`` channel's top ``sz`` levels and ``seqId``.

        Under the stale-snapshot fault the answer is an older published view.
        """
        found = call.get("instId", SimBook)
        size = call.get("sz", int)
        channel = self.book_channel(found.native_id)
        channel.refresh()
        stale = self.injector.stale_updates(self.name, found.market, call.request.path)
        seq_id, bids, asks = channel.view(stale)
        item = books_rest_item(
            [[p, q, "0", n] for _, p, q, n in asks[:size]],
            [[p, q, "0", n] for _, p, q, n in bids[:size]],
            ts_ms=self.venue.now_ms(),
            seq_id=seq_id,
        )
        return json_response(ok_body([item]))

    async def ticker(self, call: RestCall) -> Response:
        """``/api/v5/market/ticker``."""
        found = call.get("instId", SimBook)
        return json_response(ok_body([ticker_item(found, self.venue.now_ms(), rest=True)]))

    async def tickers(self, call: RestCall) -> Response:
        """``/api/v5/market/tickers``."""
        market = MARKETS.get(call.get("instType", str))
        now = self.venue.now_ms()
        items = [
            ticker_item(b, now, rest=True) for b in self.venue.books.values() if b.market == market
        ]
        return json_response(ok_body(items))

    async def trades(self, call: RestCall) -> Response:
        """``/api/v5/market/trades`` (newest first)."""
        found = call.get("instId", SimBook)
        items: list[JsonDict] = [
            {
                "instId": found.native_id,
                "side": t.aggressor.value,
                "sz": format_number(t.qty),
                "px": format_number(t.price),
                "tradeId": str(t.trade_id),
                "ts": str(t.ts_ms),
            }
            for t in reversed(found.recent_trades(call.get("limit", int)))
        ]
        return json_response(ok_body(items))
