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

import math
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
    latency: float = 0.0

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """Every setting name of this class, sorted."""
        return tuple(sorted(f.name for f in attrs.fields(cls)))

    @classmethod
    def from_options(cls, values: Mapping[str, object], venue: str) -> Self:
        """The settings from ``sim.run(settings={venue: {...}})``; defaults for the rest.

        Raises:
            ConfigError: a setting the front-end does not have, or a latency
                that is not a number of seconds, 0 or more.
        """
        known = cls.names()
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ConfigError(
                f"sim {venue}: unknown setting {', '.join(unknown)}; known: {', '.join(known)}"
            )
        # Values come from TOML, JSON or the command line: the attrs class is their schema.
        given: dict[str, Any] = dict(values)
        latency = given.get("latency", 0.0)
        if (
            isinstance(latency, bool)
            or not isinstance(latency, int | float)
            or not math.isfinite(latency)
            or latency < 0
        ):
            raise ConfigError(
                f"sim {venue}: latency must be a number of seconds, 0 or more; got {latency!r}"
            )
        return cls(**given)
