"""Load and validate the connector's TOML configuration.

The file has the tables ``[venues.<name>]``, ``[risk]``, ``[storage]``,
``[logging]``, ``[sim]``, ``[account]``, ``[market_data]`` and ``[metrics]`` (see ``example.toml``
beside this module); a missing table takes its defaults, and with no file at all
every venue runs on the built-in simulator. Environment variables override the file:
``CONNECTOR_<SECTION>__<KEY>[__<KEY>]`` (double underscore nests), for example
``CONNECTOR_LOGGING__LEVEL=debug`` or ``CONNECTOR_VENUES__BINANCE__ENDPOINT=testnet``;
list keys take comma-separated values
(``CONNECTOR_VENUES__OKX__SYMBOLS=BTC-USDT-SPOT,ETH-USDT-PERP``).

Secrets never live in the main file. They come from the environment
(``CONNECTOR_BINANCE_API_KEY``, ``CONNECTOR_BINANCE_API_SECRET``,
``CONNECTOR_OKX_PASSPHRASE``...) or from a separate TOML file named by the
top-level ``secrets_file`` key (relative to the config file)::

    [binance]
    api_key = "..."
    api_secret = "..."

    [okx]
    api_key = "..."
    api_secret = "..."
    passphrase = "..."

The environment wins over the secrets file. Loaded secrets are registered with
:func:`connector.logs.register_secret`, so the log processor redacts them, and
they appear in no ``repr``, ``str`` or error message.

Every problem in a file is collected before :class:`~connector.errors.ConfigError`
is raised, one line each, naming the key path, the bad value and what was expected.

Modules: :mod:`.values` (the frozen values and their defaults), :mod:`.loading`
(``load_config``, environment overrides, the example file), :mod:`.validate`
(building values from raw tables), :mod:`.fields` (typed readers and problem
lines), :mod:`.credentials` (secrets) and :mod:`.files` (reading TOML). Venue
rules come from the one table of venue facts, :mod:`connector.model.venues`.
"""

from __future__ import annotations

from connector.config.loading import example_config_text, load_config
from connector.config.values import (
    CHANNELS,
    DEFAULT_SYMBOLS,
    ENDPOINTS,
    LOG_FORMATS,
    LOG_LEVELS,
    VENUES,
    AccountConfig,
    Config,
    Credentials,
    LoggingConfig,
    MarketDataConfig,
    MetricsConfig,
    RiskConfig,
    SimConfig,
    StorageConfig,
    VenueConfig,
    market_for,
)

__all__ = [
    "CHANNELS",
    "DEFAULT_SYMBOLS",
    "ENDPOINTS",
    "LOG_FORMATS",
    "LOG_LEVELS",
    "VENUES",
    "AccountConfig",
    "Config",
    "Credentials",
    "LoggingConfig",
    "MarketDataConfig",
    "MetricsConfig",
    "RiskConfig",
    "SimConfig",
    "StorageConfig",
    "VenueConfig",
    "example_config_text",
    "load_config",
    "market_for",
]
