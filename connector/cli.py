"""The ``connector`` command line.

``connector --version``, ``connector status``, ``connector config check FILE``,
``connector config example``, and the data commands: ``sim`` (serve the
simulated venues), ``stream`` (normalized events as JSON lines), ``book`` (live
view of one book), ``demo`` (every venue on the simulator, consolidated view and
a summary), ``record`` (capture file) and ``replay`` (a capture through the same
pipeline). Data goes to stdout, logs to stderr. Every user mistake prints one
clear line per problem to stderr and exits 2; nothing prints a traceback for it.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import signal
import sys
import threading
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO, TypeVar, cast

import attrs
import msgspec
import structlog
import trio

from connector._groups import sole_error
from connector._version import __version__
from connector.config import Config, example_config_text, load_config
from connector.errors import ConfigError, ConnectorError
from connector.logs import LEVELS, configure_logging
from connector.model import BookUpdate, Market, Symbol, unstructure

if TYPE_CHECKING:
    from connector.bus import Subscription

__all__ = ["DEFAULT_TOPICS", "main"]

T = TypeVar("T")

LOG_LEVELS: tuple[str, ...] = tuple(LEVELS)

log = structlog.get_logger(__name__)

Command = Callable[[argparse.Namespace], int]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``connector`` script; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    command: Command | None = getattr(args, "command", None)
    if command is None:
        parser.print_help()
        return 2
    try:
        return command(args)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"connector: config error: {problem}", file=sys.stderr)
        return 2
    except ConnectorError as exc:
        print(f"connector: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (``connector replay x | head``): stop quietly, like cat.
        _discard_stdout()
        return 0


def _discard_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass  # not a real file (tests capture it); nothing left to protect


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="connector",
        description="Connect to Binance, Bybit and OKX: market data, books, orders.",
    )
    parser.add_argument("--version", action="version", version=f"connector {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    status = commands.add_parser("status", help="start, then print the supervision tree")
    _add_config_option(status)
    status.add_argument(
        "--wait",
        type=float,
        default=1.0,
        metavar="S",
        help="seconds to let connections come up before printing (default 1)",
    )
    status.set_defaults(command=_status)

    config = commands.add_parser("config", help="check or print configuration")
    config_commands = config.add_subparsers(title="config commands", metavar="SUBCOMMAND")
    check = config_commands.add_parser("check", help="validate a config file")
    check.add_argument("file", type=Path)
    check.set_defaults(command=_config_check)
    example = config_commands.add_parser("example", help="print a commented example config")
    example.set_defaults(command=_config_example)
    _add_data_commands(commands)
    return parser


def _add_config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-c",
        "--config",
        type=Path,
        default=None,
        metavar="FILE",
        help="TOML config (default: all venues on the built-in simulator)",
    )


def _load(args: argparse.Namespace) -> Config:
    config = load_config(args.config)
    configure_logging(config.logging.level, config.logging.format, stream=sys.stderr)
    return config


def _status(args: argparse.Namespace) -> int:
    from connector.connector import Connector

    config = _load(args)

    async def run() -> str:
        async with Connector(config) as c:
            await trio.sleep(max(args.wait, 0.0))
            return c.status().render()

    print(trio.run(run))
    return 0


def _config_check(args: argparse.Namespace) -> int:
    config = load_config(args.file)
    venues = ", ".join(
        f"{name} ({venue.endpoint}, {len(venue.symbols)} symbols)"
        for name, venue in config.venues.items()
        if venue.enabled
    )
    print(f"{args.file}: ok; venues: {venues or 'none enabled'}")
    return 0


def _config_example(args: argparse.Namespace) -> int:
    print(example_config_text(), end="")
    return 0


# --------------------------------------------------------------------------- data commands
#
# sim, stream, book, demo, record and replay. Each runs under ``_run_stoppable``:
# a duration or the first Ctrl-C (SIGINT) or SIGTERM ends the command's work
# cleanly (summaries still print); a second Ctrl-C interrupts as usual.

DEFAULT_TOPICS: tuple[str, ...] = ("orderbook.>", "trade.>", "ticker.>", "quote.>", "connection.>")
"""What ``connector stream`` prints when no ``--topics`` are given."""

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# Lines of output collected before one write, for stream and replay.
_WRITE_BATCH = 4096


def _add_data_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sim = commands.add_parser("sim", help="serve simulated Binance, Bybit and OKX on loopback")
    sim.add_argument("--venues", nargs="+", default=["binance", "bybit", "okx"], metavar="VENUE")
    sim.add_argument("--seed", type=int, default=1, help="seed of the synthetic flow")
    sim.add_argument("--rate", type=float, default=200.0, help="book changes/s per instrument")
    sim.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    sim.add_argument(
        "--port",
        action="append",
        default=[],
        metavar="VENUE[.MARKET]=PORT",
        help="fixed port, e.g. binance.spot=9000 (repeatable)",
    )
    sim.add_argument("--bases", nargs="+", default=["BTC", "ETH", "SOL"], metavar="ASSET")
    sim.add_argument("--markets", nargs="+", default=[], metavar="MARKET", help="default: all")
    sim.add_argument("--okx-checksum", action="store_true", help="OKX sends real CRC32 checksums")
    sim.set_defaults(command=_sim)

    stream = commands.add_parser("stream", help="print every normalized event as a JSON line")
    _add_config_option(stream)
    stream.add_argument(
        "--topics",
        nargs="+",
        default=None,
        metavar="PATTERN",
        help=f"topic patterns ('*' one token, '>' the rest; default: {' '.join(DEFAULT_TOPICS)})",
    )
    _add_duration_option(stream)
    stream.add_argument(
        "--count", type=_positive_int, default=None, metavar="N", help="stop after N events"
    )
    stream.set_defaults(command=_stream)

    book = commands.add_parser("book", help="live view of one venue's order book")
    _add_config_option(book)
    book.add_argument("venue", metavar="VENUE")
    book.add_argument("symbol", metavar="SYMBOL", help="canonical symbol, e.g. BTC-USDT-SPOT")
    book.add_argument(
        "--depth", type=_positive_int, default=10, metavar="N", help="levels per side (default 10)"
    )
    _add_duration_option(book)
    book.set_defaults(command=_book)

    demo = commands.add_parser(
        "demo", help="all venues on the built-in simulator, with a live consolidated view"
    )
    _add_config_option(demo)
    _add_duration_option(demo)
    demo.add_argument(
        "--symbols",
        nargs="+",
        default=None,
        metavar="SYMBOL",
        help="symbols to stream (default: the config's)",
    )
    demo.add_argument(
        "--depth",
        type=_positive_int,
        default=5,
        metavar="N",
        help="consolidated levels shown per symbol (default 5)",
    )
    demo.set_defaults(command=_demo)

    record = commands.add_parser("record", help="write every frame and REST body to a capture")
    record.add_argument("file", type=Path, metavar="FILE", help="capture file ('.zst' compresses)")
    _add_config_option(record)
    _add_duration_option(record)
    record.set_defaults(command=_record)

    replay = commands.add_parser("replay", help="run a capture file through the same pipeline")
    replay.add_argument("file", type=Path, metavar="FILE")
    replay.add_argument(
        "--depth",
        type=_positive_int,
        default=10,
        metavar="N",
        help="book levels per side in the output (default 10)",
    )
    replay.add_argument(
        "--summary", action="store_true", help="print one summary object instead of every event"
    )
    replay.add_argument("--venue", default=None, help="venue of a capture without URLs")
    replay.add_argument("--market", default=None, help="market of a capture without URLs")
    replay.add_argument(
        "--log-level",
        default="warning",
        choices=LOG_LEVELS,
        help="log level on stderr (default warning)",
    )
    replay.set_defaults(command=_replay)


def _add_duration_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--duration",
        type=_positive_float,
        default=None,
        metavar="S",
        help="stop after S seconds (default: run until Ctrl-C)",
    )


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number of seconds")
    return value


class _CurrentStderr(io.TextIOBase):
    """Writes to whatever ``sys.stderr`` is now, so rich.live can show logs above its view."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()


