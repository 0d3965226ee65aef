"""Binance USDⓈ-M trading wire shapes: orders, fills, balances, positions, user-data events.

Field names, order and types follow the USDⓈ-M docs (trade/rest-api New-Order,
Query-Order, Account-Trade-List; account/rest-api Futures-Account-Balance-V3,
Account-Information-V3, Position-Information-V3; user-data-streams
Event-Order-Update, Event-Trade-Lite, Event-Balance-and-Position-Update,
Event-User-Data-Stream-Expired; checked 2026-12-03) and the captured shapes in
``../shared/fixtures/nautilus_trader/crates/adapters/binance/test_data/futures``:
numbers as strings, ids and times as integers, except ``listenKeyExpired``
whose ``E`` is a string.

Status: the desk's CANCELED with an IOC, FOK or market-remainder cause is
``EXPIRED`` on USDⓈ-M (the venue expires what a taker order could not fill);
a user cancel or cancel-all is ``CANCELED``.
"""

from __future__ import annotations

from decimal import Decimal

from connector.model import OrderType, Side, TimeInForce
from connector.sim.accounts import Balance, Position, unrealised_pnl
from connector.sim.binance.wire import Listing, places
from connector.sim.desk import CancelCause, OrderState, UserFill, UserOrder

__all__ = [
    "account_update",
    "balance_obj",
    "order_obj",
    "order_trade_update",
    "position_obj",
    "status_of",
    "trade_lite",
    "user_trade_obj",
]

_EXPIRING = frozenset({CancelCause.IOC, CancelCause.FOK, CancelCause.MARKET_REMAINDER})
_TIF = {
    TimeInForce.GTC: "GTC",
    TimeInForce.IOC: "IOC",
    TimeInForce.FOK: "FOK",
    TimeInForce.POST_ONLY: "GTX",
}
ALIAS = "SgsR"
#: ``er`` of ORDER_TRADE_UPDATE (Event-Order-Update: 2 IOC remainder, 9 market remainder).
_EXPIRY_REASON = {CancelCause.IOC: "2", CancelCause.MARKET_REMAINDER: "9"}


def status_of(order: UserOrder) -> str:
    """The USDⓈ-M ``status`` / ``X`` of an order."""
    if order.state is OrderState.CANCELED and order.cancel_cause in _EXPIRING:
        return "EXPIRED"
    return str(order.state.value).upper()


def _side(side: Side) -> str:
    return "BUY" if side is Side.BUY else "SELL"


def _type(order: UserOrder) -> str:
    return "LIMIT" if order.type is OrderType.LIMIT else "MARKET"


def _num(value: Decimal) -> str:
    """A plain decimal string (no exponent)."""
    return format(value.normalize(), "f") if value else "0"


def quote_text(sym: Listing, value: Decimal) -> str:
    """A quote amount with the price's and quantity's decimals together."""
    inst = sym.book.instrument
    return format(value, f".{places(inst.tick_size) + places(inst.lot_step)}f")


def order_obj(sym: Listing, order: UserOrder, *, query: bool = False) -> dict[str, object]:
    """An order as ``POST``/``DELETE``/``PUT /fapi/v1/order`` answer it (``query``: as
    ``GET /fapi/v1/order``, ``openOrders`` and ``allOrders`` list it)."""
    f = sym.fmt
    out: dict[str, object] = {
        "orderId": int(order.order_id),
        "symbol": order.native_id,
        "status": status_of(order),
        "clientOrderId": order.client_order_id,
        "price": f.price(order.price) if order.price is not None else "0",
        "avgPrice": f.price(order.avg_price) if order.filled_qty else "0.00",
        "origQty": f.qty(order.qty),
        "executedQty": f.qty(order.filled_qty),
    }
    if not query:
        out["cumQty"] = f.qty(order.filled_qty)
    out.update(
        {
            "cumQuote": quote_text(sym, order.cum_quote),
            "timeInForce": _TIF[order.time_in_force],
            "type": _type(order),
            "reduceOnly": order.reduce_only,
            "closePosition": False,
            "side": _side(order.side),
            "positionSide": "BOTH",
            "stopPrice": "0",
            "workingType": "CONTRACT_PRICE",
            "priceProtect": False,
            "origType": _type(order),
            "priceMatch": "NONE",
            "selfTradePreventionMode": "EXPIRE_MAKER",
            "goodTillDate": 0,
        }
    )
    if query:
        out["time"] = order.created_ms
    out["updateTime"] = order.updated_ms
    return out


def user_trade_obj(sym: Listing, fill: UserFill) -> dict[str, object]:
    """One ``GET /fapi/v1/userTrades`` entry."""
    f = sym.fmt
    buyer = fill.side is Side.BUY
    return {
        "buyer": buyer,
        "commission": _num(fill.fee),
        "commissionAsset": fill.fee_asset,
        "id": int(fill.trade_id),
        "maker": fill.liquidity == "maker",
        "orderId": int(fill.order_id),
        "price": f.price(fill.price),
        "qty": f.qty(fill.qty),
        "quoteQty": quote_text(sym, fill.quote_qty),
        "realizedPnl": _num(fill.realized_pnl),
        "side": _side(fill.side),
        "positionSide": "BOTH",
        "symbol": fill.native_id,
        "time": fill.ts_ms,
    }


def _exec_type(order: UserOrder, fill: UserFill | None) -> str:
    if fill is not None:
        return "TRADE"
    status = status_of(order)
    if status in ("CANCELED", "EXPIRED"):
        return status
    if order.revision > 1 and order.state in (OrderState.NEW, OrderState.PARTIALLY_FILLED):
        return "AMENDMENT"
    return "NEW"


