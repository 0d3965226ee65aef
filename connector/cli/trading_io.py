"""What the trading commands share: a connector opened for one action, tables, JSON lines.

``connector orders``, ``positions``, ``balances``, ``order ...`` and ``kill``
each start a :class:`~connector.Connector` from ``-c/--config``, wait until
its venues are ready (``async with`` returns once every service, the account
service's first reconciliation included, reported ready), act once, print,
and exit. Output is a table, or one JSON object per line with ``--json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol, TypeVar

import attrs
import trio

from connector.cli.common import add_config_option, positive_float, run_stoppable
from connector.config import Config, load_config
from connector.errors import ConnectorError, UnknownInstrument, UsageError
from connector.logs import LEVELS, configure_logging
from connector.model import Balance, Instrument, Order, Position, Symbol, unstructure
from connector.oms.state import order_key

if TYPE_CHECKING:
    from connector.connector import Connector

__all__ = [
    "DEFAULT_TIMEOUT",
    "add_trading_options",
    "balance_rows",
    "format_table",
    "instrument_rows",
    "order_rows",
    "position_rows",
    "print_account_listing",
    "print_listing",
    "print_records",
    "record_line",
    "run_connected",
    "wait_for_books",
]

T = TypeVar("T")

DEFAULT_TIMEOUT = 60.0
"""Seconds a trading command waits for its venues and its action, by default."""


def add_trading_options(parser: argparse.ArgumentParser, *, json_output: bool = True) -> None:
    """``-c/--config``, ``--timeout S`` and (for listings) ``--json``."""
    add_config_option(parser)
    parser.add_argument(
        "--timeout",
        type=positive_float,
        default=DEFAULT_TIMEOUT,
        metavar="S",
        help=f"give up after S seconds (default {DEFAULT_TIMEOUT:g})",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="log at the config's level (default: errors only; stdout is the answer)",
    )
    if json_output:
        parser.add_argument(
            "--json", action="store_true", help="one JSON object per line instead of a table"
        )


def _load_quiet(args: argparse.Namespace) -> Config:
    """Load the config; log errors only (``--verbose``: the config's level), onto stderr.

    A command's own start (a fresh process learning the venue's open orders)
    looks like discrepancies to the reconciliation; those warnings are not news here.
    """
    config = load_config(args.config)
    level = config.logging.level
    if not args.verbose and LEVELS[level] < LEVELS["error"]:
        level = "error"
    configure_logging(level, config.logging.format, stream=sys.stderr)
    return config


def only_venue(config: Config, venue: str) -> Config:
    """``config`` with every venue but ``venue`` disabled (one venue starts faster).

    Raises:
        ConfigError: ``venue`` is not configured or not enabled.
    """
    vc = config.venues.get(venue)
    if vc is None or not vc.enabled:
        known = ", ".join(n for n, v in config.venues.items() if v.enabled) or "none"
        raise UsageError(f"venue {venue!r} is not enabled in the config (enabled: {known})")
    venues = {
        name: (v if name == venue else attrs.evolve(v, enabled=False))
        for name, v in config.venues.items()
    }
    return attrs.evolve(config, venues=venues)


def run_connected(
    args: argparse.Namespace,
    action: Callable[[Connector], Awaitable[int]],
    *,
    venue: str | None = None,
) -> int:
    """Open a connector from ``args.config`` (only ``venue`` when given), run
    ``action`` once it is ready, return its exit status.

    Raises:
        ConnectorError: from the connector or the action; ``main`` prints it on
            one line and exits 1 (2 for a ``ConfigError``).
    """
    from connector.connector import Connector

    config = _load_quiet(args)
    if venue is not None:
        config = only_venue(config, venue)
    timeout: float = args.timeout

    async def body(stop: trio.CancelScope) -> int:
        connector = Connector(config)
        with trio.move_on_after(timeout) as deadline:
            async with connector:
                return await action(connector)
        if deadline.cancelled_caught:
            raise ConnectorError(
                f"gave up after {timeout:g} s (see --timeout){failing_venues(connector)}"
            )
        return 130  # stopped by a signal

    return run_stoppable(body, None)


BOOK_WAIT = 5.0
"""Seconds a command waits at most for the books it reads (a fresh connector is ready
before its books are valid)."""


async def wait_for_books(c: Connector, books: Iterable[tuple[str, Symbol]]) -> None:
    """Wait (at most :data:`BOOK_WAIT`) until the books of these (venue, symbol) pairs
    are valid: what prices a position's P&L, or an order's risk checks and notional.
    A symbol the config does not stream is not waited for."""
    views = []
    for venue, symbol in books:
        with contextlib.suppress(UnknownInstrument):
            views.append(c.order_book(venue, symbol))
    with trio.move_on_after(BOOK_WAIT):
        async with c.subscribe("orderbook.>", overflow="latest") as updates:
            while not all(view.valid for view in views):
                await updates.receive()


def failing_venues(connector: Connector) -> str:
    """``": <venue>: <its last failure>; ..."`` for the venues whose health breaker
    has seen failures without a success since (what kept them from starting);
    ``""`` when none has."""
    failing = [
        reason if reason.startswith(f"{name}: ") else f"{name}: {reason}"
        for name, health in connector.status().venues.items()
        if health.consecutive_failures and (reason := health.last_reason)
    ]
    return f": {'; '.join(failing)}" if failing else ""


def add_start_timeout(parser: argparse.ArgumentParser) -> None:
    """``--timeout S`` of the commands that print after the start (:func:`print_after_start`)."""
    parser.add_argument(
        "--timeout",
        type=positive_float,
        default=30.0,
        metavar="S",
        help="print what there is after S seconds if the start has not finished "
        "(exit status 1; default 30)",
    )


def print_after_start(
    config: Config, timeout: float, report: Callable[[Connector, bool], Awaitable[str]]
) -> int:
    """Start a connector from ``config``; once it started (or after ``timeout`` seconds,
    if its start has not finished: a venue that cannot connect is what ``status``
    shows), write what ``report(connector, started)`` makes of it, and stop it.

    Returns:
        0, or 1 with ``connector: error: not started after ...`` on stderr.

    Raises:
        ConnectorError: the start failed outright (an event store that cannot be
            opened): its error alone, which ``main`` prints on one line.
    """
    from connector._groups import sole_error
    from connector.connector import Connector

    async def body() -> tuple[str, str | None]:
        c = Connector(config)
        started, done = trio.Event(), trio.Event()

        async def serve() -> None:
            async with c:
                started.set()
                await done.wait()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(serve)
            with trio.move_on_after(timeout):
                await started.wait()
            unfinished = (
                None if started.is_set() else f"not started after {timeout:g} s{failing_venues(c)}"
            )
            text = await report(c, started.is_set())
            done.set()
            nursery.cancel_scope.cancel()
        return text, unfinished

    try:
        text, unfinished = trio.run(body)
    except BaseExceptionGroup as group:
        error = sole_error(group, ignore=trio.Cancelled)
        if error is not None:
            raise error from None
        raise
    sys.stdout.write(text)
    if unfinished is None:
        return 0
    print(f"connector: error: {unfinished}", file=sys.stderr)
    return 1


# --------------------------------------------------------------------------- output


def _text(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


_DERIVED = Decimal("1e-12")


def _derived(value: Decimal | None) -> str:
    """A figure worked out by division (an average entry, a P&L from it) to 12 decimals:
    its last digits are the division's rounding, not the venue's (``--json`` keeps them)."""
    if value is None or not value.is_finite() or abs(value) >= 10**15:
        return _text(value)
    return _text(value.quantize(_DERIVED))


def order_rows(orders: Iterable[Order]) -> tuple[list[str], list[list[str]]]:
    """Header and rows of an orders table."""
    header = ["venue", "symbol", "client id", "side", "type", "qty", "price", "filled", "status"]
    rows = [
        [
            o.venue,
            str(o.symbol),
            order_key(o.client_order_id, o.venue_order_id),  # what cancel_order takes
            o.side.value,
            o.type.value + ("" if o.time_in_force.value == "gtc" else f"/{o.time_in_force.value}"),
            _text(o.qty),
            _text(o.price),
            _text(o.filled_qty),
            o.status.value,
        ]
        for o in orders
    ]
    return header, rows


def position_rows(
    positions: Iterable[Position], unrealized: Callable[[Position], Decimal | None]
) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a positions table."""
    header = ["venue", "symbol", "qty", "entry", "realized", "unrealized"]
    rows = [
        [
            p.venue,
            str(p.symbol),
            _text(p.qty),
            _derived(p.avg_entry_price),
            _derived(p.realized_pnl),
            _derived(unrealized(p)),
        ]
        for p in positions
    ]
    return header, rows


