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
from typing import TYPE_CHECKING

import attrs
import trio

from connector.cli.common import add_config_option, load, non_negative_float
from connector.cli.trading_io import add_start_timeout, print_after_start
from connector.config import MetricsConfig
from connector.errors import UnknownInstrument

if TYPE_CHECKING:
    from connector.connector import Connector

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
    add_start_timeout(metrics)
    metrics.set_defaults(command=run)


def run(args: argparse.Namespace) -> int:
    """Run ``connector metrics``."""
    from connector.metrics.exposition import render

    async def report(c: Connector, started: bool) -> str:
        if started:
            views = []
            for vc in c.config.venues.values():
                if vc.enabled and "book" in vc.channels:
                    for symbol in vc.symbols:  # a symbol the venue does not list has none
                        with contextlib.suppress(UnknownInstrument):
                            views.append(c.order_book(vc.name, symbol))
            with trio.move_on_after(args.wait):
                async with c.subscribe("orderbook.>") as updates:
                    while not all(view.valid for view in views):
                        await updates.receive()
        return render(c.statistics())

    # This command prints; a [metrics] endpoint would only compete for the port.
    config = attrs.evolve(load(args), metrics=MetricsConfig())
    return print_after_start(config, args.timeout, report)
