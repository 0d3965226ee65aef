"""``connector balances``: the balances of every trading venue."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from connector.cli.trading_io import (
    add_trading_options,
    balance_rows,
    print_account_listing,
    run_connected,
)

if TYPE_CHECKING:
    from connector.connector import Connector
    from connector.model import Balance

__all__ = ["add_parser", "run"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``balances`` to the command parsers."""
    balances = commands.add_parser(
        "balances", help="balances on every trading venue (table, or JSON lines)"
    )
    add_trading_options(balances)
    balances.add_argument("--venue", default=None, help="only this venue")
    balances.add_argument(
        "--zero", action="store_true", help="list assets with nothing free or locked too"
    )
    balances.set_defaults(command=run)


def run(args: argparse.Namespace) -> int:
    """Run ``connector balances``."""

    async def action(c: Connector) -> int:
        found = [b for b in c.balances.all(args.venue) if args.zero or b.free != 0 or b.locked != 0]
        found.sort(key=lambda b: (b.venue, b.asset))

        def rows(balances: Sequence[Balance]) -> tuple[list[str], list[list[str]]]:
            header, body = balance_rows(balances)
            for row, b in zip(body, balances, strict=True):
                row += [_text(c.balances.reserved(b.venue, b.asset)),
                        _text(c.balances.available(b.venue, b.asset))]  # fmt: skip
            return [*header, "reserved", "available"], body

        return print_account_listing(
            c,
            found,
            rows,
            as_json=args.json,
            empty="no balances",
            extra=lambda b: {
                "total": b.total,
                "reserved": c.balances.reserved(b.venue, b.asset),
                "available": c.balances.available(b.venue, b.asset),
            },
        )

    return run_connected(args, action, venue=args.venue)


def _text(amount: Decimal | None) -> str:
    return "-" if amount is None else format(amount.normalize(), "f")
