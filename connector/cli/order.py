"""``connector order place|amend|cancel``: one order command, answered with the order.

``place VENUE SYMBOL SIDE TYPE QTY [PRICE] [--tif TIF] [--reduce-only]
[--client-id ID]``, ``amend VENUE SYMBOL CLIENT_ID [--qty Q] [--price P]`` and
``cancel VENUE SYMBOL CLIENT_ID`` start only that venue, act, and print the
order as the venue then reports it (a table row, or a JSON line with
``--json``). A refusal (``InvalidOrder``, ``RiskRejected``, ``OrderRejected``)
or a lost answer (``OrderOutcomeUnknown``, which names the client order id to
follow) prints one line and exits 1; a malformed argument exits 2.
"""

from __future__ import annotations

import argparse
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from connector.cli.trading_io import (
    add_trading_options,
    order_rows,
    print_listing,
    run_connected,
    wait_for_books,
)
from connector.errors import UsageError
from connector.model import Order, OrderType, Side, Symbol, TimeInForce

if TYPE_CHECKING:
    from connector.connector import Connector

__all__ = ["add_parser", "decimal_arg", "run_amend", "run_cancel", "run_place"]


def decimal_arg(text: str) -> Decimal:
    """An argument that must be a finite decimal number > 0."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{text!r} is not a decimal number") from None
    if not value.is_finite() or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a number above 0")
    return value


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``order place|amend|cancel`` to the command parsers."""
    order = commands.add_parser("order", help="place, amend or cancel one order")
    actions = order.add_subparsers(title="actions", metavar="ACTION", required=True)

    place = actions.add_parser("place", help="place an order; prints it once the venue answers")
    place.add_argument("venue", metavar="VENUE")
    place.add_argument("symbol", metavar="SYMBOL", help="canonical, e.g. BTC-USDT-PERP")
    place.add_argument("side", metavar="SIDE", choices=[s.value for s in Side])
    place.add_argument("type", metavar="TYPE", choices=[t.value for t in OrderType])
    place.add_argument("qty", metavar="QTY", type=decimal_arg, help="in base-asset units")
    place.add_argument("price", metavar="PRICE", type=decimal_arg, nargs="?", default=None)
    place.add_argument(
        "--tif",
        default=TimeInForce.GTC.value,
        choices=[t.value for t in TimeInForce],
        help="time in force (default gtc)",
    )
    place.add_argument("--reduce-only", action="store_true", help="only reduce a position")
    place.add_argument("--client-id", default=None, metavar="ID", help="your client order id")
    add_trading_options(place)
    place.set_defaults(command=run_place)

    amend = actions.add_parser("amend", help="change an open order's quantity or price")
    amend.add_argument("venue", metavar="VENUE")
    amend.add_argument("symbol", metavar="SYMBOL")
    amend.add_argument("client_id", metavar="CLIENT_ID")
    amend.add_argument("--qty", type=decimal_arg, default=None, metavar="Q")
    amend.add_argument("--price", type=decimal_arg, default=None, metavar="P")
    add_trading_options(amend)
    amend.set_defaults(command=run_amend)

    cancel = actions.add_parser("cancel", help="cancel an open order")
    cancel.add_argument("venue", metavar="VENUE")
    cancel.add_argument("symbol", metavar="SYMBOL")
    cancel.add_argument("client_id", metavar="CLIENT_ID")
    add_trading_options(cancel)
    cancel.set_defaults(command=run_cancel)


def _show(args: argparse.Namespace, order: Order) -> None:
    print_listing([order], order_rows, as_json=args.json, empty="no order")


def run_place(args: argparse.Namespace) -> int:
    """Run ``connector order place``."""
    if args.type == OrderType.LIMIT.value and args.price is None:
        raise UsageError("order place: a limit order needs a PRICE")
    if args.type == OrderType.MARKET.value and args.price is not None:
        raise UsageError("order place: a market order takes no PRICE")

    async def action(c: Connector) -> int:
        # The risk checks and a market order's notional read the book: a fresh
        # connector is ready a moment before its books are valid.
        await wait_for_books(c, [(args.venue, Symbol.parse(args.symbol))])
        order = await c.place_order(
            args.venue,
            args.symbol,
            args.side,
            args.type,
            args.qty,
            args.price,
            time_in_force=args.tif,
            reduce_only=args.reduce_only,
            client_order_id=args.client_id,
        )
        _show(args, order)
        return 0

    return run_connected(args, action, venue=args.venue)


def run_amend(args: argparse.Namespace) -> int:
    """Run ``connector order amend``."""
    if args.qty is None and args.price is None:
        raise UsageError("order amend: give --qty, --price or both")

    async def action(c: Connector) -> int:
        await wait_for_books(c, [(args.venue, Symbol.parse(args.symbol))])
        order = await c.amend_order(
            args.venue, args.symbol, args.client_id, qty=args.qty, price=args.price
        )
        _show(args, order)
        return 0

    return run_connected(args, action, venue=args.venue)


def run_cancel(args: argparse.Namespace) -> int:
    """Run ``connector order cancel``."""

    async def action(c: Connector) -> int:
        order = await c.cancel_order(args.venue, args.symbol, args.client_id)
        _show(args, order)
        return 0

    return run_connected(args, action, venue=args.venue)
