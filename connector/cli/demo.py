"""``connector demo``: every venue on the simulator, a live consolidated view, a summary."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs
import trio

from connector.cli.common import (
    add_config_option,
    add_duration_option,
    load_for_view,
    positive_int,
    run_stoppable,
)
from connector.config import Config
from connector.errors import ConfigError
from connector.model import BookUpdate, Symbol

if TYPE_CHECKING:
    from connector.bus import Subscription

__all__ = ["add_parser", "run"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``demo`` to the command parsers."""
    demo = commands.add_parser(
        "demo", help="all venues on the built-in simulator, with a live consolidated view"
    )
    add_config_option(demo)
    add_duration_option(demo)
    demo.add_argument(
        "--symbols",
        nargs="+",
        default=None,
        metavar="SYMBOL",
        help="symbols to stream (default: the config's)",
    )
    demo.add_argument(
        "--depth",
        type=positive_int,
        default=5,
        metavar="N",
        help="consolidated levels shown per symbol (default 5)",
    )
    demo.set_defaults(command=run)


def _with_symbols(config: Config, symbols: Sequence[str]) -> Config:
    parsed = tuple(dict.fromkeys(Symbol.parse(s) for s in symbols))
    venues = {name: attrs.evolve(vc, symbols=parsed) for name, vc in config.venues.items()}
    return attrs.evolve(config, venues=venues)


def run(args: argparse.Namespace) -> int:
    """Run ``connector demo``."""
    from rich.console import Console
    from rich.live import Live

    from connector.cli.views import (
        DemoFrame,
        UpdateRate,
        VenueRow,
        demo_problems,
        render_demo,
        render_demo_summary,
    )
    from connector.connector import Connector

    console = Console(file=sys.stdout)
    live = console.is_terminal
    config = load_for_view(args, live=live)
    if args.symbols:
        config = _with_symbols(config, args.symbols)
    order = _symbol_order(config)
    books = sorted(
        (
            (str(symbol), name)
            for name, vc in config.venues.items()
            if vc.enabled and "book" in vc.channels
            for symbol in vc.symbols
        ),
        key=lambda key: (order[key[0]], key[1]),
    )
    if not books:
        raise ConfigError("demo: no enabled venue streams a book (channel 'book')")
    symbols = list(dict.fromkeys(symbol for symbol, _ in books))
    rates = {(venue, symbol): UpdateRate() for symbol, venue in books}

    async def count(sub: Subscription) -> None:
        async with sub:
            async for event in sub:
                if isinstance(event, BookUpdate):
                    meter = rates.get((event.venue, str(event.symbol)))
                    if meter is not None:
                        meter.add(trio.current_time())

    async def body(stop: trio.CancelScope) -> DemoFrame:
        connector = Connector(config)
        sub = connector.subscribe("orderbook.>")
        async with connector:
            views = {
                (venue, symbol): connector.order_book(venue, symbol) for symbol, venue in books
            }
            started = trio.current_time()

            def frame() -> DemoFrame:
                now = trio.current_time()
                rows = []
                for (venue, symbol), view in views.items():
                    meter = rates[venue, symbol]
                    rows.append(
                        VenueRow(
                            venue=venue,
                            symbol=symbol,
                            state=view.state,
                            best_bid=view.best_bid(),
                            best_ask=view.best_ask(),
                            updates=meter.total,
                            rate=meter.rate(now),
                        )
                    )
                return DemoFrame(
                    elapsed=now - started,
                    rows=tuple(rows),
                    consolidated=tuple(connector.consolidated_book(s, args.depth) for s in symbols),
                    health=tuple(connector.status().venues.values()),
                )

            with stop:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(count, sub)
                    if live:
                        with Live(
                            render_demo(frame(), args.depth),
                            console=console,
                            auto_refresh=False,
                            transient=True,
                        ) as screen:
                            while True:
                                await trio.sleep(0.25)
                                screen.update(render_demo(frame(), args.depth), refresh=True)
                    elif args.duration is None:
                        while True:
                            await trio.sleep(5.0)
                            console.print(render_demo(frame(), args.depth))
                    else:
                        await trio.sleep_forever()
            return frame()

    final = run_stoppable(body, args.duration)
    console.print(render_demo_summary(final))
    problems = demo_problems(final)
    for problem in problems:
        print(f"connector: demo: {problem}", file=sys.stderr)
    return 1 if problems else 0


def _symbol_order(config: Config) -> dict[str, int]:
    order: dict[str, int] = {}
    for vc in config.venues.values():
        if vc.enabled:
            for symbol in vc.symbols:
                order.setdefault(str(symbol), len(order))
    return order
