"""``connector orders --history`` and ``connector fills``: what the event store holds.

Both read the store ``[storage]`` names (``-c FILE``), never a venue: the orders
and fills of every run that wrote to it (``--since`` a time, ``--venue``).
Tables, or one JSON object per line with ``--json``. They read without being the
store's writer: a running program may be writing it meanwhile.
``connector orders`` without ``--history`` asks the venues (:mod:`.orders`).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import partial

import trio

from connector.cli.common import add_config_option
from connector.cli.store import configured_store
from connector.config import StorageConfig
from connector.errors import StoreError, UsageError
from connector.model import Fill, Order
from connector.model.convert import converter
from connector.store.open import read_store
from connector.store.sql import read_fills, read_orders

__all__ = ["add_parser"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``fills`` to the command parsers (``orders --history``: :func:`add_history`)."""
    fills = commands.add_parser("fills", help="fills in the event store (every run)")
    fills.add_argument("--venue", default=None, help="one venue only")
    add_since(fills)
    fills.add_argument("--json", action="store_true", help="one JSON object per line")
    add_config_option(fills)
    fills.set_defaults(command=run_fills)


def add_history(orders: argparse.ArgumentParser) -> None:
    """``--history`` and ``--since`` for ``connector orders``."""
    orders.add_argument(
        "--history",
        action="store_true",
        help="every order in the event store, from every run (no venue is asked)",
    )
    add_since(orders)


def add_since(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--since",
        type=_since,
        default=None,
        metavar="TIME",
        help="with the store: since this ISO 8601 time (UTC unless it says), e.g. 2026-12-03T09:00",
    )


def _since(text: str) -> int:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    # What the store's 64-bit times hold (1677 to 2262): any earlier time is "from
    # the first", any later one "nothing yet".
    return max(_NS_MIN, min(_NS_MAX, int(when.timestamp() * 1_000_000) * 1_000))


_NS_MIN, _NS_MAX = -(2**63), 2**63 - 1


def _storage(args: argparse.Namespace) -> StorageConfig:
    """The store to read; a ``--venue`` no driver has is a usage mistake (the store's
    venues may no longer be enabled, so the config is not asked)."""
    from connector.venues.registry import VENUES

    if args.venue is not None and args.venue not in VENUES:
        raise UsageError(f"--venue {args.venue!r}: expected one of {', '.join(VENUES)}")
    storage = configured_store(args)
    if storage.store == "sqlite" and not storage.sqlite_path.exists():
        raise StoreError(f"no event store at {storage.sqlite_path}")
    return storage


def run_orders(args: argparse.Namespace) -> int:
    """Print the store's orders (``connector orders --history``), oldest update first."""
    storage = _storage(args)

    orders = [
        o
        for o in trio.run(read_store, storage, partial(read_orders, since_ns=args.since))
        if (args.venue is None or o.venue == args.venue)
        and (getattr(args, "symbol", None) is None or str(o.symbol) == args.symbol)
    ]
    if args.json:
        _json_lines(orders)
    else:
        _table(
            (
                "updated",
                "venue",
                "symbol",
                "client id",
                "side",
                "type",
                "qty",
                "price",
                "filled",
                "status",
            ),
            [
                (
                    _time(o.ts_updated_ns),
                    o.venue,
                    str(o.symbol),
                    o.client_order_id,
                    o.side.value,
                    o.type.value,
                    str(o.qty),
                    "" if o.price is None else str(o.price),
                    str(o.filled_qty),
                    o.status.value,
                )
                for o in orders
            ],
        )
    return 0


def run_fills(args: argparse.Namespace) -> int:
    """Print the store's fills (``--since`` a time), oldest first."""
    storage = _storage(args)

    read = partial(read_fills, since_ns=args.since)
    fills = trio.run(read_store, storage, read)
    fills = [f for f in fills if args.venue is None or f.venue == args.venue]
    if args.json:
        _json_lines(fills)
    else:
        _table(
            ("time", "venue", "symbol", "client id", "trade id", "side", "qty", "price", "fee"),
            [
                (
                    _time(f.ts_event_ns),
                    f.venue,
                    str(f.symbol),
                    f.client_order_id,
                    f.trade_id,
                    f.side.value,
                    str(f.qty),
                    str(f.price),
                    f"{f.fee} {f.fee_asset}".strip(),
                )
                for f in fills
            ],
        )
    return 0


def _time(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, tz=UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _json_lines(values: Sequence[Order | Fill]) -> None:
    for value in values:
        print(json.dumps(converter.unstructure(value), separators=(",", ":"), sort_keys=True))


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(header)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip())
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
