"""Binance ``/fapi/v1/userTrades`` (and ``/api/v3/myTrades``) list fills oldest first,
by trade ``id``; the fills of one order that sweeps the book share a millisecond. Read
from that listing, they keep the order of their ids, also where an id gains a digit.

The page is in the shape of ``http_futures_account_trades.json`` (nautilus_trader).
"""

from __future__ import annotations

import json
from decimal import Decimal

from connector.model import Market
from connector.model.credentials import Credentials
from connector.venues.binance.trading import BinanceTrading
from tests.venues.binance.trading_data import symbol_map

SWEEP_MS = 1_765_000_005_000


def _trade(trade_id: int, price: str) -> dict[str, object]:
    return {
        "symbol": "BTCUSDT",
        "id": trade_id,
        "orderId": 831238690,
        "side": "SELL",
        "price": price,
        "qty": "0.500",
        "realizedPnl": "0",
        "marginAsset": "USDT",
        "quoteQty": str(Decimal(price) * Decimal("0.5")),
        "commission": "0.3",
        "commissionAsset": "USDT",
        "time": SWEEP_MS,
        "positionSide": "BOTH",
        "buyer": False,
        "maker": False,
    }


def test_binance_fills_of_one_millisecond_keep_the_order_of_their_trade_ids() -> None:
    page = [_trade(9_999_999, "59990.5"), _trade(10_000_000, "59990.2")]
    adapter = BinanceTrading(Credentials(api_key="key", api_secret="secret"))

    fills = adapter.parse_fills(Market.LINEAR, symbol_map(), json.dumps(page).encode(), 0)

    assert ["9999999", "10000000"] == [f.trade_id for f in fills]
