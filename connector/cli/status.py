"""``connector status``: start, wait a moment, print the supervision tree and venue health.

It prints them whether or not the connector finished starting: a venue that
cannot connect is what one runs ``status`` to see. A start that fails outright
(an event store that cannot be opened) prints its error on one line instead.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

import trio

from connector.cli.common import add_config_option, load, non_negative_float
from connector.cli.trading_io import add_start_timeout, print_after_start

if TYPE_CHECKING:
    from connector.connector import Connector

__all__ = ["add_parser", "run"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``status`` to the command parsers."""
    status = commands.add_parser("status", help="start, then print the supervision tree")
    add_config_option(status)
    status.add_argument(
        "--wait",
        type=non_negative_float,
        default=1.0,
        metavar="S",
        help="seconds to let connections come up before printing (default 1)",
    )
    add_start_timeout(status)
    status.set_defaults(command=run)


def run(args: argparse.Namespace) -> int:
    """Run ``connector status``."""

    async def report(c: Connector, started: bool) -> str:
        if started:
            await trio.sleep(max(args.wait, 0.0))
        return c.status().render() + "\n"

    return print_after_start(load(args), args.timeout, report)