def order_trade_update(
    sym: Listing, order: UserOrder, fill: UserFill | None, ts_ms: int
) -> dict[str, object]:
    """``ORDER_TRADE_UPDATE`` for one change of an order."""
    f = sym.fmt
    o: dict[str, object] = {
        "s": order.native_id,
        "c": order.client_order_id,
        "S": _side(order.side),
        "o": _type(order),
        "f": _TIF[order.time_in_force],
        "q": f.qty(order.qty),
        "p": f.price(order.price) if order.price is not None else "0",
        "ap": f.price(order.avg_price) if order.filled_qty else "0",
        "sp": "0",
        "x": _exec_type(order, fill),
        "X": status_of(order),
        "i": int(order.order_id),
        "l": f.qty(fill.qty) if fill else "0",
        "z": f.qty(order.filled_qty),
        "L": f.price(fill.price) if fill else "0",
    }
    if fill is not None:
        o["N"] = fill.fee_asset
        o["n"] = _num(fill.fee)
    o.update(
        {
            "T": fill.ts_ms if fill else order.updated_ms,
            "t": int(fill.trade_id) if fill else 0,
            "b": "0",
            "a": "0",
            "m": fill is not None and fill.liquidity == "maker",
            "R": order.reduce_only,
            "wt": "CONTRACT_PRICE",
            "ot": _type(order),
            "ps": "BOTH",
            "cp": False,
            "rp": _num(fill.realized_pnl) if fill else "0",
            "pP": False,
            "si": 0,
            "ss": 0,
            "V": "EXPIRE_MAKER",
            "pm": "NONE",
            "gtd": 0,
            "er": _EXPIRY_REASON.get(order.cancel_cause, "0") if order.cancel_cause else "0",
        }
    )
    return {"e": "ORDER_TRADE_UPDATE", "T": o["T"], "E": ts_ms, "o": o}


def trade_lite(sym: Listing, order: UserOrder, fill: UserFill, ts_ms: int) -> dict[str, object]:
    """``TRADE_LITE`` for one fill (no fee, no cumulative quantity, no status)."""
    f = sym.fmt
    return {
        "e": "TRADE_LITE",
        "E": ts_ms,
        "T": fill.ts_ms,
        "s": order.native_id,
        "q": f.qty(order.qty),
        "p": f.price(order.price) if order.price is not None else "0",
        "m": fill.liquidity == "maker",
        "c": order.client_order_id,
        "S": _side(order.side),
        "L": f.price(fill.price),
        "l": f.qty(fill.qty),
        "t": int(fill.trade_id),
        "i": int(order.order_id),
    }


def position_entry(pos: Position, mark: Decimal) -> dict[str, object]:
    """One ``a.P`` entry of ``ACCOUNT_UPDATE``."""
    return {
        "s": pos.symbol,
        "pa": _num(pos.size),
        "ep": _num(pos.entry_price),
        "bep": _num(pos.entry_price),
        "cr": _num(pos.realised_pnl + pos.fees),  # pre-fee accumulated realised
        "up": _num(unrealised_pnl(pos, mark)),
        "mt": "cross",
        "iw": "0",
        "ps": "BOTH",
    }


def account_update(
    balances: tuple[Balance, ...],
    positions: list[tuple[Position, Decimal]],
    ts_ms: int,
    reason: str = "ORDER",
) -> dict[str, object]:
    """``ACCOUNT_UPDATE``: the changed balances and positions (with their marks)."""
    return {
        "e": "ACCOUNT_UPDATE",
        "T": ts_ms,
        "E": ts_ms,
        "a": {
            "m": reason,
            "B": [
                {"a": b.asset, "wb": _num(b.total), "cw": _num(b.total), "bc": "0"}
                for b in balances
            ],
            "P": [position_entry(p, mark) for p, mark in positions],
        },
    }


def balance_obj(b: Balance, unpnl: Decimal, available: Decimal, ts_ms: int) -> dict[str, object]:
    """One ``GET /fapi/v3/balance`` (and v2) entry."""
    return {
        "accountAlias": ALIAS,
        "asset": b.asset,
        "balance": _num(b.total),
        "crossWalletBalance": _num(b.total),
        "crossUnPnl": _num(unpnl),
        "availableBalance": _num(available),
        "maxWithdrawAmount": _num(max(available, Decimal(0))),
        "marginAvailable": True,
        "updateTime": ts_ms,
    }


def position_obj(
    sym: Listing, pos: Position, mark: Decimal, leverage: int, ts_ms: int
) -> dict[str, object]:
    """One ``GET /fapi/v3/positionRisk`` entry (v2 adds ``leverage`` and friends)."""
    f = sym.fmt
    notional = pos.size * mark
    return {
        "symbol": pos.symbol,
        "positionSide": "BOTH",
        "positionAmt": f.qty(pos.size),
        "entryPrice": _num(pos.entry_price),
        "breakEvenPrice": _num(pos.entry_price),
        "markPrice": _num(mark),
        "unRealizedProfit": _num(unrealised_pnl(pos, mark)),
        "liquidationPrice": "0",
        "isolatedMargin": "0",
        "notional": _num(notional),
        "marginAsset": pos.settle,
        "isolatedWallet": "0",
        "initialMargin": _num(abs(notional) / leverage),
        "maintMargin": _num(abs(notional) * Decimal("0.004")),  # the first bracket's rate
        "positionInitialMargin": _num(abs(notional) / leverage),
        "openOrderInitialMargin": "0",
        "adl": 0,
        "bidNotional": "0",
        "askNotional": "0",
        "updateTime": ts_ms,
    }
