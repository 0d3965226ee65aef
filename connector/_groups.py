"""Exception groups, as trio nurseries raise them, seen from the user's side."""

from __future__ import annotations

__all__ = ["leaves", "sole_error"]


def leaves(exc: BaseException) -> list[BaseException]:
    """Every non-group exception inside ``exc`` (``[exc]`` when it is not a group)."""
    if isinstance(exc, BaseExceptionGroup):
        found: list[BaseException] = []
        for inner in exc.exceptions:
            found.extend(leaves(inner))
        return found
    return [exc]


def sole_error(
    group: BaseExceptionGroup[BaseException], ignore: type[BaseException] | None = None
) -> BaseException | None:
    """The one real error in ``group`` (leaves of type ``ignore`` don't count), or ``None``."""
    real = [leaf for leaf in leaves(group) if ignore is None or not isinstance(leaf, ignore)]
    return real[0] if len(real) == 1 else None
