"""connector: one Trio program connected to Binance, Bybit and OKX at once.

The public packages are ``connector`` (this curated namespace),
``connector.errors``, ``connector.model``, ``connector.sim`` and
``connector.testing``; every other module is internal and may move.

::

    async with Connector(load_config("connector.toml")) as c:
        async for tick in c.subscribe("ticker.binance.*"):
            ...
"""

from connector._version import __version__
from connector.account.service import AccountStatistics
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
    RiskConfig,
    SimConfig,
    StorageConfig,
    VenueConfig,
    load_config,
)
from connector.connector import Connector, ConnectorStatistics, ConnectorStatus, SimulatorService
from connector.errors import (
    AuthenticationFailed,
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
    RemoteError,
    RequestTimeout,
    RiskRejected,
    ServiceUnavailable,
    SubscriptionOverflow,
    SupervisorGaveUp,
    SymbolCollision,
    TimestampRejected,
    TransientError,
    UnknownInstrument,
    UnknownSymbol,
)
from connector.health import BreakerState, HealthEvent, HealthStatistics, VenueHealth
from connector.logs import configure_logging
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
from connector.net.ws import WsPhase, WsStatistics
from connector.oms.state import OrderStateStatistics
from connector.oms.tracking import OrderStateServiceStatistics
from connector.replay import Replayer, replay_file
from connector.risk.service import RiskState
from connector.store.log import EventLog
from connector.store.service import Persistence, StoreStatus
from connector.supervision import ChildSnapshot, ChildState, Restart, Strategy, SupervisorSnapshot
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
    "Instrument",
    "InstrumentStatus",
    "InvalidOrder",
    "InvalidSymbol",
    "IpBanned",
    "KeeperStatistics",
    "KeyType",
    "LimiterStatistics",
    "LocalError",
    "LoggingConfig",
    "MalformedMessage",
    "Market",
    "Order",
    "OrderNotFound",
    "OrderOutcomeUnknown",
    "OrderRejected",
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
    "ServiceUnavailable",
    "Side",
    "SimConfig",
    "SimulatorService",
    "StorageConfig",
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
