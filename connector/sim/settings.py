"""One way for every front-end to declare and validate its settings.

A front-end declares its knobs as a frozen attrs subclass of
:class:`FrontendSettings` (real venue values as defaults) and reads them with
:meth:`FrontendSettings.from_options`, which refuses a name the class does not
have (a typo would otherwise be ignored silently) and names the known ones::

    @attrs.frozen(kw_only=True)
    class OkxSettings(FrontendSettings):
        idle_timeout: float | None = 30.0

    settings = OkxSettings.from_options(options.settings, "okx")

``sim.run(settings={"okx": {"idle_timeout": 5.0}})`` and ``connector sim
--setting okx.idle_timeout=5`` end up there.

The class is the schema of the values: each must be of its field's type
(``bool``, ``int``, ``float``, ``str``, ``None`` where the type allows it, a
mapping of those), and a number, being a count, a size, a limit or a time span,
is finite and more than 0, unless the field's metadata lowers the bound
(``attrs.field(default=0.0, metadata={"minimum": 0})``: 0 or more).
"""

from __future__ import annotations

import math
import types
import typing
from collections.abc import Mapping
from typing import Any, Self

import attrs

from connector.errors import ConfigError

__all__ = ["FrontendSettings"]


@attrs.frozen(kw_only=True)
class FrontendSettings:
    """Settings every front-end has; venue classes add theirs.

    Attributes:
        send_buffer: Outgoing frames buffered per websocket connection before
            it counts as a slow consumer (see :class:`~connector.sim.ws.WsSettings`).
        latency: Seconds every REST answer and websocket frame of the venue
            takes to reach the client: the network between a real venue and
            its clients, one way (0: none; see
            :class:`~connector.sim.server.VenueServer`).
    """

    send_buffer: int = 10_000
    latency: float = attrs.field(
        default=0.0, metadata={"minimum": 0, "expected": "a number of seconds, 0 or more"}
    )

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """Every setting name of this class, sorted."""
        return tuple(sorted(f.name for f in attrs.fields(cls)))

    @classmethod
    def from_options(cls, values: Mapping[str, object], venue: str) -> Self:
        """The settings from ``sim.run(settings={venue: {...}})``; defaults for the rest.

        Raises:
            ConfigError: a setting the front-end does not have, or a value that is
                not of its field's type or not in its range; one problem per setting.
        """
        known = cls.names()
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ConfigError(
                f"sim {venue}: unknown setting {', '.join(unknown)}; known: {', '.join(known)}"
            )
        hints = typing.get_type_hints(cls)
        problems: list[str] = []
        for field in attrs.fields(cls):
            if field.name not in values:
                continue
            value = values[field.name]
            minimum = field.metadata.get("minimum")
            if not _accepts(hints[field.name], value, minimum):
                expected = field.metadata.get("expected") or _describe(hints[field.name], minimum)
                problems.append(f"sim {venue}: {field.name} must be {expected}; got {value!r}")
        if problems:
            raise ConfigError("; ".join(problems), tuple(problems))
        # Values come from TOML, JSON or the command line: checked against the class above.
        given: dict[str, Any] = dict(values)
        return cls(**given)


def _above(number: float, minimum: float | None) -> bool:
    return number > 0 if minimum is None else number >= minimum


def _accepts(hint: object, value: object, minimum: float | None) -> bool:
    """Whether ``value`` is of type ``hint`` (and a number at least its bound)."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        return any(_accepts(arg, value, minimum) for arg in args)
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool) and _above(value, minimum)
    if hint is float:
        return (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and math.isfinite(value)
            and _above(value, minimum)
        )
    if hint is str:
        return isinstance(value, str)
    if origin is tuple:
        return (
            isinstance(value, tuple)
            and len(value) == len(args)
            and all(_accepts(arg, item, None) for arg, item in zip(args, value, strict=True))
        )
    if origin in (Mapping, dict):
        key_type, item_type = args
        return isinstance(value, Mapping) and all(
            _accepts(key_type, key, None) and _accepts(item_type, item, None)
            for key, item in value.items()
        )
    return True  # a type this schema does not describe: the front-end checks it


def _describe(hint: object, minimum: float | None) -> str:
    """What a value of type ``hint`` is, for a problem line."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        kinds = [_describe(arg, minimum) for arg in args if arg is not type(None)]
        return " or ".join(kinds) + (", or null" if type(None) in args else "")
    bound = "more than 0" if minimum is None else f"{minimum} or more"
    if hint is bool:
        return "true or false"
    if hint is int:
        return f"an integer, {bound}"
    if hint is float:
        return f"a number, {bound}"
    if hint is str:
        return "a string"
    if origin in (Mapping, dict):
        return f"a table of {_describe(args[0], None)} to {_describe(args[1], None)}"
    if origin is tuple:
        return f"a list of {len(args)} values"
    return getattr(hint, "__name__", str(hint))
