"""``connector config check FILE`` (or ``-c FILE``) and ``connector config example``."""

from __future__ import annotations

import argparse
from pathlib import Path

from connector.config import example_config_text, load_config

__all__ = ["add_parser", "check", "example"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``config`` and its subcommands to the command parsers."""
    config = commands.add_parser("config", help="check or print configuration")
    config_commands = config.add_subparsers(title="config commands", metavar="SUBCOMMAND")
    check_parser = config_commands.add_parser("check", help="validate a config file")
    given = check_parser.add_mutually_exclusive_group(required=True)
    given.add_argument("file", type=Path, nargs="?", help="the config file")
    given.add_argument(
        "-c", "--config", type=Path, default=None, metavar="FILE", help="the same, as elsewhere"
    )
    check_parser.set_defaults(command=check)
    example_parser = config_commands.add_parser("example", help="print a commented example config")
    example_parser.set_defaults(command=example)


def check(args: argparse.Namespace) -> int:
    """Validate a config file as ``load_config`` (and so ``Connector``) would."""
    file = args.file or args.config
    config = load_config(file)
    venues = ", ".join(
        f"{name} ({venue.endpoint}, {len(venue.symbols)} symbols)"
        for name, venue in config.venues.items()
        if venue.enabled
    )
    print(f"{file}: ok; venues: {venues or 'none enabled'}")
    return 0


def example(args: argparse.Namespace) -> int:
    """Print the example config file shipped with the package."""
    print(example_config_text(), end="")
    return 0
