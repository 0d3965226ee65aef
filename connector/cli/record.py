"""``connector record FILE``: write every market-data frame and REST body to a capture file
(nothing trades: a capture holds no account data, and the event store stays free)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import structlog
import trio

from connector.cli.common import add_config_option, add_duration_option, load, run_stoppable
from connector.errors import UsageError

__all__ = ["add_parser", "run"]

log = structlog.get_logger(__name__)


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``record`` to the command parsers."""
    record = commands.add_parser(
        "record", help="write every market-data frame and REST body to a capture"
    )
    record.add_argument("file", type=Path, metavar="FILE", help="capture file ('.zst' compresses)")
    add_config_option(record)
    add_duration_option(record)
    record.set_defaults(command=run)


def run(args: argparse.Namespace) -> int:
    """Run ``connector record``."""
    from connector.connector import Connector

    path: Path = args.file
    if not path.parent.is_dir():
        raise UsageError(f"record: directory {str(path.parent)!r} does not exist")
    if path.is_dir():
        raise UsageError(f"record: {str(path)!r} is a directory")
    config = load(args)

    connector = Connector(config, record=path, trading=False)

    async def body(stop: trio.CancelScope) -> float:
        async with connector:
            started = trio.current_time()
            with stop:
                await trio.sleep_forever()
            return trio.current_time() - started

    elapsed = run_stoppable(body, args.duration)
    records = connector.recorded
    log.info("cli.record.done", path=str(path), records=records, seconds=round(elapsed, 3))
    print(
        f"connector: recorded {records} records to {path} in {elapsed:.1f} s",
        file=sys.stderr,
    )
    return 0
