"""Bybit v5 account reads (sans-I/O): fills, balances and positions, by REST and stream.

Facts (BYDOCS ``order/execution.mdx``, ``account/wallet-balance.mdx``,
``position/position.mdx``, ``websocket/private/{execution,position,wallet}.mdx``;
checked 2026-12-03, see ``docs/venues/bybit.md``):

* Fills ``GET /v5/execution/list`` (7 days from ``startTime``); ``execFee`` is
  positive for a charge, negative for a maker rebate (the model's sign).
* Balances ``GET /v5/account/wallet-balance?accountType=UNIFIED``: one wallet
  for spot and linear; per coin ``walletBalance``, ``locked`` (spot orders),
  ``totalOrderIM`` (derivatives orders) + ``totalPositionIM`` (positions).
* Positions ``GET /v5/position/list`` (linear; ``settleCoin`` required without a
  symbol): ``size`` is unsigned, ``side`` ``Buy``/``Sell``/``""``; one-way mode
  only (``positionIdx`` 0).

Tested on ``nautilus_trader/crates/adapters/bybit/test_data/http_get_executions.json``,
``http_get_wallet_balance.json``, ``http_get_positions.json`` and the ``ws_account_*``
pushes (``tests/venues/bybit/test_orders.py``, ``test_private.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import msgspec

from connector.model import Balance, Fill, Instrument, Liquidity, Market, Position, Side
from connector.venues.bybit import limits
from connector.venues.bybit.orders import (
    IP_WEIGHT,
    SETTLE_COIN,
    VENUE,
    bad_body,
    category,
    decode_answer,
    instrument_of,
)
from connector.venues.common import SymbolMap
from connector.venues.driver import RestCall
from connector.venues.trading_common import ms_to_ns, side_of, venue_decimal

__all__ = [
    "FILLS_WINDOW_NS",
    "CoinItem",
    "ExecItem",
    "PositionItem",
    "WalletItem",
    "balances_call",
    "balances_of",
    "fill_of",
    "fills_call",
    "order_fills_call",
    "parse_balances",
    "parse_fills",
    "parse_positions",
    "position_of",
    "positions_call",
]

_ZERO = Decimal(0)
FILLS_WINDOW_NS = 7 * 86_400 * 1_000_000_000
"""``/v5/execution/list`` answers at most 7 days from ``startTime``."""

_FILL_TYPES = frozenset({"Trade", "AdlTrade", "BustTrade", "BlockTrade"})
"""``execType`` values that trade the order's instrument (not funding or settlement)."""


def fills_call(market: Market, instrument: Instrument | None, since_ns: int | None) -> RestCall:
    """``GET /v5/execution/list`` (7 days from ``startTime``, without it the last 7
    days; 100 per page). Without an instrument, every symbol of the category (the
    endpoint takes no ``settleCoin``)."""
    params: dict[str, str | int] = {"category": category(market)}
    if instrument is not None:
        params["symbol"] = instrument.native_id
    if since_ns is not None:
        params["startTime"] = since_ns // 1_000_000
    params["limit"] = 100
    return RestCall(
        path="/v5/execution/list",
        params=params,
        weights={**IP_WEIGHT, limits.QUERY: 1.0},
        signed=True,
    )


def order_fills_call(market: Market, instrument: Instrument, venue_order_id: str) -> RestCall:
    """``GET /v5/execution/list`` of one order (``orderId``; 100 per page)."""
    return RestCall(
        path="/v5/execution/list",
        params={
            "category": category(market),
            "symbol": instrument.native_id,
            "orderId": venue_order_id,
            "limit": 100,
        },
        weights={**IP_WEIGHT, limits.QUERY: 1.0},
        signed=True,
    )


def balances_call(market: Market) -> RestCall:
    """``GET /v5/account/wallet-balance?accountType=UNIFIED`` (one wallet for both markets)."""
    return RestCall(
        path="/v5/account/wallet-balance",
        params={"accountType": "UNIFIED"},
        weights={**IP_WEIGHT, limits.ACCOUNT: 1.0},
        signed=True,
    )


def positions_call(market: Market) -> RestCall | None:
    """``GET /v5/position/list`` of USDT-settled linear positions; ``None`` for spot."""
    if market is not Market.LINEAR:
        return None
    return RestCall(
        path="/v5/position/list",
        params={"category": "linear", "settleCoin": SETTLE_COIN, "limit": 200},
        weights={**IP_WEIGHT, limits.ACCOUNT: 1.0},
        signed=True,
    )


class ExecItem(msgspec.Struct):
    """One execution in ``/v5/execution/list`` or an ``execution`` push."""

    symbol: str
    orderId: str
    execId: str
    side: str
    execQty: str
    execPrice: str
    execType: str = "Trade"
    orderLinkId: str = ""
    category: str = ""
    execFee: str = "0"
    feeCurrency: str = ""
    isMaker: bool | None = None
    execTime: str = ""


class CoinItem(msgspec.Struct):
    coin: str
    walletBalance: str = "0"
    locked: str = ""
    totalOrderIM: str = ""
    totalPositionIM: str = ""


class WalletItem(msgspec.Struct):
    coin: list[CoinItem]
    accountType: str = ""


class PositionItem(msgspec.Struct):
    symbol: str
    side: str
    size: str
    category: str = "linear"
    avgPrice: str = ""
    entryPrice: str = ""
    cumRealisedPnl: str = ""
    positionIdx: int = 0
    updatedTime: str = ""


