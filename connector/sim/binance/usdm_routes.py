"""Binance USDⓈ-M trading routes on the futures port: signed REST, user data, ws-fapi.

:class:`UsdmTrading` puts together the order operations
(:mod:`~connector.sim.binance.usdm_trading`), the account reads
(:mod:`~connector.sim.binance.usdm_account`), the user data streams
(:mod:`~connector.sim.binance.usdm_private`) and ws-fapi
(:mod:`~connector.sim.binance.usdm_wsapi`), and registers them on the
market's router. Every REST call is charged its request weight on the IP
(``X-MBX-USED-WEIGHT-1M``), then authenticated (SIGNED: key, time window,
signature; USER_STREAM: key only), then answered; order entry adds
``X-MBX-ORDER-COUNT-10S`` / ``-1M``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from connector.sim.binance.usdm_account import ListenKeys, UsdmAccounts
from connector.sim.binance.usdm_codes import UsdmError
from connector.sim.binance.usdm_private import UserStreams
from connector.sim.binance.usdm_request import authenticate, authenticate_key, request_params
from connector.sim.binance.usdm_trading import OrderCounter, Result, UsdmOrders
from connector.sim.binance.usdm_wsapi import WsApi
from connector.sim.binance.wire import Listing
from connector.sim.http import Request, Response, Router, json_response
from connector.sim.hub import SimVenue
from connector.sim.ratelimit import BinanceWeightLimiter

__all__ = ["UsdmTrading"]

Op = Callable[[str, Mapping[str, str]], Result]
Weight = int | Callable[[Request], int]


def _by_symbol(one: int, every: int) -> Callable[[Request], int]:
    """A weight that depends on whether ``symbol`` was sent."""
    return lambda req: one if request_params(req).get("symbol") else every


class UsdmTrading:
    """Everything private the USDⓈ-M market serves.

    Args:
        venue: The venue hub (its ``desk``).
        symbols: The USDⓈ-M listings by symbol.
        limiter: The market's request-weight limiter (shared with public REST).
    """

    def __init__(
        self, venue: SimVenue, symbols: Mapping[str, Listing], limiter: BinanceWeightLimiter
    ) -> None:
        self.venue = venue
        self.limiter = limiter
        desk = venue.desk
        self.keyring = desk.keyring
        self.counter = OrderCounter(venue.now_ms)
        self.orders = UsdmOrders(desk, symbols, self.counter, venue.now_ms)
        self.accounts = UsdmAccounts(desk, symbols, venue.now_ms)
        self.keys = ListenKeys(venue.now_ms)
        self.streams = UserStreams(desk, symbols, self.keys, venue.now_ms)
        self.accounts.on_leverage = self.streams.leverage_changed
        self.wsapi = WsApi(
            self.orders, self.accounts, self.keys, self.keyring, venue.now_ns, limiter
        )

    def register(self, router: Router) -> None:
        """Add the private REST routes and websocket paths to ``router``."""
        o, a = self.orders, self.accounts

        def route(method: str, path: str, weight: Weight, op: Op, *, counted: bool = False) -> None:
            router.route(method, path, self._signed(weight, op, counted=counted))

        route("POST", "/fapi/v1/order", 0, o.place, counted=True)
        route("DELETE", "/fapi/v1/order", 1, o.cancel)
        route("PUT", "/fapi/v1/order", 1, o.modify, counted=True)
        route("GET", "/fapi/v1/order", 1, o.query)
        route("GET", "/fapi/v1/openOrder", 1, lambda acc, p: o.query(acc, p, open_only=True))
        route("POST", "/fapi/v1/batchOrders", 5, o.batch_place, counted=True)
        route("DELETE", "/fapi/v1/batchOrders", 1, o.batch_cancel)
        route("GET", "/fapi/v1/openOrders", _by_symbol(1, 40), o.open_orders)
        route("DELETE", "/fapi/v1/allOpenOrders", 1, o.cancel_all)
        route("GET", "/fapi/v1/allOrders", 5, o.all_orders)
        route("GET", "/fapi/v1/userTrades", 5, o.user_trades)
        for version in ("v2", "v3"):
            v2 = version == "v2"
            route("GET", f"/fapi/{version}/balance", 5, a.balances)
            route("GET", f"/fapi/{version}/account", 5, _flag(a.account, v2))
            route("GET", f"/fapi/{version}/positionRisk", 5, _flag(a.position_risk, v2))
        route("GET", "/fapi/v1/positionSide/dual", 30, a.position_mode)
        route("GET", "/fapi/v1/leverageBracket", 1, a.leverage_bracket)
        route("POST", "/fapi/v1/positionSide/dual", 1, a.set_position_mode)
        route("POST", "/fapi/v1/leverage", 1, a.set_leverage)
        route("GET", "/fapi/v1/commissionRate", 20, a.commission_rate)
        route("GET", "/fapi/v1/multiAssetsMargin", 30, a.multi_assets)
        route("POST", "/fapi/v1/multiAssetsMargin", 1, a.set_multi_assets)
        for method in ("POST", "PUT", "DELETE"):
            router.route(method, "/fapi/v1/listenKey", self._listen_key)
        router.websocket("/private/ws", self.streams.handler)
        router.websocket("/private/ws/", self.streams.handler, prefix=True)
        router.websocket("/private/stream", self.streams.handler)
        router.websocket("/ws-fapi/v1", self.wsapi.handler)

    def _signed(
        self, weight: Weight, op: Op, *, counted: bool
    ) -> Callable[[Request], Awaitable[Response]]:
        async def handle(req: Request) -> Response:
            cost = weight if isinstance(weight, int) else weight(req)
            verdict = self.limiter.check(req.client, cost)
            if not verdict.allowed:
                return verdict.response()
            headers = verdict.headers
            account = authenticate(req, self.keyring, self.venue.now_ns())
            if isinstance(account, UsdmError):
                return _error(account, headers)
            result = op(account, request_params(req))
            if counted:
                headers += self.counter.headers(account)
            if isinstance(result, UsdmError):
                return _error(result, headers)
            return json_response(result, headers=headers)

        return handle

    async def _listen_key(self, req: Request) -> Response:
        verdict = self.limiter.check(req.client, 1)
        if not verdict.allowed:
            return verdict.response()
        headers = verdict.headers
        account = authenticate_key(req, self.keyring)
        if isinstance(account, UsdmError):
            return _error(account, headers)
        given = request_params(req).get("listenKey") or None
        if req.method == "POST":
            return json_response({"listenKey": self.keys.create(account)}, headers=headers)
        if req.method == "PUT":
            key = self.keys.keepalive(account, given)
            if key is None:
                err = UsdmError(status=400, code=-1125, msg="This listenKey does not exist.")
                return _error(err, headers)
            return json_response({"listenKey": key}, headers=headers)
        self.keys.close(account, given)
        return json_response({}, headers=headers)


def _flag(fn: Callable[..., Result], v2: bool) -> Op:
    return lambda account, params: fn(account, params, v2=v2)


def _error(err: UsdmError, headers: tuple[tuple[str, str], ...]) -> Response:
    return json_response(err.body(), status=err.status, headers=headers)
