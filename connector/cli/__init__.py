"""The ``connector`` command line.

``connector --version``, ``connector status``, ``connector metrics`` (the
Prometheus exposition, once), ``connector config check FILE``,
``connector config example``, and the data commands: ``sim`` (serve the
simulated venues), ``stream`` (normalized events as JSON lines), ``book`` (live
view of one book), ``demo`` (every venue on the simulator, consolidated view and
a summary), ``record`` (capture file), ``replay`` (a capture through the same
pipeline) and ``store`` (check or export the event store); and the trading
commands ``orders``, ``positions``, ``balances``, ``order place|amend|cancel``
and ``kill``; ``orders --history`` and ``fills`` read the event store. Data goes
to stdout, logs to stderr. Every user mistake prints one clear line per problem to stderr
and exits 2; nothing prints a traceback for it.

One module per command (:mod:`.status`, :mod:`.metrics`, :mod:`.config`, :mod:`.sim`,
:mod:`.stream`, :mod:`.book`, :mod:`.demo`, :mod:`.record`, :mod:`.replay`,
:mod:`.store`, and the trading ones :mod:`.orders`, :mod:`.positions`,
:mod:`.balances`, :mod:`.order`, :mod:`.kill`, sharing :mod:`.trading_io`;
:mod:`.history` reads the store),
each with ``add_parser(commands)`` and ``run(args)``; :mod:`.common` holds what
they share and :mod:`.views` draws the terminal views.
"""

from __future__ import annotations

import argparse
import importlib
import io
import os
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING

from connector._version import __version__
from connector.errors import ConfigError, ConnectorError, InvalidSymbol, UsageError

if TYPE_CHECKING:
    from connector.cli.common import Command
    from connector.cli.stream import DEFAULT_TOPICS

__all__ = ["DEFAULT_TOPICS", "main"]

_COMMANDS: tuple[tuple[str, str], ...] = (
    ("status", "status"),
    ("metrics", "metrics"),
    ("config", "config"),
    ("sim", "sim"),
    ("stream", "stream"),
    ("book", "book"),
    ("demo", "demo"),
    ("record", "record"),
    ("replay", "replay"),
    ("store", "store"),
    ("orders", "orders"),
    ("positions", "positions"),
    ("balances", "balances"),
    ("instruments", "instruments"),
    ("order", "order"),
    ("kill", "kill"),
    ("reconcile", "reconcile"),
    ("fills", "history"),
)
"""``(command, module of connector.cli)``, in the order ``connector --help`` lists them.

Only the chosen command's module is imported (with what it needs: trio,
the trading half, rich...); ``--help`` and a mistyped command import them all.
"""


def __getattr__(name: str) -> object:
    """``DEFAULT_TOPICS`` from :mod:`.stream`, imported on first use."""
    if name == "DEFAULT_TOPICS":
        from connector.cli.stream import DEFAULT_TOPICS

        return DEFAULT_TOPICS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``connector`` script; returns the exit status."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    parser = _parser(arguments[0] if arguments else None)
    args = parser.parse_args(arguments)
    command: Command | None = getattr(args, "command", None)
    if command is None:
        parser.print_help()
        return 2
    try:
        return command(args)
    except InvalidSymbol as exc:
        # A symbol given on the command line (one in a config file is a config error).
        print(f"connector: error: {exc}", file=sys.stderr)
        return 2
    except UsageError as exc:
        for problem in exc.problems:
            print(f"connector: error: {problem}", file=sys.stderr)
        return 2
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


def _parser(chosen: str | None = None) -> argparse.ArgumentParser:
    """The parser of ``connector``; with every command unless ``chosen`` names one.

    ``chosen`` is the first argument: when it names a command, only that
    command's module is imported and parses the rest (its own ``--help`` and
    errors are the same); anything else (``--help``, a mistake) gets them all.
    """
    parser = argparse.ArgumentParser(
        prog="connector",
        description="Connect to Binance, Bybit and OKX: market data, books, orders.",
    )
    parser.add_argument("--version", action="version", version=f"connector {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for module in _modules(chosen):
        module.add_parser(commands)
    return parser


def _modules(chosen: str | None) -> list[ModuleType]:
    """The command modules to import: the chosen command's, or all of them."""
    names = [module for command, module in _COMMANDS if command == chosen]
    if not names:
        names = [module for _, module in _COMMANDS]
    return [importlib.import_module(f"{__name__}.{name}") for name in names]
