"""``connector replay FILE``: a capture file through the same pipeline, events or a summary.

The replay engine is :mod:`connector.replay`; this module only reads the
arguments and writes what the engine emits.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import msgspec

from connector.cli.basics import LOG_LEVELS, LineWriter, positive_int
from connector.errors import UsageError
from connector.logs import configure_logging
from connector.model import Market

__all__ = ["add_parser", "run"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``replay`` to the command parsers."""
    replay = commands.add_parser("replay", help="run a capture file through the same pipeline")
    replay.add_argument("file", type=Path, metavar="FILE")
    replay.add_argument(
        "--depth",
        type=positive_int,
        default=10,
        metavar="N",
        help="book levels per side in the output (default 10)",
    )
    replay.add_argument(
        "--summary", action="store_true", help="print one summary object instead of every event"
    )
    replay.add_argument("--venue", default=None, help="venue of a capture without URLs")
    replay.add_argument("--market", default=None, help="market of a capture without URLs")
    replay.add_argument(
        "--log-level",
        default="warning",
        choices=LOG_LEVELS,
        help="log level on stderr (default warning)",
    )
    replay.set_defaults(command=run)


def run(args: argparse.Namespace) -> int:
    """Run ``connector replay``."""
    from connector.replay import replay_file
    from connector.venues.registry import VENUES

    problems = []
    if args.venue is not None and args.venue not in VENUES:
        problems.append(f"replay: --venue {args.venue!r}: expected one of {', '.join(VENUES)}")
    markets = [m.value for m in Market]
    if args.market is not None and args.market not in markets:
        problems.append(f"replay: --market {args.market!r}: expected one of {', '.join(markets)}")
    if problems:
        raise UsageError(*problems)
    configure_logging(args.log_level, "auto", stream=sys.stderr)
    encoder = msgspec.json.Encoder()
    out = LineWriter()

    def emit(event: dict[str, object]) -> None:
        out.add(encoder.encode(event).decode())

    replayer = replay_file(
        args.file,
        depth=args.depth,
        emit=None if args.summary else emit,
        venue=args.venue,
        market=args.market,
    )
    if replayer.records and replayer.skipped == replayer.records:
        raise UsageError(
            f"replay: {args.file}: no record names a known venue (a capture without URLs, "
            "such as hftbacktest's): pass --venue and --market"
        )
    if args.summary:
        out.add(json.dumps(replayer.summary(), separators=(",", ":"), ensure_ascii=False))
    out.flush()
    return 0
