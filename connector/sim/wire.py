"""Wire helpers every front-end shares: compact JSON text and trimmed decimals."""

from __future__ import annotations

from decimal import Decimal

import msgspec

__all__ = ["encode", "format_trim"]

_enc = msgspec.json.Encoder()


def encode(value: object) -> str:
    """Compact JSON text of ``value`` (dict key order kept)."""
    return _enc.encode(value).decode()


def format_trim(value: Decimal) -> str:
    """Plain decimal string without trailing zeros (``"65140"``, ``"0.014"``, ``"30243.5"``).

    As Bybit spot and OKX send numbers.
    """
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"
