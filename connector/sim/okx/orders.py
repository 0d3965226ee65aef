"""OKX v5 order, fill and position wire shapes from the desk's values. Pure.

Shapes follow ``nautilus_trader/crates/adapters/okx/test_data`` (``http_get_orders_pending``,
``ws_orders``, ``http_get_positions``; keys in alphabetical order as OKX sends
them) and the OKX docs ``order-book-trading-trade-get-order-details``,
``-ws-order-channel``, ``-get-transaction-details-last-3-days`` and
``trading-account-rest-api-get-positions`` (checked 2026-12-03):

* ``state`` ``live``, ``partially_filled``, ``filled``, ``canceled`` (IOC, FOK,
  market remainders and post-only crossings end ``canceled`` with their
  ``cancelSource``: ``1`` user, ``13`` FOK, ``14`` IOC or market remainder,
  ``31`` post-only would take, ``32`` self-trade prevention (``stpMode``
  ``cancel_maker``: the account's resting order ends), ``0`` the system).
  An amend to ``newSz`` at or below ``accFillSz`` ends the order ``filled``
  ("POST / Amend order", ``newSz``, checked 2026-12-06), its ``sz`` then
  ``accFillSz`` (the docs do not say which ``sz`` it shows).
* Fees are **negative when charged** (``fee``, ``fillFee``); ``feeCcy`` is
  the asset received on spot and the settle asset on swap.
* Sizes are contracts on SWAP; a spot market buy sized in the quote asset
  (``tgtCcy`` ``quote_ccy``) keeps the ``sz`` it was sent with.
* Empty fields are ``""``; every number is a string.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from connector.model import Liquidity
from connector.sim.accounts import Position
from connector.sim.desk import CancelCause, OrderState, UserFill, UserOrder
from connector.sim.instruments import SimInstrument
from connector.sim.okx.wire import INST_TYPES, JsonDict, format_number

__all__ = [
    "OrderExtras",
    "cancel_source",
    "client_id",
    "fill_item",
    "okx_state",
    "order_item",
    "order_push",
    "position_item",
]

_CANCEL_SOURCE: dict[CancelCause, str] = {
    CancelCause.USER: "1",
    CancelCause.KILL: "1",
    CancelCause.IOC: "14",
    CancelCause.MARKET_REMAINDER: "14",
    CancelCause.FOK: "13",
    CancelCause.POST_ONLY: "31",
    CancelCause.REDUCE_ONLY: "0",
    CancelCause.SELF_TRADE: "32",
}

_STATE: dict[OrderState, str] = {
    OrderState.NEW: "live",
    OrderState.PARTIALLY_FILLED: "partially_filled",
    OrderState.FILLED: "filled",
    OrderState.CANCELED: "canceled",
    OrderState.EXPIRED: "canceled",
    OrderState.REJECTED: "canceled",
}


@attrs.frozen(kw_only=True)
class OrderExtras:
    """What an OKX order was sent with that the desk does not keep.

    Attributes:
        ord_type: ``market``, ``limit``, ``post_only``, ``fok``, ``ioc`` or ``optimal_limit_ioc``.
        td_mode: ``cash``, ``cross`` or ``isolated``.
        tgt_ccy: ``base_ccy``, ``quote_ccy`` or ``""``.
        sz: The ``sz`` as sent when it was not the desk's quantity (quote-sized market buy).
        tag: The order tag.
        req_id: The ``reqId`` of the last amend (``""`` without one).
    """

    ord_type: str
    td_mode: str
    tgt_ccy: str = ""
    sz: str = ""
    tag: str = ""
    req_id: str = ""


def client_id(order: UserOrder | UserFill) -> str:
    """``clOrdId`` as OKX shows it: ``""`` when the order was sent without one."""
    generated = order.client_order_id == f"sim-{order.order_id}"
    return "" if generated else order.client_order_id


def okx_state(order: UserOrder) -> str:
    """The OKX ``state`` of an order."""
    return _STATE[order.state]


def cancel_source(order: UserOrder) -> str:
    """``cancelSource`` (``""`` unless the order ended early)."""
    if order.cancel_cause is None or order.state is OrderState.FILLED:
        return ""
    return _CANCEL_SOURCE[order.cancel_cause]


def _fee_ccy(order: UserOrder, inst: SimInstrument) -> str:
    if order.fee_asset:
        return order.fee_asset
    if inst.market == "spot":
        return inst.base if order.side.value == "buy" else inst.quote
    return inst.quote


def _minus(value: Decimal) -> str:
    return format_number(-value) if value else "0"


def order_item(
    order: UserOrder, inst: SimInstrument, extras: OrderExtras, *, lever: int
) -> JsonDict:
    """One order as ``GET /api/v5/trade/order``, ``orders-pending`` and ``-history`` show it."""
    f = format_number
    swap = inst.market == "swap"
    filled = order.filled_qty > 0
    return {
        "accFillSz": f(order.filled_qty),
        "algoClOrdId": "",
        "algoId": "",
        "attachAlgoClOrdId": "",
        "attachAlgoOrds": [],
        "avgPx": f(order.avg_price) if filled else "",
        "cTime": str(order.created_ms),
        "cancelSource": cancel_source(order),
        "cancelSourceReason": "",
        "category": "normal",
        "ccy": "",
        "clOrdId": client_id(order),
        "fee": _minus(order.fee),
        "feeCcy": _fee_ccy(order, inst),
        "fillPx": "",
        "fillSz": "",
        "fillTime": "",
        "instId": order.native_id,
        "instType": INST_TYPES[inst.market],
        "isTpLimit": "false",
        "lever": str(lever) if swap else "",
        "linkedAlgoOrd": {"algoId": ""},
        "ordId": order.order_id,
        "ordType": extras.ord_type,
        "pnl": "0",
        "posSide": "net" if swap else "",
        "px": f(order.price) if order.price is not None else "",
        "pxType": "",
        "pxUsd": "",
        "pxVol": "",
        "quickMgnType": "",
        "rebate": "0",
        "rebateCcy": inst.quote,
        "reduceOnly": "true" if order.reduce_only else "false",
        "side": order.side.value,
        "slOrdPx": "",
        "slTriggerPx": "",
        "slTriggerPxType": "",
        "source": "",
        "state": okx_state(order),
        "stpId": "",
        "stpMode": "cancel_maker",
        "sz": extras.sz or f(order.qty),
        "tag": extras.tag,
        "tdMode": extras.td_mode,
        "tgtCcy": extras.tgt_ccy,
        "tpOrdPx": "",
        "tpTriggerPx": "",
        "tpTriggerPxType": "",
        "tradeId": "",
        "uTime": str(order.updated_ms),
    }


def order_push(
    order: UserOrder,
    fill: UserFill | None,
    inst: SimInstrument,
    extras: OrderExtras,
    *,
    lever: int,
    amended: bool = False,
) -> JsonDict:
    """One ``orders`` channel item: the order plus this update's fill and amend fields."""
    f = format_number
    item = order_item(order, inst, extras, lever=lever)
    item["amendResult"] = "0" if amended else ""
    item["amendSource"] = "1" if amended else ""
    item["code"] = "0"
    item["execType"] = ""
    item["fillFee"] = "0"
    item["fillFeeCcy"] = ""
    item["fillPnl"] = "0"
    item["msg"] = ""
    item["reqId"] = extras.req_id if amended else ""
    if fill is not None:
        item["execType"] = "M" if fill.liquidity is Liquidity.MAKER else "T"
        item["fillFee"] = _minus(fill.fee)
        item["fillFeeCcy"] = fill.fee_asset
        item["fillPnl"] = f(fill.realized_pnl)
        item["fillPx"] = f(fill.price)
        item["fillSz"] = f(fill.qty)
        item["fillTime"] = str(fill.ts_ms)
        item["tradeId"] = fill.trade_id
    return dict(sorted(item.items()))


