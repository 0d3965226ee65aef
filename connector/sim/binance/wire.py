"""Binance wire formats: numbers, exchange info, tickers, stream names and events.

Spot and USDⓈ-M differ in number format (spot: 8 decimals; futures: the
tick's and step's), in key order and in a few fields (futures events carry
``T`` and ``pu``); every builder takes ``spot``. Shapes follow hftbacktest's
``examples/{spot,usdm}/btcusdt_20240808.gz`` and cryptofeed's
``BINANCE*.ws.1.0``/``*.http.0.0``/``*.0`` (see ``tests/sim/binance/``).
Pure functions of their arguments: no clock, no I/O.
"""

from __future__ import annotations

import hashlib
import string
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import msgspec

from connector.model import Side
from connector.sim.candles import Candle
from connector.sim.engine import EngineTrade
from connector.sim.hub import SimBook

__all__ = [
    "FUT_DEPTH_LIMITS",
    "Fmt",
    "Listing",
    "agg_trade_event",
    "book_ticker_event",
    "book_ticker_obj",
    "depth_update",
    "encode",
    "error_body",
    "generated_client_id",
    "kline_event",
    "kline_row",
    "mini_ticker_event",
    "partial_book",
    "places",
    "ticker_event",
    "ticker_obj",
    "trade_event",
]

_enc = msgspec.json.Encoder()

#: Depth limits USDⓈ-M REST accepts (spot: 1 to 5000).
FUT_DEPTH_LIMITS = (5, 10, 20, 50, 100, 500, 1000)


_ID_ALPHABET = string.digits + string.ascii_letters


def generated_client_id(seed: str, now_ms: int) -> str:
    """A venue-made client id (22 letters and digits, as Binance makes them) for an
    order or a cancel sent without ``newClientOrderId``."""
    number = int.from_bytes(hashlib.blake2s(f"{seed}/{now_ms}".encode(), digest_size=16).digest())
    chars = []
    for _ in range(22):
        number, digit = divmod(number, 62)
        chars.append(_ID_ALPHABET[digit])
    return "".join(chars)


def encode(value: object) -> bytes:
    """Compact JSON of ``value`` (dict key order kept)."""
    return _enc.encode(value)


def error_body(code: int, msg: str) -> dict[str, object]:
    """The error body of REST answers and websocket replies: ``{"code", "msg"}``."""
    return {"code": code, "msg": msg}


def places(step: Decimal) -> int:
    """Decimal places of ``step`` (``0.01`` -> 2)."""
    exp = step.normalize().as_tuple().exponent
    return max(0, -int(exp))


class Fmt:
    """Formats an instrument's prices and quantities as the venue does."""

    def __init__(self, market: str, tick: Decimal, lot: Decimal) -> None:
        if market == "spot":
            self.p = ".8f"
            self.q = ".8f"
        else:
            self.p = f".{places(tick)}f"
            self.q = f".{places(lot)}f"

    def price(self, value: Decimal) -> str:
        """A price as sent."""
        return format(value, self.p)

    def qty(self, value: Decimal) -> str:
        """A quantity as sent."""
        return format(value, self.q)


class Listing:
    """One instrument of one market as the venue names and formats it."""

    __slots__ = ("book", "fmt", "lower", "symbol")

    def __init__(self, book: SimBook) -> None:
        inst = book.instrument
        self.book = book
        self.symbol = book.native_id
        self.lower = book.native_id.lower()
        self.fmt = Fmt(book.market, inst.tick_size, inst.lot_step)


def ticker_obj(sym: Listing, spot: bool, now: int) -> dict[str, object]:
    """One ``ticker/24hr`` entry."""
    t = sym.book.ticker()
    f = sym.fmt
    change = t.last - t.open
    pct = (change / t.open * 100) if t.open else Decimal(0)
    wavg = t.quote_volume / t.volume if t.volume else t.last
    open_ms = max(t.open_time_ms, now - 86_400_000) if t.open_time_ms else now
    out: dict[str, object] = {
        "symbol": sym.symbol,
        "priceChange": f.price(change),
        "priceChangePercent": format(pct, ".3f"),
        "weightedAvgPrice": f.price(wavg),
    }
    if spot:
        bid, ask = sym.book.engine.best_bid(), sym.book.engine.best_ask()
        out["prevClosePrice"] = f.price(t.open)
        out["lastPrice"] = f.price(t.last)
        out["lastQty"] = f.qty(t.last_qty)
        out["bidPrice"] = f.price(bid.price if bid else Decimal(0))
        out["bidQty"] = f.qty(bid.qty if bid else Decimal(0))
        out["askPrice"] = f.price(ask.price if ask else Decimal(0))
        out["askQty"] = f.qty(ask.qty if ask else Decimal(0))
    else:
        out["lastPrice"] = f.price(t.last)
        out["lastQty"] = f.qty(t.last_qty)
    out.update(
        {
            "openPrice": f.price(t.open),
            "highPrice": f.price(t.high),
            "lowPrice": f.price(t.low),
            "volume": f.qty(t.volume),
            "quoteVolume": format(t.quote_volume, ".8f"),
            "openTime": open_ms,
            "closeTime": now,
            "firstId": t.first_trade_id if t.count else -1,
            "lastId": t.last_trade_id if t.count else -1,
            "count": t.count,
        }
    )
    return out


