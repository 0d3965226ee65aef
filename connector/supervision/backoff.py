"""Capped exponential backoff with jitter between restarts of one child.

Pure arithmetic: the caller passes the attempt number and its own
:class:`random.Random`, so a seeded generator makes every delay reproducible.
"""

from __future__ import annotations

import random

import attrs

__all__ = ["Backoff"]


def _non_negative(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must be >= 0, got {value!r}")


@attrs.frozen(kw_only=True)
class Backoff:
    """How long a supervisor waits before restarting a child that keeps failing.

    The n-th consecutive restart (n >= 1) waits
    ``min(maximum, initial * multiplier ** (n - 1))`` seconds, then scaled by a
    random factor in ``[1 - jitter, 1 + jitter]`` and capped at ``maximum`` again.

    Reset rule: the consecutive count goes back to zero when the child had been
    running (since it called ``task_status.started()``) for at least
    ``reset_after`` seconds before it ended; ``reset_after`` defaults to
    ``maximum``. A child that fails before it reports ready never resets it.

    Args:
        initial: Delay before the first restart, in seconds.
        maximum: Upper bound of any delay, in seconds.
        multiplier: Growth factor per consecutive restart (>= 1).
        jitter: Relative spread of the random factor, in ``[0, 1]``.
        reset_after: Uptime in seconds that resets the count; ``None`` means ``maximum``.
    """

    initial: float = attrs.field(default=0.1, validator=_non_negative)
    maximum: float = attrs.field(default=10.0, validator=_non_negative)
    multiplier: float = attrs.field(default=2.0)
    jitter: float = attrs.field(default=0.2)
    reset_after: float | None = attrs.field(default=None)

    @multiplier.validator
    def _check_multiplier(self, attribute: attrs.Attribute[float], value: float) -> None:
        if value < 1:
            raise ValueError(f"multiplier must be >= 1, got {value!r}")

    @jitter.validator
    def _check_jitter(self, attribute: attrs.Attribute[float], value: float) -> None:
        if not 0 <= value <= 1:
            raise ValueError(f"jitter must be within [0, 1], got {value!r}")

    @property
    def reset_uptime(self) -> float:
        """Uptime in seconds after which the consecutive count resets."""
        return self.maximum if self.reset_after is None else self.reset_after

    def base_delay(self, attempt: int) -> float:
        """The delay before the ``attempt``-th consecutive restart, without jitter.

        Args:
            attempt: 1 for the first restart after a reset, 2 for the next, ...

        Returns:
            Seconds, at most ``maximum``; ``0.0`` for ``attempt < 1``.
        """
        if attempt < 1:
            return 0.0
        delay = self.initial
        # Multiply step by step so a large attempt number cannot overflow a float.
        for _ in range(attempt - 1):
            if delay >= self.maximum:
                break
            delay *= self.multiplier
        return min(self.maximum, delay)

    def delay(self, attempt: int, rng: random.Random) -> float:
        """The jittered delay before the ``attempt``-th consecutive restart.

        Args:
            attempt: 1 for the first restart after a reset, 2 for the next, ...
            rng: Source of the jitter; seed it for reproducible delays.

        Returns:
            Seconds in ``[0, maximum]``.
        """
        base = self.base_delay(attempt)
        if base == 0.0 or self.jitter == 0.0:
            return base
        factor = 1.0 + self.jitter * rng.uniform(-1.0, 1.0)
        return min(self.maximum, max(0.0, base * factor))
