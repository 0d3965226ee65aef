"""``connector status``: start, wait a moment, print the supervision tree and venue health.

It prints them whether or not the connector finished starting: a venue that
cannot connect is what one runs ``status`` to see. A start that fails outright
(an event store that cannot be opened) prints its error on one line instead.
"""

from __future__ import annotations

import argparse
import sys

import trio

from connector._groups import sole_error
from connector.cli.common import add_config_option, load, non_negative_float, positive_float
from connector.cli.trading_io import failing_venues

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
    status.add_argument(
        "--timeout",
        type=positive_float,
        default=30.0,
        metavar="S",
        help="print what there is after S seconds if the start has not finished "
        "(exit status 1; default 30)",
    )
    status.set_defaults(command=run)


def run(args: argparse.Namespace) -> int:
    """Run ``connector status``."""
    from connector.connector import Connector

    config = load(args)

    async def body() -> tuple[str, str | None]:
        """The status text, and why the start did not finish (``None``: it did)."""
        c = Connector(config)
        started, done = trio.Event(), trio.Event()

        async def serve() -> None:
            async with c:
                started.set()
                await done.wait()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(serve)
            with trio.move_on_after(args.timeout):
                await started.wait()
            if started.is_set():
                await trio.sleep(max(args.wait, 0.0))
                unfinished = None
            else:
                unfinished = f"not started after {args.timeout:g} s{failing_venues(c)}"
            text = c.status().render()
            done.set()
            nursery.cancel_scope.cancel()
        return text, unfinished

    try:
        text, unfinished = trio.run(body)
    except BaseExceptionGroup as group:
        # The start failed (a store that cannot be opened): its error alone, on one
        # line, as every command prints it.
        error = sole_error(group, ignore=trio.Cancelled)
        if error is not None:
            raise error from None
        raise
    print(text)
    if unfinished is None:
        return 0
    print(f"connector: error: {unfinished}", file=sys.stderr)
    return 1
