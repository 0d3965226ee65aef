"""Bybit v5 order entry over REST: create, amend, cancel, cancel-all, batches, queries, fills.

Routes (all signed, see :mod:`.signed`; operations in :mod:`.orders`):

* ``POST /v5/order/create|amend|cancel|cancel-all`` -> ``{orderId, orderLinkId}``
  (cancel-all: ``{"list": [...], "success": "1"}``).
* ``POST /v5/order/create-batch|amend-batch|cancel-batch``: ``request`` holds
  at most 10 orders on spot and 20 on linear (retCode 10001 beyond); the answer
  splits into ``result.list`` and ``retExtInfo.list`` (``{code, msg}``), same
  order; a failed element has empty ids.
* ``GET /v5/order/realtime``: open orders; with ``orderId``/``orderLinkId`` the
  order whatever its state; ``openOnly=1`` the recent closed ones (last 500).
  Linear needs ``symbol``, ``baseCoin``, ``settleCoin`` or an order id. ``limit`` 1-50
  (default 20), ``cursor`` naming the last order sent, newest first:
  :mod:`connector.sim.bybit.order_lists`.
* ``GET /v5/order/history``: closed orders (or one by id), ``orderStatus``
  filter, ``startTime``/``endTime`` together (the past 7 days without), same paging.
* ``GET /v5/execution/list``: fills newest first; ``orderId`` > ``orderLinkId`` >
  ``symbol`` > ``baseCoin`` (the first given is the only one used);
  ``execType`` (only ``Trade`` here); ``startTime``/``endTime`` (ms, both
  inclusive): neither = the last 7 days, only ``startTime`` = 7 days from it,
  only ``endTime`` = the 7 days before it, both at most 7 days apart (10001
  otherwise, and when ``endTime`` is before ``startTime``); ``limit`` 1-100
  (default 50); ``cursor`` names the last fill sent, so new fills do not shift
  the next page.

Sources: Bybit v5 docs ``order/create-order``, ``order/amend-order``,
``order/cancel-order``, ``order/cancel-all``, ``order/batch-place``,
``order/open-order``, ``order/order-list`` (checked 2026-12-03),
``order/execution`` (checked 2026-12-03).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from connector.model import Liquidity
from connector.sim.bybit.order_lists import (
    HISTORY_ALL_STATES_MS,
    history_kept,
    order_after,
    page_orders,
)
from connector.sim.bybit.orders import CATEGORIES, UNSIMULATED, OpResult, OrderOps
from connector.sim.bybit.signed import SignedHandler, SignedRest, int_param
from connector.sim.bybit.trade_wire import execution_item, order_item
from connector.sim.bybit.wire import JsonDict
from connector.sim.desk import DeskEvent, OrderUpdated, UserFill, UserOrder
from connector.sim.http import Response, Router
from connector.sim.hub import SimVenue
from connector.sim.rest import RestCall

__all__ = ["BATCH_LIMITS", "EXECUTION_WINDOW_MS", "BybitTrading", "batch_size", "execution_window"]

#: Orders per batch request.
BATCH_LIMITS = {"spot": 10, "linear": 20}
#: Closed orders ``openOnly=1`` and ``fetch by id`` still see.
_RECENT_CLOSED = 500

#: The longest ``startTime``-``endTime`` span of ``/v5/execution/list`` (7 days).
EXECUTION_WINDOW_MS = 7 * 86_400_000

_Op = Callable[[str, Mapping[str, object], int], OpResult]


class BybitTrading:
    """The order-entry routes of one Bybit front-end.

    Args:
        venue: The Bybit hub.
        signed: The signed-route registrar.
        ops: The order operations (shared with ``/v5/trade``).
    """

    def __init__(self, venue: SimVenue, signed: SignedRest, ops: OrderOps) -> None:
        self.venue = venue
        self.desk = venue.desk
        self.signed = signed
        self.ops = ops
        #: ``seq`` of each fill (by order id and trade id), as the private stream sent it.
        self.fill_seq: dict[tuple[str, str], int] = {}

    def on_event(self, event: DeskEvent) -> None:
        """Desk listener: number fills with the instrument's cross sequence."""
        if isinstance(event, OrderUpdated) and event.fill is not None:
            fill = event.fill
            self.fill_seq[(fill.order_id, fill.trade_id)] = self.seq_of(fill.market, fill.native_id)

    def seq_of(self, market: str, native_id: str) -> int:
        """The instrument's cross sequence now (its engine update id)."""
        return self.venue.book(market, native_id).update_id

    def register(self, router: Router) -> None:
        """Add the routes."""
        post, get = self.signed.post, self.signed.get
        post(router, "/v5/order/create", self._single(self.ops.create))
        post(router, "/v5/order/amend", self._single(self.ops.amend))
        post(router, "/v5/order/cancel", self._single(self.ops.cancel))
        post(router, "/v5/order/cancel-all", self._single(self.ops.cancel_all))
        for name in ("create", "amend", "cancel"):
            post(router, f"/v5/order/{name}-batch", self._batch(name), cost=batch_size)
        get(router, "/v5/order/realtime", self.realtime)
        get(router, "/v5/order/history", self.history)
        get(router, "/v5/execution/list", self.executions)

    # --------------------------------------------------------------- writes

    def _single(self, op: _Op) -> SignedHandler:
        async def handler(account: str, params: Mapping[str, object], call: RestCall) -> Response:
            code, message, result = op(account, params, self.venue.now_ms())
            return self.signed.answer(code, message, result)

        return handler

    def _batch(self, name: str) -> SignedHandler:
        async def handler(account: str, params: Mapping[str, object], call: RestCall) -> Response:
            code, message, result, ext = self.run_batch(name, account, params)
            if code != 0:
                return self.signed.answer(code, message, result)
            return self.signed.ok(result, ext)

        return handler

    def run_batch(
        self, name: str, account: str, params: Mapping[str, object]
    ) -> tuple[int, str, JsonDict, JsonDict]:
        """One batch (``name``: create, amend or cancel): ``(retCode, retMsg, result, retExtInfo)``.

        Shared by REST and the ``order.*-batch`` ops of ``/v5/trade``.
        """
        op = {"create": self.ops.create, "amend": self.ops.amend, "cancel": self.ops.cancel}[name]
        category = params.get("category")
        requests = params.get("request")
        if category not in CATEGORIES:
            return 10001, "Illegal category", {}, {}
        assert isinstance(category, str)
        if not isinstance(requests, list) or not requests:
            return 10001, "params error: request invalid", {}, {}
        if len(requests) > BATCH_LIMITS[category]:
            return 10001, f"Batch size cannot exceed {BATCH_LIMITS[category]}", {}, {}
        items: list[JsonDict] = []
        ext: list[JsonDict] = []
        now = self.venue.now_ms()
        for one in requests:
            element = dict(one) if isinstance(one, dict) else {}
            element["category"] = category
            code, message, result = op(account, element, now)
            item: JsonDict = {
                "category": category,
                "symbol": str(element.get("symbol", "")),
                "orderId": result.get("orderId", ""),
                "orderLinkId": result.get("orderLinkId", str(element.get("orderLinkId", ""))),
            }
            if name == "create":
                item["createAt"] = str(now) if code == 0 else ""
            items.append(item)
            ext.append({"code": code, "msg": message})
        return 0, "OK", {"list": items}, {"list": ext}

    # -------------------------------------------------------------- queries

    def _scope(
        self, params: Mapping[str, object], *, linear_needs_scope: bool
    ) -> tuple[str, str | None] | Response:
        category = params.get("category")
        if category in UNSIMULATED:
            return self.signed.ok({"list": [], "nextPageCursor": "", "category": category})
        if category not in CATEGORIES:
            return self.signed.answer(10001, "Illegal category", {})
        assert isinstance(category, str)
        symbol = params.get("symbol") or None
        if symbol is not None and self.venue.find(category, str(symbol)) is None:
            return self.signed.answer(10001, "params error: symbol invalid", {})
        scoped = (
            symbol
            or params.get("baseCoin")
            or params.get("settleCoin")
            or params.get("orderId")
            or params.get("orderLinkId")
        )
        if linear_needs_scope and category == "linear" and not scoped:
            return self.signed.answer(
                10001, "Missing some parameters that must be filled in, symbol or settleCoin", {}
            )
        return category, str(symbol) if symbol else None

    def _order_rows(
        self, category: str, params: Mapping[str, object], orders: Sequence[UserOrder]
    ) -> list[UserOrder]:
        """The orders ``orderId`` > ``orderLinkId`` > ``symbol`` > ``baseCoin`` keep (the
        first one given decides, as the docs say), and ``settleCoin`` (not on spot)."""
        order_id = params.get("orderId") or None
        link_id = params.get("orderLinkId") or None
        symbol = params.get("symbol") or None
        spot = category == "spot"
        base = None if spot else params.get("baseCoin") or None
        settle = None if spot else params.get("settleCoin") or None
        out = []
        for o in orders:
            inst = self.venue.book(o.market, o.native_id).instrument
            if order_id is not None:
                if o.order_id != order_id:
                    continue
            elif link_id is not None:
                if self.ops.link_id(o) != link_id:
                    continue
            elif symbol is not None:
                if o.native_id != symbol:
                    continue
            elif base is not None and inst.base != base:
                continue
            if settle is not None and inst.quote != settle:
                continue
            out.append(o)
        return out

    def _order_list(
        self, category: str, params: Mapping[str, object], orders: Sequence[UserOrder]
    ) -> Response:
        limit = int_param(params, "limit", 20, 50)
        if limit is None:
            return self.signed.answer(10001, "params error: limit invalid", {})
        raw = str(params.get("cursor") or "")
        after = order_after(raw) if raw else None
        if raw and after is None:
            return self.signed.answer(10001, "params error: cursor invalid", {})
        page, cursor = page_orders(orders, limit=limit, after=after)
        rows = [self.order_json(o, push=False) for o in page]
        return self.signed.ok({"list": rows, "nextPageCursor": cursor, "category": category})

    def order_json(self, order: UserOrder, *, push: bool) -> JsonDict:
        """One order on the wire (REST list item or ``order`` push item)."""
        inst = self.venue.book(order.market, order.native_id).instrument
        return order_item(
            order,
            inst,
            push=push,
            link_id=self.ops.link_id(order),
            market_unit=self.ops.market_unit(order),
            quote_qty=self.ops.quote_qty(order),
        )

    async def realtime(
        self, account: str, params: Mapping[str, object], call: RestCall
    ) -> Response:
        """``GET /v5/order/realtime``."""
        scope = self._scope(params, linear_needs_scope=True)
        if isinstance(scope, Response):
            return scope
        category, _symbol = scope
        everything = list(reversed(self.desk.orders(account, category)))
        by_id = bool(params.get("orderId") or params.get("orderLinkId"))
        if by_id:
            chosen = everything
        elif str(params.get("openOnly", "0")) == "1":
            chosen = [o for o in everything if not o.is_open][:_RECENT_CLOSED]
        else:
            chosen = [o for o in everything if o.is_open]
        return self._order_list(category, params, self._order_rows(category, params, chosen))

    async def history(self, account: str, params: Mapping[str, object], call: RestCall) -> Response:
        """``GET /v5/order/history``."""
        scope = self._scope(params, linear_needs_scope=False)
        if isinstance(scope, Response):
            return scope
        category, _symbol = scope
        span = history_span(params, self.venue.now_ms())
        if isinstance(span, str):
            return self.signed.answer(10001, span, {})
        start, end = span
        now = self.venue.now_ms()
        everything = [
            o
            for o in reversed(self.desk.orders(account, category))
            if start <= o.created_ms <= end and history_kept(o, now)
        ]
        by_id = bool(params.get("orderId") or params.get("orderLinkId"))
        chosen = everything if by_id else [o for o in everything if not o.is_open]
        status = params.get("orderStatus") or None
        rows = self._order_rows(category, params, chosen)
        if status is not None:
            rows = [o for o in rows if self.order_json(o, push=False)["orderStatus"] == status]
        return self._order_list(category, params, rows)

    def fill_json(self, fill: UserFill, *, push: bool) -> JsonDict:
        """One fill on the wire (``execution/list`` item or ``execution`` push item)."""
        order = self.desk.order(fill.account, fill.market, order_id=fill.order_id)
        assert order is not None
        inst = self.venue.book(fill.market, fill.native_id).instrument
        rates = self.desk.fee_rates(fill.account, fill.market)
        return execution_item(
            fill,
            order,
            inst,
            seq=self.fill_seq.get((fill.order_id, fill.trade_id), 0),
            fee_rate=rates.maker if fill.liquidity is Liquidity.MAKER else rates.taker,
            mark=self.desk.mark_price(fill.market, fill.native_id)
            if fill.market == "linear"
            else fill.price,
            push=push,
            link_id=self.ops.link_id(order),
        )

    async def executions(
        self, account: str, params: Mapping[str, object], call: RestCall
    ) -> Response:
        """``GET /v5/execution/list``."""
        scope = self._scope(params, linear_needs_scope=False)
        if isinstance(scope, Response):
            return scope
        category, symbol = scope
        window = execution_window(params, self.venue.now_ms())
        if isinstance(window, str):
            return self.signed.answer(10001, window, {})
        start, end = window
        limit = int_param(params, "limit", 50, 100)
        cursor = int_param(params, "cursor", 0, 1 << 62) if params.get("cursor") else None
        if limit is None or (params.get("cursor") and cursor is None):
            return self.signed.answer(10001, "params error: limit invalid", {})
        keep = self._execution_filter(params, symbol)
        exec_type = params.get("execType") or None
        chosen: list[tuple[int, UserFill]] = []
        for position, f in reversed(list(enumerate(self.desk.fills(account, category)))):
            if cursor is not None and position >= cursor:
                continue
            if start <= f.ts_ms <= end and exec_type in (None, "Trade") and keep(f):
                chosen.append((position, f))
                if len(chosen) > limit:
                    break
        page = chosen[:limit]
        more = str(page[-1][0]) if len(chosen) > limit else ""
        rows = [self.fill_json(f, push=False) for _, f in page]
        return self.signed.ok({"nextPageCursor": more, "category": category, "list": rows})

    def _execution_filter(
        self, params: Mapping[str, object], symbol: str | None
    ) -> Callable[[UserFill], bool]:
        """Which fills ``orderId`` > ``orderLinkId`` > ``symbol`` > ``baseCoin`` keep (the
        first one given decides; the others are ignored, as the docs say)."""
        order_id, link_id = params.get("orderId") or None, params.get("orderLinkId") or None
        base = params.get("baseCoin") or None
        if order_id is not None:
            return lambda f: f.order_id == order_id
        if link_id is not None:

            def linked(f: UserFill) -> bool:
                order = self.desk.order(f.account, f.market, order_id=f.order_id)
                return order is not None and self.ops.link_id(order) == link_id

            return linked
        if symbol is not None:
            return lambda f: f.native_id == symbol
        if base is not None:
            return lambda f: self.venue.book(f.market, f.native_id).instrument.base == base
        return lambda f: True


