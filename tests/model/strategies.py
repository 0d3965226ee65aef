"""Hypothesis strategies for every model value, derived from the attrs field types.

``values_of(cls)`` builds any attrs class of ``connector.model`` from its resolved
field types (every field drawn, defaults included), so a new model class or
field is covered without touching this file.
"""

from __future__ import annotations

import collections.abc
import datetime as dt
import enum
import types
import typing
from decimal import Decimal

import attrs
import msgspec
from hypothesis import strategies as st

from connector.model import BookLevel, Symbol, SymbolKind

__all__ = ["assets", "decimals", "symbols", "values_of"]

assets = st.from_regex(r"[A-Z0-9]{1,20}", fullmatch=True)

# Years below 1000 are left out: see test_symbols.py (zero padding of the expiry).
expiries = st.dates(min_value=dt.date(1000, 1, 1), max_value=dt.date(9999, 12, 31))


@st.composite
def symbols(draw: st.DrawFn) -> Symbol:
    """Any valid canonical symbol: SPOT, PERP, or FUT with an expiry."""
    kind = draw(st.sampled_from(SymbolKind))
    expiry = draw(expiries) if kind is SymbolKind.FUT else None
    return Symbol(draw(assets), draw(assets), kind, expiry)


def decimals() -> st.SearchStrategy[Decimal]:
    """Finite decimals of any exponent a venue could send, sign included."""
    return st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(
        lambda d: -30 <= d.as_tuple().exponent <= 10  # type: ignore[operator]
    )


book_levels = st.builds(BookLevel, decimals(), decimals())
ints = st.integers(min_value=-(2**63), max_value=2**63 - 1)


def strategy_for(tp: object) -> st.SearchStrategy[object]:
    """A strategy for one resolved field type."""
    if tp is Decimal:
        return decimals()
    if tp is Symbol:
        return symbols()
    if tp is BookLevel:
        return book_levels
    if tp is bool:
        return st.booleans()
    if tp is int:
        return ints
    if tp is str:
        return st.text(max_size=30)
    if tp is dt.date:
        return expiries
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return st.sampled_from(tp)
    if isinstance(tp, type) and (attrs.has(tp) or issubclass(tp, msgspec.Struct)):
        return values_of(tp)
    if isinstance(tp, type) and issubclass(tp, tuple) and hasattr(tp, "_fields"):
        hints = typing.get_type_hints(tp)
        parts = [strategy_for(hints[name]) for name in tp._fields]
        return st.tuples(*parts).map(lambda args: tp(*args))
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (types.UnionType, typing.Union):
        return st.one_of(*(strategy_for(a) for a in args))
    if tp is type(None):
        return st.none()
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return st.lists(strategy_for(args[0]), max_size=4).map(tuple)
    if origin is collections.abc.Sequence:
        return st.lists(strategy_for(args[0]), max_size=4).map(tuple)
    raise TypeError(f"no strategy for field type {tp!r}; add one to tests/model/strategies.py")


def values_of(cls: type) -> st.SearchStrategy[object]:
    """Instances of ``cls`` (an attrs class or named tuple), every field drawn from its type."""
    if cls is Symbol:
        return symbols()
    if isinstance(cls, type) and issubclass(cls, msgspec.Struct):
        return st.builds(cls, **{f.name: strategy_for(f.type) for f in msgspec.structs.fields(cls)})
    if not attrs.has(cls):
        return strategy_for(cls)
    fields = attrs.fields(attrs.resolve_types(cls))
    kwargs = {f.name: strategy_for(f.type) for f in fields if f.init}
    if all(f.kw_only for f in fields):
        return st.builds(cls, **kwargs)
    ordered = [kwargs[f.name] for f in fields if f.init]
    return st.tuples(*ordered).map(lambda args: cls(*args))
