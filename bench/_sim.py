"""A standalone simulator for the benches: ``connector sim`` in a process of its own.

A real client reaches its venue over the network from another machine, so the
benches that time a client's order path run the simulator in its own process:
what they measure is the client's own work and waiting, never the simulator's
(which would otherwise share the client's interpreter lock and event loop).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connector import VenueConfig

ROOT = Path(__file__).resolve().parents[1]


def start_simulator(rate: float) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    """Start ``connector sim`` (Bybit linear, BTC, ``rate`` book changes/s).

    Returns:
        The process (the caller kills it) and its first JSON line: per venue the
        ``<market>.rest`` / ``<market>.ws`` URLs and the ``credentials``.
    """
    proc = subprocess.Popen(
        [sys.executable, "-m", "connector", "sim", "--venues", "bybit", "--bases", "BTC",
         "--markets", "linear", "--rate", str(rate)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )  # fmt: skip
    assert proc.stdout is not None
    return proc, json.loads(proc.stdout.readline())


def bybit_venues(
    line: dict[str, Any], symbol: str, *, trading: bool = True
) -> dict[str, VenueConfig]:
    """The ``Config.venues`` of a client of the simulator of ``line``
    (:func:`start_simulator`'s), ``symbol``'s book subscribed, trading with the
    simulator's credentials unless ``trading`` is false; the other venues off."""
    # Imported here: the other clients' bench processes do not load the connector.
    from connector import Credentials, VenueConfig
    from connector.model import Symbol

    bybit = dict(line["bybit"])
    creds = bybit.pop("credentials")
    return {
        "bybit": VenueConfig(
            name="bybit",
            endpoint="custom",
            urls=bybit,
            symbols=(Symbol.parse(symbol),),
            channels=("book",),
            credentials=Credentials(api_key=creds["api_key"], api_secret=creds["api_secret"])
            if trading
            else None,
        ),
        "binance": VenueConfig(name="binance", enabled=False),
        "okx": VenueConfig(name="okx", enabled=False),
    }
