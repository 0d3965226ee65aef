"""Bybit v5 wire formats: numbers, envelopes, instruments, tickers, replies, pushes.

Shapes and key orders follow ``cryptofeed/v3/sample_data/BYBIT-dev.jsonl.zst``
(linear and spot sockets, 2026); see the package docstring. Spot and linear
differ in number format (trimmed vs fixed decimals) and in key order. Pure
functions of their arguments: no clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal

from connector.model import Side
from connector.sim.hub import SimBook
from connector.sim.instruments import SimInstrument
from connector.sim.wire import encode, format_trim

__all__ = [
    "BOOK_DEPTHS",
    "INTERVALS",
    "REST_BOOK_DEPTH",
    "JsonDict",
    "book_message",
    "encode",
    "envelope",
    "error_body",
    "format_fixed",
    "format_trim",
    "instrument_item",
    "orderbook_result",
    "pong_reply",
    "price_format",
    "push_interval",
    "qty_format",
    "recent_trade_item",
    "side_name",
    "subscribe_reply",
    "ticker_item",
    "ticker_message",
    "trade_message",
]


#: Book depths each category serves on the websocket (Bybit "Orderbook", checked
#: 2026-12-02; level 500 went offline on 2025-09-11).
BOOK_DEPTHS: dict[str, tuple[int, ...]] = {"spot": (1, 50, 200, 1000), "linear": (1, 50, 200, 1000)}
#: The depth whose ``u`` the REST book carries (``/v5/market/orderbook``: "``u``
#: corresponds to the 1000-level websocket stream").
REST_BOOK_DEPTH = 1000

#: Documented push intervals (seconds) per category and depth (spot level 200
#: pushes every 100 ms now; older pages said 200 ms).
INTERVALS: dict[str, dict[int, float]] = {
    "linear": {1: 0.010, 50: 0.020, 200: 0.100, 1000: 0.200},
    "spot": {1: 0.010, 50: 0.020, 200: 0.100, 1000: 0.200},
}

JsonDict = dict[str, object]


def format_fixed(value: Decimal, step: Decimal) -> str:
    """Plain decimal string with ``step``'s decimals (``"65114.20"``), as linear sends."""
    return format(value.quantize(step), "f")


def push_interval(category: str, depth: int) -> float:
    """Documented push interval in seconds of ``orderbook.{depth}`` on ``category``."""
    return INTERVALS[category][depth]


# -------------------------------------------------------------- REST builders


def envelope(result: object, now_ms: int) -> JsonDict:
    """The v5 REST success envelope around ``result``."""
    return {"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": now_ms}


def error_body(code: int, message: str, now_ms: int) -> JsonDict:
    """The v5 REST error body (HTTP 200, as Bybit sends it)."""
    return {"retCode": code, "retMsg": message, "result": {}, "retExtInfo": {}, "time": now_ms}


def price_format(inst: SimInstrument) -> Callable[[Decimal], str]:
    """The category's price format: fixed to the tick on linear, trimmed on spot."""
    if inst.market == "linear":
        tick = inst.tick_size
        return lambda d: format_fixed(d, tick)
    return format_trim


def qty_format(inst: SimInstrument) -> Callable[[Decimal], str]:
    """The category's size format: fixed to the lot step on linear, trimmed on spot."""
    if inst.market == "linear":
        step = inst.lot_step
        return lambda d: format_fixed(d, step)
    return format_trim


