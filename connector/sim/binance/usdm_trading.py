"""Binance USDⓈ-M order entry over the desk, shared by REST and ws-fapi. Sans-I/O.

:class:`UsdmOrders` takes a request's parameters as text (REST form and
query, or ws-fapi params) and the authenticated account, and answers with the
venue's JSON value or a :class:`~connector.sim.binance.usdm_codes.UsdmError`.

Semantics (USDⓈ-M trade/rest-api, checked 2026-12-03): post-only ``GTX``
that would take is rejected at once (-5022, nothing recorded); a client order
id is unique among the account's open orders (-4116); reduce-only that would
increase the position -2022; a FOK that cannot fill completely, an IOC
remainder and a market remainder end ``EXPIRED``. An order sent without
``newClientOrderId`` gets a venue-made one (22 letters and digits).
``newOrderRespType`` ACK (default) answers the order as accepted (``NEW``,
nothing executed); RESULT answers its state after matching. Modify (``PUT``) is LIMIT only, needs
``side``, ``quantity`` and ``price``, loses queue priority, and cancels the
order when the new quantity is at or below the executed quantity; a GTX order
whose new price would cross is cancelled (-5022).

Order counts (:class:`OrderCounter`): every new order and every modification
counts 1 on the 10 s and the 1 min counters of the account (a batch: its orders on the 10 s
counter, 1 on the 1 min counter), REST and ws-fapi together; over 300 per
10 s or 1200 per minute the order is refused with -1015 (HTTP 429). The
counts go out as ``X-MBX-ORDER-COUNT-10S`` / ``-1M`` (REST) and in
``rateLimits`` (ws-fapi). Sliding windows on the venue clock.

``allOrders`` (All-Orders, checked 2026-12-03): canceled or expired orders
with no fill are not found 3 days after creation, no order after 90 days;
at most 7 days between ``startTime`` and ``endTime`` (the last 7 days by
default).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from decimal import Decimal

import attrs
import msgspec

from connector.model import OrderType
from connector.sim.binance import usdm_codes as codes
from connector.sim.binance.usdm_codes import UsdmError, mandatory, refusal_error
from connector.sim.binance.usdm_request import (
    OrderRef,
    parse_decimal,
    parse_order_ref,
    parse_place,
)
from connector.sim.binance.usdm_wire import order_obj, user_trade_obj
from connector.sim.binance.wire import Listing, generated_client_id
from connector.sim.desk import Desk, OrderState, Refusal, RefusalReason, UserOrder
from connector.sim.ratelimit import SlidingWindowCounter
from connector.sim.rest import parse_int

__all__ = ["OrderCounter", "Result", "UsdmOrders", "listed_by_all_orders"]

Result = dict[str, object] | list[object] | UsdmError
MARKET = "linear"
_BATCH_PLACE_MAX = 5
_BATCH_CANCEL_MAX = 10


class OrderCounter:
    """The order counters of each account: 10 s and 1 min sliding windows.

    Built on :class:`~connector.sim.ratelimit.SlidingWindowCounter` (one per
    window, since a batch counts differently on each).

    Args:
        clock: The venue clock in ms.
        limit_10s: Orders per 10 s (venue: 300).
        limit_1m: Orders per minute (venue: 1200).
    """

    def __init__(
        self, clock: Callable[[], int], *, limit_10s: int = 300, limit_1m: int = 1200
    ) -> None:
        self.clock = clock
        # (window name, seconds, limit, the -1015 message's interval, the counter)
        self.windows = (
            ("10s", 10, limit_10s, "10 seconds", SlidingWindowCounter({"10s": 10})),
            ("1m", 60, limit_1m, "1 minute", SlidingWindowCounter({"1m": 60})),
        )

    def charge(self, account: str, short: int = 1, long: int = 1) -> UsdmError | None:
        """Count ``short`` orders on the 10 s counter, ``long`` on the minute; -1015 if full."""
        now = self.clock() / 1000
        for (name, _s, limit, interval, counter), n in zip(
            self.windows, (short, long), strict=True
        ):
            if counter.would_exceed(account, now, {name: limit}, n) is not None:
                counter.refused(name)
                return codes.too_many_orders(limit, interval)
        for (_name, _s, _l, _i, counter), n in zip(self.windows, (short, long), strict=True):
            counter.add(account, now, n)
        return None

    def counts(self, account: str) -> tuple[int, int]:
        """The account's current 10 s and 1 min counts."""
        now = self.clock() / 1000
        short, long = (c.count(account, now, name) for name, _s, _l, _i, c in self.windows)
        return short, long

    def headers(self, account: str) -> tuple[tuple[str, str], ...]:
        """``X-MBX-ORDER-COUNT-10S`` and ``-1M`` of the account."""
        short, long = self.counts(account)
        return (("X-MBX-ORDER-COUNT-10S", str(short)), ("X-MBX-ORDER-COUNT-1M", str(long)))

    def rate_limits(self, account: str) -> list[dict[str, object]]:
        """The ws-fapi ``rateLimits`` entries of the order counters."""
        out: list[dict[str, object]] = []
        for (name, _s, limit, _i, _c), count in zip(
            self.windows, self.counts(account), strict=True
        ):
            second = name == "10s"
            out.append(
                {
                    "rateLimitType": "ORDERS",
                    "interval": "SECOND" if second else "MINUTE",
                    "intervalNum": 10 if second else 1,
                    "limit": limit,
                    "count": count,
                }
            )
        return out


