"""OKX order operations (place, cancel, amend, batches, mass cancel) over the desk.

Shared by REST (``/api/v5/trade/...``) and the private websocket ops: each
takes the request's argument objects and gives the per-order result items
(``ordId``, ``clOrdId``, ``tag``, ``ts``, ``sCode``, ``sMsg``) and the
envelope ``code``/``msg`` (``0`` all succeeded, ``1`` all failed, ``2`` some).

Parameters (OKX docs ``post-place-order``, ``post-amend-order``,
``post-cancel-order``, checked 2026-12-03; venues-trading.md 2.2, 2.3, 9):

* ``tdMode`` on SPOT by the account mode (:mod:`connector.sim.okx.modes`):
  ``cash`` in Spot and Futures mode, ``cross`` in Multi-currency and Portfolio
  margin (``cash`` there: 51000 ``Parameter tdMode error``, as ccxt/ccxt#14922
  logged it); ``cross``/``isolated`` on SWAP (margin is cross either way).
  ``posSide`` ``net`` or absent in net mode; in long/short mode a SWAP order
  without ``long``/``short`` gets 51000 (the docs), and one with it too (long/short
  positions are not simulated).
* ``ordType`` ``market``, ``limit``, ``post_only`` (accepted, then canceled
  with ``cancelSource`` 31 if it would take), ``fok``, ``ioc``,
  ``optimal_limit_ioc`` (SWAP: a market IOC).
* ``sz`` in contracts on SWAP; a SPOT market buy is sized in the quote asset
  unless ``tgtCcy`` is ``base_ccy`` (a sell in base unless ``quote_ccy``: "sell
  BTC until you receive 100 USDT"). A SPOT market order the free balance cannot
  cover is shrunk to what it covers (``banAmend`` absent or false, OKX's default)
  or refused with 51008 (``banAmend`` true): :mod:`connector.sim.okx.funds`.
* ``clOrdId`` 1-32 alphanumerics, unique among the account's pending orders
  (51016); ``tag`` up to 16 alphanumerics.
* Amend: ``newSz`` is the new TOTAL size, ``newPx``, ``reqId``; at least one
  of them and ``ordId`` or ``clOrdId`` (51003).
* 60 requests per 2 s per instrument per operation, 300 orders per 2 s per
  batch operation (:mod:`connector.sim.okx.limits`): ``50011``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Literal

import attrs

from connector.model import BookLevel, OrderType, Side, TimeInForce
from connector.sim.desk import Desk, Refusal, RefusalReason, UserOrder
from connector.sim.desk_checks import base_for_quote, sweep_price
from connector.sim.engine import MatchingEngine
from connector.sim.instruments import SimInstrument
from connector.sim.okx.codes import BATCH_CODES, Op, refusal_code
from connector.sim.okx.funds import affordable_buy, lots, sweep_value
from connector.sim.okx.limits import OrderLimits
from connector.sim.okx.modes import AccountModes
from connector.sim.okx.orders import OrderExtras, client_id
from connector.sim.okx.wire import JsonDict, format_number

__all__ = ["BadRequest", "OkxOrders", "Outcome"]

_ORD_TYPES: dict[str, tuple[OrderType, TimeInForce]] = {
    "market": (OrderType.MARKET, TimeInForce.IOC),
    "optimal_limit_ioc": (OrderType.MARKET, TimeInForce.IOC),
    "limit": (OrderType.LIMIT, TimeInForce.GTC),
    "post_only": (OrderType.LIMIT, TimeInForce.POST_ONLY),
    "fok": (OrderType.LIMIT, TimeInForce.FOK),
    "ioc": (OrderType.LIMIT, TimeInForce.IOC),
}
_MAX_BATCH = 20
RATE_LIMITED = (
    "50011",
    "Rate limit reached. Please refer to API documentation and throttle requests accordingly.",
)


class BadRequest(Exception):
    """A request the venue refuses as a whole (``code``, ``msg``, HTTP status)."""

    def __init__(self, code: str, msg: str, status: int = 400) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.status = status


class _ItemError(Exception):
    def __init__(self, code: str, msg: str) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg


def _param(name: str) -> _ItemError:
    return _ItemError("51000", f"Parameter {name} error")


@attrs.frozen(kw_only=True)
class Outcome:
    """The answer to one order request: envelope code and message, per-order items."""

    code: str
    msg: str
    data: list[JsonDict]


def _alnum(text: str, most: int) -> bool:
    return 0 < len(text) <= most and text.isascii() and text.isalnum()


def _decimal(raw: object, name: str) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        raise _param(name)
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise _param(name) from None
    if not value.is_finite() or value <= 0:
        raise _param(name)
    return value


def _text(args: Mapping[str, object], name: str) -> str:
    raw = args.get(name)
    if raw is None:
        return ""
    if isinstance(raw, bool) or not isinstance(raw, (str, int)):
        raise _param(name)
    return str(raw)


def _flag(args: Mapping[str, object], name: str) -> bool:
    raw = args.get(name, False)
    if isinstance(raw, bool):
        return raw
    if raw in ("true", "false"):
        return raw == "true"
    if raw in ("", None):
        return False
    raise _param(name)


class OkxOrders:
    """Order operations of the OKX front-end.

    Args:
        desk: The venue's trading desk.
        instruments: Instruments by ``instId``.
        limits: The order rate limits (shared with the websocket).
        leverage: ``leverage(account, inst_id)`` for order items.
        engine_of: The matching engine of an instrument (the book a spot market
            order is fitted to when the balance cannot cover it).
        modes: Each account's account mode and position mode.
    """

    def __init__(
        self,
        desk: Desk,
        instruments: Mapping[str, SimInstrument],
        limits: OrderLimits,
        leverage: Callable[[str, str], int],
        engine_of: Callable[[SimInstrument], MatchingEngine],
        modes: AccountModes,
    ) -> None:
        self.desk = desk
        self.instruments = instruments
        self.limits = limits
        self.leverage = leverage
        self.engine_of = engine_of
        self.modes = modes
        self.extras: dict[str, OrderExtras] = {}
        #: What the order being placed was sent with (its events come before its id is known).
        self.placing: OrderExtras | None = None
        #: The order being amended (its events carry ``amendResult`` and ``reqId``).
        self.amending: str | None = None

    def extras_of(self, order: UserOrder) -> OrderExtras:
        """What the order was sent with (``limit``/``cash`` for orders placed elsewhere)."""
        found = self.extras.get(order.order_id)
        if found is not None:
            return found
        if self.placing is not None:
            return self.placing
        ord_type = "market" if order.type is OrderType.MARKET else "limit"
        return OrderExtras(ord_type=ord_type, td_mode="cash" if order.market == "spot" else "cross")

    # ------------------------------------------------------------ requests

    def run(
        self,
        op: Op,
        account: str,
        items: Sequence[object],
        now_ms: int,
        *,
        batch: bool,
        inst_of: Callable[[Mapping[str, object]], str] | None = None,
        exp_time: str = "",
    ) -> Outcome:
        """One order request: ``items`` (one for a single request), each an argument object.

        ``exp_time``: the request's ``expTime`` (ms): a place or amend request
        arriving after it is not processed (``50036``).

        Raises:
            BadRequest: The request as a whole is refused (empty, too many,
                expired, rate limit).
        """
        if exp_time and op != "cancel":
            if not exp_time.isdigit():
                raise BadRequest("51000", "Parameter expTime error")
            if int(exp_time) < now_ms:
                raise BadRequest(
                    "50036",
                    "The expTime can't be earlier than the current system time. Please adjust"
                    " the expTime and try again.",
                    status=200,
                )
        if not items:
            raise BadRequest("50014", "Parameter data can not be empty.")
        if batch and len(items) > _MAX_BATCH:
            raise BadRequest("51000", "Parameter data error")
        if not all(isinstance(item, dict) for item in items):
            raise BadRequest("50002", "JSON syntax error")
        args = [dict(item) for item in items if isinstance(item, dict)]
        resolve = inst_of if inst_of is not None else (lambda a: _text(a, "instId"))
        inst_ids: list[str] = []
        for a in args:
            try:
                inst_ids.append(resolve(a))
            except _ItemError:
                inst_ids.append("")
        if not self.limits.allow(account, op, inst_ids, now_ms):
            raise BadRequest(*RATE_LIMITED, status=429)
        data: list[JsonDict] = []
        for a, inst_id in zip(args, inst_ids, strict=True):
            data.append(self._one(op, account, a, inst_id, now_ms))
        failed = sum(1 for d in data if d["sCode"] != "0")
        kind = "none" if not failed else "all" if failed == len(data) else "some"
        code, msg = BATCH_CODES[kind]
        return Outcome(code=code, msg=msg, data=data)

    def _one(
        self, op: Op, account: str, args: dict[str, object], inst_id: str, now_ms: int
    ) -> JsonDict:
        ids = {
            "ordId": _safe_text(args, "ordId"),
            "clOrdId": _safe_text(args, "clOrdId"),
        }
        try:
            inst = self.instruments.get(inst_id)
            if not inst_id:
                raise _ItemError("50014", "Parameter instId can not be empty.")
            if inst is None:
                raise _ItemError(
                    "51001", "Instrument ID, Instrument ID code, or Spread ID doesn't exist."
                )
            if op == "place":
                result = self._place(account, args, inst, now_ms)
            elif op == "cancel":
                result = self._cancel(account, args, inst, now_ms)
            else:
                result = self._amend(account, args, inst, now_ms)
        except _ItemError as err:
            return self._item(op, ids, args, now_ms, err.code, err.msg)
        if isinstance(result, Refusal):
            code, msg = self._refusal(op, account, result, args, inst)
            return self._item(op, ids, args, now_ms, code, msg)
        ids = {"ordId": result.order_id, "clOrdId": client_id(result)}
        return self._item(op, ids, args, now_ms, "0", self._success(op))

    @staticmethod
    def _success(op: Op) -> str:
        return {"place": "Order placed", "cancel": "", "amend": ""}[op]

    @staticmethod
    def _item(
        op: Op, ids: dict[str, str], args: Mapping[str, object], now_ms: int, code: str, msg: str
    ) -> JsonDict:
        item: JsonDict = {"clOrdId": ids["clOrdId"], "ordId": ids["ordId"]}
        if op == "place":
            item["tag"] = _safe_text(args, "tag")
        if op == "amend":
            item["reqId"] = _safe_text(args, "reqId")
        item["ts"] = str(now_ms)
        item["sCode"] = code
        item["sMsg"] = msg
        if op == "place":
            item["subCode"] = ""
        return item

    def _refusal(
        self,
        op: Op,
        account: str,
        refusal: Refusal,
        args: Mapping[str, object],
        inst: SimInstrument,
    ) -> tuple[str, str]:
        side = _safe_text(args, "side")
        spot = inst.market == "spot"
        ccy = inst.quote if (side == "buy" or not spot) else inst.base
        against: Literal["none", "same", "opposite"] = "none"
        if refusal.reason is RefusalReason.REDUCE_ONLY_WOULD_INCREASE:
            position = self.desk.position(account, inst.native_id)
            size = Decimal(0) if position is None else position.size
            if size:
                against = "same" if (size > 0) == (side == "buy") else "opposite"
        return refusal_code(op, refusal, ccy=ccy, position=against)

    # ------------------------------------------------------------ operations

    def _place(
        self, account: str, args: Mapping[str, object], inst: SimInstrument, now_ms: int
    ) -> UserOrder | Refusal:
        spot = inst.market == "spot"
        for name in ("tdMode", "side", "ordType", "sz"):
            if not _text(args, name):
                raise _ItemError("50014", f"Parameter {name} can not be empty.")
        td_mode = _text(args, "tdMode")
        mode = self.modes.of(account)
        if not spot and mode.acct_lv == "1":
            # Spot mode trades spot only (the tdMode table lists no derivatives for it).
            raise _ItemError("51010", "Operation is not supported under the current account mode.")
        if td_mode not in (mode.spot_td_modes if spot else ("cross", "isolated")):
            raise _param("tdMode")
        side_text = _text(args, "side")
        if side_text not in ("buy", "sell"):
            raise _param("side")
        side = Side(side_text)
        ord_type = _text(args, "ordType")
        if ord_type not in _ORD_TYPES or (ord_type == "optimal_limit_ioc" and spot):
            raise _param("ordType")
        type_, tif = _ORD_TYPES[ord_type]
        sz = _decimal(args.get("sz"), "sz")
        if type_ is not OrderType.MARKET and not _text(args, "px"):
            raise _ItemError("50014", "Parameter px can not be empty.")
        price = None if type_ is OrderType.MARKET else _decimal(args.get("px"), "px")
        cl_ord_id = _text(args, "clOrdId")
        if cl_ord_id and not _alnum(cl_ord_id, 32):
            raise _param("clOrdId")
        tag = _text(args, "tag")
        if tag and not _alnum(tag, 16):
            raise _param("tag")
        pos_side = _text(args, "posSide")
        if pos_side not in ("", "net") or (not spot and mode.pos_mode != "net_mode"):
            # long/short mode needs long or short on SWAP (51000 without); its
            # positions are not simulated, so those are refused too
            raise _param("posSide")
        if _text(args, "stpMode") not in ("", "cancel_maker"):
            raise _param("stpMode")  # only OKX's default mode is simulated
        reduce_only = _flag(args, "reduceOnly")
        if reduce_only and spot:
            raise _ItemError(
                "51139",
                "Reduce-only feature is unavailable for the spot transactions by spot mode.",
            )
        tgt_ccy = _text(args, "tgtCcy")
        if tgt_ccy not in ("", "base_ccy", "quote_ccy") or (tgt_ccy and not spot):
            raise _param("tgtCcy")
        ban_amend = _flag(args, "banAmend")
        quote_sized = (
            spot
            and type_ is OrderType.MARKET
            and (tgt_ccy == "quote_ccy" or (not tgt_ccy and side is Side.BUY))
        )
        shown_sz = _text(args, "sz") if quote_sized else ""
        if quote_sized and side is Side.BUY:
            # The balance is checked against sz itself, whatever the book could fill.
            free = self.desk.balance(account, inst.quote).free
            if sz > free:
                if ban_amend:
                    detail = f"{sz} {inst.quote} asked, {free} free"
                    return Refusal(reason=RefusalReason.INSUFFICIENT_BALANCE, detail=detail)
                sz = free
                shown_sz = format_number(free)
        qty, quote_qty = (Decimal(0), sz) if quote_sized else (sz, None)
        if spot and type_ is OrderType.MARKET and not ban_amend:
            fitted = self._fit_to_balance(account, inst, side, qty, quote_qty)
            if fitted is not None:
                qty, quote_qty = fitted, None
                if quote_sized:
                    shown_sz = format_number(sweep_value(self._levels(inst, side), fitted))
        extras = OrderExtras(
            ord_type=ord_type,
            td_mode=td_mode,
            tgt_ccy=(
                ("quote_ccy" if quote_sized else "base_ccy")
                if spot and type_ is OrderType.MARKET
                else tgt_ccy
            ),
            sz=shown_sz,
            tag=tag,
        )
        self.placing = extras
        try:
            placed = self._desk_place(
                account,
                inst,
                side,
                type_,
                tif,
                qty,
                price,
                cl_ord_id,
                reduce_only,
                quote_qty,
                now_ms,
            )
        finally:
            self.placing = None
        if not isinstance(placed, Refusal):
            self.extras[placed.order_id] = extras
        return placed

    def _desk_place(
        self,
        account: str,
        inst: SimInstrument,
        side: Side,
        type_: OrderType,
        tif: TimeInForce,
        qty: Decimal,
        price: Decimal | None,
        cl_ord_id: str,
        reduce_only: bool,
        quote_qty: Decimal | None,
        now_ms: int,
    ) -> UserOrder | Refusal:
        return self.desk.place(
            account,
            inst.market,
            inst.native_id,
            side=side,
            type=type_,
            qty=qty,
            price=price,
            time_in_force=tif,
            client_order_id=cl_ord_id or None,
            reduce_only=reduce_only,
            post_only_cross="cancel",
            reduce_only_excess="reject",
            self_trade="expire_maker",
            quote_qty=quote_qty,
            now_ms=now_ms,
        )

    def _levels(self, inst: SimInstrument, side: Side) -> tuple[BookLevel, ...]:
        bids, asks = self.engine_of(inst).depth(None)
        return asks if side is Side.BUY else bids

    def _fit_to_balance(
        self,
        account: str,
        inst: SimInstrument,
        side: Side,
        qty: Decimal,
        quote_qty: Decimal | None,
    ) -> Decimal | None:
        """The base quantity a SPOT market order (``qty`` base, or ``quote_qty`` of the
        quote asset) shrinks to when the free balance cannot cover it (OKX's default
        ``banAmend=false``); ``None`` when it fits, or when not even one lot does (the
        desk then refuses it, 51008)."""
        engine = self.engine_of(inst)
        if quote_qty is not None:
            converted = base_for_quote(engine, inst, side, quote_qty)
            if isinstance(converted, Refusal):
                return None  # the desk refuses it for the same reason
            qty = converted
        if side is Side.SELL:
            free = self.desk.balance(account, inst.base).free
            fitted = lots(free, inst.lot_step) if qty > free else None
        else:
            free = self.desk.balance(account, inst.quote).free
            worst = sweep_price(engine, side, qty)
            if worst is None or qty * worst <= free:
                return None
            fitted = affordable_buy(self._levels(inst, side), free, inst.lot_step, qty)
        return fitted if fitted else None

    def _ids(self, args: Mapping[str, object]) -> tuple[str | None, str | None]:
        ord_id = _text(args, "ordId")
        cl_ord_id = _text(args, "clOrdId")
        if not ord_id and not cl_ord_id:
            raise _ItemError("51003", "Either client order ID or order ID is required.")
        return ord_id or None, (None if ord_id else cl_ord_id or None)

    def _cancel(
        self, account: str, args: Mapping[str, object], inst: SimInstrument, now_ms: int
    ) -> UserOrder | Refusal:
        ord_id, cl_ord_id = self._ids(args)
        return self.desk.cancel(
            account,
            inst.market,
            inst.native_id,
            order_id=ord_id,
            client_order_id=cl_ord_id,
            now_ms=now_ms,
        )

    def _amend(
        self, account: str, args: Mapping[str, object], inst: SimInstrument, now_ms: int
    ) -> UserOrder | Refusal:
        ord_id, cl_ord_id = self._ids(args)
        new_sz = _text(args, "newSz")
        new_px = _text(args, "newPx")
        if not new_sz and not new_px:
            raise _ItemError("50015", "Either parameter newSz or newPx is required")
        req_id = _text(args, "reqId")
        if req_id and not (len(req_id) <= 32 and req_id.isascii()):
            raise _param("reqId")
        qty = _decimal(new_sz, "newSz") if new_sz else None
        price = _decimal(new_px, "newPx") if new_px else None
        found = self.desk.order(
            account, inst.market, inst.native_id, order_id=ord_id, client_order_id=cl_ord_id
        )
        before = None
        if found is not None:
            before = self.extras_of(found)
            changed = attrs.evolve(before, req_id=req_id, sz="" if qty is not None else before.sz)
            self.extras[found.order_id] = changed
            self.amending = found.order_id
        try:
            amended = self.desk.amend(
                account,
                inst.market,
                inst.native_id,
                order_id=ord_id,
                client_order_id=cl_ord_id,
                qty=qty,
                price=price,
                to_filled="fill",
                now_ms=now_ms,
            )
        finally:
            self.amending = None
        if isinstance(amended, Refusal) and found is not None and before is not None:
            self.extras[found.order_id] = before
        return amended

    @staticmethod
    def mass_cancel(args: Mapping[str, object]) -> BadRequest:
        """The answer to ``mass-cancel``: OKX's "Mass cancel order" cancels the MMP
        orders of an option family, "Only applicable to Option in Portfolio Margin
        mode, and MMP privilege is required" (``instType`` ``OPTION``, ``instFamily``
        required). The simulator lists no options and grants no MMP: every request is
        refused, with ``50014`` for a missing ``instType`` or ``instFamily``, ``51000``
        ``Parameter instType error`` for anything but ``OPTION`` (the docs name no
        code for it: the generic parameter error, HTTP 400), ``51411`` "Account does
        not have permission for mass cancellation." for ``OPTION``.
        """
        inst_type = _safe_text(args, "instType")
        if not inst_type:
            return BadRequest("50014", "Parameter instType can not be empty.")
        if inst_type != "OPTION":
            return BadRequest("51000", "Parameter instType error")
        if not _safe_text(args, "instFamily"):
            return BadRequest("50014", "Parameter instFamily can not be empty.")
        return BadRequest(
            "51411", "Account does not have permission for mass cancellation.", status=200
        )


def _safe_text(args: Mapping[str, object], name: str) -> str:
    raw = args.get(name)
    return str(raw) if isinstance(raw, (str, int)) and not isinstance(raw, bool) else ""
