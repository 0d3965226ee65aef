"""``connector stream``: every normalized event as one JSON line on stdout."""

from __future__ import annotations

import argparse
import contextlib
import json
from typing import TYPE_CHECKING

import structlog
import trio

from connector.cli.common import (
    WRITE_BATCH,
    LineWriter,
    add_config_option,
    add_duration_option,
    load,
    positive_int,
    run_stoppable,
)
from connector.errors import UsageError
from connector.model import unstructure
from connector.topics import TRADING_TYPES

if TYPE_CHECKING:
    from connector.bus import Subscription

__all__ = ["DEFAULT_TOPICS", "add_parser", "event_line", "run"]

log = structlog.get_logger(__name__)

DEFAULT_TOPICS: tuple[str, ...] = ("orderbook.>", "trade.>", "ticker.>", "quote.>", "connection.>")
"""What ``connector stream`` prints when no ``--topics`` are given."""


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``stream`` to the command parsers."""
    stream = commands.add_parser("stream", help="print every normalized event as a JSON line")
    add_config_option(stream)
    stream.add_argument(
        "--topics",
        nargs="+",
        default=None,
        metavar="PATTERN",
        help=f"topic patterns ('*' one token, '>' the rest; default: {' '.join(DEFAULT_TOPICS)})",
    )
    add_duration_option(stream)
    stream.add_argument(
        "--count", type=positive_int, default=None, metavar="N", help="stop after N events"
    )
    stream.set_defaults(command=run)


def event_line(topic: str, event: object) -> str:
    """One event as a JSON object line: ``topic``, ``type`` and the event's fields."""
    data = unstructure(event)
    out: dict[str, object] = {"topic": topic, "type": type(event).__name__}
    if isinstance(data, dict):
        out.update(data)
    else:
        out["event"] = data
    return json.dumps(out, separators=(",", ":"), ensure_ascii=False, default=str)


def _trading(pattern: str) -> bool:
    """Whether ``pattern`` can match a topic only a trading program publishes (the
    others leave the event store to the program that trades)."""
    first = pattern.split(".", 1)[0]
    return first in TRADING_TYPES or first in ("*", ">")


def run(args: argparse.Namespace) -> int:
    """Run ``connector stream``."""
    from connector.connector import Connector
    from connector.topics import check_published

    patterns = list(args.topics or DEFAULT_TOPICS)
    config = load(args)
    enabled = [name for name, venue in config.venues.items() if venue.enabled]
    problems = []
    for pattern in patterns:
        try:
            check_published(pattern, enabled)
        except ValueError as exc:
            problems.append(f"stream: {exc}")
    if problems:
        raise UsageError(*problems)
    limit: int | None = args.count
    out = LineWriter()

    async def pump(sub: Subscription, stop: trio.CancelScope) -> None:
        nonlocal limit
        async with sub:
            while True:
                try:
                    batch = [await sub.receive_item()]
                except trio.EndOfChannel:
                    return
                # Take whatever else is already waiting, so one write serves many events.
                with contextlib.suppress(trio.WouldBlock, trio.EndOfChannel):
                    while len(batch) < WRITE_BATCH:
                        batch.append(sub.receive_item_nowait())
                if limit is not None:
                    batch = batch[:limit]
                    limit -= len(batch)
                for topic, event in batch:
                    out.add(event_line(topic, event))
                out.flush()
                if limit == 0:
                    stop.cancel()
                    return

    dropped = 0

    async def body(stop: trio.CancelScope) -> None:
        nonlocal dropped
        connector = Connector(config, trading=any(_trading(p) for p in patterns))
        # Subscribed before starting, so the first snapshots and state changes are printed too.
        subs = [connector.subscribe(p) for p in patterns]
        async with connector:
            with stop:
                async with trio.open_nursery() as nursery:
                    for sub in subs:
                        nursery.start_soon(pump, sub, stop)
            dropped = sum(sub.statistics().dropped for sub in subs)
        out.flush()

    run_stoppable(body, args.duration)
    # Events are dropped (oldest first) only when stdout cannot keep up with the feed.
    log.info("cli.stream.done", events=out.written, dropped=dropped)
    return 0
