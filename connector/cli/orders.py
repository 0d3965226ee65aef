"""``connector orders``: the open orders of every trading venue (``--all``: every one known;
``--history``: every order in the event store, :mod:`.history`)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from connector.cli import history
from connector.cli.trading_io import (
    add_trading_options,
    order_rows,
    print_account_listing,
    run_connected,
)
from connector.errors import UsageError

if TYPE_CHECKING:
    from connector.connector import Connector

__all__ = ["add_parser", "run"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``orders`` to the command parsers."""
    orders = commands.add_parser(
        "orders", help="open orders on every trading venue (table, or JSON lines)"
    )
    add_trading_options(orders)
    orders.add_argument(
        "--all",
        action="store_true",
        help="every order this session knows, finished ones included (the open orders "
        "the venues list, and those of the fills read at start)",
    )
    orders.add_argument("--venue", default=None, help="only this venue")
    orders.add_argument("--symbol", default=None, help="only this symbol")
    history.add_history(orders)
    orders.set_defaults(command=run)


def run(args: argparse.Namespace) -> int:
    """Run ``connector orders`` (``--history``: read the event store instead)."""
    if args.history:
        return history.run_orders(args)
    if args.since is not None:
        raise UsageError("orders: --since reads the event store: add --history")

    async def action(c: Connector) -> int:
        if args.all:
            found = [
                o
                for o in c.orders.all()
                if (args.venue is None or o.venue == args.venue)
                and (args.symbol is None or str(o.symbol) == args.symbol)
            ]
        else:
            found = c.orders.open(args.venue, args.symbol)
        found.sort(key=lambda o: (o.venue, str(o.symbol), o.ts_created_ns, o.client_order_id))
        return print_account_listing(c, found, order_rows, as_json=args.json, empty="no orders")

    return run_connected(args, action, venue=args.venue)