class UsdmOrders:
    """USDⓈ-M order operations of every account, over the venue's desk.

    Args:
        desk: The venue's trading desk.
        symbols: The USDⓈ-M listings by symbol.
        counter: The order counters (shared by REST and ws-fapi).
        clock: The venue clock in ms.
    """

    def __init__(
        self,
        desk: Desk,
        symbols: Mapping[str, Listing],
        counter: OrderCounter,
        clock: Callable[[], int],
    ) -> None:
        self.desk = desk
        self.symbols = symbols
        self.counter = counter
        self.clock = clock
        self._client_ids = itertools.count(1)

    def _refused(self, refusal: Refusal, op: codes.Operation, symbol: str) -> UsdmError:
        sym = self.symbols.get(symbol)
        floor = ""
        if sym is not None:
            floor = format(sym.book.instrument.min_notional.normalize(), "f")
        return refusal_error(refusal, op, min_notional=floor)

    # ----------------------------------------------------------------- place

    def place(self, account: str, params: Mapping[str, str], *, counted: bool = False) -> Result:
        """``POST /fapi/v1/order`` / ``order.place``."""
        req = parse_place(params, self.symbols)
        if isinstance(req, UsdmError):
            return req
        if not counted:
            full = self.counter.charge(account)
            if full is not None:
                return full
        now = self.clock()
        placed = self.desk.place(
            account,
            MARKET,
            req.symbol,
            side=req.side,
            type=req.type,
            qty=req.qty,
            price=req.price,
            time_in_force=req.time_in_force,
            client_order_id=req.client_order_id
            or generated_client_id(f"usdm/{account}/{next(self._client_ids)}", now),
            reduce_only=req.reduce_only,
            post_only_cross="reject",
            # USDⓈ-M's default STP mode (fact sheet 2.2), which every answer names.
            self_trade="expire_maker",
            now_ms=now,
        )
        if isinstance(placed, Refusal):
            return self._refused(placed, "place", req.symbol)
        sym = self.symbols[req.symbol]
        if req.resp_type == "ACK":
            placed = attrs.evolve(
                placed,
                state=OrderState.NEW,
                filled_qty=Decimal(0),
                cum_quote=Decimal(0),
                avg_price=Decimal(0),
                cancel_cause=None,
                updated_ms=placed.created_ms,
            )
        return order_obj(sym, placed)

    def batch_place(self, account: str, params: Mapping[str, str]) -> Result:
        """``POST /fapi/v1/batchOrders``: up to 5 orders; errors in place, in request order."""
        items = _json_list(params, "batchOrders", _BATCH_PLACE_MAX)
        if isinstance(items, UsdmError):
            return items
        full = self.counter.charge(account, short=len(items), long=1)
        if full is not None:
            return full
        out: list[object] = []
        for item in items:
            if not isinstance(item, dict):
                out.append(codes.bad_value("batchOrders").body())
                continue
            text = {str(k): _text(v) for k, v in item.items()}
            result = self.place(account, text, counted=True)
            out.append(result.body() if isinstance(result, UsdmError) else result)
        return out

    # ---------------------------------------------------------------- cancel

    def _ref(self, params: Mapping[str, str]) -> OrderRef | UsdmError:
        ref = parse_order_ref(params, self.symbols)
        if isinstance(ref, UsdmError):
            return ref
        return ref

    def cancel(self, account: str, params: Mapping[str, str]) -> Result:
        """``DELETE /fapi/v1/order`` / ``order.cancel``."""
        ref = self._ref(params)
        if isinstance(ref, UsdmError):
            return ref
        return self._cancel(account, ref)

    def _cancel(self, account: str, ref: OrderRef) -> Result:
        done = self.desk.cancel(
            account,
            MARKET,
            ref.symbol,
            order_id=ref.order_id,
            client_order_id=ref.client_order_id,
            now_ms=self.clock(),
        )
        if isinstance(done, Refusal):
            return self._refused(done, "cancel", ref.symbol)
        return order_obj(self.symbols[ref.symbol], done)

    def batch_cancel(self, account: str, params: Mapping[str, str]) -> Result:
        """``DELETE /fapi/v1/batchOrders``: ``orderIdList`` or ``origClientOrderIdList`` (10)."""
        symbol = params.get("symbol", "")
        if not symbol:
            return mandatory("symbol")
        if symbol not in self.symbols:
            return codes.INVALID_SYMBOL
        # The names are taken in any case: ccxt sends ``orderidlist`` and
        # ``origclientorderidlist`` (its sign(), for this endpoint) and trades with them.
        keys = {key.lower(): key for key in params}
        by_id = "orderidlist" in keys
        name = "orderIdList" if by_id else "origClientOrderIdList"
        key = keys.get(name.lower())
        if key is None:
            return mandatory("orderIdList")
        items = _json_list({name: params[key]}, name, _BATCH_CANCEL_MAX)
        if isinstance(items, UsdmError):
            return items
        out: list[object] = []
        for item in items:
            text = _text(item)
            ref = OrderRef(
                symbol=symbol,
                order_id=text if by_id else None,
                client_order_id=None if by_id else text,
            )
            result = self._cancel(account, ref)
            out.append(result.body() if isinstance(result, UsdmError) else result)
        return out

    def cancel_all(self, account: str, params: Mapping[str, str]) -> Result:
        """``DELETE /fapi/v1/allOpenOrders`` (symbol mandatory)."""
        symbol = params.get("symbol", "")
        if not symbol:
            return mandatory("symbol")
        if symbol not in self.symbols:
            return codes.INVALID_SYMBOL
        self.desk.cancel_all(account, MARKET, symbol, now_ms=self.clock())
        return {"code": 200, "msg": "The operation of cancel all open order is done."}

    # ---------------------------------------------------------------- modify

    def modify(self, account: str, params: Mapping[str, str]) -> Result:
        """``PUT /fapi/v1/order`` / ``order.modify``."""
        ref = self._ref(params)
        if isinstance(ref, UsdmError):
            return ref
        side = params.get("side", "")
        if not side:
            return mandatory("side")
        if side not in ("BUY", "SELL"):
            return UsdmError(status=400, code=-1117, msg="Invalid side.")
        qty = parse_decimal(params, "quantity")
        if isinstance(qty, UsdmError):
            return qty
        price = parse_decimal(params, "price")
        if isinstance(price, UsdmError):
            return price
        if qty is None:
            return mandatory("quantity")
        if price is None:
            return mandatory("price")
        # A modification counts 1 on each order counter, as a new order does (Modify
        # Order's request weight, REST and websocket API, checked 2026-12-06).
        full = self.counter.charge(account)
        if full is not None:
            return full
        order = self.desk.order(
            account,
            MARKET,
            ref.symbol,
            order_id=ref.order_id,
            client_order_id=ref.client_order_id,
        )
        if order is None or not order.is_open:
            return codes.NO_SUCH_ORDER
        if order.type is not OrderType.LIMIT:
            return codes.MODIFY_LIMIT_ONLY
        if side != ("BUY" if order.side.value == "buy" else "SELL"):
            return codes.bad_value("side")
        if qty == order.qty and price == order.price:
            return codes.NO_NEED_TO_MODIFY
        now = self.clock()
        done = self.desk.amend(
            account, MARKET, ref.symbol, order_id=order.order_id, qty=qty, price=price, now_ms=now
        )
        if isinstance(done, Refusal):
            if done.reason is RefusalReason.POST_ONLY_WOULD_TAKE:
                # USDⓈ-M cancels a GTX order whose new price would cross.
                self.desk.cancel(account, MARKET, ref.symbol, order_id=order.order_id, now_ms=now)
            return self._refused(done, "modify", ref.symbol)
        return order_obj(self.symbols[ref.symbol], done)

    # ----------------------------------------------------------------- query

    def query(self, account: str, params: Mapping[str, str], *, open_only: bool = False) -> Result:
        """``GET /fapi/v1/order`` / ``order.status`` (``open_only``: ``GET openOrder``)."""
        ref = self._ref(params)
        if isinstance(ref, UsdmError):
            return ref
        order = self.desk.order(
            account, MARKET, ref.symbol, order_id=ref.order_id, client_order_id=ref.client_order_id
        )
        if order is None:
            return codes.NO_SUCH_ORDER
        if open_only and not order.is_open:
            return UsdmError(status=400, code=-2013, msg="Order does not exist.")
        return order_obj(self.symbols[ref.symbol], order, query=True)

    def _symbol(self, params: Mapping[str, str], *, optional: bool) -> str | UsdmError | None:
        symbol = params.get("symbol", "")
        if not symbol:
            return None if optional else mandatory("symbol")
        if symbol not in self.symbols:
            return codes.INVALID_SYMBOL
        return symbol

    def open_orders(self, account: str, params: Mapping[str, str]) -> Result:
        """``GET /fapi/v1/openOrders`` (every symbol without ``symbol``)."""
        symbol = self._symbol(params, optional=True)
        if isinstance(symbol, UsdmError):
            return symbol
        orders = self.desk.open_orders(account, MARKET, symbol)
        return [self._listed(o) for o in orders]

    def _listed(self, order: UserOrder) -> dict[str, object]:
        return order_obj(self.symbols[order.native_id], order, query=True)

    def all_orders(self, account: str, params: Mapping[str, str]) -> Result:
        """``GET /fapi/v1/allOrders``: ``orderId`` (from), ``startTime``, ``endTime``, ``limit``.

        Orders canceled or expired with no fill are gone 3 days after their
        creation, every order 90 days after it. Times at most 7 days apart
        (-1127); neither time nor ``orderId``: the last 7 days; only
        ``startTime``: the 7 days from it; only ``endTime``: the 7 days before it.
        """
        symbol = self._symbol(params, optional=False)
        if isinstance(symbol, UsdmError):
            return symbol
        window = _window(params)
        if isinstance(window, UsdmError):
            return window
        start, end, limit, from_id = window
        if start is not None and end is not None and end - start > _WEEK_MS:
            return codes.more_than_hours(_WEEK_MS // 3_600_000)
        now = self.clock()
        if start is None and end is None and from_id is None:
            start, end = now - _WEEK_MS, now
        elif start is not None and end is None:
            end = start + _WEEK_MS
        elif end is not None and start is None:
            start = end - _WEEK_MS
        found = [
            o
            for o in self.desk.orders(account, MARKET, symbol)
            if listed_by_all_orders(o, now)
            and (from_id is None or int(o.order_id) >= from_id)
            and (start is None or o.created_ms >= start)
            and (end is None or o.created_ms <= end)
        ]
        return [self._listed(o) for o in (found[:limit] if from_id else found[-limit:])]

    def user_trades(self, account: str, params: Mapping[str, str]) -> Result:
        """``GET /fapi/v1/userTrades`` (``orderId``, ``startTime``, ``endTime``, ``fromId``).

        Neither time sent (nor ``fromId``): the last 7 days; only ``startTime``:
        the 7 days from it; only ``endTime``: the 7 days before it; both at most
        7 days apart (-1127); ``fromId`` with a time is -1128.
        """
        symbol = self._symbol(params, optional=False)
        if isinstance(symbol, UsdmError):
            return symbol
        window = _window(params, from_name="fromId")
        if isinstance(window, UsdmError):
            return window
        start, end, limit, from_id = window
        if from_id is not None and (start is not None or end is not None):
            return codes.BAD_COMBINATION
        if start is not None and end is not None and end - start > _WEEK_MS:
            return codes.more_than_hours(_WEEK_MS // 3_600_000)
        if from_id is None:
            if start is None and end is None:
                end = self.clock()
            if start is None:
                assert end is not None
                start = end - _WEEK_MS
            elif end is None:
                end = start + _WEEK_MS
        order_id = params.get("orderId") or None
        fills = [
            f
            for f in self.desk.fills(account, MARKET, symbol, order_id=order_id)
            if (from_id is None or int(f.trade_id) >= from_id)
            and (start is None or f.ts_ms >= start)
            and (end is None or f.ts_ms <= end)
        ]
        chosen = fills[:limit] if from_id is not None else fills[-limit:]
        sym = self.symbols[symbol]  # type: ignore[index]
        return [user_trade_obj(sym, f) for f in chosen]


_DAY_MS = 86_400_000
_WEEK_MS = 7 * _DAY_MS


def listed_by_all_orders(order: UserOrder, now_ms: int) -> bool:
    """Whether ``allOrders`` still finds ``order``: not when canceled or expired with no
    fill more than 3 days after its creation, nor any order after 90 days."""
    if order.created_ms + 90 * _DAY_MS < now_ms:
        return False
    unfilled_end = order.state in (OrderState.CANCELED, OrderState.EXPIRED) and not order.filled_qty
    return not (unfilled_end and order.created_ms + 3 * _DAY_MS < now_ms)


def _window(
    params: Mapping[str, str], from_name: str = "orderId"
) -> tuple[int | None, int | None, int, int | None] | UsdmError:
    values: list[int | None] = []
    for name in ("startTime", "endTime", from_name):
        raw = params.get(name)
        value = None if raw in (None, "") else parse_int(raw, 0)
        if raw not in (None, "") and value is None:
            return codes.illegal(name, "^[0-9]{1,20}$")
        values.append(value)
    limit = parse_int(params.get("limit"), 500)
    if limit is None or not 1 <= limit <= 1000:
        return codes.bad_value("limit")
    return values[0], values[1], limit, values[2]


def _json_list(params: Mapping[str, str], name: str, most: int) -> list[object] | UsdmError:
    raw = params.get(name, "")
    if not raw:
        return mandatory(name)
    try:
        items = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return codes.bad_value(name)
    if not isinstance(items, list) or not items:
        return codes.bad_value(name)
    if len(items) > most:
        return UsdmError(
            status=400, code=-1130, msg=f"Data sent for parameter '{name}' is not valid."
        )
    return items


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
