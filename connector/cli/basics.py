"""What any ``connector`` command may use without loading trio or the config.

Argument types and batched output: :mod:`.common` re-exports them beside what
needs more (config loading, stopping). ``replay`` imports only this, so its
process starts light.
"""

from __future__ import annotations

import argparse
import sys

from connector.logs import LEVELS

__all__ = ["LOG_LEVELS", "WRITE_BATCH", "LineWriter", "positive_float", "positive_int"]

LOG_LEVELS: tuple[str, ...] = tuple(LEVELS)

WRITE_BATCH = 4096
"""Lines of output collected before one write, for stream and replay."""


def positive_int(text: str) -> int:
    """An argument that must be a whole number >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def positive_float(text: str) -> float:
    """An argument that must be a finite number of seconds > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number of seconds")
    return value


def non_negative_float(text: str) -> float:
    """An argument that must be a finite number >= 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite number, 0 or more")
    return value


class LineWriter:
    """Collects output lines and writes them to stdout in batches.

    Holds at most :data:`WRITE_BATCH` lines; reaching that writes them out.
    """

    def __init__(self) -> None:
        self._lines: list[str] = []
        self.written = 0

    def add(self, line: str) -> None:
        self._lines.append(line)
        if len(self._lines) >= WRITE_BATCH:
            self.flush()

    def flush(self) -> None:
        if self._lines:
            sys.stdout.write("\n".join(self._lines) + "\n")
            self.written += len(self._lines)
            self._lines.clear()
        sys.stdout.flush()