def _load_for_view(args: argparse.Namespace, *, live: bool) -> Config:
    """Load the config; under a live view, log warnings and worse through rich."""
    if not live:
        return _load(args)
    config = load_config(args.config)
    level = config.logging.level
    if LEVELS[level] < LEVELS["warning"]:
        level = "warning"
    configure_logging(level, config.logging.format, stream=cast(TextIO, _CurrentStderr()))
    return config


async def _watch_signals(
    scope: trio.CancelScope, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
) -> None:
    """Cancel ``scope`` at the first SIGINT or SIGTERM, then step aside."""
    if threading.current_thread() is not threading.main_thread():
        task_status.started()
        return
    with trio.open_signal_receiver(*_STOP_SIGNALS) as signals:
        task_status.started()
        async for signum in signals:
            log.info("cli.stopping", signal=signal.Signals(signum).name)
            scope.cancel()
            return


def _run_stoppable(body: Callable[[trio.CancelScope], Awaitable[T]], duration: float | None) -> T:
    """``trio.run(body(stop))``; ``stop`` ends ``duration`` s after it is entered, or on a signal.

    The body enters ``stop`` around the part that should end (typically once
    its connector is up) and carries on after it to print summaries.
    """
    stop = trio.CancelScope(relative_deadline=duration if duration is not None else math.inf)

    async def run() -> T:
        async with trio.open_nursery() as nursery:
            await nursery.start(_watch_signals, stop)
            try:
                return await body(stop)
            finally:
                nursery.cancel_scope.cancel()

    try:
        return trio.run(run)
    except BaseExceptionGroup as group:
        error = sole_error(group, ignore=trio.Cancelled)
        if error is not None:
            raise error from None
        raise