def execution_window(params: Mapping[str, object], now_ms: int) -> tuple[int, int] | str:
    """The ``[start, end]`` (ms, inclusive) of an ``execution/list`` request, or the
    10001 message refusing it."""
    raw = {name: params.get(name) for name in ("startTime", "endTime")}
    values: dict[str, int | None] = {}
    for name, value in raw.items():
        if value in (None, ""):
            values[name] = None
            continue
        try:
            values[name] = int(str(value))
        except ValueError:
            return f"params error: {name} invalid"
    start, end = values["startTime"], values["endTime"]
    if start is None and end is None:
        return now_ms - EXECUTION_WINDOW_MS, now_ms
    if end is None:
        assert start is not None
        return start, start + EXECUTION_WINDOW_MS
    if start is None:
        return end - EXECUTION_WINDOW_MS, end
    if end < start:
        return "params error: endTime must be greater than startTime"
    if end - start > EXECUTION_WINDOW_MS:
        return "params error: startTime and endTime must be within 7 days"
    return start, end


def history_span(params: Mapping[str, object], now_ms: int) -> tuple[int, int] | str:
    """The ``[start, end]`` (ms, inclusive, on ``createdTime``) of an ``order/history``
    request, or the 10001 message refusing it: both times or neither (the past 7 days)."""
    values: list[int] = []
    for name in ("startTime", "endTime"):
        value = params.get(name)
        if value in (None, ""):
            continue
        try:
            values.append(int(str(value)))
        except ValueError:
            return f"params error: {name} invalid"
    if not values:
        return now_ms - HISTORY_ALL_STATES_MS, now_ms
    if len(values) == 1:
        return "params error: startTime and endTime must be passed together"
    start, end = values
    if end < start:
        return "params error: endTime must be greater than startTime"
    return start, end


def batch_size(params: Mapping[str, object]) -> int:
    """Orders in a batch request (what it costs against the per-UID limit)."""
    requests = params.get("request")
    return len(requests) if isinstance(requests, list) else 1
