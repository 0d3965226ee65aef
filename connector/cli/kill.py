"""``connector kill [REASON]``: cancel every open order on every trading venue.

It throws this process's kill switch (``c.risk.kill``): every venue's open
orders, as the venue lists them, are canceled; each canceled order is printed
(a table, or JSON lines with ``--json``). Exit 1 when a cancel failed.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

import trio

from connector.cli.trading_io import (
    add_trading_options,
    order_rows,
    print_listing,
    run_connected,
)
from connector.model import OrderEvent, RiskAlert, RiskAlertKind
from connector.model.trading import OrderStatus
from connector.oms.state import order_key

if TYPE_CHECKING:
    from connector.bus import Subscription
    from connector.connector import Connector

__all__ = ["add_parser", "run"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``kill`` to the command parsers."""
    kill = commands.add_parser(
        "kill", help="cancel every open order on every trading venue; print what was canceled"
    )
    kill.add_argument("reason", metavar="REASON", nargs="?", default="connector kill")
    add_trading_options(kill)
    kill.set_defaults(command=run)


def run(args: argparse.Namespace) -> int:
    """Run ``connector kill``."""

    async def action(c: Connector) -> int:
        canceled_sub = c.subscribe("order.*.canceled")
        alerts = c.subscribe("risk.alert")
        await c.risk.kill(args.reason)
        # By venue and key: orders placed elsewhere may share an id across venues, and
        # those placed without one are kept as "#" + the venue's id.
        keys = {
            (e.venue, order_key(e.client_order_id, e.venue_order_id))
            for e in _drain(canceled_sub)
            if isinstance(e, OrderEvent)
        }
        canceled = [
            o
            for o in c.orders.all()
            if (o.venue, order_key(o.client_order_id, o.venue_order_id)) in keys
            and o.status is OrderStatus.CANCELED
        ]
        canceled.sort(key=lambda o: (o.venue, str(o.symbol), o.client_order_id))
        failed = 0
        for alert in _drain(alerts):
            if isinstance(alert, RiskAlert) and alert.kind is RiskAlertKind.KILL_DONE:
                failed = alert.failed
                if failed:
                    print(f"connector: kill: {alert.message}", file=sys.stderr)
        # "Nothing to cancel" only when every venue could be read.
        empty = "no orders canceled" if failed else "no open orders to cancel"
        print_listing(canceled, order_rows, as_json=args.json, empty=empty)
        return 1 if failed else 0

    return run_connected(args, action)


def _drain(sub: Subscription) -> list[object]:
    """What ``sub`` holds now (the kill published it before returning)."""
    out: list[object] = []
    while True:
        try:
            out.append(sub.receive_nowait())
        except (trio.WouldBlock, trio.EndOfChannel, trio.ClosedResourceError):
            return out
