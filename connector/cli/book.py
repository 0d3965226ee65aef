"""``connector book VENUE SYMBOL``: a live view of one venue's order book."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

import trio

from connector.cli.common import (
    add_config_option,
    add_duration_option,
    load_for_view,
    positive_int,
    run_stoppable,
)
from connector.errors import UsageError
from connector.model import Symbol

if TYPE_CHECKING:
    from connector.bus import Subscription

__all__ = ["add_parser", "run"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``book`` to the command parsers."""
    book = commands.add_parser("book", help="live view of one venue's order book")
    add_config_option(book)
    book.add_argument("venue", metavar="VENUE")
    book.add_argument("symbol", metavar="SYMBOL", help="canonical symbol, e.g. BTC-USDT-SPOT")
    book.add_argument(
        "--depth", type=positive_int, default=10, metavar="N", help="levels per side (default 10)"
    )
    add_duration_option(book)
    book.set_defaults(command=run)


def run(args: argparse.Namespace) -> int:
    """Run ``connector book``."""
    from rich.console import Console
    from rich.live import Live

    from connector.bus import validate_topic
    from connector.cli.views import BookPanel, UpdateRate, render_book
    from connector.connector import Connector
    from connector.topics import check_published

    symbol = Symbol.parse(args.symbol)
    topic = f"orderbook.{args.venue}.{symbol}"
    try:
        validate_topic(topic)
    except ValueError:
        raise UsageError(f"book: {args.venue!r} is not a venue name") from None
    console = Console(file=sys.stdout)
    live = console.is_terminal
    config = load_for_view(args, live=live)
    try:
        check_published(topic, [name for name, venue in config.venues.items() if venue.enabled])
    except ValueError as exc:
        raise UsageError(f"book: {exc}") from None
    rate = UpdateRate()

    async def count(sub: Subscription) -> None:
        async with sub:
            async for _ in sub:
                rate.add(trio.current_time())

    async def body(stop: trio.CancelScope) -> BookPanel:
        connector = Connector(config, trading=False)
        sub = connector.subscribe(topic)
        async with connector:
            view = connector.order_book(args.venue, symbol)

            def panel() -> BookPanel:
                now = trio.current_time()
                return BookPanel.from_view(
                    view, args.depth, updates=rate.total, rate=rate.rate(now)
                )

            with stop:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(count, sub)
                    if live:
                        with Live(
                            render_book(panel()),
                            console=console,
                            auto_refresh=False,
                            transient=True,
                        ) as screen:
                            while True:
                                await trio.sleep(0.2)
                                screen.update(render_book(panel()), refresh=True)
                    else:
                        while True:
                            await trio.sleep(1.0)
                            console.print(render_book(panel()))
            return panel()

    final = run_stoppable(body, args.duration)
    console.print(render_book(final))
    if not final.state.valid:
        reason = f": {final.state.reason}" if final.state.reason else ""
        print(
            f"connector: {final.venue} {final.symbol} ended {final.state.status.value}{reason}",
            file=sys.stderr,
        )
        return 1
    return 0
