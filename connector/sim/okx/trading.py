"""OKX v5 signed REST: order entry and order queries (``/api/v5/trade/...``).

Every route here is signed: the chain verifies ``OK-ACCESS-*`` on the bytes
received (:func:`connector.sim.okx.auth.verify_rest`: 50102 time window, 50111
key, 50105 passphrase, 50113 signature, all HTTP 401; ``x-simulated-trading``
accepted) before the route's own checks. Routes (OKX docs, checked 2026-12-03):

* ``POST order``, ``batch-orders`` (max 20), ``cancel-order``,
  ``cancel-batch-orders``, ``amend-order``, ``amend-batch-orders``:
  :mod:`connector.sim.okx.ops`; envelope ``code`` 0/1/2,
  ``sCode``/``sMsg`` per order, ``inTime``/``outTime`` (µs). ``mass-cancel`` is
  OKX's options-only MMP cancel: refused (51000 for a non-option ``instType``).
* ``GET order`` (``instId`` and ``ordId`` or ``clOrdId``; 51603 when unknown;
  a reused ``clOrdId`` finds the latest order), ``orders-pending`` and
  ``orders-history`` (7 days, ``instType`` required):
  :mod:`connector.sim.okx.order_lists` (``ordId`` pages, filters),
  ``fills`` (3 days) and ``fills-history`` (3 months, ``instType`` required):
  :mod:`connector.sim.okx.fills` (``billId`` pages, ``begin``/``end``).
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from connector.sim.accounts import Authenticated
from connector.sim.desk import UserOrder
from connector.sim.http import Request, Response, Router, json_response
from connector.sim.hub import SimVenue
from connector.sim.okx.auth import verify_rest
from connector.sim.okx.codes import Op
from connector.sim.okx.fills import FILL_WINDOW_MS, FillQuery, billed, fill_page
from connector.sim.okx.ops import BadRequest, OkxOrders, Outcome
from connector.sim.okx.order_lists import Listed, OrderQuery, order_page
from connector.sim.okx.orders import fill_item, order_item
from connector.sim.okx.wire import MARKETS, JsonDict, error_body
from connector.sim.rest import RestCall, RestChain

__all__ = ["OkxTrading", "signed_check"]

_dec = msgspec.json.Decoder()

_ORDER_ROUTES: dict[str, tuple[Op, bool]] = {
    "/api/v5/trade/order": ("place", False),
    "/api/v5/trade/batch-orders": ("place", True),
    "/api/v5/trade/cancel-order": ("cancel", False),
    "/api/v5/trade/cancel-batch-orders": ("cancel", True),
    "/api/v5/trade/amend-order": ("amend", False),
    "/api/v5/trade/amend-batch-orders": ("amend", True),
}


def signed_check(venue: SimVenue) -> Callable[[RestCall], Response | None]:
    """The chain step of a signed route: verify, then keep the account as ``account``."""

    def check(call: RestCall) -> Response | None:
        req = call.request
        decision = verify_rest(
            method=req.method,
            path=req.path,
            query_string=req.query_string,
            body=req.body,
            headers=req.headers,
            keyring=venue.desk.keyring,
            now_ns=venue.now_ns(),
        )
        if not isinstance(decision, Authenticated):
            body = error_body(str(decision.code), decision.message)
            return json_response(body, status=decision.http_status)
        call.put("account", decision.account_id)
        return None

    return check


def envelope(outcome: Outcome, in_us: int, out_us: int) -> JsonDict:
    """An order request's reply body."""
    return {
        "code": outcome.code,
        "data": outcome.data,
        "inTime": str(in_us),
        "msg": outcome.msg,
        "outTime": str(out_us),
    }


def _bad(err: BadRequest) -> Response:
    return json_response(error_body(err.code, err.msg), status=err.status)


def _ok(data: list[JsonDict]) -> Response:
    return json_response({"code": "0", "msg": "", "data": data})