class _LineWriter:
    """Collects output lines and writes them to stdout in batches.

    Holds at most ``_WRITE_BATCH`` lines; reaching that writes them out.
    """

    def __init__(self) -> None:
        self._lines: list[str] = []
        self.written = 0

    def add(self, line: str) -> None:
        self._lines.append(line)
        if len(self._lines) >= _WRITE_BATCH:
            self.flush()

    def flush(self) -> None:
        if self._lines:
            sys.stdout.write("\n".join(self._lines) + "\n")
            self.written += len(self._lines)
            self._lines.clear()
        sys.stdout.flush()


# -- sim -----------------------------------------------------------------------------


def _sim(args: argparse.Namespace) -> int:
    from connector.sim.standalone import FRONTENDS, serve_standalone

    venues = [v.strip() for spec in args.venues for v in spec.split(",") if v.strip()]
    problems = [
        f"sim: unknown venue {v!r}: expected one of {', '.join(FRONTENDS)}"
        for v in venues
        if v not in FRONTENDS
    ]
    for spec in args.port:
        key, sep, value = spec.partition("=")
        if not sep or not key.strip() or not value.strip().isdigit():
            problems.append(f"sim: --port {spec!r}: expected VENUE[.MARKET]=PORT")
    if problems:
        raise ConfigError(problems[0], tuple(problems))
    configure_logging("info", "auto", stream=sys.stderr)
    argv = [
        "--venues", ",".join(venues),
        "--seed", str(args.seed),
        "--rate", str(args.rate),
        "--host", args.host,
        "--bases", ",".join(b.strip() for spec in args.bases for b in spec.split(",")),
        "--markets", ",".join(m.strip() for spec in args.markets for m in spec.split(",")),
    ]  # fmt: skip
    for spec in args.port:
        argv += ["--port", spec]
    if args.okx_checksum:
        argv.append("--okx-checksum")

    async def body(stop: trio.CancelScope) -> None:
        with stop:
            await serve_standalone(argv)

    _run_stoppable(body, None)
    return 0


# -- stream --------------------------------------------------------------------------


def _event_line(topic: str, event: object) -> str:
    data = unstructure(event)
    out: dict[str, object] = {"topic": topic, "type": type(event).__name__}
    if isinstance(data, dict):
        out.update(data)
    else:
        out["event"] = data
    return json.dumps(out, separators=(",", ":"), ensure_ascii=False, default=str)


def _stream(args: argparse.Namespace) -> int:
    from connector.bus import validate_pattern
    from connector.connector import Connector

    patterns = list(args.topics or DEFAULT_TOPICS)
    problems = []
    for pattern in patterns:
        try:
            validate_pattern(pattern)
        except ValueError as exc:
            problems.append(f"stream: {exc}")
    if problems:
        raise ConfigError(problems[0], tuple(problems))
    config = _load(args)
    limit: int | None = args.count
    out = _LineWriter()

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
                    while len(batch) < _WRITE_BATCH:
                        batch.append(sub.receive_item_nowait())
                if limit is not None:
                    batch = batch[:limit]
                    limit -= len(batch)
                for topic, event in batch:
                    out.add(_event_line(topic, event))
                out.flush()
                if limit == 0:
                    stop.cancel()
                    return

    dropped = 0

    async def body(stop: trio.CancelScope) -> None:
        nonlocal dropped
        connector = Connector(config)
        # Subscribed before starting, so the first snapshots and state changes are printed too.
        subs = [connector.subscribe(p) for p in patterns]
        async with connector:
            with stop:
                async with trio.open_nursery() as nursery:
                    for sub in subs:
                        nursery.start_soon(pump, sub, stop)
            dropped = sum(sub.statistics().dropped for sub in subs)
        out.flush()

    _run_stoppable(body, args.duration)
    # Events are dropped (oldest first) only when stdout cannot keep up with the feed.
    log.info("cli.stream.done", events=out.written, dropped=dropped)
    return 0


