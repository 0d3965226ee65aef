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
"""

from __future__ import annotations

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
    """

    send_buffer: int = 10_000

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """Every setting name of this class, sorted."""
        return tuple(sorted(f.name for f in attrs.fields(cls)))

    @classmethod
    def from_options(cls, values: Mapping[str, object], venue: str) -> Self:
        """The settings from ``sim.run(settings={venue: {...}})``; defaults for the rest.

        Raises:
            ConfigError: a setting the front-end does not have.
        """
        known = cls.names()
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ConfigError(
                f"sim {venue}: unknown setting {', '.join(unknown)}; known: {', '.join(known)}"
            )
        # Values come from TOML, JSON or the command line: the attrs class is their schema.
        given: dict[str, Any] = dict(values)
        return cls(**given)
