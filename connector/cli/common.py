"""What the ``connector`` commands share: options, config loading, stopping, batched output.

The parts that need neither trio nor the config (argument types, batched
output) live in :mod:`.basics`, for commands that start light (``replay``);
they are re-exported here.

The data commands (sim, stream, book, demo, record) each run under
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
from connector.cli.basics import (
    LOG_LEVELS,
    WRITE_BATCH,
    LineWriter,
    non_negative_float,
    positive_float,
    positive_int,
)
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
    "non_negative_float",
    "positive_float",
    "positive_int",
    "run_stoppable",
]

T = TypeVar("T")

log = structlog.get_logger(__name__)

Command = Callable[[argparse.Namespace], int]
"""What a (sub)command runs: parsed arguments in, exit status out."""

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


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
