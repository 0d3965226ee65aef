"""JSON-safe conversion of every model value (cattrs).

Decimal becomes its exact string in positional notation (``0.00000001``, never
``1E-8``: what the venues send and what JSON readers and people expect),
``Symbol`` its canonical text, enums their value, dates ISO text.
``converter.unstructure(x)`` gives data ``json.dumps`` accepts;
``converter.structure(data, type(x)) == x``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

import cattrs
import msgspec

from connector.model.levels import JsonLevels
from connector.model.market import BookLevel, VenueLevel
from connector.model.symbols import Symbol

__all__ = ["converter", "structure", "unstructure"]


def _decimal(value: object, _: object) -> Decimal:
    if isinstance(value, float):
        raise ValueError(f"refusing float {value!r} for a Decimal field: send it as a string")
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a decimal number") from None
    if not result.is_finite():
        raise ValueError(f"{value!r} is not a finite decimal number")
    return result


def _decimal_text(value: Decimal) -> str:
    text = str(value)  # the common case, three times faster than format()
    return text if "E" not in text else format(value, "f")


def _symbol(value: object, _: object) -> Symbol:
    if isinstance(value, Symbol):
        return value
    return Symbol.parse(str(value))


def _level(value: object, _: object) -> BookLevel:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ValueError(f"{value!r} is not a [price, qty] pair")
    return BookLevel(_decimal(value[0], None), _decimal(value[1], None))


def _venue_level(value: object, _: object) -> VenueLevel:
    if not isinstance(value, list | tuple) or len(value) != 3 or not isinstance(value[0], str):
        raise ValueError(f"{value!r} is not a [venue, price, qty] triple")
    return VenueLevel(value[0], _decimal(value[1], None), _decimal(value[2], None))


def _is_struct(cls: object) -> bool:
    return isinstance(cls, type) and issubclass(cls, msgspec.Struct)


def _struct_hooks(conv: cattrs.Converter) -> None:
    """Frozen ``msgspec.Struct`` values (the hot-path book events) as dicts, like attrs ones."""

    def unstructure_struct(value: msgspec.Struct) -> dict[str, object]:
        return {
            f.name: conv.unstructure(getattr(value, f.name), unstructure_as=f.type)
            for f in msgspec.structs.fields(value)
        }

    def structure_struct(data: object, cls: type[msgspec.Struct]) -> msgspec.Struct:
        if not isinstance(data, dict):
            raise ValueError(f"{data!r} is not a {cls.__name__} object")
        kwargs = {
            f.name: conv.structure(data[f.name], f.type)
            for f in msgspec.structs.fields(cls)
            if f.name in data
        }
        return cls(**kwargs)

    conv.register_unstructure_hook_func(_is_struct, unstructure_struct)
    conv.register_structure_hook_func(_is_struct, structure_struct)


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter()
    _struct_hooks(conv)
    conv.register_unstructure_hook(Decimal, _decimal_text)
    conv.register_structure_hook(Decimal, _decimal)
    conv.register_unstructure_hook(Symbol, str)
    conv.register_structure_hook(Symbol, _symbol)
    conv.register_unstructure_hook(
        BookLevel, lambda lv: [_decimal_text(lv.price), _decimal_text(lv.qty)]
    )
    conv.register_structure_hook(BookLevel, _level)
    # Book sides are Sequence[BookLevel]: unstructured as lists, structured as tuples.
    conv.register_unstructure_hook(
        JsonLevels, lambda lv: [[_decimal_text(p), _decimal_text(q)] for p, q in lv]
    )
    conv.register_structure_hook_func(
        lambda t: t == Sequence[BookLevel], lambda v, _: tuple(_level(item, None) for item in v)
    )
    conv.register_unstructure_hook(
        VenueLevel, lambda lv: [lv.venue, _decimal_text(lv.price), _decimal_text(lv.qty)]
    )
    conv.register_structure_hook(VenueLevel, _venue_level)
    conv.register_unstructure_hook(dt.date, dt.date.isoformat)
    conv.register_structure_hook(dt.date, lambda v, _: dt.date.fromisoformat(v))
    return conv


converter = _make_converter()
unstructure = converter.unstructure
structure = converter.structure
