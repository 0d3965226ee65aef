"""``connector positions``: the derivative positions of every trading venue, with P&L."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

import trio

from connector.cli.trading_io import (
    add_trading_options,
    position_rows,
    print_account_listing,
    run_connected,
)
from connector.errors import UnknownInstrument

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


BOOK_WAIT = 5.0
"""Seconds to wait for the books that price the positions' unrealised P&L."""


async def _priced(c: Connector, positions: Sequence[Position]) -> None:
    """Wait (at most :data:`BOOK_WAIT`) until the books of ``positions`` are valid: a
    fresh connector has the positions at once, the books a moment later."""
    views = []
    for p in positions:
        with contextlib.suppress(UnknownInstrument):  # a symbol the config does not stream
            views.append(c.order_book(p.venue, p.symbol))
    with trio.move_on_after(BOOK_WAIT):
        async with c.subscribe("orderbook.>", overflow="latest") as updates:
            while not all(view.valid for view in views):
                await updates.receive()


def run(args: argparse.Namespace) -> int:
    """Run ``connector positions``."""

    async def action(c: Connector) -> int:
        found = [
            p
            for p in c.positions.all()
            if p.qty != 0 and (args.venue is None or p.venue == args.venue)
        ]
        found.sort(key=lambda p: (p.venue, str(p.symbol)))
        await _priced(c, found)

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
