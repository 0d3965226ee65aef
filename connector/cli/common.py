"""What the ``connector`` commands share: options, config loading, stopping, batched output.

The data commands (sim, stream, book, demo, record, replay) each run under
:func:`run_stoppable`: a duration or the first Ctrl-C (SIGINT) or SIGTERM ends
the command's work cleanly (summaries still print); a second Ctrl-C
interrupts as usual.
"""

from __future__ import annotations

import argparse
import io
import math
import signal
import sys
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TextIO, TypeVar, cast

import structlog
import trio

from connector._groups import sole_error
from connector.config import Config, load_config
from connector.logs import LEVELS, configure_logging

__all__ = [
    "LOG_LEVELS",
    "WRITE_BATCH",
    "Command",
    "LineWriter",
    "add_config_option",
    "add_duration_option",
    "load",
    "load_for_view",
    "positive_float",
    "positive_int",
    "run_stoppable",
]

T = TypeVar("T")

LOG_LEVELS: tuple[str, ...] = tuple(LEVELS)

log = structlog.get_logger(__name__)

Command = Callable[[argparse.Namespace], int]
"""What a (sub)command runs: parsed arguments in, exit status out."""

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

WRITE_BATCH = 4096
"""Lines of output collected before one write, for stream and replay."""


def add_config_option(parser: argparse.ArgumentParser) -> None:
    """``-c/--config FILE``."""
    parser.add_argument(
        "-c",
        "--config",
        type=Path,
        default=None,
        metavar="FILE",
        help="TOML config (default: all venues on the built-in simulator)",
    )


def add_duration_option(parser: argparse.ArgumentParser) -> None:
    """``--duration S``."""
    parser.add_argument(
        "--duration",
        type=positive_float,
        default=None,
        metavar="S",
        help="stop after S seconds (default: run until Ctrl-C)",
    )


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


def load(args: argparse.Namespace) -> Config:
    """Load ``--config`` and set logging up from it, onto stderr."""
    config = load_config(args.config)
    configure_logging(config.logging.level, config.logging.format, stream=sys.stderr)
    return config


class _CurrentStderr(io.TextIOBase):
    """Writes to whatever ``sys.stderr`` is now, so rich.live can show logs above its view."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()


def load_for_view(args: argparse.Namespace, *, live: bool) -> Config:
    """Load the config; under a live view, log warnings and worse through rich."""
    if not live:
        return load(args)
    config = load_config(args.config)
    level = config.logging.level
    if LEVELS[level] < LEVELS["warning"]:
        level = "warning"
    configure_logging(level, config.logging.format, stream=cast(TextIO, _CurrentStderr()))
    return config


async def _watch_signals(
    scope: trio.CancelScope, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
) -> None:
    """Cancel ``scope`` at the first SIGINT or SIGTERM, then step aside."""
    if threading.current_thread() is not threading.main_thread():
        task_status.started()
        return
    with trio.open_signal_receiver(*_STOP_SIGNALS) as signals:
        task_status.started()
        async for signum in signals:
            log.info("cli.stopping", signal=signal.Signals(signum).name)
            scope.cancel()
            return


def run_stoppable(body: Callable[[trio.CancelScope], Awaitable[T]], duration: float | None) -> T:
    """``trio.run(body(stop))``; ``stop`` ends ``duration`` s after it is entered, or on a signal.

    The body enters ``stop`` around the part that should end (typically once
    its connector is up) and carries on after it to print summaries.
    """
    stop = trio.CancelScope(relative_deadline=duration if duration is not None else math.inf)

    async def run() -> T:
        async with trio.open_nursery() as nursery:
            await nursery.start(_watch_signals, stop)
            try:
                return await body(stop)
            finally:
                nursery.cancel_scope.cancel()

    try:
        return trio.run(run)
    except BaseExceptionGroup as group:
        error = sole_error(group, ignore=trio.Cancelled)
        if error is not None:
            raise error from None
        raise


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
