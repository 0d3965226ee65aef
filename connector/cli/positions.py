"""``connector positions``: the derivative positions of every trading venue, with P&L."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from connector.cli.trading_io import (
    add_trading_options,
    position_rows,
    print_records,
    record_line,
    run_connected,
)

if TYPE_CHECKING:
    from connector.connector import Connector

__all__ = ["add_parser", "run"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``positions`` to the command parsers."""
    positions = commands.add_parser(
        "positions", help="positions on every trading venue, with P&L (table, or JSON lines)"
    )
    add_trading_options(positions)
    positions.add_argument("--venue", default=None, help="only this venue")
    positions.set_defaults(command=run)


def run(args: argparse.Namespace) -> int:
    """Run ``connector positions``."""

    async def action(c: Connector) -> int:
        found = [
            p
            for p in c.positions.all()
            if p.qty != 0 and (args.venue is None or p.venue == args.venue)
        ]
        found.sort(key=lambda p: (p.venue, str(p.symbol)))

        if args.json:
            for position in found:
                print(
                    record_line(
                        position,
                        unrealized_pnl=c.positions.unrealized_pnl(position.venue, position.symbol),
                    )
                )
        else:
            header, rows = position_rows(
                found, lambda p: c.positions.unrealized_pnl(p.venue, p.symbol)
            )
            print_records(header, rows, empty="no positions")
        return 0

    return run_connected(args, action, venue=args.venue)
