"""``connector positions``: the derivative positions of every trading venue, with P&L."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from connector.cli.trading_io import (
    add_trading_options,
    position_rows,
    print_account_listing,
    run_connected,
    wait_for_books,
)

if TYPE_CHECKING:
    from decimal import Decimal

    from connector.connector import Connector
    from connector.model import Position

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
        await wait_for_books(c, [(p.venue, p.symbol) for p in found])

        def pnl(p: Position) -> Decimal | None:
            return c.positions.unrealized_pnl(p.venue, p.symbol)

        return print_account_listing(
            c,
            found,
            lambda ps: position_rows(ps, pnl),
            as_json=args.json,
            empty="no positions",
            extra=lambda p: {"unrealized_pnl": pnl(p)},
        )

    return run_connected(args, action, venue=args.venue)