def price_ticker_obj(sym: Listing, spot: bool, now: int) -> dict[str, object]:
    """One ``ticker/price`` entry (USDⓈ-M adds ``time``)."""
    out: dict[str, object] = {"symbol": sym.symbol, "price": sym.fmt.price(sym.book.ticker().last)}
    if not spot:
        out["time"] = now
    return out


def book_ticker_obj(sym: Listing, spot: bool, now: int) -> dict[str, object]:
    """One ``ticker/bookTicker`` entry."""
    bid, ask = sym.book.engine.best_bid(), sym.book.engine.best_ask()
    f = sym.fmt
    zero = Decimal(0)
    out: dict[str, object] = {
        "symbol": sym.symbol,
        "bidPrice": f.price(bid.price if bid else zero),
        "bidQty": f.qty(bid.qty if bid else zero),
        "askPrice": f.price(ask.price if ask else zero),
        "askQty": f.qty(ask.qty if ask else zero),
    }
    if not spot:
        out["time"] = now
    return out


def depth_update(
    sym: Listing,
    spot: bool,
    first: int,
    last: int,
    prev_u: int,
    bids: Mapping[Decimal, Decimal],
    asks: Mapping[Decimal, Decimal],
    tx_ms: int,
    now: int,
) -> bytes:
    """A ``depthUpdate`` diff event (futures with ``pu``), encoded."""
    f = sym.fmt
    b = [[f.price(p), f.qty(q)] for p, q in sorted(bids.items())]
    a = [[f.price(p), f.qty(q)] for p, q in sorted(asks.items())]
    data: dict[str, Any]
    if spot:
        data = {
            "e": "depthUpdate",
            "E": now,
            "s": sym.symbol,
            "U": first,
            "u": last,
            "b": b,
            "a": a,
        }
    else:
        data = {
            "e": "depthUpdate",
            "E": now,
            "T": tx_ms,
            "s": sym.symbol,
            "U": first,
            "u": last,
            "pu": prev_u,
            "b": b,
            "a": a,
        }
    return _enc.encode(data)


def ticker_event(sym: Listing, spot: bool, now_ms: int) -> dict[str, object]:
    """A ``24hrTicker`` event."""
    t = ticker_obj(sym, spot, now_ms)
    data: dict[str, object] = {
        "e": "24hrTicker",
        "E": now_ms,
        "s": sym.symbol,
        "p": t["priceChange"],
        "P": t["priceChangePercent"],
        "w": t["weightedAvgPrice"],
    }
    if spot:
        data["x"] = t["prevClosePrice"]
    data["c"] = t["lastPrice"]
    data["Q"] = t["lastQty"]
    if spot:
        data["b"] = t["bidPrice"]
        data["B"] = t["bidQty"]
        data["a"] = t["askPrice"]
        data["A"] = t["askQty"]
    data.update(
        {
            "o": t["openPrice"],
            "h": t["highPrice"],
            "l": t["lowPrice"],
            "v": t["volume"],
            "q": t["quoteVolume"],
            "O": t["openTime"],
            "C": t["closeTime"],
            "F": t["firstId"],
            "L": t["lastId"],
            "n": t["count"],
        }
    )
    return data


def book_ticker_event(sym: Listing, spot: bool, update_id: int, tx_ms: int, now: int) -> bytes:
    """A ``bookTicker`` event of the current best bid and ask (both must exist)."""
    engine = sym.book.engine
    bid, ask = engine.best_bid(), engine.best_ask()
    assert bid is not None and ask is not None
    f = sym.fmt
    if spot:
        return encode(
            {
                "u": update_id,
                "s": sym.symbol,
                "b": f.price(bid.price),
                "B": f.qty(bid.qty),
                "a": f.price(ask.price),
                "A": f.qty(ask.qty),
            }
        )
    return encode(
        {
            "e": "bookTicker",
            "u": update_id,
            "s": sym.symbol,
            "b": f.price(bid.price),
            "B": f.qty(bid.qty),
            "a": f.price(ask.price),
            "A": f.qty(ask.qty),
            "T": tx_ms,
            "E": now,
        }
    )


def trade_event(
    sym: Listing, spot: bool, trade: EngineTrade, trade_id: int, tx_ms: int, now: int
) -> bytes:
    """A ``trade`` event (``trade_id`` in the hub's per-book numbering)."""
    f = sym.fmt
    maker_is_buyer = trade.aggressor is Side.SELL
    if spot:
        return encode(
            {
                "e": "trade",
                "E": now,
                "s": sym.symbol,
                "t": trade_id,
                "p": f.price(trade.price),
                "q": f.qty(trade.qty),
                "T": tx_ms,
                "m": maker_is_buyer,
                "M": True,
            }
        )
    return encode(
        {
            "e": "trade",
            "E": now,
            "T": tx_ms,
            "s": sym.symbol,
            "t": trade_id,
            "p": f.price(trade.price),
            "q": f.qty(trade.qty),
            "X": "MARKET",
            "m": maker_is_buyer,
        }
    )


