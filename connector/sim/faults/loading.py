"""Fault plans from TOML files and mappings, with the builders' kinds and parameters.

A file (``connector sim --faults FILE``, :meth:`FaultPlan.from_toml
<connector.sim.faults.FaultPlan.from_toml>`) holds an optional ``seed`` and
one ``[[fault]]`` table per rule, in order. ``kind`` names a builder of
:class:`~connector.sim.faults.FaultPlan`; the other keys are that builder's
keyword arguments, with its defaults::

    seed = 7

    [[fault]]
    kind = "drop"
    fraction = 0.01
    venue = "binance"
    stream = "depth"

    [[fault]]
    kind = "rest_error"
    fraction = 0.1
    status = 503
    venue = "bybit"
    path = "/v5/market"

Kinds: ``drop``, ``duplicate``, ``reorder``, ``delay``, ``disconnect``,
``stall``, ``refuse_connections`` (alias ``refuse``), ``rest_error``,
``rest_rate_limited`` (alias ``rest_429``), ``slow_rest`` (alias
``rest_slow``), ``late_rest`` (alias ``rest_late``), ``rest_error_after``,
``stream_terminated``, ``server_shutdown``, ``listen_key_expired``,
``clock_skew``, ``stale_snapshot``, ``corrupt_checksum``, ``restart_snapshot``,
``malformed``. Every problem (an unknown kind or key, a
missing parameter, a value of the wrong type or out of range) is reported in
one :class:`~connector.errors.ConfigError` that names the rule, the key and
what is allowed.
"""

from __future__ import annotations

import inspect
import math
import tomllib
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from connector.errors import ConfigError
from connector.sim.faults.plan import FaultKind, FaultPlan, MalformedVariant
from connector.sim.instruments import VENUE_MARKETS

if TYPE_CHECKING:
    from os import PathLike

__all__ = ["KINDS", "MAX_SKEW_MS", "plan_from_mapping", "plan_from_toml"]

#: Kind name in a file -> the :class:`FaultPlan` builder it calls.
KINDS: dict[str, str] = {
    "drop": "drop",
    "duplicate": "duplicate",
    "reorder": "reorder",
    "delay": "delay",
    "disconnect": "disconnect",
    "stall": "stall",
    "refuse_connections": "refuse_connections",
    "rest_error": "rest_error",
    "rest_rate_limited": "rest_rate_limited",
    "slow_rest": "slow_rest",
    "late_rest": "late_rest",
    "rest_error_after": "rest_error_after",
    "stream_terminated": "stream_terminated",
    "server_shutdown": "server_shutdown",
    "listen_key_expired": "listen_key_expired",
    "clock_skew": "clock_skew",
    "stale_snapshot": "stale_snapshot",
    "corrupt_checksum": "corrupt_checksum",
    "restart_snapshot": "restart_snapshot",
    "malformed": "malformed",
    # The FaultKind values that differ from their builder's name.
    FaultKind.REFUSE.value: "refuse_connections",
    FaultKind.REST_429.value: "rest_rate_limited",
    FaultKind.REST_SLOW.value: "slow_rest",
    FaultKind.REST_LATE.value: "late_rest",
}

_TOP_KEYS = ("fault", "seed")
_VENUES = tuple(VENUE_MARKETS)
_MARKETS = tuple(sorted({m for markets in VENUE_MARKETS.values() for m in markets}))
_VARIANTS: tuple[str, ...] = typing.get_args(MalformedVariant)

# A check returns the value to pass to the builder, or raises ValueError saying what is allowed.
_Check = Callable[[object], object]


MAX_SKEW_MS = 86_400_000
"""The largest clock skew a plan file may ask for, either way: a day, far past every
venue's time window (Binance's ``recvWindow`` at most 60 s, OKX's 30 s), while the
venue clock stays a date the candles and timestamps can be computed for."""


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("expected a number")
    if not math.isfinite(value):
        raise ValueError("expected a finite number")
    return float(value)


