"""The venues connector knows, by name."""

from __future__ import annotations

import importlib

from connector.errors import ConfigError
from connector.venues.adapter import VenueAdapter

__all__ = ["VENUES", "adapter_for"]

VENUES = ("binance", "bybit", "okx")


def adapter_for(name: str) -> VenueAdapter:
    """The adapter of venue ``name`` (``connector.venues.<name>.adapter.ADAPTER``)."""
    if name not in VENUES:
        raise ConfigError(f"unknown venue {name!r}: expected one of {', '.join(VENUES)}")
    module = importlib.import_module(f"connector.venues.{name}.adapter")
    adapter: VenueAdapter = module.ADAPTER
    return adapter
