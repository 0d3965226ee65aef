"""The configuration's frozen values, their defaults, and the names a config may use.

Venue facts (venue names, markets, channels, which market carries a symbol
kind) come from the one table in :mod:`connector.model.venues`.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

import attrs

from connector.errors import ConfigError
from connector.model import Market, Symbol, SymbolKind
from connector.model.credentials import Credentials
from connector.model.venues import CHANNELS as _CHANNELS
from connector.model.venues import VENUES as _VENUE_FACTS

__all__ = [
    "CHANNELS",
    "DEFAULT_REORDER_WINDOW",
    "DEFAULT_SYMBOLS",
    "ENDPOINTS",
    "LOG_FORMATS",
    "LOG_LEVELS",
    "SIM_MAX_RATE",
    "SIM_SEED_LIMIT",
    "VENUES",
    "Config",
    "Credentials",
    "LoggingConfig",
    "MarketDataConfig",
    "RiskConfig",
    "SimConfig",
    "StorageConfig",
    "VenueConfig",
    "default_venues",
    "market_for",
    "unsupported_kind",
]

VENUES: tuple[str, ...] = tuple(_VENUE_FACTS)
"""The venue names a config may use."""

ENDPOINTS: tuple[str, ...] = ("live", "testnet", "sim", "custom")
"""Where a venue connects: the real venue, its testnet, the local simulator, or ``urls``."""

CHANNELS: tuple[str, ...] = _CHANNELS
"""Market-data channels a venue may subscribe."""

LOG_LEVELS: tuple[str, ...] = ("debug", "info", "warning", "error", "critical")
LOG_FORMATS: tuple[str, ...] = ("auto", "console", "json")

SIM_SEED_LIMIT = 2**32
"""``[sim] seed`` is below this, and 0 or more: the simulator's seeds are 32 bits
(``connector.sim.hub.SEED_LIMIT``, the same number)."""

SIM_MAX_RATE = 40_000.0
"""The most book changes per second per instrument ``[sim] rate`` may ask for: about
what the simulator makes for one instrument on one core (docs/simulator.md, "Rate";
``connector.sim.hub.MAX_RATE``, the same number)."""

DEFAULT_REORDER_WINDOW = 0.05
"""Seconds a book waits for a missing update before it resyncs (``[market_data]
reorder_window``): frames swapped on the way come within milliseconds, and a book
waiting keeps its last state, valid."""

DEFAULT_SYMBOLS: tuple[Symbol, ...] = tuple(
    Symbol.parse(s) for s in ("BTC-USDT-SPOT", "ETH-USDT-SPOT", "BTC-USDT-PERP", "ETH-USDT-PERP")
)


def _readonly_urls(value: Mapping[str, str]) -> Mapping[str, str]:
    return types.MappingProxyType(dict(value))


@attrs.frozen(kw_only=True)
class VenueConfig:
    """How to connect to one venue and what to stream from it.

    Attributes:
        name: ``binance``, ``bybit`` or ``okx``.
        enabled: False keeps the venue configured but not started.
        endpoint: ``live``, ``testnet``, ``sim`` (the local simulator) or ``custom``.
        urls: Only for ``custom``: ``'<market>.rest'`` / ``'<market>.ws'`` base URLs
            (``spot.rest``, ``linear.ws``, ``swap.ws``...), one pair per market used.
        symbols: Canonical symbols to stream.
        channels: Subset of ``book``, ``trades``, ``ticker``, ``bbo``.
        book_depth: Book depth to request; 0 means the venue's default. Binance: the
            REST snapshot limit (default 1000); Bybit: the ``orderbook.N`` topic (50,
            200 (default) or 1000); OKX: 400 only (the ``books`` channel).
        order_entry: ``rest`` (the default) or ``websocket``: places, amends and
            cancels go on the venue's websocket order API while its socket is logged
            in (Bybit ``/v5/trade``), over REST otherwise.
        request_timeout: Seconds a REST request or an order socket's request waits
            for its answer (10 by default); an order whose answer did not come in
            time is ``unknown`` and resolved by its client order id.
        credentials: API credentials, from the environment or the secrets file.
    """

    name: str
    enabled: bool = True
    endpoint: str = "sim"
    urls: Mapping[str, str] = attrs.field(factory=dict, converter=_readonly_urls)
    symbols: tuple[Symbol, ...] = DEFAULT_SYMBOLS
    channels: tuple[str, ...] = CHANNELS
    book_depth: int = 0
    order_entry: str = "rest"
    request_timeout: float = 10.0
    credentials: Credentials | None = attrs.field(default=None, repr=False)

    @property
    def markets(self) -> tuple[Market, ...]:
        """The venue markets the symbols need, in first-use order.

        Binance and Bybit put SPOT on ``spot`` and PERP on ``linear``; OKX puts
        PERP on ``swap``.

        Raises:
            ConfigError: for a dated future (not supported yet).
        """
        markets: list[Market] = []
        for symbol in self.symbols:
            market = market_for(self.name, symbol)
            if market not in markets:
                markets.append(market)
        return tuple(markets)


@attrs.frozen(kw_only=True)
class RiskConfig:
    """Pre-trade limits; ``None`` disables a check.

    Attributes:
        max_order_notional: Largest price * qty of one order, in quote currency.
        max_position_qty: Largest absolute position per symbol.
        max_open_orders: Most open orders per venue.
        price_band_pct: Largest distance of a limit price from mid, in percent.
        max_orders_per_second: Order rate limit per venue.
        kill_switch: True refuses every new order.
        check_balance: True refuses a spot order that needs more than is available
            (the venue's free balance less what our orders hold that it does not show
            locked yet).
    """

    max_order_notional: Decimal | None = None
    max_position_qty: Decimal | None = None
    max_open_orders: int | None = None
    price_band_pct: Decimal | None = None
    max_orders_per_second: float | None = None
    kill_switch: bool = False
    check_balance: bool = False


@attrs.frozen(kw_only=True)
class StorageConfig:
    """Where the event log lives (docs/operations.md).

    Attributes:
        kind: ``"sqlite"``, ``"postgres"`` or ``"memory"`` (the log lives as long as
            the process); ``None``: PostgreSQL when ``postgres_dsn`` is set, else
            memory. :func:`~connector.config.load_config` fills it in: a config
            *file* persists (SQLite at ``sqlite_path``, or PostgreSQL when a DSN is
            set), the default config without a file stays in memory unless a
            store is configured (``kind``, ``sqlite_path`` or ``postgres_dsn``).
        sqlite_path: The SQLite event log file (relative paths in a config file
            are resolved against the file's directory).
        postgres_dsn: A PostgreSQL DSN (then the log lives there).
        postgres_schema: The PostgreSQL schema holding the tables (created when
            missing); one writer per schema.
        client_id_prefix: This install's client-order-id prefix (a letter then up
            to 7 letters or digits); when unset, one is derived from where the log
            lives (the PostgreSQL DSN and schema, else the absolute
            ``sqlite_path``), so it stays the same for an install between runs.
    """

    kind: str | None = None
    sqlite_path: Path = Path("connector.sqlite")
    postgres_dsn: str | None = attrs.field(default=None, repr=False)
    postgres_schema: str = "public"
    client_id_prefix: str | None = None

    @property
    def store(self) -> str:
        """The store in use: ``kind``, or ``"postgres"`` with a DSN, else ``"memory"``."""
        if self.kind is not None:
            return self.kind
        return "postgres" if self.postgres_dsn else "memory"


@attrs.frozen(kw_only=True)
class LoggingConfig:
    """Log level (``debug`` ... ``critical``) and format (``auto``, ``console``, ``json``)."""

    level: str = "info"
    format: str = "auto"


@attrs.frozen(kw_only=True)
class SimConfig:
    """The built-in simulator.

    Attributes:
        seed: Seed of the synthetic order flow (same seed, same market), from 0 to
            ``2**32 - 1``.
        rate: Book changes per second per instrument, at most :data:`SIM_MAX_RATE`.
        okx_checksum: Send real OKX CRC32 checksums instead of 0.
        tls: Serve ``https://`` and ``wss://`` with a certificate authority made for
            the Connector, which its clients trust (and nothing else does).
    """

    seed: int = 1
    rate: float = 200.0
    okx_checksum: bool = False
    tls: bool = False


@attrs.frozen(kw_only=True)
class AccountConfig:
    """The account service of each trading venue (private streams, reconciliation).

    Attributes:
        reconcile_interval: Seconds between two reconciliations of a venue's open
            orders, fills, positions and balances with its REST answers (one also
            runs at start and after every private-stream reconnect).
        forget_finished_after: Seconds after its last change that a finished order
            (filled, canceled, rejected, expired) and its fills leave ``c.orders`` and
            ``c.fills()``, so that the live order state of a long run stays bounded;
            the event store keeps them (``c.orders.all(since=...)``, ``connector
            fills``). With the in-memory log, which is the history, nothing is dropped.
    """

    reconcile_interval: float = 60.0
    forget_finished_after: float = 86400.0


@attrs.frozen(kw_only=True)
class MarketDataConfig:
    """How every venue's books are kept.

    Attributes:
        reorder_window: Seconds a book holds updates that came ahead of a missing one
            (the chain shows a gap), waiting for it: swapped frames then cost
            nothing, the book staying valid at its last applied state; when the
            missing one does not come in time (or 32 updates are held) the book
            resyncs. 0: a gap resyncs at once.
    """

    reorder_window: float = DEFAULT_REORDER_WINDOW


@attrs.frozen(kw_only=True)
class MetricsConfig:
    """The Prometheus endpoint (``GET /metrics``, docs/metrics.md).

    Attributes:
        listen: ``host:port`` to serve on (``127.0.0.1:9464``, ``[::1]:9464``; port 0
            picks a free one); empty: no endpoint.
    """

    listen: str = ""

    @property
    def address(self) -> tuple[str, int] | None:
        """``(host, port)`` of :attr:`listen`, ``None`` when it is empty.

        Raises:
            ValueError: ``listen`` is not ``host:port`` with a port from 0 to 65535.
        """
        return parse_listen(self.listen)


LISTEN_EXPECTED = 'expected host:port with a port from 0 to 65535 (127.0.0.1:9464), or ""'


def parse_listen(text: str) -> tuple[str, int] | None:
    """``(host, port)`` of ``host:port`` (IPv6 hosts in brackets); ``None`` for ``""``.

    Raises:
        ValueError: not ``host:port`` with a port from 0 to 65535.
    """
    text = text.strip()
    if not text:
        return None
    host, sep, port = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        host = ""  # an IPv6 address needs its brackets
    digits = port.isascii() and port.isdigit()  # int() would take other scripts' digits
    if not sep or not host or not digits or not 0 <= int(port) <= 65535:
        raise ValueError(f"{text!r}: {LISTEN_EXPECTED}")
    return host, int(port)


def _readonly_venues(value: Mapping[str, VenueConfig]) -> Mapping[str, VenueConfig]:
    return types.MappingProxyType(dict(value))


def default_venues() -> Mapping[str, VenueConfig]:
    """Every venue with its defaults (on the simulator)."""
    return types.MappingProxyType({name: VenueConfig(name=name) for name in VENUES})


@attrs.frozen(kw_only=True)
class Config:
    """The whole configuration; ``Config()`` is the default (all venues simulated)."""

    venues: Mapping[str, VenueConfig] = attrs.field(
        factory=default_venues, converter=_readonly_venues
    )
    risk: RiskConfig = attrs.field(factory=RiskConfig)
    storage: StorageConfig = attrs.field(factory=StorageConfig)
    logging: LoggingConfig = attrs.field(factory=LoggingConfig)
    sim: SimConfig = attrs.field(factory=SimConfig)
    account: AccountConfig = attrs.field(factory=AccountConfig)
    metrics: MetricsConfig = attrs.field(factory=MetricsConfig)
    market_data: MarketDataConfig = attrs.field(factory=MarketDataConfig)


def market_for(venue: str, symbol: Symbol) -> Market:
    """The market segment that trades ``symbol`` on ``venue``.

    Raises:
        ConfigError: for an unknown venue or a symbol kind the venue has no market
            for (dated futures: not supported yet).
    """
    try:
        facts = _VENUE_FACTS[venue]
    except KeyError:
        raise ConfigError(f"unknown venue {venue!r}: expected one of {', '.join(VENUES)}") from None
    market = facts.market_of(symbol.kind)
    if market is None:
        raise ConfigError(f"symbol {symbol}: {unsupported_kind(venue, symbol.kind)}")
    return market


def unsupported_kind(venue: str, kind: SymbolKind) -> str:
    """Why ``venue`` cannot carry symbols of ``kind``, for a problem line."""
    if kind is SymbolKind.FUT:
        return "dated futures are not supported yet"
    return f"{venue} has no market for {kind.value} symbols ({_VENUE_FACTS[venue].supports})"
