"""Binance spot private REST: order entry, queries, account, wallet, retired listenKey.

Every route passes the spot market's request-weight limiter (per IP, as the
public routes), then the signature check (:mod:`connector.sim.binance.signed`),
then :class:`~connector.sim.binance.spot_orders.SpotTrading`. Weights as the
spot docs give them (checked 2026-12-03): placing and cancelling cost 0 since
2026-04-02 (Binance spot CHANGELOG 2026-03-27; venues-trading.md 5; the
simulator does not charge a failed one either): ``order`` POST/DELETE 0, GET 4;
``cancelReplace`` 0; ``amend/keepPriority`` 4; ``openOrders`` 6 (80 without
a symbol), DELETE 0; ``allOrders`` 20; ``myTrades`` 20 (5 with ``orderId``);
``account`` 20; ``rateLimit/order`` 40; ``capital/config/getall`` 10;
``margin/allPairs`` 1; ``margin/isolated/allPairs`` 10.

``POST/PUT/DELETE /api/v3/userDataStream`` answer HTTP 410 Gone, as the
venue does since the listenKey's retirement (2026-02-20; sieblyio/binance#673,
ccxt/node-binance-api#995): user data comes through the WebSocket API.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from connector.sim.accounts import Authenticated
from connector.sim.binance.signed import BinanceError, Params, signed_check
from connector.sim.binance.spot_account import (
    account_json,
    account_uid,
    coins_json,
    cross_pairs_json,
    isolated_pairs_json,
)
from connector.sim.binance.spot_orders import SpotTrading
from connector.sim.http import Request, Response, Router, json_response
from connector.sim.ratelimit import BinanceWeightLimiter
from connector.sim.rest import RestCall, RestChain, limit_check

__all__ = ["SpotPrivateRest"]

Weight = Callable[[Request], int]
Action = Callable[[str, Params], Awaitable[Response]]


def _fixed(weight: int) -> Weight:
    return lambda _req: weight


def _with(name: str, one: int, other: int) -> Weight:
    """``one`` when the query or body names ``name``, else ``other``."""

    def weight(req: Request) -> int:
        text = req.query_string + "&" + req.body.decode("latin-1")
        return one if f"{name}=" in text else other

    return weight


async def _gone(req: Request) -> Response:
    return Response(status=410, body=b"", content_type="text/html")


class SpotPrivateRest:
    """The signed REST routes of Binance spot.

    Args:
        trading: The spot order entry (shared with the WebSocket API).
        limiter: The spot market's request-weight limiter.
    """

    def __init__(self, trading: SpotTrading, limiter: BinanceWeightLimiter) -> None:
        self.trading = trading
        self.venue = trading.venue
        self._weights: dict[tuple[str, str], Weight] = {}
        self.chain = RestChain(
            limit_check(
                lambda req: limiter.check(req.client, self._weights[(req.method, req.path)](req))
            )
        )

    def _route(
        self,
        router: Router,
        method: str,
        path: str,
        weight: Weight,
        action: Callable[[str, Params, RestCall], Response],
        *,
        key_only: bool = False,
    ) -> None:
        self._weights[(method, path)] = weight
        check = signed_check(
            lambda: self.venue.desk.keyring, self.venue.now_ns, "spot", key_only=key_only
        )

        async def handler(call: RestCall) -> Response:
            auth = call.get("auth", Authenticated)
            params = call.get("params", Params)
            try:
                return action(auth.account_id, params, call)
            except BinanceError as err:
                return err.response()

        router.route(method, path, self.chain.handler(handler, check))

    def register(self, router: Router) -> None:
        """Add the private spot routes to ``router``."""
        t = self.trading
        now = self.venue.now_ms
        r = self._route
        r(router, "POST", "/api/v3/order", _fixed(0), self._place)
        r(router, "DELETE", "/api/v3/order", _fixed(0), lambda a, p, c: _ok(t.cancel(a, p, now())))
        r(router, "GET", "/api/v3/order", _fixed(4), lambda a, p, c: _ok(t.query(a, p)))
        r(router, "POST", "/api/v3/order/cancelReplace", _fixed(0), self._cancel_replace)
        r(
            router,
            "PUT",
            "/api/v3/order/amend/keepPriority",
            _fixed(4),
            lambda a, p, c: _ok(t.amend_keep_priority(a, p, now())),
        )
        r(
            router,
            "GET",
            "/api/v3/openOrders",
            _with("symbol", 6, 80),
            lambda a, p, c: _ok(t.open_orders(a, p)),
        )
        r(
            router,
            "DELETE",
            "/api/v3/openOrders",
            _fixed(0),
            lambda a, p, c: _ok(t.cancel_all(a, p, now())),
        )
        r(router, "GET", "/api/v3/allOrders", _fixed(20), lambda a, p, c: _ok(t.all_orders(a, p)))
        r(
            router,
            "GET",
            "/api/v3/myTrades",
            _with("orderId", 5, 20),
            lambda a, p, c: _ok(t.my_trades(a, p)),
        )
        r(router, "GET", "/api/v3/account", _fixed(20), self._account)
        r(router, "GET", "/api/v3/rateLimit/order", _fixed(40), self._order_rate_limits)
        r(
            router,
            "GET",
            "/sapi/v1/capital/config/getall",
            _fixed(10),
            lambda a, p, c: _ok(coins_json(self.venue.desk.balances(a), t.listings.values())),
        )
        r(
            router,
            "GET",
            "/sapi/v1/margin/allPairs",
            _fixed(1),
            lambda a, p, c: _ok(cross_pairs_json(t.listings.values())),
            key_only=True,
        )
        r(
            router,
            "GET",
            "/sapi/v1/margin/isolated/allPairs",
            _fixed(10),
            lambda a, p, c: _ok(isolated_pairs_json(t.listings.values())),
        )
        for method in ("POST", "PUT", "DELETE"):
            router.route(method, "/api/v3/userDataStream", _gone)

    def _place(self, account: str, params: Params, call: RestCall) -> Response:
        t = self.trading
        now = self.venue.now_ms()
        try:
            body = t.place(account, params, now)
        except BinanceError as err:
            if err.code == -1015:
                return err.response(t.limiter.headers(account, now))
            raise
        return json_response(body, headers=t.limiter.headers(account, now))

    def _cancel_replace(self, account: str, params: Params, call: RestCall) -> Response:
        t = self.trading
        now = self.venue.now_ms()
        status, body = t.cancel_replace(account, params, now)
        return json_response(body, status=status, headers=t.limiter.headers(account, now))

    def _account(self, account: str, params: Params, call: RestCall) -> Response:
        desk = self.venue.desk
        omit = params.boolean("omitZeroBalances", default=False)
        body = account_json(
            desk.balances(account),
            desk.fee_rates(account, "spot"),
            account_uid(account),
            self.venue.now_ms(),
            omit_zero=omit,
        )
        return json_response(body)

    def _order_rate_limits(self, account: str, params: Params, call: RestCall) -> Response:
        counts = self.trading.limiter.counts(account, self.venue.now_ms())
        return json_response(
            [
                {
                    "rateLimitType": "ORDERS",
                    "interval": w.interval,
                    "intervalNum": w.interval_num,
                    "limit": w.limit,
                    "count": n,
                }
                for w, n in counts
            ]
        )


def _ok(body: object) -> Response:
    return json_response(body)
