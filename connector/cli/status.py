"""``connector status``: start, wait a moment, print the supervision tree and venue health."""

from __future__ import annotations

import argparse

import trio

from connector.cli.common import add_config_option, load

__all__ = ["add_parser", "run"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``status`` to the command parsers."""
    status = commands.add_parser("status", help="start, then print the supervision tree")
    add_config_option(status)
    status.add_argument(
        "--wait",
        type=float,
        default=1.0,
        metavar="S",
        help="seconds to let connections come up before printing (default 1)",
    )
    status.set_defaults(command=run)


def run(args: argparse.Namespace) -> int:
    """Run ``connector status``."""
    from connector.connector import Connector

    config = load(args)

    async def body() -> str:
        async with Connector(config) as c:
            await trio.sleep(max(args.wait, 0.0))
            return c.status().render()

    print(trio.run(body))
    return 0
