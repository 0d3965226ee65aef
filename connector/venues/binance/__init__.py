"""Binance spot and USDⓈ-M futures: the sans-I/O parts (symbols, parse, sync, streams).

The trio session that drives them lives in ``session.py`` (not sans-I/O).
"""

from connector.venues.binance.parse import (
    BinanceEvent,
    decode_frame,
    parse_depth_snapshot,
)
from connector.venues.binance.symbols import (
    ParsedInstruments,
    build_symbol_map,
    parse_exchange_info,
    parse_exchange_info_report,
)
from connector.venues.binance.sync import BinanceFuturesSync, BinanceSpotSync

__all__ = [
    "BinanceEvent",
    "BinanceFuturesSync",
    "BinanceSpotSync",
    "ParsedInstruments",
    "build_symbol_map",
    "decode_frame",
    "parse_depth_snapshot",
    "parse_exchange_info",
    "parse_exchange_info_report",
]
