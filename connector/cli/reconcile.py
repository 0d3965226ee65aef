"""``connector reconcile [--venue V]``: what each trading venue holds that the local state did not.

It starts a connector from the config: its start-up reconciliation compares
each venue's open orders, fills, positions and balances with the state replayed
from the event store (what this install last knew), and applies what differs.
Then it asks for one more reconciliation (``c.reconcile()``) and prints, per
venue and kind, the discrepancies found at start and by that one (a table, or
one JSON object per venue with ``--json``). Exit 1 when a venue's
reconciliation failed (named on stderr, with why).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING

from connector.cli.trading_io import add_trading_options, print_records, record_line, run_connected
from connector.errors import ReconcileIncomplete

if TYPE_CHECKING:
    from connector.account.service import ReconcileReport
    from connector.connector import Connector

__all__ = ["add_parser", "run"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``reconcile`` to the command parsers."""
    reconcile = commands.add_parser(
        "reconcile",
        help="reconcile every trading venue with the local state now; print the discrepancies",
    )
    add_trading_options(reconcile)
    reconcile.add_argument("--venue", default=None, help="only this venue")
    reconcile.set_defaults(command=run)


def run(args: argparse.Namespace) -> int:
    """Run ``connector reconcile``."""

    async def action(c: Connector) -> int:
        # Every reconciliation so far: the start-up one, against the replayed store.
        at_start = {
            venue: dict(stats.discrepancies) for venue, stats in c.statistics().accounts.items()
        }
        failures: Mapping[str, str] = {}
        try:
            reports = await c.reconcile(args.venue, timeout=args.timeout)
        except ReconcileIncomplete as incomplete:
            reports, failures = incomplete.reports, incomplete.failures
        venues = [v for v in at_start if v in reports or v in failures]
        if args.json:
            for venue in venues:
                report = reports.get(venue)
                if report is None:
                    line = {"venue": venue, "at_start": at_start[venue], "error": failures[venue]}
                    print(json.dumps(line, separators=(",", ":"), ensure_ascii=False))
                else:
                    print(record_line(report, at_start=at_start[venue]))
        else:
            header, rows = _table(venues, at_start, reports)
            print_records(header, rows, empty="no trading venue")
        for venue, why in failures.items():
            print(f"connector: reconcile: {venue}: {why}", file=sys.stderr)
        return 1 if failures else 0

    return run_connected(args, action, venue=args.venue)


def _table(
    venues: list[str],
    at_start: Mapping[str, Mapping[str, int]],
    reports: Mapping[str, ReconcileReport],
) -> tuple[list[str], list[list[str]]]:
    """One row per venue and kind of discrepancy (``none`` when a venue had none)."""
    rows = []
    for venue in venues:
        report = reports.get(venue)
        now = {} if report is None else report.discrepancies
        kinds = sorted(set(at_start[venue]) | set(now)) or ["none"]
        for kind in kinds:
            rows.append(
                [
                    venue,
                    kind,
                    str(at_start[venue].get(kind, 0)),
                    "-" if report is None else str(now.get(kind, 0)),
                ]
            )
    return ["venue", "kind", "at start", "now"], rows
