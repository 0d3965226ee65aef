"""The ``connector`` command line.

``connector --version``, ``connector status``, ``connector config check FILE``,
``connector config example``. Every user mistake prints one clear line per
problem to stderr and exits 2; nothing prints a traceback for it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import trio

from connector._version import __version__
from connector.config import Config, example_config_text, load_config
from connector.errors import ConfigError, ConnectorError
from connector.logs import configure_logging

__all__ = ["main"]

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
