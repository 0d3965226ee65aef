"""connector: one Trio program connected to Binance, Bybit and OKX at once.

The public packages are ``connector`` (this curated namespace),
``connector.errors``, ``connector.model``, ``connector.sim`` and
``connector.testing``; every other module is internal and may move.

::

    async with Connector(load_config("connector.toml")) as c:
        async for tick in c.subscribe("ticker.binance.*"):
            ...

The names are imported on first use (module ``__getattr__``): ``import
connector`` alone loads no I/O, trading or venue code (only the logging
setup), so commands that need little start fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from connector._version import __version__

# Imported now, not on first use: importing connector routes its log events to the
# standard logging module until the application configures structlog (connector.logs).
from connector.logs import configure_logging

if TYPE_CHECKING:
    from connector.account.service import AccountStatistics, ReconcileReport
    from connector.account.stream import PrivatePhase, PrivateStreamStatistics
    from connector.account.views import BalancesView, PositionsView
    from connector.book.keeper import KeeperStatistics
    from connector.book.view import BookView
    from connector.bus import BusStatistics, Overflow, Subscription, SubscriptionStatistics
    from connector.capture import CaptureRecord, read_capture
    from connector.config import (
        AccountConfig,
        Config,
        LoggingConfig,
        MarketDataConfig,
        MetricsConfig,
        RiskConfig,
        SimConfig,
        StorageConfig,
        VenueConfig,
        load_config,
    )
    from connector.connector import (
        Connector,
        ConnectorStatistics,
        ConnectorStatus,
        SimulatorService,
    )
    from connector.errors import (
        AuthenticationFailed,
        CancelAllIncomplete,
        ConfigError,
        ConnectionLost,
        ConnectorError,
        ExchangeRejected,
        InvalidOrder,
        InvalidSymbol,
        IpBanned,
        LocalError,
        MalformedMessage,
        OrderNotFound,
        OrderOutcomeUnknown,
        OrderRejected,
        RateLimited,
        ReconcileIncomplete,
        RemoteError,
        RequestTimeout,
        RiskRejected,
        ServiceUnavailable,
        StoreError,
        SubscriptionOverflow,
        SupervisorGaveUp,
        SymbolCollision,
        TimestampRejected,
        TransientError,
        UnknownInstrument,
        UnknownSymbol,
        UsageError,
    )
    from connector.health import BreakerState, HealthEvent, HealthStatistics, VenueHealth
    from connector.metrics.histogram import HistogramSnapshot, LatencyStatistics
    from connector.model import (
        BookLevel,
        BookState,
        BookStatus,
        BookUpdate,
        ConnectionEvent,
        ConnectionStatus,
        ConsolidatedBook,
        ConsolidatedQuote,
        Fill,
        HealthStatus,
        Instrument,
        InstrumentStatus,
        Market,
        Order,
        OrderStatus,
        OrderType,
        Quote,
        RiskAlert,
        RiskAlertKind,
        Side,
        Symbol,
        SymbolKind,
        Ticker,
        TimeInForce,
        Trade,
        VenueLevel,
    )
    from connector.model.credentials import Credentials, KeyType
    from connector.net.clock import ClockEstimate
    from connector.net.ratelimit import LimiterStatistics
    from connector.net.rpc import RpcStatistics
    from connector.net.ws import WsPhase, WsStatistics
    from connector.oms.order_socket import OrderSocketStatistics
    from connector.oms.state import OrderStateStatistics
    from connector.oms.tracking import OrderStateServiceStatistics
    from connector.replay import Replayer, replay_file
    from connector.risk.service import RiskState
    from connector.store.log import EventLog
    from connector.store.service import Persistence, StoreStatus
    from connector.supervision import (
        ChildSnapshot,
        ChildState,
        Restart,
        Strategy,
        SupervisorSnapshot,
    )
    from connector.trading import OrdersView, RiskView
    from connector.venues.feed import FeedStatistics
    from connector.venues.session import VenueStatistics

__all__ = [
    "AccountConfig",
    "AccountStatistics",
    "AuthenticationFailed",
    "BalancesView",
    "BookLevel",
    "BookState",
    "BookStatus",
    "BookUpdate",
    "BookView",
    "BreakerState",
    "BusStatistics",
    "CancelAllIncomplete",
    "CaptureRecord",
    "ChildSnapshot",
    "ChildState",
    "ClockEstimate",
    "Config",
    "ConfigError",
    "ConnectionEvent",
    "ConnectionLost",
    "ConnectionStatus",
    "Connector",
    "ConnectorError",
    "ConnectorStatistics",
    "ConnectorStatus",
    "ConsolidatedBook",
    "ConsolidatedQuote",
    "Credentials",
    "EventLog",
    "ExchangeRejected",
    "FeedStatistics",
    "Fill",
    "HealthEvent",
    "HealthStatistics",
    "HealthStatus",
    "HistogramSnapshot",
    "Instrument",
    "InstrumentStatus",
    "InvalidOrder",
    "InvalidSymbol",
    "IpBanned",
    "KeeperStatistics",
    "KeyType",
    "LatencyStatistics",
    "LimiterStatistics",
    "LocalError",
    "LoggingConfig",
    "MalformedMessage",
    "Market",
    "MarketDataConfig",
    "MetricsConfig",
    "Order",
    "OrderNotFound",
    "OrderOutcomeUnknown",
    "OrderRejected",
    "OrderSocketStatistics",
    "OrderStateServiceStatistics",
    "OrderStateStatistics",
    "OrderStatus",
    "OrderType",
    "OrdersView",
    "Overflow",
    "Persistence",
    "PositionsView",
    "PrivatePhase",
    "PrivateStreamStatistics",
    "Quote",
    "RateLimited",
    "ReconcileIncomplete",
    "ReconcileReport",
    "RemoteError",
    "Replayer",
    "RequestTimeout",
    "Restart",
    "RiskAlert",
    "RiskAlertKind",
    "RiskConfig",
    "RiskRejected",
    "RiskState",
    "RiskView",
    "RpcStatistics",
    "ServiceUnavailable",
    "Side",
    "SimConfig",
    "SimulatorService",
    "StorageConfig",
    "StoreError",
    "StoreStatus",
    "Strategy",
    "Subscription",
    "SubscriptionOverflow",
    "SubscriptionStatistics",
    "SupervisorGaveUp",
    "SupervisorSnapshot",
    "Symbol",
    "SymbolCollision",
    "SymbolKind",
    "Ticker",
    "TimeInForce",
    "TimestampRejected",
    "Trade",
    "TransientError",
    "UnknownInstrument",
    "UnknownSymbol",
    "UsageError",
    "VenueConfig",
    "VenueHealth",
    "VenueLevel",
    "VenueStatistics",
    "WsPhase",
    "WsStatistics",
    "__version__",
    "configure_logging",
    "load_config",
    "read_capture",
    "replay_file",
]

_SOURCES: dict[str, str] = {
    "AccountStatistics": "connector.account.service",
    "ReconcileReport": "connector.account.service",
    "PrivatePhase": "connector.account.stream",
    "PrivateStreamStatistics": "connector.account.stream",
    "BalancesView": "connector.account.views",
    "PositionsView": "connector.account.views",
    "KeeperStatistics": "connector.book.keeper",
    "BookView": "connector.book.view",
    "BusStatistics": "connector.bus",
    "Overflow": "connector.bus",
    "Subscription": "connector.bus",
    "SubscriptionStatistics": "connector.bus",
    "CaptureRecord": "connector.capture",
    "read_capture": "connector.capture",
    "AccountConfig": "connector.config",
    "Config": "connector.config",
    "LoggingConfig": "connector.config",
    "MarketDataConfig": "connector.config",
    "MetricsConfig": "connector.config",
    "RiskConfig": "connector.config",
    "SimConfig": "connector.config",
    "StorageConfig": "connector.config",
    "VenueConfig": "connector.config",
    "load_config": "connector.config",
    "Connector": "connector.connector",
    "ConnectorStatistics": "connector.connector",
    "ConnectorStatus": "connector.connector",
    "SimulatorService": "connector.connector",
    "AuthenticationFailed": "connector.errors",
    "CancelAllIncomplete": "connector.errors",
    "ConfigError": "connector.errors",
    "ConnectionLost": "connector.errors",
    "ConnectorError": "connector.errors",
    "ExchangeRejected": "connector.errors",
    "InvalidOrder": "connector.errors",
    "InvalidSymbol": "connector.errors",
    "IpBanned": "connector.errors",
    "LocalError": "connector.errors",
    "MalformedMessage": "connector.errors",
    "OrderNotFound": "connector.errors",
    "OrderOutcomeUnknown": "connector.errors",
    "OrderRejected": "connector.errors",
    "RateLimited": "connector.errors",
    "ReconcileIncomplete": "connector.errors",
    "RemoteError": "connector.errors",
    "RequestTimeout": "connector.errors",
    "RiskRejected": "connector.errors",
    "ServiceUnavailable": "connector.errors",
    "StoreError": "connector.errors",
    "SubscriptionOverflow": "connector.errors",
    "SupervisorGaveUp": "connector.errors",
    "SymbolCollision": "connector.errors",
    "TimestampRejected": "connector.errors",
    "TransientError": "connector.errors",
    "UnknownInstrument": "connector.errors",
    "UnknownSymbol": "connector.errors",
    "UsageError": "connector.errors",
    "HistogramSnapshot": "connector.metrics.histogram",
    "LatencyStatistics": "connector.metrics.histogram",
    "BreakerState": "connector.health",
    "HealthEvent": "connector.health",
    "HealthStatistics": "connector.health",
    "VenueHealth": "connector.health",
    "BookLevel": "connector.model",
    "BookState": "connector.model",
    "BookStatus": "connector.model",
    "BookUpdate": "connector.model",
    "ConnectionEvent": "connector.model",
    "ConnectionStatus": "connector.model",
    "HealthStatus": "connector.model",
    "ConsolidatedBook": "connector.model",
    "ConsolidatedQuote": "connector.model",
    "Fill": "connector.model",
    "Instrument": "connector.model",
    "InstrumentStatus": "connector.model",
    "Market": "connector.model",
    "Order": "connector.model",
    "OrderStatus": "connector.model",
    "OrderType": "connector.model",
    "Quote": "connector.model",
    "RiskAlert": "connector.model",
    "RiskAlertKind": "connector.model",
    "Side": "connector.model",
    "Symbol": "connector.model",
    "SymbolKind": "connector.model",
    "Ticker": "connector.model",
    "TimeInForce": "connector.model",
    "Trade": "connector.model",
    "VenueLevel": "connector.model",
    "Credentials": "connector.model.credentials",
    "KeyType": "connector.model.credentials",
    "ClockEstimate": "connector.net.clock",
    "LimiterStatistics": "connector.net.ratelimit",
    "RpcStatistics": "connector.net.rpc",
    "WsPhase": "connector.net.ws",
    "WsStatistics": "connector.net.ws",
    "OrderSocketStatistics": "connector.oms.order_socket",
    "OrderStateStatistics": "connector.oms.state",
    "OrderStateServiceStatistics": "connector.oms.tracking",
    "Replayer": "connector.replay",
    "replay_file": "connector.replay",
    "RiskState": "connector.risk.service",
    "EventLog": "connector.store.log",
    "Persistence": "connector.store.service",
    "StoreStatus": "connector.store.service",
    "ChildSnapshot": "connector.supervision",
    "ChildState": "connector.supervision",
    "Restart": "connector.supervision",
    "Strategy": "connector.supervision",
    "SupervisorSnapshot": "connector.supervision",
    "OrdersView": "connector.trading",
    "RiskView": "connector.trading",
    "FeedStatistics": "connector.venues.feed",
    "VenueStatistics": "connector.venues.session",
}
"""Where each public name is defined: imported from there on first use."""


def __getattr__(name: str) -> object:
    """Import a public name from its module the first time it is read."""
    source = _SOURCES.get(name)
    if source is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(source), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
