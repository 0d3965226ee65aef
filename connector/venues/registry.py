"""The venues connector knows, by name: a typed table of driver factories.

Each factory imports its venue's modules when first called, so a program that
reads one venue's market data (``connector replay``) loads neither the other
venues nor any trading adapter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import attrs

from connector.errors import ConfigError
from connector.model.credentials import Credentials
from connector.venues.driver import TradingAdapter, VenueDriver
from connector.venues.driver_common import is_testnet

__all__ = ["DRIVERS", "TRADERS", "VENUES", "driver_for"]


def _binance(book_depth: int) -> VenueDriver:
    from connector.venues.binance.market_data import BinanceMarketData
    from connector.venues.binance.rest import BinanceRest

    return VenueDriver(
        name="binance", rest=BinanceRest(), market_data=BinanceMarketData(book_depth)
    )


def _bybit(book_depth: int) -> VenueDriver:
    from connector.venues.bybit.market_data import BybitMarketData
    from connector.venues.bybit.rest import BybitRest

    return VenueDriver(name="bybit", rest=BybitRest(), market_data=BybitMarketData(book_depth))


def _okx(book_depth: int) -> VenueDriver:
    from connector.venues.okx.market_data import OkxMarketData
    from connector.venues.okx.rest import OkxRest

    return VenueDriver(name="okx", rest=OkxRest(), market_data=OkxMarketData(book_depth))


DRIVERS: Mapping[str, Callable[[int], VenueDriver]] = {
    "binance": _binance,
    "bybit": _bybit,
    "okx": _okx,
}
"""Venue name -> a factory taking the config's ``book_depth`` (0: the venue's default)."""

VENUES = tuple(DRIVERS)


def _binance_trading(credentials: Credentials, endpoint: str) -> TradingAdapter:
    from connector.venues.binance.trading import BinanceTrading

    return BinanceTrading(credentials)


def _bybit_trading(credentials: Credentials, endpoint: str) -> TradingAdapter:
    from connector.venues.bybit.trading import BybitTrading

    return BybitTrading(credentials)


def _okx_trading(credentials: Credentials, endpoint: str) -> TradingAdapter:
    from connector.venues.okx.trading import OkxTrading

    # OKX demo trading uses the live hosts plus the x-simulated-trading header.
    return OkxTrading(credentials, demo=is_testnet("okx", endpoint))


TRADERS: Mapping[str, Callable[[Credentials, str], TradingAdapter]] = {
    "binance": _binance_trading,
    "bybit": _bybit_trading,
    "okx": _okx_trading,
}
"""Venue name -> a factory of its trading adapter, taking the account's credentials
and the built-in endpoint (``live`` or ``testnet``)."""


def driver_for(
    name: str,
    book_depth: int = 0,
    *,
    credentials: Credentials | None = None,
    endpoint: str = "live",
) -> VenueDriver:
    """A new driver of venue ``name``; with ``credentials``, it trades too.

    ``endpoint`` (``live`` or ``testnet``) tells the trading adapter which
    environment it signs for (OKX demo trading adds ``x-simulated-trading: 1``).

    Drivers may hold parser state (Bybit merges ticker deltas), so every session
    and every replay gets its own.

    Raises:
        ConfigError: an unknown venue, a ``book_depth`` the venue does not offer,
            credentials for a venue that cannot trade here yet, or credentials
            whose key does not parse.
    """
    factory = DRIVERS.get(name)
    if factory is None:
        raise ConfigError(f"unknown venue {name!r}: expected one of {', '.join(VENUES)}")
    driver = factory(book_depth)
    if credentials is None:
        return driver
    trader = TRADERS.get(name)
    if trader is None:
        raise ConfigError(f"{name}: trading is not available for this venue yet")
    return attrs.evolve(driver, trading=trader(credentials, endpoint))
