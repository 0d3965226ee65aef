"""Bybit v5 private wire shapes: orders, executions, positions, wallet. Pure.

Key orders follow real pushes where public ones exist
(``gocryptotrader/exchanges/bybit/testdata/wsAuth.json``: a 2024 linear
``order`` push, ``position``, ``execution``, ``wallet``) and the REST shapes of
the Bybit v5 docs (``order/open-order``, ``order/execution``,
``position/position``, ``account/wallet-balance``; the same shapes as
``nautilus_trader/.../bybit/test_data/http_get_*.json``). Checked 2026-12-03.
Numbers are strings (``seq`` and ``positionIdx`` are numbers, as on the wire).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from decimal import Decimal

from connector.model import Liquidity, OrderType, Side, TimeInForce
from connector.sim.accounts import Balance, Position
from connector.sim.bybit.codes import cancel_type, order_status, reject_reason
from connector.sim.bybit.wire import JsonDict, format_trim, price_format, qty_format
from connector.sim.desk import UserFill, UserOrder
from connector.sim.instruments import SimInstrument

__all__ = [
    "TIF_NAMES",
    "exec_id",
    "execution_item",
    "fast_execution_item",
    "order_item",
    "position_item",
    "side_name",
    "wallet_account",
]

_ZERO = Decimal(0)

TIF_NAMES: dict[TimeInForce, str] = {
    TimeInForce.GTC: "GTC",
    TimeInForce.IOC: "IOC",
    TimeInForce.FOK: "FOK",
    TimeInForce.POST_ONLY: "PostOnly",
}


def exec_id(market: str, trade_id: str) -> str:
    """The ``execId`` of a fill: the id the public trade stream shows for the same trade."""
    if market == "spot":
        return str(2_290_000_000_000_000_000 + int(trade_id))
    return str(uuid.UUID(int=int(trade_id)))


def side_name(side: Side) -> str:
    """``Buy`` or ``Sell``."""
    return "Buy" if side is Side.BUY else "Sell"


def _money(value: Decimal) -> str:
    return format_trim(value.quantize(Decimal("0.00000001")) if value else _ZERO)


def order_item(
    order: UserOrder,
    inst: SimInstrument,
    *,
    push: bool,
    link_id: str,
    market_unit: str = "",
    quote_qty: Decimal | None = None,
) -> JsonDict:
    """One order as ``/v5/order/realtime``/``history`` list it (``push``: the ``order`` topic).

    A spot market order sized in the quote coin shows that size as ``qty``
    (``quote_qty``); its fills are in the base coin (``cumExecQty``).
    """
    pf = price_format(inst)
    qf = qty_format(inst)
    linear = order.market == "linear"
    is_open = order.is_open
    leaves = order.remaining_qty if is_open else _ZERO
    price = order.price if order.price is not None else _ZERO
    item: JsonDict = {}
    if push:
        item["category"] = order.market
    item.update(
        {
            "symbol": order.native_id,
            "orderId": order.order_id,
            "orderLinkId": link_id,
            "blockTradeId": "",
            "side": side_name(order.side),
            "positionIdx": 0,
            "orderStatus": order_status(order),
            "cancelType": cancel_type(order),
            "rejectReason": reject_reason(order),
            "timeInForce": TIF_NAMES[order.time_in_force],
            "isLeverage": "0" if order.market == "spot" else "",
            "price": pf(price) if price else "0",
            "qty": format_trim(quote_qty) if quote_qty is not None else qf(order.qty),
            # UTA: "" for an order without an average price, REST and push alike (BYDOCS
            # order/open-order.mdx, checked 2026-12-06).
            "avgPrice": pf(order.avg_price) if order.filled_qty else "",
            "leavesQty": qf(leaves),
            "leavesValue": _money(leaves * price),
            "cumExecQty": qf(order.filled_qty),
            "cumExecValue": _money(order.cum_quote),
            "cumExecFee": _money(order.fee),
            "cumFeeDetail": {order.fee_asset: _money(order.fee)} if order.fee_asset else {},
            "orderType": "Market" if order.type is OrderType.MARKET else "Limit",
            "stopOrderType": "",
            "orderIv": "",
            "triggerPrice": "0",
            "takeProfit": "0",
            "stopLoss": "0",
            "triggerBy": "",
            "tpTriggerBy": "",
            "slTriggerBy": "",
            "triggerDirection": 0,
            "placeType": "",
            "lastPriceOnCreated": "" if not linear else pf(price) if price else "",
            "closeOnTrigger": False,
            "reduceOnly": order.reduce_only,
            "smpGroup": 0,
            "smpType": "None",
            "smpOrderId": "",
            "slLimitPrice": "0",
            "tpLimitPrice": "0",
            "tpslMode": "",
            "createType": "CreateByUser",
            "marketUnit": market_unit,
            "createdTime": str(order.created_ms),
            "updatedTime": str(order.updated_ms),
            "feeCurrency": order.fee_asset if order.market == "spot" else "",
            "closedPnl": "0",
        }
    )
    if not linear:
        # "tpslMode ... Spot does not have this field"; "createType ... Only for
        # category=linear or inverse. Spot, Option do not have this key" (order/open-order.mdx,
        # websocket/private/order.mdx, checked 2026-12-06): ccxt tells spot from contracts
        # by them.
        del item["tpslMode"], item["createType"]
    return item


def execution_item(
    fill: UserFill,
    order: UserOrder,
    inst: SimInstrument,
    *,
    seq: int,
    fee_rate: Decimal,
    mark: Decimal,
    push: bool,
    link_id: str,
) -> JsonDict:
    """One fill as ``/v5/execution/list`` (``push``: the ``execution`` topic) shows it."""
    pf = price_format(inst)
    qf = qty_format(inst)
    item: JsonDict = {}
    if push:
        item["category"] = fill.market
    item.update(
        {
            "symbol": fill.native_id,
            "orderId": fill.order_id,
            "orderLinkId": link_id,
            "side": side_name(fill.side),
            "orderPrice": pf(order.price) if order.price is not None else "0",
            "orderQty": qf(order.qty),
            "leavesQty": qf(order.remaining_qty if order.is_open else _ZERO),
            "createType": "CreateByUser",
            "orderType": "Market" if order.type is OrderType.MARKET else "Limit",
            "stopOrderType": "",
            "execFee": _money(fill.fee),
            "execId": exec_id(fill.market, fill.trade_id),
            "execPrice": pf(fill.price),
            "execQty": qf(fill.qty),
            "execType": "Trade",
            "execValue": _money(fill.quote_qty),
            "execTime": str(fill.ts_ms),
            "feeCurrency": fill.fee_asset,
            "isMaker": fill.liquidity is Liquidity.MAKER,
            "feeRate": format_trim(fee_rate),
            "tradeIv": "",
            "markIv": "",
            "markPrice": pf(mark) if fill.market == "linear" else "",
            "indexPrice": "",
            "underlyingPrice": "",
            "blockTradeId": "",
            "closedSize": qf(_ZERO) if fill.market == "linear" else "",
            "execPnl": _money(fill.realized_pnl),
            "seq": seq,
        }
    )
    return item


def fast_execution_item(fill: UserFill, inst: SimInstrument, *, seq: int, link_id: str) -> JsonDict:
    """One fill on ``execution.fast``: no fee; ``orderLinkId`` empty for maker fills."""
    maker = fill.liquidity is Liquidity.MAKER
    return {
        "category": fill.market,
        "symbol": fill.native_id,
        "execId": exec_id(fill.market, fill.trade_id),
        "execPrice": price_format(inst)(fill.price),
        "execQty": qty_format(inst)(fill.qty),
        "orderId": fill.order_id,
        "isMaker": maker,
        "orderLinkId": "" if maker else link_id,
        "side": side_name(fill.side),
        "execTime": str(fill.ts_ms),
        "seq": seq,
    }


def position_item(
    position: Position | None,
    inst: SimInstrument,
    *,
    mark: Decimal,
    leverage: int,
    seq: int,
    updated_ms: int,
    push: bool,
) -> JsonDict:
    """One linear position (one-way: ``positionIdx`` 0, ``size`` unsigned plus ``side``)."""
    pf = price_format(inst)
    qf = qty_format(inst)
    size = position.size if position is not None else _ZERO
    entry = position.entry_price if position is not None else _ZERO
    value = abs(size) * entry
    upl = size * (mark - entry) if size else _ZERO
    item: JsonDict = {
        "positionIdx": 0,
        "riskId": 1,
        "riskLimitValue": "2000000",
        "symbol": inst.native_id,
        "side": "Buy" if size > 0 else "Sell" if size < 0 else "",
        "size": qf(abs(size)),
        "avgPrice" if not push else "entryPrice": pf(entry) if size else "0",
        "positionValue": _money(value),
        "tradeMode": 0,
        "positionStatus": "Normal",
        "autoAddMargin": 0,
        "adlRankIndicator": 2 if size else 0,
        "leverage": str(leverage),
        "positionBalance": _money(position.margin if position is not None else _ZERO),
        "markPrice": pf(mark),
        "liqPrice": "",
        "bustPrice": "",
        "positionMM": _money(value * Decimal("0.005")),
        "positionIM": _money(value / leverage if leverage else _ZERO),
        "tpslMode": "Full",
        "takeProfit": "0",
        "stopLoss": "0",
        "trailingStop": "0",
        "unrealisedPnl": _money(upl),
        "curRealisedPnl": _money(position.realised_pnl if position is not None else _ZERO),
        "cumRealisedPnl": _money(position.realised_pnl if position is not None else _ZERO),
        "seq": seq,
        "isReduceOnly": False,
        "mmrSysUpdatedTime": "",
        "leverageSysUpdatedTime": "",
        "createdTime": str(updated_ms),
        "updatedTime": str(updated_ms),
    }
    if push:
        item["category"] = "linear"
    return item


def wallet_account(
    balances: Iterable[Balance],
    positions: Iterable[Position],
    *,
    usd_price: Callable[[str], Decimal],
    upl: Callable[[Position], Decimal],
    order_im: Callable[[str], Decimal],
    linear_held: Callable[[str], Decimal],
) -> JsonDict:
    """The UNIFIED account of ``wallet-balance`` and the ``wallet`` topic.

    Args:
        balances: The account's assets (all of them, or the changed ones for a push).
        positions: Its linear positions (unrealised P&L per settle coin).
        usd_price: USD value of one unit of a coin.
        upl: Unrealised P&L of a position at the mark price.
        order_im: Margin held by open linear orders in a settle coin.
        linear_held: All open linear orders hold in a settle coin (margin and fee
            reserve): ``locked`` is the rest, "Locked balance due to the Spot open
            order" (wallet-balance docs).
    """
    coins: list[JsonDict] = []
    total_equity = total_wallet = total_available = total_im = total_upl = _ZERO
    by_settle: dict[str, list[Position]] = {}
    for p in positions:
        by_settle.setdefault(p.settle, []).append(p)
    for balance in balances:
        coin = balance.asset
        pos = by_settle.get(coin, [])
        coin_upl = sum((upl(p) for p in pos), _ZERO)
        position_im = balance.margin
        ordered = order_im(coin)
        spot_locked = balance.held - linear_held(coin)
        equity = balance.total + coin_upl
        usd = usd_price(coin)
        total_equity += equity * usd
        total_wallet += balance.total * usd
        total_available += (balance.free + min(coin_upl, _ZERO)) * usd
        total_im += (position_im + ordered) * usd
        total_upl += coin_upl * usd
        coins.append(
            {
                "availableToBorrow": "",
                "bonus": "0",
                "accruedInterest": "0",
                "availableToWithdraw": "",
                "totalOrderIM": _money(ordered),
                "equity": _money(equity),
                "totalPositionMM": _money(position_im * Decimal("0.1")),
                "usdValue": _money(equity * usd),
                "unrealisedPnl": _money(coin_upl),
                "collateralSwitch": True,
                "spotHedgingQty": "0",
                "borrowAmount": "0",
                "totalPositionIM": _money(position_im),
                "walletBalance": _money(balance.total),
                "cumRealisedPnl": _money(sum((p.realised_pnl for p in pos), _ZERO)),
                "locked": _money(max(spot_locked, _ZERO)),
                "marginCollateral": True,
                "coin": coin,
                "spotBorrow": "0",
            }
        )
    rate = total_im / total_equity if total_equity else _ZERO
    return {
        "totalEquity": _money(total_equity),
        "accountIMRate": _money(rate),
        "accountIMRateByMp": _money(rate),
        "totalMarginBalance": _money(total_wallet + total_upl),
        "totalInitialMargin": _money(total_im),
        "totalInitialMarginByMp": _money(total_im),
        "accountType": "UNIFIED",
        "totalAvailableBalance": _money(max(total_available, _ZERO)),
        "accountMMRate": _money(rate * Decimal("0.1")),
        "accountMMRateByMp": _money(rate * Decimal("0.1")),
        "totalPerpUPL": _money(total_upl),
        "totalWalletBalance": _money(total_wallet),
        "accountLTV": "0",
        "totalMaintenanceMargin": _money(total_im * Decimal("0.1")),
        "totalMaintenanceMarginByMp": _money(total_im * Decimal("0.1")),
        "coin": coins,
    }