def agg_trade_event(
    sym: Listing,
    spot: bool,
    agg_id: int,
    price: Decimal,
    qty: Decimal,
    first: int,
    last: int,
    maker_is_buyer: bool,
    tx_ms: int,
    now: int,
) -> bytes:
    """An ``aggTrade`` event: trades ``first`` to ``last`` at one price."""
    f = sym.fmt
    if spot:
        return encode(
            {
                "e": "aggTrade",
                "E": now,
                "s": sym.symbol,
                "a": agg_id,
                "p": f.price(price),
                "q": f.qty(qty),
                "f": first,
                "l": last,
                "T": tx_ms,
                "m": maker_is_buyer,
                "M": True,
            }
        )
    return encode(
        {
            "e": "aggTrade",
            "E": now,
            "a": agg_id,
            "s": sym.symbol,
            "p": f.price(price),
            "q": f.qty(qty),
            "f": first,
            "l": last,
            "T": tx_ms,
            "m": maker_is_buyer,
        }
    )


def partial_book(
    sym: Listing,
    spot: bool,
    bids: Iterable[tuple[Decimal, Decimal]],
    asks: Iterable[tuple[Decimal, Decimal]],
    *,
    first: int,
    last: int,
    prev_u: int,
    tx_ms: int,
    now: int,
) -> bytes:
    """A partial-book push: spot ``{lastUpdateId, bids, asks}``, futures a ``depthUpdate``."""
    f = sym.fmt
    b = [[f.price(p), f.qty(q)] for p, q in bids]
    a = [[f.price(p), f.qty(q)] for p, q in asks]
    if spot:
        return encode({"lastUpdateId": last, "bids": b, "asks": a})
    return encode(
        {
            "e": "depthUpdate",
            "E": now,
            "T": tx_ms,
            "s": sym.symbol,
            "U": first,
            "u": last,
            "pu": prev_u,
            "b": b,
            "a": a,
        }
    )


def mini_ticker_event(sym: Listing, spot: bool, now_ms: int) -> bytes:
    """A ``24hrMiniTicker`` event (USDⓈ-M appends ``ps`` and ``st``: 1 = USDⓈ-M)."""
    t = sym.book.ticker()
    f = sym.fmt
    data: dict[str, object] = {
        "e": "24hrMiniTicker",
        "E": now_ms,
        "s": sym.symbol,
        "c": f.price(t.last),
        "o": f.price(t.open),
        "h": f.price(t.high),
        "l": f.price(t.low),
        "v": f.qty(t.volume),
        "q": format(t.quote_volume, ".8f") if spot else _quote(sym, t.quote_volume),
    }
    if not spot:
        data["ps"] = sym.symbol
        data["st"] = 1
    return encode(data)


def _quote(sym: Listing, value: Decimal) -> str:
    """A USDⓈ-M quote volume: the price's and the quantity's decimals together."""
    inst = sym.book.instrument
    return format(value, f".{places(inst.tick_size) + places(inst.lot_step)}f")


def _candle_numbers(sym: Listing, spot: bool, c: Candle) -> tuple[str, ...]:
    f = sym.fmt

    def quote(value: Decimal) -> str:
        return format(value, ".8f") if spot else _quote(sym, value)

    return (
        f.price(c.open),
        f.price(c.high),
        f.price(c.low),
        f.price(c.close),
        f.qty(c.volume),
        quote(c.quote_volume),
        f.qty(c.taker_buy_volume),
        quote(c.taker_buy_quote_volume),
    )


def kline_row(sym: Listing, spot: bool, c: Candle) -> list[object]:
    """One ``GET klines`` row: open time, OHLCV, close time, quote volume, trades, taker buys."""
    o, h, low, close, v, q, bv, bq = _candle_numbers(sym, spot, c)
    return [c.open_ms, o, h, low, close, v, c.close_ms, q, c.trades, bv, bq, "0"]


def kline_event(
    sym: Listing, spot: bool, interval: str, c: Candle, closed: bool, now: int
) -> bytes:
    """A ``kline`` event of one candle (``x``: the candle is closed)."""
    o, h, low, close, v, q, bv, bq = _candle_numbers(sym, spot, c)
    return encode(
        {
            "e": "kline",
            "E": now,
            "s": sym.symbol,
            "k": {
                "t": c.open_ms,
                "T": c.close_ms,
                "s": sym.symbol,
                "i": interval,
                "f": c.first_trade_id,
                "L": c.last_trade_id,
                "o": o,
                "c": close,
                "h": h,
                "l": low,
                "v": v,
                "n": c.trades,
                "x": closed,
                "q": q,
                "V": bv,
                "Q": bq,
                "B": "0",
            },
        }
    )