def fill_of(item: ExecItem, market: Market, symbols: SymbolMap, ts_recv_ns: int) -> Fill | None:
    """The fill of one execution; ``None`` for funding, settlement and other non-trades.

    ``execFee`` is positive for a charge (negative for a maker rebate), as the
    model counts. Without ``feeCurrency`` (older pushes) the fee asset is the
    quote for linear and for a spot sell, the base for a spot buy.
    """
    if item.execType not in _FILL_TYPES:
        return None
    instrument = instrument_of(symbols, item.category, item.symbol, market)
    side = side_of(item.side)
    fee_asset = item.feeCurrency
    if not fee_asset:
        spot_buy = instrument.market is Market.SPOT and side is Side.BUY
        fee_asset = instrument.symbol.base if spot_buy else instrument.symbol.quote
    liquidity = None
    if item.isMaker is not None:
        liquidity = Liquidity.MAKER if item.isMaker else Liquidity.TAKER
    return Fill(
        venue=VENUE,
        symbol=instrument.symbol,
        client_order_id=item.orderLinkId,
        venue_order_id=item.orderId,
        trade_id=item.execId,
        side=side,
        qty=venue_decimal(item.execQty) or _ZERO,
        price=venue_decimal(item.execPrice) or _ZERO,
        fee=venue_decimal(item.execFee) or _ZERO,
        fee_asset=fee_asset,
        liquidity=liquidity,
        ts_event_ns=ms_to_ns(item.execTime),
        ts_recv_ns=ts_recv_ns,
    )


def balances_of(wallets: Sequence[WalletItem], ts_event_ns: int) -> list[Balance]:
    """One balance per coin: ``locked`` = spot order lock + derivatives order and
    position margin (``locked`` + ``totalOrderIM`` + ``totalPositionIM``, at most the
    wallet balance, as Binance and OKX count theirs), ``free`` the rest."""
    out: list[Balance] = []
    for wallet in wallets:
        for coin in wallet.coin:
            total = venue_decimal(coin.walletBalance) or _ZERO
            locked = sum(
                (
                    venue_decimal(held) or _ZERO
                    for held in (coin.locked, coin.totalOrderIM, coin.totalPositionIM)
                ),
                _ZERO,
            )
            locked = max(_ZERO, min(locked, total))
            out.append(
                Balance(
                    venue=VENUE,
                    asset=coin.coin,
                    free=total - locked,
                    locked=locked,
                    ts_event_ns=ts_event_ns,
                )
            )
    return out


def position_of(item: PositionItem, symbols: SymbolMap) -> Position:
    """A one-way position: ``size`` signed by ``side`` (``Sell`` short, ``""`` flat)."""
    instrument = instrument_of(symbols, item.category, item.symbol, Market.LINEAR)
    size = venue_decimal(item.size) or _ZERO
    qty = -size if item.side == "Sell" else size
    entry = venue_decimal(item.avgPrice or item.entryPrice)
    return Position(
        venue=VENUE,
        symbol=instrument.symbol,
        qty=qty if item.side else _ZERO,
        avg_entry_price=entry if entry and qty else None,
        realized_pnl=venue_decimal(item.cumRealisedPnl) or _ZERO,
        ts_event_ns=ms_to_ns(item.updatedTime),
    )


_execs = msgspec.json.Decoder(list[ExecItem])
_wallets = msgspec.json.Decoder(list[WalletItem])
_positions = msgspec.json.Decoder(list[PositionItem])


def parse_fills(market: Market, symbols: SymbolMap, body: bytes, ts_recv_ns: int) -> list[Fill]:
    """The fills of a ``/v5/execution/list`` answer, oldest first (``http_get_executions.json``).

    Bybit lists them newest first and the fills of one order that sweeps the book
    share a millisecond (and a ``seq``; ``execId`` is not ordered): the list is
    reversed before the (stable) sort by time, so those come in the order they happened.
    """
    answer = decode_answer(200, body)
    assert answer.result is not None
    try:
        fills = [
            fill_of(item, market, symbols, ts_recv_ns) for item in _execs.decode(answer.result.list)
        ]
    except (msgspec.DecodeError, ValueError) as exc:
        raise bad_body("executions", body, exc) from exc
    return sorted((f for f in reversed(fills) if f is not None), key=lambda f: f.ts_event_ns)


def parse_balances(body: bytes, ts_recv_ns: int) -> list[Balance]:
    """The balances of a ``wallet-balance`` answer (``http_get_wallet_balance.json``)."""
    answer = decode_answer(200, body)
    assert answer.result is not None
    try:
        wallets = _wallets.decode(answer.result.list)
        return balances_of(wallets, answer.time * 1_000_000 or ts_recv_ns)
    except (msgspec.DecodeError, ValueError) as exc:
        raise bad_body("wallet balance", body, exc) from exc


def parse_positions(symbols: SymbolMap, body: bytes) -> list[Position]:
    """The positions of a ``/v5/position/list`` answer (``http_get_positions.json``)."""
    answer = decode_answer(200, body)
    assert answer.result is not None
    try:
        return [
            position_of(item, symbols)
            for item in _positions.decode(answer.result.list)
            if item.positionIdx == 0
        ]
    except (msgspec.DecodeError, ValueError) as exc:
        raise bad_body("positions", body, exc) from exc
