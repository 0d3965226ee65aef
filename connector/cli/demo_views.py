"""The trading half of ``connector demo``'s screen and summary, drawn with rich.

Plain data in (:class:`TradingFrame`, a snapshot the demo takes of its
strategy and the connector), renderables out; no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import attrs
from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from connector.cli.views import format_number

__all__ = [
    "MarketRow",
    "TradingFrame",
    "render_trading",
    "render_trading_summary",
    "trading_problems",
]

_CENT = Decimal("0.01")
_POSITION = Decimal("0.000001")


@attrs.frozen(kw_only=True)
class MarketRow:
    """One market the strategy quotes: its quotes, counts, position and P&L."""

    venue: str
    symbol: str
    bid: Decimal | None
    ask: Decimal | None
    placed: int
    filled: int
    canceled: int
    refused: int
    fills: int
    position: Decimal
    pnl: Decimal | None


@attrs.frozen(kw_only=True)
class TradingFrame:
    """What the trading panel shows.

    Attributes:
        rows: One per quoted market.
        open_orders: The connector's open orders now.
        recent_fills: The latest fills, newest last (``venue symbol side qty @ price``).
        differences: Local state against the simulator's truth (the end check;
            empty while running, or when everything agreed).
        checked: Whether the truth check ran.
        trading_venues: The venues that trade in this run.
    """

    rows: tuple[MarketRow, ...] = ()
    open_orders: int = 0
    recent_fills: tuple[str, ...] = ()
    differences: tuple[str, ...] = ()
    checked: bool = False
    trading_venues: tuple[str, ...] = ()

    def total(self, field: str) -> int:
        return sum(int(getattr(row, field)) for row in self.rows)

    def pnl(self) -> Decimal | None:
        values = [row.pnl for row in self.rows]
        if any(v is None for v in values):
            return None
        return sum((v for v in values if v is not None), Decimal(0))


def _money(value: Decimal | None) -> str:
    if value is None:
        return "-"
    return format_number(value.quantize(_CENT))


def _counts_line(frame: TradingFrame) -> Text:
    return Text(
        f"orders placed {frame.total('placed')}, filled {frame.total('filled')}, "
        f"canceled {frame.total('canceled')}, refused {frame.total('refused')}; "
        f"fills {frame.total('fills')}; open now {frame.open_orders}; "
        f"P&L {_money(frame.pnl())} (quote currency)"
    )


def _markets_table(rows: Sequence[MarketRow], title: str) -> Table:
    """One line per market, narrow enough for an 80-column terminal."""
    table = Table(
        title=title,
        title_justify="left",
        expand=False,
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
    )
    for name, justify in (
        ("venue", "left"),
        ("symbol", "left"),
        ("bid", "right"),
        ("ask", "right"),
        ("p/f/c", "right"),  # orders placed / filled / canceled
        ("fills", "right"),
        ("position", "right"),
        ("P&L", "right"),
    ):
        table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for row in rows:
        table.add_row(
            row.venue,
            row.symbol,
            format_number(row.bid),
            format_number(row.ask),
            f"{row.placed}/{row.filled}/{row.canceled}",
            str(row.fills),
            format_number(row.position.quantize(_POSITION)),
            _money(row.pnl),
        )
    return table


def render_trading(frame: TradingFrame) -> Group:
    """The live trading panel: the strategy's quotes and P&L per market, the latest fills."""
    parts: list[RenderableType] = [
        _markets_table(
            frame.rows,
            "demo strategy: our bid and ask around the consolidated mid "
            "(p/f/c: orders placed/filled/canceled)",
        ),
        _counts_line(frame),
    ]
    if frame.recent_fills:
        parts.append(Text("latest fills: " + "; ".join(frame.recent_fills[-4:])))
    return Group(*parts)


def trading_problems(frame: TradingFrame) -> list[str]:
    """Why the trading half failed: venues that placed nothing, and every
    difference from the simulator's truth (empty: success)."""
    problems = []
    for venue in frame.trading_venues:
        if not any(row.placed for row in frame.rows if row.venue == venue):
            problems.append(f"{venue}: the strategy placed no order")
    problems.extend(frame.differences)
    return problems


def render_trading_summary(frame: TradingFrame) -> Group:
    """The trading summary: per market counts, positions and P&L, then the verdict."""
    parts: list[RenderableType] = [
        _markets_table(
            frame.rows, "demo trading summary (last quotes; orders placed/filled/canceled)"
        ),
        _counts_line(frame),
    ]
    problems = trading_problems(frame)
    if problems:
        parts.append(
            Text(
                "trading: FAILED\n" + "\n".join(f"  {p}" for p in problems[:20]),
                style="bold red",
            )
        )
    elif frame.checked:
        parts.append(
            Text(
                "trading: ok, local orders, positions and balances equal the simulator's",
                style="bold green",
            )
        )
    else:
        parts.append(Text("trading: ok (no simulator truth to check against)", style="green"))
    return Group(*parts)