def instrument_item(inst: SimInstrument, symbol_id: int) -> JsonDict:
    """One ``instruments-info`` list entry, keys and order as the 2026 capture."""
    if inst.market == "linear":
        tick = inst.tick_size
        step = inst.lot_step
        max_price = (Decimal(2_000_000) - tick).quantize(tick)
        scale = max(0, -int(tick.as_tuple().exponent))
        return {
            "symbol": inst.native_id,
            "contractType": "LinearPerpetual",
            "status": "Trading",
            "baseCoin": inst.base,
            "quoteCoin": inst.quote,
            "launchTime": "1584230400000",
            "deliveryTime": "0",
            "deliveryFeeRate": "",
            "priceScale": str(scale),
            "leverageFilter": {"minLeverage": "1", "maxLeverage": "100.00", "leverageStep": "0.01"},
            "priceFilter": {
                "minPrice": format_fixed(tick, tick),
                "maxPrice": format(max_price, "f"),
                "tickSize": format(tick, "f"),
            },
            "lotSizeFilter": {
                "maxOrderQty": format_fixed(inst.max_qty, step),
                "minOrderQty": format_fixed(inst.min_qty, step),
                "qtyStep": format(step, "f"),
                "postOnlyMaxOrderQty": format_fixed(inst.max_qty, step),
                "maxMktOrderQty": format_fixed(_market_max(inst), step),
                "minNotionalValue": format_trim(inst.min_notional),
            },
            "unifiedMarginTrade": True,
            "fundingInterval": 480,
            "settleCoin": inst.quote,
            "copyTrading": "both",
            "upperFundingRate": "0.005",
            "lowerFundingRate": "-0.005",
            "isPreListing": False,
            "preListingInfo": None,
            "riskParameters": _risk_parameters(inst),
            "displayName": "",
            "symbolType": "",
            "forbidUplWithdrawal": False,
            "symbolId": symbol_id,
        }
    return {
        "symbolId": symbol_id,
        "symbol": inst.native_id,
        "baseCoin": inst.base,
        "quoteCoin": inst.quote,
        "innovation": "0",
        "status": "Trading",
        "marginTrading": "utaOnly",
        "stTag": "0",
        "lotSizeFilter": {
            "basePrecision": format(inst.lot_step, "f"),
            "quotePrecision": "0.0000001",
            "minOrderQty": format(inst.min_qty, "f"),
            "maxOrderQty": format_trim(inst.max_qty),
            "minOrderAmt": format_trim(inst.min_notional),
            "maxOrderAmt": "8000000",
            "maxLimitOrderQty": format_trim(inst.max_qty),
            "maxMarketOrderQty": format_trim(_market_max(inst)),
            "postOnlyMaxLimitOrderSize": format_trim(inst.max_post_only_qty or inst.max_qty),
        },
        "priceFilter": {"tickSize": format(inst.tick_size, "f")},
        "riskParameters": _risk_parameters(inst),
        "symbolType": "",
        "xstockMultiplier": "1",
    }


def orderbook_result(
    symbol: str,
    bids: Sequence[tuple[str, str]],
    asks: Sequence[tuple[str, str]],
    *,
    ts_ms: int,
    u: int,
    seq: int,
    cts_ms: int,
) -> JsonDict:
    """The ``result`` of ``/v5/market/orderbook``: ``{s, b, a, ts, u, seq, cts}``."""
    return {
        "s": symbol,
        "b": [list(level) for level in bids],
        "a": [list(level) for level in asks],
        "ts": ts_ms,
        "u": u,
        "seq": seq,
        "cts": cts_ms,
    }


def recent_trade_item(
    symbol: str, *, exec_id: str, price: str, size: str, side: str, time_ms: int
) -> JsonDict:
    """One ``/v5/market/recent-trade`` list entry."""
    return {
        "execId": exec_id,
        "symbol": symbol,
        "price": price,
        "size": size,
        "side": side,
        "time": str(time_ms),
        "isBlockTrade": False,
    }


def side_name(side: Side) -> str:
    """``"Buy"`` or ``"Sell"``."""
    return "Buy" if side is Side.BUY else "Sell"


def _pct(last: Decimal, open_: Decimal, places: int) -> str:
    if open_ == 0:
        return "0"
    return format_trim(((last - open_) / open_).quantize(Decimal(1).scaleb(-places)))


