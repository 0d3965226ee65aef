"""Binance ``exchangeInfo``: rate limits, symbols and their filters, per market.

Key order and values follow cryptofeed's ``BINANCE*.http.0.0`` captures (see
``tests/sim/binance/``). Pure functions of their arguments.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from connector.sim.binance.wire import Listing, places
from connector.sim.instruments import SimInstrument

__all__ = ["coin_info", "futures_info", "rate_limits", "spot_info"]


def rate_limits(spot: bool, weight_limit: int) -> list[dict[str, object]]:
    """The ``rateLimits`` of ``exchangeInfo``."""
    if spot:
        return [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": weight_limit,
            },
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
            {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
            {
                "rateLimitType": "RAW_REQUESTS",
                "interval": "MINUTE",
                "intervalNum": 5,
                "limit": 61000,
            },
        ]
    return [
        {
            "rateLimitType": "REQUEST_WEIGHT",
            "interval": "MINUTE",
            "intervalNum": 1,
            "limit": weight_limit,
        },
        {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 300},
    ]


def _band(inst: SimInstrument) -> tuple[Decimal, Decimal]:
    band = inst.price_band
    assert band is not None  # every Binance instrument has one
    return band


def _bounds(inst: SimInstrument) -> tuple[Decimal, Decimal]:
    bounds = inst.price_bounds
    assert bounds is not None  # every Binance instrument has them
    return bounds


def spot_info(listings: Iterable[Listing], now: int, weight_limit: int) -> dict[str, object]:
    """Spot ``/api/v3/exchangeInfo``."""
    symbols = []
    for sym in listings:
        inst = sym.book.instrument
        f = sym.fmt
        max_qty = inst.max_qty
        band_down, band_up = _band(inst)
        low, high = _bounds(inst)
        symbols.append(
            {
                "symbol": sym.symbol,
                "status": "TRADING",
                "baseAsset": inst.base,
                "baseAssetPrecision": 8,
                "quoteAsset": inst.quote,
                "quotePrecision": 8,
                "quoteAssetPrecision": 8,
                "baseCommissionPrecision": 8,
                "quoteCommissionPrecision": 8,
                "orderTypes": [
                    "LIMIT",
                    "LIMIT_MAKER",
                    "MARKET",
                    "STOP_LOSS",
                    "STOP_LOSS_LIMIT",
                    "TAKE_PROFIT",
                    "TAKE_PROFIT_LIMIT",
                ],
                "icebergAllowed": True,
                "ocoAllowed": True,
                "otoAllowed": True,
                "quoteOrderQtyMarketAllowed": True,
                "allowTrailingStop": True,
                "cancelReplaceAllowed": True,
                "isSpotTradingAllowed": True,
                "isMarginTradingAllowed": False,
                "filters": [
                    {
                        "filterType": "PRICE_FILTER",
                        "minPrice": f.price(low),
                        "maxPrice": f.price(high),
                        "tickSize": f.price(inst.tick_size),
                    },
                    {
                        "filterType": "LOT_SIZE",
                        "minQty": f.qty(inst.min_qty),
                        "maxQty": f.qty(max_qty),
                        "stepSize": f.qty(inst.lot_step),
                    },
                    {"filterType": "ICEBERG_PARTS", "limit": 10},
                    {
                        "filterType": "MARKET_LOT_SIZE",
                        "minQty": f.qty(Decimal(0)),
                        "maxQty": f.qty(inst.max_market_qty or max_qty),
                        "stepSize": f.qty(Decimal(0)),
                    },
                    {
                        "filterType": "TRAILING_DELTA",
                        "minTrailingAboveDelta": 10,
                        "maxTrailingAboveDelta": 2000,
                        "minTrailingBelowDelta": 10,
                        "maxTrailingBelowDelta": 2000,
                    },
                    {
                        "filterType": "PERCENT_PRICE_BY_SIDE",
                        "bidMultiplierUp": format(band_up, "f"),
                        "bidMultiplierDown": format(band_down, "f"),
                        "askMultiplierUp": format(band_up, "f"),
                        "askMultiplierDown": format(band_down, "f"),
                        "avgPriceMins": 5,
                    },
                    {
                        "filterType": "NOTIONAL",
                        "minNotional": f.price(inst.min_notional),
                        "applyMinToMarket": True,
                        "maxNotional": "9000000.00000000",
                        "applyMaxToMarket": False,
                        "avgPriceMins": 5,
                    },
                    {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
                    {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": 5},
                ],
                "permissions": [],
                "permissionSets": [["SPOT"]],
                "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
                "allowedSelfTradePreventionModes": [
                    "EXPIRE_TAKER",
                    "EXPIRE_MAKER",
                    "EXPIRE_BOTH",
                ],
            }
        )
    return {
        "timezone": "UTC",
        "serverTime": now,
        "rateLimits": rate_limits(True, weight_limit),
        "exchangeFilters": [],
        "symbols": symbols,
    }


def futures_info(listings: Iterable[Listing], now: int, weight_limit: int) -> dict[str, object]:
    """USDⓈ-M ``/fapi/v1/exchangeInfo``."""
    symbols = []
    assets: dict[str, None] = {}
    for sym in listings:
        inst = sym.book.instrument
        f = sym.fmt
        band_down, band_up = _band(inst)
        low, high = _bounds(inst)
        assets.setdefault(inst.quote, None)
        symbols.append(
            {
                "symbol": sym.symbol,
                "pair": sym.symbol,
                "contractType": "PERPETUAL",
                "deliveryDate": 4133404800000,
                "onboardDate": 1569398400000,
                "status": "TRADING",
                "maintMarginPercent": "2.5000",
                "requiredMarginPercent": "5.0000",
                "baseAsset": inst.base,
                "quoteAsset": inst.quote,
                "marginAsset": inst.quote,
                "pricePrecision": places(inst.tick_size),
                "quantityPrecision": places(inst.lot_step),
                "baseAssetPrecision": 8,
                "quotePrecision": 8,
                "underlyingType": "COIN",
                "underlyingSubType": [],
                "settlePlan": 0,
                "triggerProtect": "0.0500",
                "liquidationFee": "0.012500",
                "marketTakeBound": "0.05",
                "filters": [
                    {
                        "minPrice": f.price(low),
                        "maxPrice": f.price(high),
                        "filterType": "PRICE_FILTER",
                        "tickSize": f.price(inst.tick_size),
                    },
                    {
                        "stepSize": f.qty(inst.lot_step),
                        "filterType": "LOT_SIZE",
                        "maxQty": f.qty(inst.max_qty),
                        "minQty": f.qty(inst.min_qty),
                    },
                    {
                        "stepSize": f.qty(inst.lot_step),
                        "filterType": "MARKET_LOT_SIZE",
                        "maxQty": f.qty(inst.max_market_qty or inst.max_qty),
                        "minQty": f.qty(inst.min_qty),
                    },
                    {"limit": 200, "filterType": "MAX_NUM_ORDERS"},
                    {"limit": 10, "filterType": "MAX_NUM_ALGO_ORDERS"},
                    {
                        "notional": format(inst.min_notional.normalize(), "f"),
                        "filterType": "MIN_NOTIONAL",
                    },
                    {
                        "multiplierDown": format(band_down, "f"),
                        "multiplierUp": format(band_up, "f"),
                        "multiplierDecimal": "4",
                        "filterType": "PERCENT_PRICE",
                    },
                ],
                "orderTypes": [
                    "LIMIT",
                    "MARKET",
                    "STOP",
                    "STOP_MARKET",
                    "TAKE_PROFIT",
                    "TAKE_PROFIT_MARKET",
                    "TRAILING_STOP_MARKET",
                ],
                "timeInForce": ["GTC", "IOC", "FOK", "GTX", "GTD"],
            }
        )
    return {
        "timezone": "UTC",
        "serverTime": now,
        "futuresType": "U_MARGINED",
        "rateLimits": rate_limits(False, weight_limit),
        "exchangeFilters": [],
        "assets": [
            {"asset": a, "marginAvailable": True, "autoAssetExchange": "-10000"} for a in assets
        ],
        "symbols": symbols,
    }


def coin_info(now: int, weight_limit: int) -> dict[str, object]:
    """COIN-M ``/dapi/v1/exchangeInfo`` with no symbols (the simulator lists none).

    Top-level keys as gocryptotrader's capture of the real answer
    (``exchanges/binance/testdata/http.json``, 2025-08); since 2026-06-30
    COIN-M shares the USDⓈ-M weight pool, so the weight limit is that one.
    """
    return {
        "timezone": "UTC",
        "serverTime": now,
        "rateLimits": [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": weight_limit,
            },
            {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
        ],
        "exchangeFilters": [],
        "symbols": [],
    }
