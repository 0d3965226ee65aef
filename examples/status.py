"""Open a Connector, let it run for a second, then print its supervision tree.

Run it with the default configuration (every venue on the built-in simulator)::

    python examples/status.py

or with a config file of your own::

    python examples/status.py connector.toml

``connector status -c connector.toml`` does the same from the command line.
"""

from __future__ import annotations

import sys

import trio

from connector.config import load_config
from connector.connector import Connector
from connector.logs import configure_logging


async def main(config_path: str | None) -> None:
    """Start every configured venue, wait a second, print the tree and health."""
    config = load_config(config_path)
    configure_logging(config.logging.level, config.logging.format)  # to stderr
    async with Connector(config) as c:
        await trio.sleep(1.0)
        print(c.status().render())


if __name__ == "__main__":
    if len(sys.argv) > 2:
        sys.exit(f"usage: {sys.argv[0]} [CONFIG.toml]")
    trio.run(main, sys.argv[1] if len(sys.argv) == 2 else None)
