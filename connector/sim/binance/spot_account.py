"""Binance spot account shapes: ``/api/v3/account``, wallet coins, margin pairs. Sans-I/O.

Shapes (checked 2026-12-03): Binance spot rest-api.md "Account information
(USER_DATA)" and the fixture
``nautilus_trader/.../spot/http_json/account_response.json``; wallet
"All Coins' Information (USER_DATA)" ``GET /sapi/v1/capital/config/getall``;
margin "Get All Cross Margin Pairs" ``GET /sapi/v1/margin/allPairs`` and
"Get All Isolated Margin Symbol" ``GET /sapi/v1/margin/isolated/allPairs``
(ccxt ``binance`` calls all three on ``load_markets`` when it has keys).
Commission rates come from the account's fee table (spot); the integer
``makerCommission``/``takerCommission`` are the same rates in basis points.
The simulator trades no margin: the pair lists say which spot pairs the real
venue lists for margin (every simulated pair), nothing more.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from decimal import Decimal

from connector.sim.accounts import Balance, FeeRates
from connector.sim.binance.spot_wire import p8
from connector.sim.binance.wire import Listing

__all__ = [
    "account_json",
    "account_uid",
    "coins_json",
    "cross_pairs_json",
    "isolated_pairs_json",
]

_BPS = Decimal(10_000)
_NAMES = {"BTC": "Bitcoin", "ETH": "Ethereum", "SOL": "Solana", "USDT": "TetherUS", "BNB": "BNB"}


def account_uid(account: str) -> int:
    """A stable numeric ``uid`` for an account id."""
    return 100_000_000 + zlib.crc32(account.encode()) % 900_000_000


def account_json(
    balances: Iterable[Balance],
    fees: FeeRates,
    uid: int,
    updated_ms: int,
    *,
    omit_zero: bool = False,
) -> dict[str, object]:
    """``GET /api/v3/account``."""
    rows = [
        {"asset": b.asset, "free": p8(b.free), "locked": p8(b.locked)}
        for b in sorted(balances, key=lambda b: b.asset)
        if not (omit_zero and b.total == 0 and b.locked == 0)
    ]
    return {
        "makerCommission": int(fees.maker * _BPS),
        "takerCommission": int(fees.taker * _BPS),
        "buyerCommission": 0,
        "sellerCommission": 0,
        "commissionRates": {
            "maker": p8(fees.maker),
            "taker": p8(fees.taker),
            "buyer": p8(Decimal(0)),
            "seller": p8(Decimal(0)),
        },
        "canTrade": True,
        "canWithdraw": True,
        "canDeposit": True,
        "brokered": False,
        "requireSelfTradePrevention": False,
        "preventSor": False,
        "updateTime": updated_ms,
        "accountType": "SPOT",
        "balances": rows,
        "permissions": ["SPOT"],
        "uid": uid,
    }


def coins_json(balances: Iterable[Balance], listings: Iterable[Listing]) -> list[dict[str, object]]:
    """``GET /sapi/v1/capital/config/getall``: every asset the account holds or can trade."""
    held = {b.asset: b for b in balances}
    assets = set(held)
    for sym in listings:
        assets.add(sym.book.instrument.base)
        assets.add(sym.book.instrument.quote)
    out: list[dict[str, object]] = []
    for asset in sorted(assets):
        b = held.get(asset)
        free = b.free if b else Decimal(0)
        locked = b.locked if b else Decimal(0)
        name = _NAMES.get(asset, asset)
        out.append(
            {
                "coin": asset,
                "depositAllEnable": True,
                "withdrawAllEnable": True,
                "name": name,
                "free": p8(free),
                "locked": p8(locked),
                "freeze": "0",
                "withdrawing": "0",
                "ipoing": "0",
                "ipoable": "0",
                "storage": "0",
                "isLegalMoney": False,
                "trading": True,
                "networkList": [
                    {
                        "network": asset if asset != "USDT" else "ETH",
                        "coin": asset,
                        "withdrawIntegerMultiple": "0.00000001",
                        "isDefault": True,
                        "depositEnable": True,
                        "withdrawEnable": True,
                        "depositDesc": "",
                        "withdrawDesc": "",
                        "specialTips": "",
                        "specialWithdrawTips": "",
                        "name": name,
                        "resetAddressStatus": False,
                        "addressRegex": "^.+$",
                        "memoRegex": "",
                        "withdrawFee": "0",
                        "withdrawMin": "0",
                        "withdrawMax": "9999999999.99999999",
                        "depositDust": "0.00000001",
                        "minConfirm": 1,
                        "unLockConfirm": 0,
                        "sameAddress": False,
                        "estimatedArrivalTime": 5,
                        "busy": False,
                        "contractAddressUrl": "",
                        "contractAddress": "",
                    }
                ],
            }
        )
    return out


def cross_pairs_json(listings: Iterable[Listing]) -> list[dict[str, object]]:
    """``GET /sapi/v1/margin/allPairs``."""
    return [
        {
            "id": 351637150141315860 + i,
            "symbol": sym.symbol,
            "base": sym.book.instrument.base,
            "quote": sym.book.instrument.quote,
            "isMarginTrade": True,
            "isBuyAllowed": True,
            "isSellAllowed": True,
        }
        for i, sym in enumerate(sorted(listings, key=lambda s: s.symbol))
    ]


def isolated_pairs_json(listings: Iterable[Listing]) -> list[dict[str, object]]:
    """``GET /sapi/v1/margin/isolated/allPairs``."""
    return [
        {
            "symbol": sym.symbol,
            "base": sym.book.instrument.base,
            "quote": sym.book.instrument.quote,
            "isMarginTrade": True,
            "isBuyAllowed": True,
            "isSellAllowed": True,
        }
        for sym in sorted(listings, key=lambda s: s.symbol)
    ]
