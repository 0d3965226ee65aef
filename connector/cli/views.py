"""Terminal views for ``connector book`` and ``connector demo``, drawn with rich.

Everything here turns plain data into rich renderables (or counts events); it
does no I/O and reads no clock, so it is tested without a terminal. The CLI
takes snapshots of the live objects (:meth:`BookPanel.from_view`,
:class:`VenueRow`), renders them, and prints or shows them with ``rich.live``.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Sequence
from decimal import Decimal

import attrs
from rich.console import Group, JustifyMethod, RenderableType
from rich.table import Table
from rich.text import Text

from connector.book.view import BookView
from connector.health import HealthStatus, VenueHealth
from connector.model import BookLevel, BookState, BookStatus, ConsolidatedBook, VenueLevel

__all__ = [
    "BookPanel",
    "DemoFrame",
    "UpdateRate",
    "VenueRow",
    "demo_problems",
    "format_number",
    "render_book",
    "render_demo",
    "render_demo_summary",
    "state_text",
]

_STATE_STYLES = {
    BookStatus.VALID: "bold green",
    BookStatus.SYNCING: "yellow",
    BookStatus.INVALID: "bold red",
}


class UpdateRate:
    """Counts events and reports their rate over the last ``window`` seconds.

    Events are counted in buckets of ``resolution`` seconds; at most
    ``ceil(window / resolution) + 1`` buckets are kept and the oldest falls off
    when a new one starts, so memory stays bounded however long it runs.
    Times are whatever monotonic clock the caller passes (``trio.current_time()``).

    Args:
        window: Seconds the rate is averaged over.
        resolution: Width of one bucket, in seconds.
    """

    def __init__(self, window: float = 5.0, resolution: float = 0.25) -> None:
        if window <= 0 or resolution <= 0:
            raise ValueError("window and resolution must be positive")
        self.window = window
        self.resolution = resolution
        self._buckets: deque[list[int]] = deque(maxlen=math.ceil(window / resolution) + 1)
        self._first: float | None = None
        self.total = 0

    def add(self, now: float, n: int = 1) -> None:
        """Count ``n`` events that happened at ``now``."""
        if self._first is None:
            self._first = now
        index = math.floor(now / self.resolution)
        if self._buckets and self._buckets[-1][0] == index:
            self._buckets[-1][1] += n
        else:
            self._buckets.append([index, n])
        self.total += n

    def rate(self, now: float) -> float:
        """Events per second over the last ``window`` seconds (or since the first event)."""
        if self._first is None:
            return 0.0
        oldest = math.floor((now - self.window) / self.resolution)
        recent = sum(count for index, count in self._buckets if index > oldest)
        span = min(self.window, max(now - self._first, self.resolution))
        return recent / span


def format_number(value: Decimal | None) -> str:
    """A Decimal as plain text without trailing zeros (``'60001.7'``); ``'-'`` for None."""
    if value is None:
        return "-"
    if value == value.to_integral_value():
        return f"{value.quantize(Decimal(1)):f}"
    return f"{value.normalize():f}"


def state_text(state: BookState) -> Text:
    """The book state as styled text, with its reason: ``invalid (gap: 5 != 7)``."""
    label = state.status.value + (f" ({state.reason})" if state.reason else "")
    return Text(label, style=_STATE_STYLES.get(state.status, ""))


def _level(level: BookLevel | None) -> str:
    if level is None:
        return "-"
    return f"{format_number(level.price)} x {format_number(level.qty)}"


@attrs.frozen(kw_only=True)
class BookPanel:
    """A snapshot of one venue book, as ``connector book`` shows it.

    Attributes:
        venue: Venue name.
        symbol: Canonical symbol text.
        state: The book state at the time of the snapshot.
        seq: The venue's update id of that state.
        bids: Top bids, best first.
        asks: Top asks, best first.
        updates: Book updates received so far.
        rate: Book updates per second, recently.
    """

    venue: str
    symbol: str
    state: BookState
    seq: int
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]
    updates: int = 0
    rate: float = 0.0

    @classmethod
    def from_view(cls, view: BookView, depth: int, *, updates: int, rate: float) -> BookPanel:
        """Snapshot a live :class:`BookView` (its top ``depth`` levels per side)."""
        return cls(
            venue=view.venue,
            symbol=str(view.symbol),
            state=view.state,
            seq=view.seq,
            bids=tuple(view.bids(depth)),
            asks=tuple(view.asks(depth)),
            updates=updates,
            rate=rate,
        )


def render_book(panel: BookPanel) -> Table:
    """A table of the book: bids left, asks right, state, seq and rate below."""
    table = Table(
        title=f"{panel.venue} {panel.symbol}",
        caption=Text.assemble(
            "state ",
            state_text(panel.state),
            f"  seq {panel.seq}  {panel.rate:.1f}/s  {panel.updates} updates",
        ),
        min_width=56,
    )
    table.add_column("bid qty", justify="right")
    table.add_column("bid", justify="right", style="green")
    table.add_column("ask", justify="left", style="red")
    table.add_column("ask qty", justify="left")
    for i in range(max(len(panel.bids), len(panel.asks))):
        bid = panel.bids[i] if i < len(panel.bids) else None
        ask = panel.asks[i] if i < len(panel.asks) else None
        table.add_row(
            format_number(bid.qty) if bid else "",
            format_number(bid.price) if bid else "",
            format_number(ask.price) if ask else "",
            format_number(ask.qty) if ask else "",
        )
    if not panel.bids and not panel.asks:
        table.add_row("", "(no levels)", "", "")
    return table


@attrs.frozen(kw_only=True)
class VenueRow:
    """One venue's book of one symbol in the demo: state, top of book, counts.

    Attributes:
        venue: Venue name.
        symbol: Canonical symbol text.
        state: The book state.
        best_bid: Best bid, or None (empty or not valid).
        best_ask: Best ask, or None.
        updates: Book updates received so far.
        rate: Book updates per second, recently.
    """

    venue: str
    symbol: str
    state: BookState
    best_bid: BookLevel | None
    best_ask: BookLevel | None
    updates: int = 0
    rate: float = 0.0


@attrs.frozen(kw_only=True)
class DemoFrame:
    """Everything one demo screen (or the final summary) shows.

    Attributes:
        elapsed: Seconds since the connector started.
        rows: One row per venue book, grouped by symbol in display order.
        consolidated: The consolidated book per symbol (top levels with venues).
        health: Per-venue breaker state, connection counts and health status.
    """

    elapsed: float
    rows: tuple[VenueRow, ...]
    consolidated: tuple[ConsolidatedBook, ...] = ()
    health: tuple[VenueHealth, ...] = ()

    def symbols(self) -> list[str]:
        """The symbols of the rows, in first-seen order."""
        return list(dict.fromkeys(row.symbol for row in self.rows))

    def consolidated_for(self, symbol: str) -> ConsolidatedBook | None:
        """The consolidated book of ``symbol``, if the frame has one."""
        for book in self.consolidated:
            if str(book.symbol) == symbol:
                return book
        return None


def _venue_level(level: VenueLevel | None) -> str:
    if level is None:
        return "-"
    return f"{format_number(level.price)} @ {level.venue}"


def _bbo_line(book: ConsolidatedBook | None) -> Text:
    if book is None or not (book.bids or book.asks):
        return Text("consolidated: no valid venue book yet", style="yellow")
    bid = book.bids[0] if book.bids else None
    ask = book.asks[0] if book.asks else None
    return Text.assemble(
        "consolidated best bid ",
        (_venue_level(bid), "green"),
        "  best ask ",
        (_venue_level(ask), "red"),
        f"  from {', '.join(book.venues)}",
    )


def _venues_table(symbol: str, rows: Iterable[VenueRow]) -> Table:
    table = Table(title=symbol, title_justify="left", expand=False)
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("venue", "left"),
        ("state", "left"),
        ("best bid", "right"),
        ("best ask", "right"),
        ("updates", "right"),
        ("per s", "right"),
    )
    for name, justify in columns:
        table.add_column(name, justify=justify)
    for row in rows:
        table.add_row(
            row.venue,
            state_text(row.state),
            _level(row.best_bid),
            _level(row.best_ask),
            str(row.updates),
            f"{row.rate:.1f}",
        )
    return table


def _consolidated_table(book: ConsolidatedBook, depth: int) -> Table:
    table = Table(expand=False, show_edge=False)
    table.add_column("venue")
    table.add_column("bid qty", justify="right")
    table.add_column("bid", justify="right", style="green")
    table.add_column("ask", style="red")
    table.add_column("ask qty")
    table.add_column("venue")
    for i in range(min(depth, max(len(book.bids), len(book.asks)))):
        bid = book.bids[i] if i < len(book.bids) else None
        ask = book.asks[i] if i < len(book.asks) else None
        table.add_row(
            bid.venue if bid else "",
            format_number(bid.qty) if bid else "",
            format_number(bid.price) if bid else "",
            format_number(ask.price) if ask else "",
            format_number(ask.qty) if ask else "",
            ask.venue if ask else "",
        )
    return table


_STATUS_STYLES = {
    HealthStatus.HEALTHY: "green",
    HealthStatus.DEGRADED: "bold yellow",
    HealthStatus.DOWN: "bold red",
}


def _health_line(health: Sequence[VenueHealth]) -> Text:
    """One line: each venue's breaker, its sockets and, unless healthy, its status."""
    parts: list[str | tuple[str, str]] = ["venues: "]
    for i, h in enumerate(health):
        style = _STATUS_STYLES[h.status]
        parts.append((f"{h.venue} {h.state.value}", style))
        parts.append(f" ({h.connected} connected" + (f", {h.last_reason}" if h.last_reason else ""))
        parts.append(")")
        if h.status is not HealthStatus.HEALTHY:
            parts.append((f" {h.status.value}", style))
            if h.status_reason:
                parts.append(f": {h.status_reason}")
        parts.append("  " if i < len(health) - 1 else "")
    return Text.assemble(*parts)


