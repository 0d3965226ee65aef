"""Malformed-frame helpers of the ``malformed`` fault."""

from __future__ import annotations

import msgspec

from connector.sim.faults.plan import MalformedVariant

__all__ = ["corrupt_frame"]

_json_decoder = msgspec.json.Decoder()


def _retype_first(value: object) -> tuple[object, bool]:
    """Turn the first int into a string (or first numeric string into a float)."""
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, bool):
                continue
            if isinstance(v, int):
                value[k] = str(v)
                return value, True
        for k, v in value.items():
            new, done = _retype_first(v)
            if done:
                value[k] = new
                return value, True
        return value, False
    if isinstance(value, list):
        for i, v in enumerate(value):
            if isinstance(v, str):
                try:
                    value[i] = float(v)
                except ValueError:
                    continue
                return value, True
            new, done = _retype_first(v)
            if done:
                value[i] = new
                return value, True
    return value, False


def corrupt_frame(frame: str, variant: MalformedVariant) -> str:
    """Return a malformed copy of a JSON text frame.

    Variants: ``truncated`` (the first half of the text: invalid JSON),
    ``extra_field`` (an unknown ``"zz_unknown"`` key added to the top-level
    object) and ``wrong_type`` (the first integer field becomes a string, or
    the first numeric string in an array becomes a number).
    """
    if variant == "truncated":
        return frame[: max(1, len(frame) // 2)]
    try:
        value = _json_decoder.decode(frame)
    except msgspec.DecodeError:
        return frame[: max(1, len(frame) // 2)]
    if variant == "extra_field":
        if isinstance(value, dict):
            value = {**value, "zz_unknown": {"x": [1, "2"]}}
        return msgspec.json.encode(value).decode()
    value, _ = _retype_first(value)
    return msgspec.json.encode(value).decode()
