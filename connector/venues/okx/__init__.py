"""OKX v5 (spot, swap, futures): sans-I/O symbols, frame parsing, streams, book sync."""

from connector.venues.okx.checksum import book_checksum, okx_checksum
from connector.venues.okx.parse import Event, decode_frame, parse_books_snapshot
from connector.venues.okx.symbols import VENUE, build_symbol_map, market_of, parse_instruments
from connector.venues.okx.sync import OkxSync, OkxSyncStatistics

__all__ = [
    "VENUE",
    "Event",
    "OkxSync",
    "OkxSyncStatistics",
    "book_checksum",
    "build_symbol_map",
    "decode_frame",
    "market_of",
    "okx_checksum",
    "parse_books_snapshot",
    "parse_instruments",
]
