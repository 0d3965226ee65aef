"""Binance spot order entry over the desk, shared by REST and the WebSocket API. Sans-I/O.

:class:`SpotTrading` turns one request's :class:`~connector.sim.binance.signed.Params`
into desk calls and the venue's answers; both transports call it, so the
checks, codes, shapes and the order counts are the same on both (rules:
docs/simulator.md "Binance spot trading"; Binance spot rest-api.md "Trading
endpoints", errors.md; venues-trading.md 2, 5, 6).

Parameter checks, in the venue's order: ``symbol`` (-1102, -1121), ``side``
(-1117), ``type`` (-1116; STOP_LOSS, TAKE_PROFIT and their _LIMIT forms
are not simulated and answer -1014 "Unsupported order combination"), the
parameters each type requires or forbids (-1102, -1106), ``timeInForce``
(-1115), ``newClientOrderId`` (-1100 outside ``^[a-zA-Z0-9-_]{1,36}$``),
``newOrderRespType`` (-1100), precision (-1111 beyond 8 decimals), then the
order counts (429 -1015), then the desk (filters -1013, funds and duplicate
client ids -2010, LIMIT_MAKER that would take: -2010 at once).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from decimal import Decimal

from connector.model import OrderType, Side, TimeInForce
from connector.sim.binance.signed import BinanceError, Params, illegal, mandatory
from connector.sim.binance.spot_codes import refusal_error
from connector.sim.binance.spot_limits import OrderCountLimiter
from connector.sim.binance.spot_wire import (
    OrderMeta,
    cancel_json,
    order_json,
    placed_json,
    trade_json,
)
from connector.sim.binance.wire import Listing, generated_client_id
from connector.sim.desk import Desk, Refusal, UserOrder
from connector.sim.hub import SimVenue

__all__ = ["SpotTrading"]

_CLIENT_ID = re.compile(r"^[a-zA-Z0-9-_]{1,36}$")
_CLIENT_ID_RANGE = "^[a-zA-Z0-9-_]{1,36}$"
_SIDES = ("BUY", "SELL")
_TYPES = (
    "LIMIT",
    "MARKET",
    "LIMIT_MAKER",
    "STOP_LOSS",
    "STOP_LOSS_LIMIT",
    "TAKE_PROFIT",
    "TAKE_PROFIT_LIMIT",
)
_TIFS = {"GTC": TimeInForce.GTC, "IOC": TimeInForce.IOC, "FOK": TimeInForce.FOK}
_RESP_TYPES = ("ACK", "RESULT", "FULL")
_MAX_PLACES = 8
_MAX_AMENDS = 10
_ZERO = Decimal(0)


def _not_required(name: str) -> BinanceError:
    return BinanceError(-1106, f"Parameter '{name}' sent when not required.")


def _precise(params: Params, name: str, value: Decimal | None) -> Decimal | None:
    if value is not None and -int(value.as_tuple().exponent) > _MAX_PLACES:
        raise BinanceError(-1111, f"Parameter '{name}' has too much precision.")
    return value


class SpotTrading:
    """Spot order entry and account queries of one simulated Binance.

    Args:
        venue: The venue hub (its ``desk`` holds the accounts and orders).
        listings: Spot listings by symbol.
        limiter: Order counts (shared by REST and the WebSocket API).
    """

    def __init__(
        self,
        venue: SimVenue,
        listings: Mapping[str, Listing],
        limiter: OrderCountLimiter | None = None,
    ) -> None:
        self.venue = venue
        self.listings = listings
        self.limiter = limiter or OrderCountLimiter()
        self.meta: dict[tuple[str, str], OrderMeta] = {}
        self._execution_ids = itertools.count(1)
        self._client_ids = itertools.count(1)
        #: The record of the order being placed (its events come while the desk places it).
        self._pending: OrderMeta | None = None

    @property
    def desk(self) -> Desk:
        """The venue's trading desk."""
        return self.venue.desk

    def next_execution_id(self) -> int:
        """A fresh ``I`` (execution id) for a user data event."""
        return next(self._execution_ids)

    def meta_of(self, order: UserOrder) -> OrderMeta:
        """The front-end's record of ``order`` (orders placed elsewhere get one made up)."""
        key = (order.account, order.order_id)
        meta = self.meta.get(key)
        if meta is None and self._pending is not None:
            meta, self._pending = self._pending, None
            self.meta[key] = meta
        if meta is None:
            name = "MARKET" if order.type is OrderType.MARKET else "LIMIT"
            if order.time_in_force is TimeInForce.POST_ONLY:
                name = "LIMIT_MAKER"
            meta = OrderMeta(type_name=name, working_ms=order.created_ms)
            self.meta[key] = meta
        return meta

    # ------------------------------------------------------------- helpers

    def symbol(self, params: Params, *, required: bool = True) -> Listing | None:
        """The ``symbol`` parameter's listing (-1102, -1121)."""
        raw = params.required("symbol") if required else params.text("symbol")
        if raw is None:
            return None
        found = self.listings.get(raw)
        if found is None:
            raise BinanceError(-1121, "Invalid symbol.")
        return found

    def _find(self, account: str, sym: Listing, params: Params, *, missing: int) -> UserOrder:
        order_id = params.integer("orderId")
        client_id = params.text("origClientOrderId")
        if order_id is None and client_id is None:
            raise BinanceError(
                -1102,
                "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
            )
        order = self.desk.order(
            account,
            "spot",
            sym.symbol,
            order_id=str(order_id) if order_id is not None else None,
            client_order_id=None if order_id is not None else client_id,
        )
        if order is None:
            if missing == -2013:
                raise BinanceError(-2013, "Order does not exist.")
            raise BinanceError(-2011, "Unknown order sent.")
        if order_id is not None and client_id is not None and order.client_order_id != client_id:
            raise BinanceError(-2039, "Client order ID is not correct for this order ID.")
        return order

    # -------------------------------------------------------------- orders

    def place(self, account: str, params: Params, now_ms: int) -> dict[str, object]:
        """``POST /api/v3/order`` / ``order.place``: the answer body (ACK, RESULT or FULL)."""
        sym = self.symbol(params)
        assert sym is not None
        side_raw = params.required("side")
        if side_raw not in _SIDES:
            raise BinanceError(-1117, "Invalid side.")
        side = Side.BUY if side_raw == "BUY" else Side.SELL
        type_name = params.required("type")
        if type_name not in _TYPES:
            raise BinanceError(-1116, "Invalid orderType.")
        if type_name not in ("LIMIT", "MARKET", "LIMIT_MAKER"):
            raise BinanceError(-1014, "Unsupported order combination.")
        qty = _precise(params, "quantity", params.decimal("quantity"))
        price = _precise(params, "price", params.decimal("price"))
        quote_qty = _ZERO
        tif = TimeInForce.GTC
        if type_name == "MARKET":
            quote = _precise(params, "quoteOrderQty", params.decimal("quoteOrderQty"))
            if price is not None:
                raise _not_required("price")
            if qty is None and quote is None:
                raise BinanceError(
                    -1102,
                    "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!",
                )
            if qty is not None and quote is not None:
                raise _not_required("quoteOrderQty")
            if params.text("timeInForce") is not None:
                raise _not_required("timeInForce")
        else:
            if params.text("quoteOrderQty") is not None:
                raise _not_required("quoteOrderQty")
            if type_name == "LIMIT":
                raw_tif = params.required("timeInForce")
                if raw_tif not in _TIFS:
                    raise BinanceError(-1115, "Invalid timeInForce.")
                tif = _TIFS[raw_tif]
            elif params.text("timeInForce") is not None:
                raise _not_required("timeInForce")
            else:
                tif = TimeInForce.POST_ONLY
            if qty is None:
                raise mandatory("quantity")
            if price is None:
                raise mandatory("price")
        if qty is not None and qty <= 0:
            raise BinanceError(-1013, "Invalid quantity.")
        if price is not None and price <= 0:
            raise BinanceError(-1013, "Invalid price.")
        client_id = params.text("newClientOrderId")
        if client_id is not None and not _CLIENT_ID.fullmatch(client_id):
            raise illegal("newClientOrderId", _CLIENT_ID_RANGE)
        if client_id is None:
            client_id = generated_client_id(f"{account}/{next(self._client_ids)}", now_ms)
        default_resp = "FULL" if type_name in ("LIMIT", "MARKET") else "ACK"
        resp_type = params.choice(
            "newOrderRespType",
            _RESP_TYPES,
            illegal("newOrderRespType", "ACK, RESULT, FULL"),
            default=default_resp,
        )
        assert resp_type is not None
        if type_name == "MARKET" and qty is None:
            assert quote is not None
            quote_qty = quote
        over = self.limiter.exceeded(account, now_ms)
        if over is not None:
            raise BinanceError(
                -1015,
                f"Too many new orders; current limit is {over.limit} orders per {over.phrase}.",
                status=429,
            )
        # Recorded before the desk runs: its listeners report the order while it places it.
        self._pending = OrderMeta(type_name=type_name, quote_order_qty=quote_qty, working_ms=now_ms)
        # Counted first: the desk's fill events during placement give quota back.
        self.limiter.count(account, now_ms)
        try:
            placed = self.desk.place(
                account,
                "spot",
                sym.symbol,
                side=side,
                type=OrderType.MARKET if type_name == "MARKET" else OrderType.LIMIT,
                qty=qty if qty is not None else _ZERO,
                price=price,
                time_in_force=tif,
                client_order_id=client_id,
                post_only_cross="reject",
                quote_qty=quote_qty if quote_qty else None,
                # The default STP mode exchangeInfo publishes, and every answer names.
                self_trade="expire_maker",
                now_ms=now_ms,
            )
            if isinstance(placed, Refusal):
                self.limiter.give_back(account, now_ms)
                raise refusal_error(placed, "place")
            meta = self.meta_of(placed)
        finally:
            self._pending = None
        order = self.desk.order(account, "spot", sym.symbol, order_id=placed.order_id) or placed
        fills = self.desk.fills(account, "spot", sym.symbol, order_id=placed.order_id)
        return placed_json(order, meta, sym.symbol, now_ms, resp_type, fills)

    def cancel(self, account: str, params: Params, now_ms: int) -> dict[str, object]:
        """``DELETE /api/v3/order`` / ``order.cancel``."""
        sym = self.symbol(params)
        assert sym is not None
        order = self._find(account, sym, params, missing=-2011)
        cancel_id = params.text("newClientOrderId") or generated_client_id(order.order_id, now_ms)
        restriction = params.choice(
            "cancelRestrictions",
            ("ONLY_NEW", "ONLY_PARTIALLY_FILLED"),
            BinanceError(-1145, "Invalid cancelRestrictions"),
            default=None,
        )
        if restriction is not None and order.state.name != restriction[5:]:
            raise BinanceError(-2011, "Order was not canceled due to cancel restrictions.")
        meta = self.meta_of(order)
        meta.cancel_client_id = cancel_id
        done = self.desk.cancel(account, "spot", sym.symbol, order_id=order.order_id, now_ms=now_ms)
        if isinstance(done, Refusal):
            meta.cancel_client_id = None
            raise refusal_error(done, "cancel")
        return cancel_json(done, meta, sym.symbol, cancel_id, now_ms)

    def query(self, account: str, params: Params) -> dict[str, object]:
        """``GET /api/v3/order`` / ``order.status``."""
        sym = self.symbol(params)
        assert sym is not None
        order = self._find(account, sym, params, missing=-2013)
        return order_json(order, self.meta_of(order), sym.symbol)

    def open_orders(self, account: str, params: Params) -> list[dict[str, object]]:
        """``GET /api/v3/openOrders`` (one symbol or all)."""
        sym = self.symbol(params, required=False)
        orders = self.desk.open_orders(account, "spot", sym.symbol if sym else None)
        return [order_json(o, self.meta_of(o), o.native_id) for o in orders]

    def cancel_all(self, account: str, params: Params, now_ms: int) -> list[dict[str, object]]:
        """``DELETE /api/v3/openOrders`` (one symbol): every open order, canceled."""
        sym = self.symbol(params)
        assert sym is not None
        open_now = self.desk.open_orders(account, "spot", sym.symbol)
        if not open_now:
            raise BinanceError(-2011, "Unknown order sent.")
        cancel_id = params.text("newClientOrderId") or generated_client_id("all", now_ms)
        for order in open_now:
            self.meta_of(order).cancel_client_id = cancel_id
        done = self.desk.cancel_all(account, "spot", sym.symbol, now_ms=now_ms)
        return [cancel_json(o, self.meta_of(o), sym.symbol, cancel_id, now_ms) for o in done]

    def all_orders(self, account: str, params: Params) -> list[dict[str, object]]:
        """``GET /api/v3/allOrders``: oldest first, ``orderId``/time filters, ``limit`` ≤ 1000.

        ``orderId``: the first ``limit`` orders from it, else the most recent;
        ``startTime`` and ``endTime`` at most 24 hours apart (-1127).
        """
        sym = self.symbol(params)
        assert sym is not None
        limit = _limit(params)
        from_id = params.integer("orderId")
        start = params.integer("startTime")
        end = params.integer("endTime")
        if start is not None and end is not None and end - start > _DAY_MS:
            raise BinanceError(-1127, "More than 24 hours between startTime and endTime.")
        out = []
        for o in self.desk.orders(account, "spot", sym.symbol):
            if from_id is not None and int(o.order_id) < from_id:
                continue
            if start is not None and o.created_ms < start:
                continue
            if end is not None and o.created_ms > end:
                continue
            out.append(order_json(o, self.meta_of(o), sym.symbol))
        return out[-limit:] if from_id is None else out[:limit]

    def my_trades(self, account: str, params: Params) -> list[dict[str, object]]:
        """``GET /api/v3/myTrades``: the account's fills, oldest first.

        The documented combinations only (besides ``symbol`` and ``limit``): none,
        ``orderId``, ``startTime``, ``endTime``, ``fromId``, ``startTime`` +
        ``endTime``, ``orderId`` + ``fromId``; any other is -1128. ``startTime``
        and ``endTime`` at most 24 hours apart (-1127). With ``fromId``, the
        first ``limit`` trades from it; otherwise the most recent ``limit``.
        """
        sym = self.symbol(params)
        assert sym is not None
        limit = _limit(params)
        order_id = params.integer("orderId")
        from_id = params.integer("fromId")
        start = params.integer("startTime")
        end = params.integer("endTime")
        sent = frozenset(
            name
            for name, value in (
                ("orderId", order_id),
                ("fromId", from_id),
                ("startTime", start),
                ("endTime", end),
            )
            if value is not None
        )
        if sent not in _MY_TRADES_COMBINATIONS:
            raise BinanceError(-1128, "Combination of optional parameters invalid.")
        if start is not None and end is not None and end - start > _DAY_MS:
            raise BinanceError(-1127, "More than 24 hours between startTime and endTime.")
        fills = self.desk.fills(
            account,
            "spot",
            sym.symbol,
            order_id=str(order_id) if order_id is not None else None,
        )
        out = []
        for f in fills:
            if from_id is not None and int(f.trade_id) < from_id:
                continue
            if start is not None and f.ts_ms < start:
                continue
            if end is not None and f.ts_ms > end:
                continue
            out.append(trade_json(f, sym.symbol))
        return out[-limit:] if from_id is None else out[:limit]

    def amend_keep_priority(self, account: str, params: Params, now_ms: int) -> dict[str, object]:
        """``PUT /api/v3/order/amend/keepPriority``: a smaller quantity, same queue place.

        The order takes ``newClientOrderId``, or a new venue-made id without it: "By
        default, amended orders get a random new client order ID, but you can pass
        the current client order ID in the newClientOrderId parameter if you wish
        to keep it." (spot FAQ order_amend_keep_priority.md, checked 2026-12-06).
        """
        sym = self.symbol(params)
        assert sym is not None
        new_qty = _precise(params, "newQty", params.decimal("newQty", required=True))
        assert new_qty is not None
        order = self._find(account, sym, params, missing=-2011)
        meta = self.meta_of(order)
        if new_qty >= order.qty:
            raise BinanceError(-2038, "Order amend (quantity increase) is not supported.")
        if meta.amends >= _MAX_AMENDS:
            raise BinanceError(-1013, "Filter failure: MAX_NUM_ORDER_AMENDS")
        new_client = params.text("newClientOrderId")
        if new_client is not None and not _CLIENT_ID.fullmatch(new_client):
            raise illegal("newClientOrderId", _CLIENT_ID_RANGE)
        if new_client is None:
            seed = f"amend/{account}/{order.order_id}/{meta.amends}"
            new_client = generated_client_id(seed, now_ms)
        done = self.desk.amend(
            account,
            "spot",
            sym.symbol,
            order_id=order.order_id,
            qty=new_qty,
            new_client_order_id=new_client,
            now_ms=now_ms,
        )
        if isinstance(done, Refusal):
            raise refusal_error(done, "amend")
        meta.amends += 1
        return {
            "transactTime": now_ms,
            "executionId": self.next_execution_id(),
            "amendedOrder": {
                "symbol": sym.symbol,
                "orderId": int(done.order_id),
                "orderListId": -1,
                "origClientOrderId": order.client_order_id,
                "clientOrderId": done.client_order_id,
                "price": format(done.price or _ZERO, ".8f"),
                "qty": format(done.qty, ".8f"),
                "executedQty": format(done.filled_qty, ".8f"),
                "preventedQty": "0.00000000",
                "quoteOrderQty": format(meta.quote_order_qty, ".8f"),
                "cumulativeQuoteQty": format(done.cum_quote, ".8f"),
                "status": order_json(done, meta, sym.symbol)["status"],
                "timeInForce": order_json(done, meta, sym.symbol)["timeInForce"],
                "type": meta.type_name,
                "side": "BUY" if done.side is Side.BUY else "SELL",
                "workingTime": meta.working_ms,
                "selfTradePreventionMode": "EXPIRE_MAKER",
            },
        }

    def cancel_replace(
        self, account: str, params: Params, now_ms: int
    ) -> tuple[int, dict[str, object]]:
        """``POST /api/v3/order/cancelReplace``: ``(http status, body)``.

        ``cancelReplaceMode`` STOP_ON_FAILURE (a failed cancel stops there) or
        ALLOW_FAILURE (the new order is tried anyway). Both fail: HTTP 400
        -2022; one fails: HTTP 409 -2021; the body's ``data`` holds both parts.
        """
        mode = params.required("cancelReplaceMode")
        if mode not in ("STOP_ON_FAILURE", "ALLOW_FAILURE"):
            raise illegal("cancelReplaceMode", "STOP_ON_FAILURE, ALLOW_FAILURE")
        sym = self.symbol(params)
        assert sym is not None
        cancel_params = Params(
            {
                k: v
                for k, v in (
                    ("symbol", sym.symbol),
                    ("orderId", params.text("cancelOrderId") or ""),
                    ("origClientOrderId", params.text("cancelOrigClientOrderId") or ""),
                    ("newClientOrderId", params.text("cancelNewClientOrderId") or ""),
                    ("cancelRestrictions", params.text("cancelRestrictions") or ""),
                )
                if v
            }
        )
        cancel: dict[str, object]
        cancel_ok = True
        try:
            cancel = self.cancel(account, cancel_params, now_ms)
        except BinanceError as err:
            cancel_ok = False
            cancel = err.body()
        if not cancel_ok and mode == "STOP_ON_FAILURE":
            return 400, {
                "code": -2022,
                "msg": "Order cancel-replace failed.",
                "data": {
                    "cancelResult": "FAILURE",
                    "newOrderResult": "NOT_ATTEMPTED",
                    "cancelResponse": cancel,
                    "newOrderResponse": None,
                },
            }
        new_params = Params(
            {
                k: v
                for k, v in params.items()
                if k
                not in (
                    "cancelReplaceMode",
                    "cancelOrderId",
                    "cancelOrigClientOrderId",
                    "cancelNewClientOrderId",
                    "cancelRestrictions",
                    "orderRateLimitExceededMode",
                )
            }
        )
        new_ok = True
        placed: dict[str, object]
        try:
            placed = self.place(account, new_params, now_ms)
        except BinanceError as err:
            new_ok = False
            placed = err.body()
        data: dict[str, object] = {
            "cancelResult": "SUCCESS" if cancel_ok else "FAILURE",
            "newOrderResult": "SUCCESS" if new_ok else "FAILURE",
            "cancelResponse": cancel,
            "newOrderResponse": placed,
        }
        if cancel_ok and new_ok:
            return 200, data
        if not cancel_ok and not new_ok:
            return 400, {"code": -2022, "msg": "Order cancel-replace failed.", "data": data}
        return 409, {"code": -2021, "msg": "Order cancel-replace partially failed.", "data": data}


_DAY_MS = 86_400_000
#: The parameter sets ``myTrades`` takes besides ``symbol`` and ``limit`` (rest-api.md).
_MY_TRADES_COMBINATIONS = frozenset(
    frozenset(c)
    for c in (
        (),
        ("orderId",),
        ("startTime",),
        ("endTime",),
        ("fromId",),
        ("startTime", "endTime"),
        ("orderId", "fromId"),
    )
)


def _limit(params: Params) -> int:
    limit = params.integer("limit")
    if limit is None:
        return 500
    if not 1 <= limit <= 1000:
        raise BinanceError(-1100, "Illegal characters found in parameter 'limit'.")
    return limit
