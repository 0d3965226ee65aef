"""``connector demo``: every venue on the simulator, a live consolidated view, trading, a summary.

Beside the books, a small built-in strategy (:mod:`.demo_strategy`) quotes a bid
and an ask on every trading venue around the consolidated mid; the view shows
its quotes, fills, positions and P&L. With ``--duration`` the demo ends with a
summary (books; orders placed, filled, canceled; positions; P&L), cancels the
strategy's orders, and checks the local orders, positions and balances against
the built-in simulator's truth (:mod:`.demo_check`): any difference exits 1.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import deque
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
from connector.model import BookUpdate, Fill, Symbol

if TYPE_CHECKING:
    from rich.console import RenderableType

    from connector.bus import Subscription
    from connector.cli.demo_strategy import QuotingStrategy
    from connector.cli.demo_views import TradingFrame
    from connector.connector import Connector

__all__ = ["add_parser", "run"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``demo`` to the command parsers."""
    demo = commands.add_parser(
        "demo", help="all venues on the simulator: a live consolidated view, a strategy trading"
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
    demo.add_argument(
        "--no-trading",
        action="store_true",
        help="market data only: do not run the demo strategy",
    )
    demo.set_defaults(command=run)


def _with_symbols(config: Config, symbols: Sequence[str]) -> Config:
    parsed = tuple(dict.fromkeys(Symbol.parse(s) for s in symbols))
    venues = {name: attrs.evolve(vc, symbols=parsed) for name, vc in config.venues.items()}
    return attrs.evolve(config, venues=venues)


def run(args: argparse.Namespace) -> int:
    """Run ``connector demo``."""
    from rich.console import Console, Group
    from rich.live import Live

    from connector.cli.demo_check import truth_differences
    from connector.cli.demo_strategy import QuotingStrategy
    from connector.cli.demo_views import (
        render_trading,
        render_trading_summary,
        trading_problems,
    )
    from connector.cli.views import (
        DemoFrame,
        UpdateRate,
        VenueRow,
        demo_problems,
        format_number,
        render_demo,
        render_demo_summary,
    )
    from connector.connector import Connector

    console = Console(file=sys.stdout)
    if not console.is_terminal:
        console = Console(file=sys.stdout, width=max(console.width, 120))
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

    async def body(stop: trio.CancelScope) -> tuple[DemoFrame, TradingFrame]:
        run_started_ns = time.time_ns()  # before the built-in simulator starts
        connector = Connector(config)
        sub = connector.subscribe("orderbook.>")
        fills_seen: deque[str] = deque(maxlen=8)
        async with connector:
            trading_venues = () if args.no_trading else tuple(sorted(connector.statistics().orders))
            strategy = QuotingStrategy(
                connector,
                [(v, Symbol.parse(s)) for s, v in books if v in trading_venues],
            )
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

            def trading(differences: Sequence[str] = (), checked: bool = False) -> TradingFrame:
                return trading_frame(
                    connector,
                    strategy,
                    trading_venues,
                    fills_seen,
                    differences=differences,
                    checked=checked,
                )

            def screen_view() -> RenderableType:
                if not trading_venues:
                    return render_demo(frame(), args.depth)
                return Group(render_demo(frame(), args.depth), render_trading(trading()))

            async def log_fills(fills: Subscription) -> None:
                async with fills:
                    async for fill in fills:
                        if isinstance(fill, Fill):
                            fills_seen.append(
                                f"{fill.venue} {fill.symbol} {fill.side.value} "
                                f"{format_number(fill.qty)} @ {format_number(fill.price)}"
                            )

            fills_sub = connector.subscribe("fill.>")
            with stop:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(count, sub)
                    nursery.start_soon(log_fills, fills_sub)
                    if trading_venues:
                        nursery.start_soon(strategy.run)
                    if live:
                        with Live(
                            screen_view(),
                            console=console,
                            auto_refresh=False,
                            transient=True,
                        ) as screen:
                            while True:
                                await trio.sleep(0.25)
                                screen.update(screen_view(), refresh=True)
                    elif args.duration is None:
                        while True:
                            await trio.sleep(5.0)
                            console.print(screen_view())
                    else:
                        await trio.sleep_forever()
            final = frame()
            if not trading_venues:
                return final, trading()
            await strategy.close()
            differences: list[str] = []
            checked = connector.simulator is not None
            if checked:
                # Let the private streams deliver the last changes, then compare.
                for _ in range(int(SETTLE_TIMEOUT / SETTLE_STEP)):
                    differences = truth_differences(connector, trading_venues, run_started_ns)
                    if not differences:
                        break
                    await trio.sleep(SETTLE_STEP)
            strategy.settle_counts()
            return final, trading(differences, checked)

    final, traded = run_stoppable(body, args.duration)
    console.print(render_demo_summary(final))
    if traded.trading_venues:
        console.print(render_trading_summary(traded))
    problems = demo_problems(final) + trading_problems(traded)
    for problem in problems:
        print(f"connector: demo: {problem}", file=sys.stderr)
    return 1 if problems else 0


SETTLE_TIMEOUT = 15.0
"""Seconds the end check waits for local state to equal the simulator's."""
SETTLE_STEP = 0.25


def trading_frame(
    c: Connector,
    strategy: QuotingStrategy,
    venues: Sequence[str],
    fills: Sequence[str],
    *,
    differences: Sequence[str] = (),
    checked: bool = False,
) -> TradingFrame:
    """A snapshot of the strategy and the connector's trading state."""
    from connector.cli.demo_views import MarketRow, TradingFrame

    rows = []
    for (venue, symbol), stats in strategy.markets.items():
        position = c.positions.get(venue, symbol)
        rows.append(
            MarketRow(
                venue=venue,
                symbol=str(symbol),
                bid=stats.bid,
                ask=stats.ask,
                placed=stats.placed,
                filled=stats.filled,
                canceled=stats.canceled,
                refused=stats.refused,
                fills=stats.fills,
                position=position.qty if position is not None else stats.inventory,
                pnl=stats.pnl(strategy.mid(symbol)),
            )
        )
    return TradingFrame(
        rows=tuple(rows),
        open_orders=len(c.orders.open()),
        recent_fills=tuple(fills),
        differences=tuple(differences),
        checked=checked,
        trading_venues=tuple(venues),
    )


def _symbol_order(config: Config) -> dict[str, int]:
    order: dict[str, int] = {}
    for vc in config.venues.values():
        if vc.enabled:
            for symbol in vc.symbols:
                order.setdefault(str(symbol), len(order))
    return order