class OkxTrading:
    """The signed ``/api/v5/trade`` routes.

    Args:
        venue: The venue hub (its desk and clock).
        orders: The order operations (shared with the websocket).
        chain: The venue's chain (rate limit); the signature check is added per route.
    """

    def __init__(self, venue: SimVenue, orders: OkxOrders, chain: RestChain) -> None:
        self.venue = venue
        self.orders = orders
        self.chain = chain
        self.signed = signed_check(venue)

    def register(self, router: Router) -> None:
        """Add the routes."""
        signed = self.signed
        for path in _ORDER_ROUTES:
            self.chain.post(router, path, self.order_request, signed)
        self.chain.post(router, "/api/v5/trade/mass-cancel", self.mass_cancel, signed)
        self.chain.get(router, "/api/v5/trade/order", self.get_order, signed)
        for path in ("/api/v5/trade/orders-pending", "/api/v5/trade/orders-history"):
            self.chain.get(router, path, self.list_orders, signed)
        for path in ("/api/v5/trade/fills", "/api/v5/trade/fills-history"):
            self.chain.get(router, path, self.list_fills, signed)

    def _body(self, req: Request) -> object:
        if not req.body.strip():
            raise BadRequest("50000", "Body for POST request cannot be empty.")
        try:
            return _dec.decode(req.body)
        except msgspec.DecodeError:
            raise BadRequest("50002", "JSON syntax error") from None

    async def order_request(self, call: RestCall) -> Response:
        """``order``, ``batch-orders``, ``cancel-order``, ``amend-order`` and their batches."""
        in_us = self.venue.now_ns() // 1000
        op, batch = _ORDER_ROUTES[call.request.path]
        try:
            body = self._body(call.request)
            if batch:
                if not isinstance(body, list):
                    raise BadRequest("50002", "JSON syntax error")
                items: list[object] = list(body)
            else:
                if not isinstance(body, dict):
                    raise BadRequest("50002", "JSON syntax error")
                items = [body]
            outcome = self.orders.run(
                op,
                call.get("account", str),
                items,
                self.venue.now_ms(),
                batch=batch,
                exp_time=call.request.headers.get("exptime", ""),
            )
        except BadRequest as err:
            return _bad(err)
        return json_response(envelope(outcome, in_us, self.venue.now_ns() // 1000))

    async def mass_cancel(self, call: RestCall) -> Response:
        """``POST /api/v5/trade/mass-cancel``: options' MMP orders only, always refused
        here (:meth:`OkxOrders.mass_cancel`)."""
        try:
            body = self._body(call.request)
            if not isinstance(body, dict):
                raise BadRequest("50002", "JSON syntax error")
        except BadRequest as err:
            return _bad(err)
        return _bad(self.orders.mass_cancel(body))

    def _item(self, order: UserOrder) -> JsonDict:
        inst = self.orders.instruments[order.native_id]
        lever = self.orders.leverage(order.account, order.native_id)
        return order_item(order, inst, self.orders.extras_of(order), lever=lever)

    async def get_order(self, call: RestCall) -> Response:
        """``GET /api/v5/trade/order``."""
        query = call.query
        inst_id = query.get("instId", "")
        if not inst_id:
            return _bad(BadRequest("50014", "Parameter instId can not be empty."))
        inst = self.orders.instruments.get(inst_id)
        if inst is None:
            return json_response(
                error_body(
                    "51001", "Instrument ID, Instrument ID code, or Spread ID doesn't exist."
                )
            )
        ord_id, cl_ord_id = query.get("ordId", ""), query.get("clOrdId", "")
        if not ord_id and not cl_ord_id:
            return json_response(
                error_body("51003", "Either client order ID or order ID is required.")
            )
        account = call.get("account", str)
        if ord_id:
            found = self.venue.desk.order(account, inst.market, inst_id, order_id=ord_id)
        else:
            same = [
                o
                for o in self.venue.desk.orders(account, inst.market, inst_id)
                if o.client_order_id == cl_ord_id
            ]
            found = same[-1] if same else None
        if found is None:
            return json_response(error_body("51603", "Order does not exist."))
        return _ok([self._item(found)])

    def _market_filter(self, call: RestCall, *, required: bool) -> str | None:
        inst_type = call.query.get("instType", "")
        if not inst_type:
            if required:
                raise BadRequest("50014", "Parameter instType can not be empty.")
            return None
        market = MARKETS.get(inst_type)
        if market is None:
            raise BadRequest("51000", "Parameter instType error")
        return market

    async def list_orders(self, call: RestCall) -> Response:
        """``orders-pending`` (open orders) and ``orders-history`` (closed), newest
        first, by ``ordId``: :mod:`connector.sim.okx.order_lists`."""
        history = call.request.path.endswith("history")
        try:
            market = self._market_filter(call, required=history)
            query = OrderQuery.parse(call.query, history=history)
        except BadRequest as err:
            return _bad(err)
        inst_id = call.query.get("instId") or None
        account = call.get("account", str)
        desk = self.venue.desk
        listed = []
        source = desk.orders if history else desk.open_orders
        for order in source(account, market, inst_id):
            inst = self.orders.instruments[order.native_id]
            family = f"{inst.base}-{inst.quote}" if inst.market == "swap" else ""
            ord_type = self.orders.extras_of(order).ord_type
            listed.append(Listed(order=order, ord_type=ord_type, family=family))
        page = order_page(listed, query, history=history, now_ms=self.venue.now_ms())
        return _ok([self._item(o) for o in page])

    async def list_fills(self, call: RestCall) -> Response:
        """``fills`` (3 days) and ``fills-history`` (3 months), newest first, by ``billId``."""
        route = call.request.path.rsplit("/", 1)[-1]
        try:
            market = self._market_filter(call, required=route == "fills-history")
            paging = FillQuery.parse(call.query)
        except BadRequest as err:
            return _bad(err)
        query = call.query
        inst_id, ord_id = query.get("instId") or None, query.get("ordId") or None
        bills = [
            (bill, f)
            for bill, f in billed(self.venue.desk.fills(call.get("account", str)))
            if (market is None or f.market == market)
            and (inst_id is None or f.native_id == inst_id)
            and (ord_id is None or f.order_id == ord_id)
        ]
        page = fill_page(bills, paging, now_ms=self.venue.now_ms(), window_ms=FILL_WINDOW_MS[route])
        return _ok([fill_item(f, self.orders.instruments[f.native_id], bill) for bill, f in page])