def balance_rows(balances: Iterable[Balance]) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a balances table."""
    header = ["venue", "asset", "free", "locked", "total"]
    rows = [
        [b.venue, b.asset, _text(b.free), _text(b.locked), _text(b.free + b.locked)]
        for b in balances
    ]
    return header, rows


def instrument_rows(instruments: Iterable[Instrument]) -> tuple[list[str], list[list[str]]]:
    """Header and rows of an instruments table (quantities in base units)."""
    header = ["venue", "symbol", "venue id", "status", "tick", "lot", "min qty", "max qty",
              "min notional"]  # fmt: skip
    rows = [
        [i.venue, str(i.symbol), i.native_id, i.status.value, _text(i.tick_size),
         _text(i.lot_step), _text(i.min_qty), _text(i.max_qty), _text(i.min_notional)]
        for i in instruments
    ]  # fmt: skip
    return header, rows


def record_line(value: object, **extra: object) -> str:
    """One value as a JSON object line: its fields, then ``extra``."""
    data = unstructure(value)
    out: dict[str, object] = dict(data) if isinstance(data, dict) else {"value": data}
    out.update({name: unstructure(item) for name, item in extra.items()})
    return json.dumps(out, separators=(",", ":"), ensure_ascii=False)


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Plain aligned columns (numbers right-aligned), never truncated."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    right = [i >= 2 and _numeric(rows, i) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        parts = [
            cell.rjust(width) if r else cell.ljust(width)
            for cell, width, r in zip(cells, widths, right, strict=True)
        ]
        return "  ".join(parts).rstrip()

    return [line(header), *(line(row) for row in rows)]


def print_records(header: Sequence[str], rows: Sequence[Sequence[str]], *, empty: str) -> None:
    """Print a table (or ``empty`` when there is no row) to stdout."""
    if not rows:
        print(empty)
        return
    print("\n".join(format_table(header, rows)))


def print_listing(
    values: Sequence[T],
    table: Callable[[Sequence[T]], tuple[list[str], list[list[str]]]],
    *,
    as_json: bool,
    empty: str,
    extra: Callable[[T], Mapping[str, object]] | None = None,
) -> None:
    """``values`` as JSON lines (each one's fields, then ``extra(value)``'s) or as
    the table ``table(values)`` makes (``empty`` when there is none)."""
    if as_json:
        for value in values:
            print(record_line(value, **(extra(value) if extra is not None else {})))
        return
    header, rows = table(values)
    print_records(header, rows, empty=empty)


class _OfVenue(Protocol):
    @property
    def venue(self) -> str: ...


V = TypeVar("V", bound=_OfVenue)


def print_account_listing(
    connector: Connector,
    values: Sequence[V],
    table: Callable[[Sequence[V]], tuple[list[str], list[list[str]]]],
    *,
    as_json: bool,
    empty: str,
    extra: Callable[[V], Mapping[str, object]] | None = None,
) -> int:
    """:func:`print_listing` of what the venues' accounts hold (orders, positions,
    balances), only for venues reconciled since the start: of any other nothing is
    known (wrong keys, the venue unreachable), which is said on stderr, naming why,
    and makes the exit status 1 (0 otherwise)."""
    unknown = connector.status().unreconciled
    known = [value for value in values if value.venue not in unknown]
    print_listing(known, table, as_json=as_json, empty=empty, extra=extra)
    for venue, why in unknown.items():
        print(
            f"connector: {venue}: not reconciled with the venue since the start, its orders,"
            f" positions and balances are not known; {why}",
            file=sys.stderr,
        )
    return 1 if unknown else 0


def _numeric(rows: Sequence[Sequence[str]], column: int) -> bool:
    cells = [row[column] for row in rows if row[column] != "-"]
    return bool(cells) and all(_is_number(cell) for cell in cells)


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True
