"""connector: one Trio program connected to Binance, Bybit and OKX at once."""

from connector._version import __version__
from connector.errors import ConfigError, ConnectorError

__all__ = ["ConfigError", "ConnectorError", "__version__"]