def render_demo(frame: DemoFrame, depth: int = 5) -> Group:
    """The live demo screen: health, then per symbol its venues and the merged book."""
    parts: list[RenderableType] = [
        Text(f"connector demo  {frame.elapsed:.0f} s", style="bold"),
    ]
    if frame.health:
        parts.append(_health_line(frame.health))
    for symbol in frame.symbols():
        parts.append(_venues_table(symbol, (r for r in frame.rows if r.symbol == symbol)))
        book = frame.consolidated_for(symbol)
        parts.append(_bbo_line(book))
        if book is not None and depth > 0 and (book.bids or book.asks):
            parts.append(_consolidated_table(book, depth))
    return Group(*parts)


def demo_problems(frame: DemoFrame) -> list[str]:
    """Why the demo failed, one line per book that did not end valid (empty: success)."""
    problems = []
    for row in frame.rows:
        if row.state.status is BookStatus.VALID:
            continue
        why = f": {row.state.reason}" if row.state.reason else ""
        got = "no book updates" if row.updates == 0 else f"{row.updates} updates"
        problems.append(f"{row.venue} {row.symbol} ended {row.state.status.value}{why} ({got})")
    if not frame.rows:
        problems.append("no venue book was configured")
    return problems


def render_demo_summary(frame: DemoFrame) -> Group:
    """The summary printed when the demo ends: per book counts and final state,
    the consolidated best bid/offer per symbol, and the verdict."""
    table = Table(title=f"demo summary after {frame.elapsed:.1f} s", title_justify="left")
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("venue", "left"),
        ("symbol", "left"),
        ("updates", "right"),
        ("final state", "left"),
        ("best bid", "right"),
        ("best ask", "right"),
    )
    for name, justify in columns:
        table.add_column(name, justify=justify)
    for row in frame.rows:
        table.add_row(
            row.venue,
            row.symbol,
            str(row.updates),
            state_text(row.state),
            format_number(row.best_bid.price) if row.best_bid else "-",
            format_number(row.best_ask.price) if row.best_ask else "-",
        )
    bbo = Table(title="consolidated best bid/offer", title_justify="left")
    bbo.add_column("symbol")
    bbo.add_column("best bid", justify="right")
    bbo.add_column("best ask", justify="right")
    bbo.add_column("venues")
    for symbol in frame.symbols():
        book = frame.consolidated_for(symbol)
        bid = book.bids[0] if book is not None and book.bids else None
        ask = book.asks[0] if book is not None and book.asks else None
        bbo.add_row(
            symbol,
            _venue_level(bid),
            _venue_level(ask),
            ", ".join(book.venues) if book is not None else "-",
        )
    problems = demo_problems(frame)
    if problems:
        verdict = Text("result: FAILED\n" + "\n".join(f"  {p}" for p in problems), style="bold red")
    else:
        verdict = Text(f"result: ok, all {len(frame.rows)} books valid", style="bold green")
    return Group(table, bbo, verdict)
