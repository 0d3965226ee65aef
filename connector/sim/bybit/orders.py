"""Bybit v5 order operations: parameters in, desk calls, ``(retCode, retMsg, result)`` out.

Shared by REST (``/v5/order/create|amend|cancel|cancel-all`` and the batch
endpoints) and the websocket order API (``/v5/trade``), so both answer the
same. Pure apart from the desk they drive (time is passed in).

Rules (Bybit v5 "Place Order", "Amend Order", "Cancel Order", "Cancel All
Orders", "Batch Place Order", checked 2026-12-03; fact sheet sections 2.2-2.4
and 9):

* ``side`` ``Buy``/``Sell``; ``orderType`` ``Market``/``Limit``; ``qty`` a
  decimal string; ``timeInForce`` ``GTC`` (default), ``IOC``, ``FOK``,
  ``PostOnly``; a market order is always IOC.
* Spot market buys are sized in the quote coin unless ``marketUnit`` is
  ``baseCoin`` (sells in the base coin unless ``quoteCoin``).
* ``PostOnly`` that would take is accepted (retCode 0) and then cancelled with
  ``rejectReason`` ``EC_PostOnlyWillTakeLiquidity``.
* ``orderLinkId``: at most 36 of ``[0-9A-Za-z_-]``; "always unique": reusing
  one of the account's orders (open or not) is 170141 on spot, 110072 on linear.
* ``positionIdx`` must be 0 (one-way mode); ``reduceOnly`` is linear only.
* ``smpType``: ``None`` (the default: the account's orders may trade with each
  other) or ``CancelMaker`` (the resting order is cancelled, ``cancelType``
  ``CancelBySmp``); ``CancelTaker``/``CancelBoth`` are not simulated (10001/170130).
* An amend to a total at or below the filled quantity is refused (110064 on
  linear, 170313 on spot: bybit-exchange/docs ``docs/v5/error.mdx``, checked
  2026-12-06); the order stays as it was.
* A bad parameter is 170130 "Data sent for paramter '<name>' is not valid." on
  spot and 10001 on linear; desk refusals go through :mod:`.codes`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from connector.model import OrderType, Side, TimeInForce
from connector.sim.bybit.codes import refusal_code, refusal_error
from connector.sim.bybit.wire import JsonDict
from connector.sim.desk import Desk, Refusal, RefusalReason, UserOrder
from connector.sim.hub import SimVenue

__all__ = ["CATEGORIES", "OpResult", "OrderOps", "bad_param"]

OpResult = tuple[int, str, JsonDict]
"""``(retCode, retMsg, result)``."""

#: Categories the simulator trades (inverse and option have no instruments).
CATEGORIES = ("spot", "linear")
UNSIMULATED = ("inverse", "option")
"""Categories a unified account has that the simulator lists nothing in: their queries
answer an empty list, as the venue does for an account that never traded them (a
client asking every category, as ccxt.pro's ``watch_positions`` does, goes on)."""
_AMEND_TO_FILLED = {
    "linear": (
        110064,
        "The modified contract quantity cannot be less than or equal to the filled quantity.",
    ),
    "spot": (170313, "The modified contract quantity cannot be less than to the filled quantity"),
}
"""An amend to a total at or below the filled quantity: ``(retCode, retMsg)`` by category."""
_LINK_ID = re.compile(r"^[0-9A-Za-z_-]{1,36}$")
_SIDES = {"Buy": Side.BUY, "Sell": Side.SELL}
_TYPES = {"Market": OrderType.MARKET, "Limit": OrderType.LIMIT}
_TIFS = {
    "GTC": TimeInForce.GTC,
    "IOC": TimeInForce.IOC,
    "FOK": TimeInForce.FOK,
    "PostOnly": TimeInForce.POST_ONLY,
}


class _Bad(Exception):
    def __init__(self, result: OpResult) -> None:
        super().__init__(result[1])
        self.result = result


def bad_param(category: str, name: str, detail: str = "") -> OpResult:
    """The venue's answer to a malformed parameter ``name``."""
    if category == "spot":
        return 170130, f"Data sent for paramter '{name}' is not valid.", {}
    return 10001, f"params error: {detail or name + ' invalid'}", {}


def _decimal(params: Mapping[str, object], name: str, category: str) -> Decimal | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if not isinstance(raw, (str, int, float)) or isinstance(raw, bool):
        raise _Bad(bad_param(category, name))
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise _Bad(bad_param(category, name)) from None
    if not value.is_finite() or value < 0:
        raise _Bad(bad_param(category, name))
    return value


def _flag(params: Mapping[str, object], name: str, category: str) -> bool:
    raw = params.get(name)
    if raw is None or raw in (False, "false", 0, "0"):
        return False
    if raw in (True, "true", 1, "1"):
        return True
    raise _Bad(bad_param(category, name))


def _text(params: Mapping[str, object], name: str) -> str | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    return str(raw)


class OrderOps:
    """Bybit order requests over one venue's desk.

    Args:
        venue: The Bybit hub (its desk and instruments).
    """

    def __init__(self, venue: SimVenue) -> None:
        self.venue = venue
        self.desk: Desk = venue.desk
        #: ``marketUnit`` as given for spot market orders, by order id (for the wire).
        self.market_units: dict[str, str] = {}
        #: Spot market orders sized in the quote coin: that size, by order id.
        self.quote_qtys: dict[str, Decimal] = {}
        #: Orders placed without an ``orderLinkId`` (the wire shows ``""`` for them).
        self.unlinked: set[str] = set()
        #: Every order placed through here (the one being placed is not in it yet).
        self.known: set[str] = set()
        #: While an order is being placed: its ``(linked, marketUnit, quote size)``.
        self._pending: tuple[bool, str, Decimal | None] | None = None

    def link_id(self, order: UserOrder) -> str:
        """The ``orderLinkId`` the wire shows (``""`` when the order was placed without one)."""
        pending = self._placing(order)
        if order.order_id in self.unlinked or (pending is not None and not pending[0]):
            return ""
        return order.client_order_id

    def _placing(self, order: UserOrder) -> tuple[bool, str, Decimal | None] | None:
        """The pending request's details when ``order`` is the one being placed.

        The desk reports an order's first events before ``place`` returns.
        """
        if self._pending is None or order.order_id in self.known:
            return None
        return self._pending

    def market_unit(self, order: UserOrder) -> str:
        """The ``marketUnit`` the order was placed with (``""`` when none)."""
        pending = self._placing(order)
        if pending is not None:
            return pending[1]
        return self.market_units.get(order.order_id, "")

    def quote_qty(self, order: UserOrder) -> Decimal | None:
        """The quote-coin size of a spot market order sized in the quote coin."""
        pending = self._placing(order)
        if pending is not None:
            return pending[2]
        return self.quote_qtys.get(order.order_id)

    def ids(self, order: UserOrder) -> JsonDict:
        """``{"orderId", "orderLinkId"}``, the result of create, amend and cancel."""
        return {"orderId": order.order_id, "orderLinkId": self.link_id(order)}

    def _category(self, params: Mapping[str, object]) -> str:
        category = params.get("category")
        if category not in CATEGORIES:
            raise _Bad((10001, "Illegal category", {}))
        assert isinstance(category, str)
        return category

    def _symbol(self, params: Mapping[str, object], category: str) -> str:
        symbol = _text(params, "symbol")
        if symbol is None or self.venue.find(category, symbol) is None:
            code, msg = refusal_code_for_symbol(category)
            raise _Bad((code, msg, {}))
        return symbol

    def _refused(self, refusal: Refusal, category: str, symbol: str) -> OpResult:
        book = self.venue.find(category, symbol)
        quote = book.instrument.quote if book is not None else ""
        code, msg = refusal_error(refusal, category, quote)
        return code, msg, {}

    # ------------------------------------------------------------ operations

    def create(self, account: str, params: Mapping[str, object], now_ms: int) -> OpResult:
        """``/v5/order/create`` (and ``order.create``)."""
        try:
            return self._create(account, params, now_ms)
        except _Bad as bad:
            return bad.result

    def _create(self, account: str, params: Mapping[str, object], now_ms: int) -> OpResult:
        category = self._category(params)
        symbol = self._symbol(params, category)
        side = _SIDES.get(str(params.get("side")))
        if side is None:
            return (
                (170117, "Invalid side.", {})
                if category == "spot"
                else (
                    10001,
                    "params error: Side invalid",
                    {},
                )
            )
        order_type = _TYPES.get(str(params.get("orderType")))
        if order_type is None:
            return (
                (170116, "Invalid orderType.", {})
                if category == "spot"
                else (
                    10001,
                    "params error: OrderType invalid",
                    {},
                )
            )
        qty = _decimal(params, "qty", category)
        if qty is None or qty == 0:
            return bad_param(category, "qty")
        tif_raw = _text(params, "timeInForce")
        tif = _TIFS.get(tif_raw or "GTC")
        if tif is None:
            return (
                (170115, "Invalid timeInForce.", {})
                if category == "spot"
                else (
                    10001,
                    "params error: TimeInForce invalid",
                    {},
                )
            )
        price = _decimal(params, "price", category)
        link_id = _text(params, "orderLinkId")
        if link_id is not None and not _LINK_ID.match(link_id):
            return bad_param(category, "orderLinkId", "orderLinkId invalid")
        position_idx = params.get("positionIdx", 0)
        if position_idx not in (0, "0", None):
            return 10001, "position idx not match position mode", {}
        reduce_only = _flag(params, "reduceOnly", category) and category == "linear"
        smp = _text(params, "smpType") or "None"
        if smp not in ("None", "CancelMaker"):
            # The desk prevents self-trades by expiring the resting (maker) order only.
            return bad_param(category, "smpType", f"smpType {smp} is not simulated")
        quote_qty: Decimal | None = None
        market_unit = ""
        if order_type is OrderType.MARKET:
            tif = TimeInForce.IOC
            price = None
            if category == "spot":
                market_unit = _text(params, "marketUnit") or ""
                if market_unit not in ("", "baseCoin", "quoteCoin"):
                    return bad_param(category, "marketUnit")
                in_quote = market_unit == "quoteCoin" or (market_unit == "" and side is Side.BUY)
                if in_quote:
                    quote_qty, qty = qty, Decimal(0)
        elif price is None or price == 0:
            return bad_param(category, "price", "price invalid")
        if link_id is not None and self.desk.order(account, category, client_order_id=link_id):
            return self._refused_duplicate(category)
        self._pending = (link_id is not None, market_unit, quote_qty)
        try:
            placed = self._place(
                account,
                category,
                symbol,
                side=side,
                order_type=order_type,
                qty=qty,
                price=price,
                tif=tif,
                link_id=link_id,
                reduce_only=reduce_only,
                quote_qty=quote_qty,
                smp_cancel_maker=smp == "CancelMaker",
                now_ms=now_ms,
            )
        finally:
            self._pending = None
        if isinstance(placed, Refusal):
            return self._refused(placed, category, symbol)
        self.known.add(placed.order_id)
        if market_unit:
            self.market_units[placed.order_id] = market_unit
        if quote_qty is not None:
            self.quote_qtys[placed.order_id] = quote_qty
        if link_id is None:
            self.unlinked.add(placed.order_id)
        return 0, "OK", self.ids(placed)

    def _place(
        self,
        account: str,
        category: str,
        symbol: str,
        *,
        side: Side,
        order_type: OrderType,
        qty: Decimal,
        price: Decimal | None,
        tif: TimeInForce,
        link_id: str | None,
        reduce_only: bool,
        quote_qty: Decimal | None,
        smp_cancel_maker: bool,
        now_ms: int,
    ) -> UserOrder | Refusal:
        return self.desk.place(
            account,
            category,
            symbol,
            side=side,
            type=order_type,
            qty=qty,
            price=price,
            time_in_force=tif,
            client_order_id=link_id,
            reduce_only=reduce_only,
            post_only_cross="cancel",
            quote_qty=quote_qty,
            self_trade="expire_maker" if smp_cancel_maker else "none",
            now_ms=now_ms,
        )

    def _refused_duplicate(self, category: str) -> OpResult:
        code, msg = refusal_code(RefusalReason.DUPLICATE_CLIENT_ID, category)
        return code, msg, {}

    def _target(self, params: Mapping[str, object]) -> tuple[str, str, str | None, str | None]:
        category = self._category(params)
        symbol = self._symbol(params, category)
        order_id = _text(params, "orderId")
        link_id = _text(params, "orderLinkId")
        if order_id is None and link_id is None:
            raise _Bad(bad_param(category, "orderId", "orderId or orderLinkId is required"))
        return category, symbol, order_id, link_id

    def amend(self, account: str, params: Mapping[str, object], now_ms: int) -> OpResult:
        """``/v5/order/amend``: ``qty`` is the new total quantity."""
        try:
            category, symbol, order_id, link_id = self._target(params)
            qty = _decimal(params, "qty", category)
            price = _decimal(params, "price", category)
        except _Bad as bad:
            return bad.result
        if qty is None and price is None:
            return 10001, "params error: qty or price is required", {}
        current = self.desk.order(
            account, category, symbol, order_id=order_id, client_order_id=link_id
        )
        if (
            current is not None
            and current.is_open
            and qty is not None
            and qty <= current.filled_qty
        ):
            # Bybit refuses such an amend (the desk would cancel the order).
            code, msg = _AMEND_TO_FILLED[category]
            return code, msg, {}
        amended = self.desk.amend(
            account,
            category,
            symbol,
            order_id=order_id,
            client_order_id=link_id,
            qty=qty,
            price=price,
            now_ms=now_ms,
        )
        if isinstance(amended, Refusal):
            return self._refused(amended, category, symbol)
        return 0, "OK", self.ids(amended)

    def cancel(self, account: str, params: Mapping[str, object], now_ms: int) -> OpResult:
        """``/v5/order/cancel``."""
        try:
            category, symbol, order_id, link_id = self._target(params)
        except _Bad as bad:
            return bad.result
        cancelled = self.desk.cancel(
            account, category, symbol, order_id=order_id, client_order_id=link_id, now_ms=now_ms
        )
        if isinstance(cancelled, Refusal):
            return self._refused(cancelled, category, symbol)
        return 0, "OK", self.ids(cancelled)

    def cancel_all(self, account: str, params: Mapping[str, object], now_ms: int) -> OpResult:
        """``/v5/order/cancel-all``: linear needs ``symbol``, ``baseCoin`` or ``settleCoin``."""
        try:
            category = self._category(params)
            symbol = self._symbol(params, category) if _text(params, "symbol") else None
        except _Bad as bad:
            return bad.result
        base = _text(params, "baseCoin")
        settle = _text(params, "settleCoin")
        if category == "linear" and symbol is None and base is None and settle is None:
            return 10001, "params error: symbol or settleCoin is required", {}
        cancelled = self.desk.cancel_all(account, category, symbol, now_ms=now_ms)
        kept = [
            o
            for o in cancelled
            if (base is None or self.venue.book(o.market, o.native_id).instrument.base == base)
            and (
                settle is None or self.venue.book(o.market, o.native_id).instrument.quote == settle
            )
        ]
        items = [self.ids(o) for o in kept]
        return 0, "OK", {"list": items, "success": "1"}


def refusal_code_for_symbol(category: str) -> tuple[int, str]:
    """Unknown or missing symbol."""
    return refusal_code(RefusalReason.UNKNOWN_INSTRUMENT, category)