# -- book ----------------------------------------------------------------------------


def _book(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.live import Live

    from connector.bus import validate_topic
    from connector.connector import Connector
    from connector.views import BookPanel, UpdateRate, render_book

    symbol = Symbol.parse(args.symbol)
    topic = f"orderbook.{args.venue}.{symbol}"
    try:
        validate_topic(topic)
    except ValueError:
        raise ConfigError(f"book: {args.venue!r} is not a venue name") from None
    console = Console(file=sys.stdout)
    live = console.is_terminal
    config = _load_for_view(args, live=live)
    rate = UpdateRate()

    async def count(sub: Subscription) -> None:
        async with sub:
            async for _ in sub:
                rate.add(trio.current_time())

    async def body(stop: trio.CancelScope) -> BookPanel:
        connector = Connector(config)
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

    final = _run_stoppable(body, args.duration)
    console.print(render_book(final))
    if not final.state.valid:
        reason = f": {final.state.reason}" if final.state.reason else ""
        print(
            f"connector: {final.venue} {final.symbol} ended {final.state.status.value}{reason}",
            file=sys.stderr,
        )
        return 1
    return 0


# -- demo ----------------------------------------------------------------------------


def _with_symbols(config: Config, symbols: Sequence[str]) -> Config:
    parsed = tuple(dict.fromkeys(Symbol.parse(s) for s in symbols))
    venues = {name: attrs.evolve(vc, symbols=parsed) for name, vc in config.venues.items()}
    return attrs.evolve(config, venues=venues)


def _demo(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.live import Live

    from connector.connector import Connector
    from connector.views import (
        DemoFrame,
        UpdateRate,
        VenueRow,
        demo_problems,
        render_demo,
        render_demo_summary,
    )

    console = Console(file=sys.stdout)
    live = console.is_terminal
    config = _load_for_view(args, live=live)
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

    final = _run_stoppable(body, args.duration)
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


# -- record --------------------------------------------------------------------------


def _record(args: argparse.Namespace) -> int:
    from connector.connector import Connector

    path: Path = args.file
    if not path.parent.is_dir():
        raise ConfigError(f"record: directory {str(path.parent)!r} does not exist")
    if path.is_dir():
        raise ConfigError(f"record: {str(path)!r} is a directory")
    config = _load(args)

    connector = Connector(config, record=path)

    async def body(stop: trio.CancelScope) -> float:
        async with connector:
            started = trio.current_time()
            with stop:
                await trio.sleep_forever()
            return trio.current_time() - started

    elapsed = _run_stoppable(body, args.duration)
    records = connector.recorded
    log.info("cli.record.done", path=str(path), records=records, seconds=round(elapsed, 3))
    print(
        f"connector: recorded {records} records to {path} in {elapsed:.1f} s",
        file=sys.stderr,
    )
    return 0


# -- replay --------------------------------------------------------------------------


def _replay(args: argparse.Namespace) -> int:
    from connector.replay import replay_file
    from connector.venues.registry import VENUES

    problems = []
    if args.venue is not None and args.venue not in VENUES:
        problems.append(f"replay: --venue {args.venue!r}: expected one of {', '.join(VENUES)}")
    markets = [m.value for m in Market]
    if args.market is not None and args.market not in markets:
        problems.append(f"replay: --market {args.market!r}: expected one of {', '.join(markets)}")
    if problems:
        raise ConfigError(problems[0], tuple(problems))
    configure_logging(args.log_level, "auto", stream=sys.stderr)
    encoder = msgspec.json.Encoder()
    out = _LineWriter()

    def emit(event: dict[str, object]) -> None:
        out.add(encoder.encode(event).decode())

    replayer = replay_file(
        args.file,
        depth=args.depth,
        emit=None if args.summary else emit,
        venue=args.venue,
        market=args.market,
    )
    if replayer.records and replayer.skipped == replayer.records:
        raise ConfigError(
            f"replay: {args.file}: no record names a known venue (a capture without URLs, "
            "such as hftbacktest's): pass --venue and --market"
        )
    if args.summary:
        out.add(json.dumps(replayer.summary(), separators=(",", ":"), ensure_ascii=False))
    out.flush()
    return 0