def fill_item(fill: UserFill, inst: SimInstrument, bill_id: int) -> JsonDict:
    """One ``GET /api/v5/trade/fills`` / ``fills-history`` entry (``bill_id``: its ``billId``)."""
    f = format_number
    return {
        "instType": INST_TYPES[inst.market],
        "instId": fill.native_id,
        "tradeId": fill.trade_id,
        "ordId": fill.order_id,
        "clOrdId": client_id(fill),
        "billId": str(bill_id),
        "subType": "1" if fill.side.value == "buy" else "2",
        "tag": "",
        "fillPx": f(fill.price),
        "fillSz": f(fill.qty),
        "fillIdxPx": "",
        "fillPnl": f(fill.realized_pnl),
        "fillPxVol": "",
        "fillPxUsd": "",
        "fillMarkVol": "",
        "fillFwdPx": "",
        "fillMarkPx": "",
        "side": fill.side.value,
        "posSide": "net" if inst.market == "swap" else "",
        "execType": "M" if fill.liquidity is Liquidity.MAKER else "T",
        "feeCcy": fill.fee_asset,
        "fee": _minus(fill.fee),
        "ts": str(fill.ts_ms),
        "fillTime": str(fill.ts_ms),
        "feeRate": "",
    }


def position_item(
    position: Position,
    inst: SimInstrument,
    *,
    mark: Decimal,
    lever: int,
    now_ms: int,
    pos_id: str,
) -> JsonDict:
    """One ``GET /api/v5/account/positions`` entry (net mode: ``pos`` signed, in contracts)."""
    f = format_number
    contracts = position.size / inst.contract_size
    upl = position.size * (mark - position.entry_price)
    notional = abs(position.size) * mark
    return {
        "adl": "1",
        "availPos": "",
        "avgPx": f(position.entry_price) if position.size else "",
        "baseBal": "",
        "bePx": "",
        "cTime": str(now_ms),
        "ccy": position.settle,
        "fee": _minus(position.fees),
        "fundingFee": "0",
        "idxPx": f(mark),
        "imr": f(position.margin),
        "instId": inst.native_id,
        "instType": INST_TYPES[inst.market],
        "interest": "",
        "last": f(mark),
        "lever": str(lever),
        "liqPenalty": "0",
        "liqPx": "",
        "margin": "",
        "markPx": f(mark),
        "mgnMode": "cross",
        "mgnRatio": "",
        "mmr": f(notional * Decimal("0.004")),
        "notionalUsd": f(notional),
        "optVal": "",
        "pTime": str(now_ms),
        "pendingCloseOrdLiabVal": "",
        "pnl": f(position.realised_pnl + position.fees),
        "pos": f(contracts),
        "posCcy": "",
        "posId": pos_id,
        "posSide": "net",
        "quoteBal": "",
        "quoteBorrowed": "",
        "quoteInterest": "",
        "realizedPnl": f(position.realised_pnl),
        "spotInUseAmt": "",
        "spotInUseCcy": "",
        "tradeId": "",
        "uTime": str(now_ms),
        "upl": f(upl),
        "uplLastPx": f(upl),
        "uplRatio": f((upl / position.margin).quantize(Decimal("1e-12")))
        if position.margin
        else "0",
        "uplRatioLastPx": "",
        "usdPx": "",
    }