def _integer(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("expected an integer")
    return value


def _fraction(value: object) -> float:
    number = _number(value)
    if not 0.0 <= number <= 1.0:
        raise ValueError("expected a fraction from 0 to 1")
    return number


def _seconds(value: object) -> float:
    number = _number(value)
    if number < 0:
        raise ValueError("expected seconds, 0 or more")
    return number


def _positive(value: object) -> int:
    number = _integer(value)
    if number < 1:
        raise ValueError("expected an integer, 1 or more")
    return number


def _skew(value: object) -> int:
    number = _integer(value)
    if not -MAX_SKEW_MS <= number <= MAX_SKEW_MS:
        raise ValueError(f"expected an integer from {-MAX_SKEW_MS} to {MAX_SKEW_MS} (a day)")
    return number


def _status(value: object) -> int:
    number = _integer(value)
    if not 400 <= number <= 599:
        raise ValueError("expected an HTTP error status from 400 to 599")
    return number


def _times(value: object) -> tuple[float, ...]:
    if not isinstance(value, list | tuple):
        raise ValueError("expected a list of seconds since the start, e.g. [5, 12.5]")
    try:
        return tuple(_seconds(item) for item in value)
    except ValueError:
        raise ValueError("expected a list of seconds (0 or more) since the start") from None


def _one_of(allowed: tuple[str, ...]) -> _Check:
    def check(value: object) -> str:
        if not isinstance(value, str) or value not in allowed:
            raise ValueError(f"expected one of {', '.join(allowed)}")
        return value

    return check


def _text(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("expected a non-empty string")
    return value


def _path(value: object) -> str:
    if not isinstance(value, str) or not value.startswith("/"):
        raise ValueError("expected a URL path starting with '/', e.g. \"/api/v3/depth\"")
    return value


#: Parameter name (as the builders spell it) -> its check.
_CHECKS: dict[str, _Check] = {
    "fraction": _fraction,
    "seconds": _seconds,
    "retry_after": _seconds,
    "start": _seconds,
    "after_frames": _positive,
    "max_count": _positive,
    "updates": _positive,
    "at": _times,
    "status": _status,
    "ms": _skew,
    "variant": _one_of(_VARIANTS),
    "venue": _one_of(_VENUES),
    "market": _one_of(_MARKETS),
    "stream": _text,
    "path": _path,
    "method": _one_of(("GET", "POST", "PUT", "DELETE")),
    "code": _integer,
}


def _parameters(builder: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(every keyword, the required ones)`` of one builder, read from its signature."""
    signature = inspect.signature(getattr(FaultPlan, builder))
    params = [p for p in signature.parameters.values() if p.name != "self"]
    required = tuple(p.name for p in params if p.default is inspect.Parameter.empty)
    return tuple(sorted(p.name for p in params)), required


def _rule(plan: FaultPlan, where: str, table: object, problems: list[str]) -> FaultPlan:
    """``plan`` with the rule of one ``[[fault]]`` table; problems are appended, not raised."""
    if not isinstance(table, Mapping):
        problems.append(f"{where}: expected a table with a 'kind' key")
        return plan
    kind = table.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        shown = "missing" if kind is None else repr(kind)
        problems.append(f"{where}: kind {shown}: expected one of {', '.join(sorted(KINDS))}")
        return plan
    builder = KINDS[kind]
    where = f"{where} ({kind})"
    allowed, required = _parameters(builder)
    given = {key: value for key, value in table.items() if key != "kind"}
    count = len(problems)
    for key in sorted(set(given) - set(allowed)):
        problems.append(f"{where}: unknown key {key!r}; allowed: kind, {', '.join(allowed)}")
    for key in required:
        if key not in given:
            problems.append(f"{where}: missing {key!r}")
    kwargs: dict[str, object] = {}
    for key in sorted(set(given) & set(allowed)):
        try:
            kwargs[key] = _CHECKS[key](given[key])
        except ValueError as exc:
            problems.append(f"{where}: {key} = {given[key]!r}: {exc}")
    if len(problems) > count:
        return plan
    build: Callable[..., FaultPlan] = getattr(plan, builder)
    return build(**kwargs)


def plan_from_mapping(data: Mapping[str, object], *, source: str = "fault plan") -> FaultPlan:
    """The plan described by ``data`` (a parsed TOML document, or the same shape).

    Args:
        data: ``{"seed": 7, "fault": [{"kind": "drop", "fraction": 0.01}, ...]}``.
        source: What to call the input in error messages (a file name).

    Returns:
        The plan, rules in the order given.

    Raises:
        ConfigError: Listing every problem found.
    """
    problems: list[str] = []
    for key in sorted(set(data) - set(_TOP_KEYS)):
        problems.append(
            f"{source}: unknown key {key!r}; allowed: seed, [[fault]] tables"
            " (each with a kind and that kind's parameters)"
        )
    seed = data.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        problems.append(f"{source}: seed = {seed!r}: expected an integer")
        seed = 0
    plan = FaultPlan(seed=seed)
    faults = data.get("fault", [])
    if not isinstance(faults, list):
        problems.append(f"{source}: fault: expected [[fault]] tables (an array of tables)")
        faults = []
    for index, table in enumerate(faults):
        plan = _rule(plan, f"{source}: fault[{index}]", table, problems)
    if problems:
        raise ConfigError(
            problems[0] if len(problems) == 1 else "; ".join(problems), tuple(problems)
        )
    return plan


def plan_from_toml(path: str | PathLike[str]) -> FaultPlan:
    """The plan in the TOML file at ``path`` (format: this module's docstring).

    Raises:
        ConfigError: The file cannot be read or parsed, or describes a bad plan.
    """
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read the fault plan: {exc.strerror or exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from exc
    return plan_from_mapping(data, source=str(file))
