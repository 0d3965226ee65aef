"""``connector metrics``: start, let the books come up, print the Prometheus exposition once.

It waits until every configured book is valid, or ``--wait`` seconds, whichever
comes first, then prints what ``GET /metrics`` would answer (docs/metrics.md)
and exits. The ``[metrics]`` endpoint itself is not opened: this command prints,
it does not serve. A start that does not finish in ``--timeout`` seconds prints
what there is and exits 1.
"""

from __future__ import annotations

import argparse
import contextlib
import sys

import attrs
import trio

from connector._groups import sole_error
from connector.cli.common import add_config_option, load, non_negative_float, positive_float
from connector.cli.trading_io import failing_venues
from connector.config import MetricsConfig

__all__ = ["add_parser", "run"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``metrics`` to the command parsers."""
    metrics = commands.add_parser(
        "metrics", help="start, wait for the books, print the Prometheus exposition once"
    )
    add_config_option(metrics)
    metrics.add_argument(
        "--wait",
        type=non_negative_float,
        default=5.0,
        metavar="S",
        help="print once every book is valid, or after S seconds (default 5)",
    )
    metrics.add_argument(
        "--timeout",
        type=positive_float,
        default=30.0,
        metavar="S",
        help="print what there is after S seconds if the start has not finished "
        "(exit status 1; default 30)",
    )
    metrics.set_defaults(command=run)


def run(args: argparse.Namespace) -> int:
    """Run ``connector metrics``."""
    from connector.book.view import BookView
    from connector.connector import Connector
    from connector.errors import UnknownInstrument
    from connector.metrics.exposition import render

    # This command prints; a [metrics] endpoint would only compete for the port.
    config = attrs.evolve(load(args), metrics=MetricsConfig())

    def books(c: Connector) -> list[BookView]:
        """The books the config streams (a symbol the venue does not list has none)."""
        views = []
        for vc in c.config.venues.values():
            if vc.enabled and "book" in vc.channels:
                for symbol in vc.symbols:
                    with contextlib.suppress(UnknownInstrument):
                        views.append(c.order_book(vc.name, symbol))
        return views

    async def body() -> tuple[str, str | None]:
        """The exposition, and why the start did not finish (``None``: it did)."""
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
                views = books(c)
                with trio.move_on_after(args.wait):
                    async with c.subscribe("orderbook.>") as updates:
                        while not all(view.valid for view in views):
                            await updates.receive()
                unfinished = None
            else:
                unfinished = f"not started after {args.timeout:g} s{failing_venues(c)}"
            text = render(c.statistics())
            done.set()
            nursery.cancel_scope.cancel()
        return text, unfinished

    try:
        text, unfinished = trio.run(body)
    except BaseExceptionGroup as group:
        # The start failed (a store that cannot be opened): its error alone, on one line.
        error = sole_error(group, ignore=trio.Cancelled)
        if error is not None:
            raise error from None
        raise
    sys.stdout.write(text)
    if unfinished is None:
        return 0
    print(f"connector: error: {unfinished}", file=sys.stderr)
    return 1
