"""Bybit v5 (spot and linear): sans-I/O symbols, frame parsing, streams and book sync."""

from connector.venues.bybit.parse import (
    Event,
    StreamState,
    decode_frame,
    parse_orderbook_snapshot,
)
from connector.venues.bybit.symbols import VENUE, build_symbol_map, parse_instruments
from connector.venues.bybit.sync import BybitSync, BybitSyncStatistics

__all__ = [
    "VENUE",
    "BybitSync",
    "BybitSyncStatistics",
    "Event",
    "StreamState",
    "build_symbol_map",
    "decode_frame",
    "parse_instruments",
    "parse_orderbook_snapshot",
]
