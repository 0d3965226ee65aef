"""``connector instruments``: what each configured symbol's orders are checked against."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from connector.cli.trading_io import (
    add_trading_options,
    instrument_rows,
    print_listing,
    run_connected,
)

if TYPE_CHECKING:
    from connector.connector import Connector

__all__ = ["add_parser", "run"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``instruments`` to the command parsers."""
    instruments = commands.add_parser(
        "instruments",
        help="tick, lot and limits of every configured symbol, quantities in base units",
    )
    add_trading_options(instruments)
    instruments.add_argument("--venue", default=None, help="only this venue")
    instruments.set_defaults(command=run)


def run(args: argparse.Namespace) -> int:
    """Run ``connector instruments``."""

    async def action(c: Connector) -> int:
        found = [
            c.instrument(name, symbol)
            for name, venue in sorted(c.config.venues.items())
            if venue.enabled
            for symbol in venue.symbols
        ]
        print_listing(found, instrument_rows, as_json=args.json, empty="no instruments")
        return 0

    return run_connected(args, action, venue=args.venue)
