"""The venues connector knows, by name: a typed table of driver factories."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from connector.errors import ConfigError
from connector.venues.binance.market_data import BinanceMarketData
from connector.venues.binance.rest import BinanceRest
from connector.venues.bybit.market_data import BybitMarketData
from connector.venues.bybit.rest import BybitRest
from connector.venues.driver import VenueDriver
from connector.venues.okx.market_data import OkxMarketData
from connector.venues.okx.rest import OkxRest

__all__ = ["DRIVERS", "VENUES", "driver_for"]


def _binance(book_depth: int) -> VenueDriver:
    return VenueDriver(
        name="binance", rest=BinanceRest(), market_data=BinanceMarketData(book_depth)
    )


def _bybit(book_depth: int) -> VenueDriver:
    return VenueDriver(name="bybit", rest=BybitRest(), market_data=BybitMarketData(book_depth))


def _okx(book_depth: int) -> VenueDriver:
    return VenueDriver(name="okx", rest=OkxRest(), market_data=OkxMarketData(book_depth))


DRIVERS: Mapping[str, Callable[[int], VenueDriver]] = {
    "binance": _binance,
    "bybit": _bybit,
    "okx": _okx,
}
"""Venue name -> a factory taking the config's ``book_depth`` (0: the venue's default)."""

VENUES = tuple(DRIVERS)


def driver_for(name: str, book_depth: int = 0) -> VenueDriver:
    """A new driver of venue ``name``.

    Drivers may hold parser state (Bybit merges ticker deltas), so every session
    and every replay gets its own.

    Raises:
        ConfigError: an unknown venue, or a ``book_depth`` the venue does not offer.
    """
    factory = DRIVERS.get(name)
    if factory is None:
        raise ConfigError(f"unknown venue {name!r}: expected one of {', '.join(VENUES)}")
    return factory(book_depth)
