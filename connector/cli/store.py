"""``connector store check`` and ``connector store export FILE``: the event store."""

from __future__ import annotations

import argparse
from pathlib import Path

import trio

from connector.cli.common import add_config_option, load
from connector.config import StorageConfig
from connector.errors import ConfigError
from connector.store.open import inspect_store
from connector.store.sql import StoreCheck

__all__ = ["add_parser", "configured_store"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``store`` and its subcommands to the command parsers."""
    store = commands.add_parser("store", help="check or export the event store")
    store_commands = store.add_subparsers(title="store commands", metavar="SUBCOMMAND")
    check_parser = store_commands.add_parser(
        "check", help="replay the log and compare it with its projections and the schema"
    )
    add_config_option(check_parser)
    check_parser.set_defaults(command=check)
    export_parser = store_commands.add_parser("export", help="write the log as JSON Lines")
    export_parser.add_argument("file", type=Path)
    add_config_option(export_parser)
    export_parser.set_defaults(command=export)


def configured_store(args: argparse.Namespace) -> StorageConfig:
    """The event store ``-c FILE`` names (the store and history commands read one).

    Raises:
        ConfigError: the config keeps its log in memory: there is no store to read.
    """
    storage = load(args).storage
    if storage.store == "memory":
        raise ConfigError("no event store configured: pass -c FILE (its [storage] names one)")
    return storage


def check(args: argparse.Namespace) -> int:
    """Print one line per problem, then a summary; exit 0 when the log reads to its end,
    agrees with its projections and the schema is current, else 1."""
    storage = configured_store(args)

    async def body() -> StoreCheck:
        store = await inspect_store(storage)
        try:
            return await store.check()
        finally:
            await store.close()

    result = trio.run(body)
    for problem in result.problems:
        print(f"{result.database}: {problem}")
    verdict = "ok" if result.ok else f"{len(result.problems)} problems"
    print(
        f"{result.database}: {verdict}; schema version {result.schema_version}, "
        f"{result.events} events"
    )
    return 0 if result.ok else 1


def export(args: argparse.Namespace) -> int:
    """Write every log entry to ``FILE`` as one JSON object per line."""
    storage = configured_store(args)
    path: Path = args.file

    async def body() -> int:
        store = await inspect_store(storage)
        try:
            return await store.export(path)
        finally:
            await store.close()

    count = trio.run(body)
    print(f"{path}: {count} events")
    return 0
