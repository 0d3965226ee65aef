"""``connector instruments``: what each configured symbol's orders are checked against."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from connector.cli.trading_io import (
    add_trading_options,
    instrument_rows,
    print_listing,
    run_connected,
)
from connector.errors import UnknownInstrument

if TYPE_CHECKING:
    from connector.connector import Connector
    from connector.model import Instrument

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
        found: list[Instrument] = []
        missing: list[str] = []
        for name, venue in sorted(c.config.venues.items()):
            if not venue.enabled:
                continue
            for symbol in venue.symbols:
                try:
                    found.append(c.instrument(name, symbol))
                except UnknownInstrument as exc:
                    missing.append(str(exc))
        print_listing(found, instrument_rows, as_json=args.json, empty="no instruments")
        # A configured symbol the venue does not list (delisted, a typo): the others
        # are listed, each of these named, and the exit status says so.
        for problem in missing:
            print(f"connector: {problem}", file=sys.stderr)
        return 1 if missing else 0

    return run_connected(args, action, venue=args.venue)