def _next_funding_ms(now_ms: int) -> int:
    period = 8 * 3600 * 1000
    return (now_ms // period + 1) * period


def ticker_item(book: SimBook, now_ms: int, *, rest: bool) -> JsonDict:
    """Ticker fields of one instrument (websocket ``tickers`` data or REST list entry)."""
    inst = book.instrument
    pf = price_format(inst)
    qf = qty_format(inst)
    stats = book.ticker()
    best_bid = book.engine.best_bid()
    best_ask = book.engine.best_ask()
    bid_px = pf(best_bid.price) if best_bid else ""
    bid_sz = qf(best_bid.qty) if best_bid else ""
    ask_px = pf(best_ask.price) if best_ask else ""
    ask_sz = qf(best_ask.qty) if best_ask else ""
    if best_bid and best_ask:
        mid = ((best_bid.price + best_ask.price) / 2).quantize(inst.tick_size)
    else:
        mid = stats.last
    if inst.market == "spot":
        volume = format_trim(stats.volume)
        turnover = format_trim(stats.quote_volume)
        if rest:
            return {
                "symbol": inst.native_id,
                "bid1Price": bid_px,
                "bid1Size": bid_sz,
                "ask1Price": ask_px,
                "ask1Size": ask_sz,
                "lastPrice": pf(stats.last),
                "prevPrice24h": pf(stats.open),
                "price24hPcnt": _pct(stats.last, stats.open, 4),
                "highPrice24h": pf(stats.high),
                "lowPrice24h": pf(stats.low),
                "turnover24h": turnover,
                "volume24h": volume,
                "usdIndexPrice": pf(mid),
            }
        return {
            "symbol": inst.native_id,
            "lastPrice": pf(stats.last),
            "highPrice24h": pf(stats.high),
            "lowPrice24h": pf(stats.low),
            "prevPrice24h": pf(stats.open),
            "volume24h": volume,
            "turnover24h": turnover,
            "price24hPcnt": _pct(stats.last, stats.open, 4),
            "usdIndexPrice": pf(mid),
        }
    four = Decimal("0.0001")
    volume = format_fixed(stats.volume, four)
    turnover = format_fixed(stats.quote_volume, four)
    oi = stats.volume + Decimal(1000) * inst.lot_step
    oi_text = qf(oi)
    oi_value = format_fixed(oi * mid, Decimal("0.01"))
    funding_next = str(_next_funding_ms(now_ms))
    if rest:
        return {
            "symbol": inst.native_id,
            "lastPrice": pf(stats.last),
            "indexPrice": pf(mid),
            "markPrice": pf(mid),
            "prevPrice24h": pf(stats.open),
            "price24hPcnt": _pct(stats.last, stats.open, 6),
            "highPrice24h": pf(stats.high),
            "lowPrice24h": pf(stats.low),
            "prevPrice1h": pf(stats.open),
            "openInterest": oi_text,
            "openInterestValue": oi_value,
            "turnover24h": turnover,
            "volume24h": volume,
            "fundingRate": "0.0001",
            "nextFundingTime": funding_next,
            "predictedDeliveryPrice": "",
            "basisRate": "",
            "deliveryFeeRate": "",
            "deliveryTime": "0",
            "ask1Size": ask_sz,
            "bid1Price": bid_px,
            "ask1Price": ask_px,
            "bid1Size": bid_sz,
            "basis": "",
        }
    return {
        "symbol": inst.native_id,
        "tickDirection": "ZeroPlusTick",
        "price24hPcnt": _pct(stats.last, stats.open, 6),
        "lastPrice": pf(stats.last),
        "prevPrice24h": pf(stats.open),
        "highPrice24h": pf(stats.high),
        "lowPrice24h": pf(stats.low),
        "prevPrice1h": pf(stats.open),
        "markPrice": pf(mid),
        "indexPrice": pf(mid),
        "openInterest": oi_text,
        "openInterestValue": oi_value,
        "turnover24h": turnover,
        "volume24h": volume,
        "fundingIntervalHour": "8",
        "fundingCap": "0.005",
        "singleOpenInterest": qf(oi / 2),
        "singleOpenInterestValue": format_fixed(oi * mid / 2, Decimal("0.01")),
        "nextFundingTime": funding_next,
        "fundingRate": "0.0001",
        "bid1Price": bid_px,
        "bid1Size": bid_sz,
        "ask1Price": ask_px,
        "ask1Size": ask_sz,
        "preOpenPrice": "",
        "preQty": "",
        "curPreListingPhase": "",
    }


# --------------------------------------------------------- websocket builders


def subscribe_reply(
    category: str, op: str, *, success: bool, ret_msg: str, conn_id: str, req_id: str | None
) -> JsonDict:
    """Reply to ``subscribe``/``unsubscribe``/``ping`` in the socket's own shape.

    Linear always carries ``req_id`` (``""`` when the request had none) and an
    empty ``ret_msg`` on success; spot carries ``req_id`` only when given and
    echoes the op in ``ret_msg``.
    """
    if category == "spot":
        out: JsonDict = {"success": success, "ret_msg": ret_msg, "conn_id": conn_id}
        if req_id is not None:
            out["req_id"] = req_id
        out["op"] = op
        return out
    return {
        "success": success,
        "ret_msg": ret_msg,
        "conn_id": conn_id,
        "req_id": req_id if req_id is not None else "",
        "op": op,
    }


def pong_reply(category: str, conn_id: str, req_id: str | None) -> JsonDict:
    """Reply to ``{"op":"ping"}`` (``ret_msg`` ``"pong"``, ``op`` ``"ping"``)."""
    return subscribe_reply(
        category, "ping", success=True, ret_msg="pong", conn_id=conn_id, req_id=req_id
    )


def book_message(
    category: str,
    topic: str,
    kind: str,
    *,
    ts_ms: int,
    symbol: str,
    bids: Sequence[tuple[str, str]],
    asks: Sequence[tuple[str, str]],
    u: int,
    seq: int,
    cts_ms: int,
) -> JsonDict:
    """An ``orderbook`` push (``kind`` ``snapshot`` or ``delta``) in the socket's key order."""
    data: JsonDict = {
        "s": symbol,
        "b": [list(level) for level in bids],
        "a": [list(level) for level in asks],
        "u": u,
        "seq": seq,
    }
    if category == "spot":
        return {"topic": topic, "ts": ts_ms, "type": kind, "data": data, "cts": cts_ms}
    return {"topic": topic, "type": kind, "ts": ts_ms, "data": data, "cts": cts_ms}


def trade_message(category: str, topic: str, ts_ms: int, items: list[JsonDict]) -> JsonDict:
    """A ``publicTrade`` push (always ``type`` ``snapshot``)."""
    if category == "spot":
        return {"topic": topic, "ts": ts_ms, "type": "snapshot", "data": items}
    return {"topic": topic, "type": "snapshot", "ts": ts_ms, "data": items}


def ticker_message(
    category: str, topic: str, kind: str, ts_ms: int, cs: int, data: JsonDict
) -> JsonDict:
    """A ``tickers`` push in the socket's key order."""
    if category == "spot":
        return {"topic": topic, "ts": ts_ms, "type": kind, "cs": cs, "data": data}
    return {"topic": topic, "type": kind, "data": data, "cs": cs, "ts": ts_ms}


def _risk_parameters(inst: SimInstrument) -> JsonDict:
    ratios = inst.price_limit_ratios
    assert ratios is not None  # every Bybit instrument has them
    x, y = ratios
    return {"priceLimitRatioX": format(x, "f"), "priceLimitRatioY": format(y, "f")}


def _market_max(inst: SimInstrument) -> Decimal:
    cap = inst.max_market_qty
    assert cap is not None  # every Bybit instrument has one
    return cap
