"""The venues connector knows, by name."""

from __future__ import annotations

import importlib

from connector.errors import ConfigError
from connector.venues.adapter import VenueAdapter

__all__ = ["VENUES", "adapter_for"]

VENUES = ("binance", "bybit", "okx")


def adapter_for(name: str, book_depth: int = 0) -> VenueAdapter:
    """A new adapter of venue ``name`` (``connector.venues.<name>.adapter.new_adapter``).

    Adapters may hold parser state (Bybit merges ticker deltas), so every session
    and every replay gets its own. ``book_depth`` is the config's (0: the venue's
    default); a depth the venue does not offer raises :class:`ConfigError`.
    """
    if name not in VENUES:
        raise ConfigError(f"unknown venue {name!r}: expected one of {', '.join(VENUES)}")
    module = importlib.import_module(f"connector.venues.{name}.adapter")
    adapter: VenueAdapter = module.new_adapter(book_depth)
    return adapter
