"""The OKX order-book checksum: CRC32 of the top 25 levels, as a signed 32-bit int.

The checked text interleaves the best 25 bids and asks, best first, as
``bid_px:bid_sz:ask_px:ask_sz:...``; when one side is shorter the other
side's remaining levels follow alone. Prices and sizes must be the venue's own
text (``"0.10"`` is not ``"0.1"``). A book keeps :class:`~decimal.Decimal`
levels parsed from that text; a Decimal keeps every digit and the exponent it
was written with, so ``format(value, "f")`` gives the venue's text back exactly
for the plain decimal numbers OKX sends (``str()`` would not: it writes
``6.2E-7`` for ``"0.00000062"``).

Vectors: ``okx_checksum_vectors.json`` (OKEx v3 docs examples and three real
snapshots). The v5 docs ``books`` example states a checksum its own levels do
not produce; it is not a vector.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from connector.book.orderbook import OrderBook

__all__ = ["CHECKSUM_DEPTH", "book_checksum", "checksum_text", "okx_checksum"]

CHECKSUM_DEPTH = 25
"""Levels per side the checksum covers."""

Level = Sequence[str | Decimal]
"""A level as ``(price, size, ...)``: the venue's text, or Decimals parsed from it."""


def checksum_text(bids: Sequence[Level], asks: Sequence[Level]) -> str:
    """The text OKX checksums: the top 25 levels, interleaved bid/ask, ``:``-joined."""
    parts: list[str] = []
    append = parts.append
    for i in range(CHECKSUM_DEPTH):
        if i < len(bids):
            bid = bids[i]
            append(_text(bid[0]))
            append(_text(bid[1]))
        if i < len(asks):
            ask = asks[i]
            append(_text(ask[0]))
            append(_text(ask[1]))
    return ":".join(parts)


def okx_checksum(bids: Sequence[Level], asks: Sequence[Level]) -> int:
    """CRC32 (zlib) of :func:`checksum_text` as a signed 32-bit int, as OKX sends it.

    Args:
        bids: Best first; only the first 25 are used.
        asks: Best first; only the first 25 are used.
    """
    crc = zlib.crc32(checksum_text(bids, asks).encode("ascii"))
    return crc - (1 << 32) if crc >= 1 << 31 else crc


def book_checksum(book: OrderBook) -> int:
    """:func:`okx_checksum` of a book's top 25 levels per side."""
    return okx_checksum(book.bid_texts(CHECKSUM_DEPTH), book.ask_texts(CHECKSUM_DEPTH))


def _text(value: str | Decimal) -> str:
    if isinstance(value, str):
        return value
    return format(value, "f")
