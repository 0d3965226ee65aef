"""connector: one Trio program connected to Binance, Bybit and OKX at once.

::

    async with Connector(load_config("connector.toml")) as c:
        async for tick in c.subscribe("ticker.binance.*"):
            ...
"""

from connector._version import __version__
from connector.book.view import BookView
from connector.bus import Bus, Overflow, Subscription, SubscriptionStatistics
from connector.capture import CaptureRecord, CaptureWriter, read_capture
from connector.config import Config, VenueConfig, load_config
from connector.connector import Connector, ConnectorStatus
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
from connector.health import BreakerState, HealthEvent, VenueHealth
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
    Instrument,
    Market,
    Quote,
    Side,
    Symbol,
    Ticker,
    Trade,
    VenueLevel,
)
from connector.replay import Replayer, replay_file
from connector.supervision import (
    ChildSpec,
    Restart,
    Strategy,
    Supervisor,
    SupervisorSnapshot,
)

__all__ = [
    "AuthenticationFailed",
    "BookLevel",
    "BookState",
    "BookStatus",
    "BookUpdate",
    "BookView",
    "BreakerState",
    "Bus",
    "CaptureRecord",
    "CaptureWriter",
    "ChildSpec",
    "Config",
    "ConfigError",
    "ConnectionEvent",
    "ConnectionLost",
    "ConnectionStatus",
    "Connector",
    "ConnectorError",
    "ConnectorStatus",
    "ConsolidatedBook",
    "ConsolidatedQuote",
    "ExchangeRejected",
    "HealthEvent",
    "Instrument",
    "InvalidOrder",
    "InvalidSymbol",
    "IpBanned",
    "LocalError",
    "MalformedMessage",
    "Market",
    "OrderOutcomeUnknown",
    "OrderRejected",
    "Overflow",
    "Quote",
    "RateLimited",
    "RemoteError",
    "Replayer",
    "RequestTimeout",
    "Restart",
    "RiskRejected",
    "ServiceUnavailable",
    "Side",
    "Strategy",
    "Subscription",
    "SubscriptionOverflow",
    "SubscriptionStatistics",
    "Supervisor",
    "SupervisorGaveUp",
    "SupervisorSnapshot",
    "Symbol",
    "SymbolCollision",
    "Ticker",
    "TimestampRejected",
    "Trade",
    "TransientError",
    "UnknownInstrument",
    "UnknownSymbol",
    "VenueConfig",
    "VenueHealth",
    "VenueLevel",
    "__version__",
    "configure_logging",
    "load_config",
    "read_capture",
    "replay_file",
]
