"""Load and validate the connector's TOML configuration.

The file has the tables ``[venues.<name>]``, ``[risk]``, ``[storage]``,
``[logging]`` and ``[sim]`` (see :func:`example_config_text`); a missing table
takes its defaults, and with no file at all every venue runs on the built-in
simulator. Environment variables override the file:
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
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
import types
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import attrs

from connector.errors import ConfigError, InvalidSymbol
from connector.logs import register_secret
from connector.model import Market, Symbol, SymbolKind

__all__ = [
    "CHANNELS",
    "ENDPOINTS",
    "VENUES",
    "Config",
    "Credentials",
    "LoggingConfig",
    "RiskConfig",
    "SimConfig",
    "StorageConfig",
    "VenueConfig",
    "example_config_text",
    "load_config",
    "market_for",
]

VENUES: tuple[str, ...] = ("binance", "bybit", "okx")
"""The venue names a config may use."""

ENDPOINTS: tuple[str, ...] = ("live", "testnet", "sim", "custom")
"""Where a venue connects: the real venue, its testnet, the local simulator, or ``urls``."""

CHANNELS: tuple[str, ...] = ("book", "trades", "ticker", "bbo")
"""Market-data channels a venue may subscribe."""

LOG_LEVELS: tuple[str, ...] = ("debug", "info", "warning", "error", "critical")
LOG_FORMATS: tuple[str, ...] = ("auto", "console", "json")

DEFAULT_SYMBOLS: tuple[Symbol, ...] = tuple(
    Symbol.parse(s) for s in ("BTC-USDT-SPOT", "ETH-USDT-SPOT", "BTC-USDT-PERP", "ETH-USDT-PERP")
)

# Which venue market carries each symbol kind (dated futures: not supported yet).
_KIND_MARKETS: Mapping[str, Mapping[SymbolKind, Market]] = {
    "binance": {SymbolKind.SPOT: Market.SPOT, SymbolKind.PERP: Market.LINEAR},
    "bybit": {SymbolKind.SPOT: Market.SPOT, SymbolKind.PERP: Market.LINEAR},
    "okx": {SymbolKind.SPOT: Market.SPOT, SymbolKind.PERP: Market.SWAP},
}

_SECRET_KEYS = ("api_key", "api_secret", "passphrase")
# Keys that are secrets wherever they appear in the main file.
_SECRET_LIKE = frozenset({*_SECRET_KEYS, "secret", "password", "apikey", "key_secret"})

_TOP_KEYS = ("venues", "risk", "storage", "logging", "sim", "secrets_file")
_VENUE_KEYS = ("enabled", "endpoint", "urls", "symbols", "channels", "book_depth")
_RISK_KEYS = (
    "max_order_notional",
    "max_position_qty",
    "max_open_orders",
    "price_band_pct",
    "max_orders_per_second",
    "kill_switch",
)
_STORAGE_KEYS = ("sqlite_path", "postgres_dsn")
_LOGGING_KEYS = ("level", "format")
_SIM_KEYS = ("seed", "rate", "okx_checksum")

_ENV_PREFIX = "CONNECTOR_"
_SECRET_ENV = re.compile(r"CONNECTOR_([A-Z0-9]+)_(API_KEY|API_SECRET|PASSPHRASE)")


def _readonly_urls(value: Mapping[str, str]) -> Mapping[str, str]:
    return types.MappingProxyType(dict(value))


@attrs.frozen(kw_only=True)
class Credentials:
    """API credentials for one venue; no field shows in ``repr`` or ``str``.

    Attributes:
        api_key: The API key.
        api_secret: The secret that signs requests.
        passphrase: OKX only: the passphrase chosen when the key was created.
    """

    api_key: str = attrs.field(repr=False)
    api_secret: str = attrs.field(repr=False)
    passphrase: str | None = attrs.field(default=None, repr=False)


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
        credentials: API credentials, from the environment or the secrets file.
    """

    name: str
    enabled: bool = True
    endpoint: str = "sim"
    urls: Mapping[str, str] = attrs.field(factory=dict, converter=_readonly_urls)
    symbols: tuple[Symbol, ...] = DEFAULT_SYMBOLS
    channels: tuple[str, ...] = CHANNELS
    book_depth: int = 0
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
    """

    max_order_notional: Decimal | None = None
    max_position_qty: Decimal | None = None
    max_open_orders: int | None = None
    price_band_pct: Decimal | None = None
    max_orders_per_second: float | None = None
    kill_switch: bool = False


@attrs.frozen(kw_only=True)
class StorageConfig:
    """Where the event log lives: SQLite by default, PostgreSQL when a DSN is set."""

    sqlite_path: Path = Path("connector.sqlite")
    postgres_dsn: str | None = attrs.field(default=None, repr=False)


@attrs.frozen(kw_only=True)
class LoggingConfig:
    """Log level (``debug`` ... ``critical``) and format (``auto``, ``console``, ``json``)."""

    level: str = "info"
    format: str = "auto"


@attrs.frozen(kw_only=True)
class SimConfig:
    """The built-in simulator.

    Attributes:
        seed: Seed of the synthetic order flow (same seed, same market).
        rate: Book changes per second per instrument.
        okx_checksum: Send real OKX CRC32 checksums instead of 0.
    """

    seed: int = 1
    rate: float = 200.0
    okx_checksum: bool = False


def _readonly_venues(value: Mapping[str, VenueConfig]) -> Mapping[str, VenueConfig]:
    return types.MappingProxyType(dict(value))


def _default_venues() -> Mapping[str, VenueConfig]:
    return types.MappingProxyType({name: VenueConfig(name=name) for name in VENUES})


@attrs.frozen(kw_only=True)
class Config:
    """The whole configuration; ``Config()`` is the default (all venues simulated)."""

    venues: Mapping[str, VenueConfig] = attrs.field(
        factory=_default_venues, converter=_readonly_venues
    )
    risk: RiskConfig = attrs.field(factory=RiskConfig)
    storage: StorageConfig = attrs.field(factory=StorageConfig)
    logging: LoggingConfig = attrs.field(factory=LoggingConfig)
    sim: SimConfig = attrs.field(factory=SimConfig)


def market_for(venue: str, symbol: Symbol) -> Market:
    """The market segment that trades ``symbol`` on ``venue``.

    Raises:
        ConfigError: for an unknown venue or a dated future (not supported yet).
    """
    try:
        by_kind = _KIND_MARKETS[venue]
    except KeyError:
        raise ConfigError(f"unknown venue {venue!r}: expected one of {', '.join(VENUES)}") from None
    try:
        return by_kind[symbol.kind]
    except KeyError:
        raise ConfigError(f"symbol {symbol}: dated futures are not supported yet") from None


# --------------------------------------------------------------------------- loading


class _EnvText(str):
    """A value from an environment variable: raw text, converted per the field's type."""

    __slots__ = ("var",)
    var: str

    def __new__(cls, text: str, var: str) -> _EnvText:
        self = super().__new__(cls, text)
        self.var = var
        return self


class _Problems:
    """Collects one line per problem; ``_Invalid`` marks a value that could not be used."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, path: str, value: object, expected: str) -> None:
        self.lines.append(f"{path} = {_show(value)}: {expected}{_source(value)}")

    def note(self, line: str) -> None:
        self.lines.append(line)

    def unknown_keys(self, path: str, table: Mapping[str, object], known: Iterable[str]) -> None:
        known = tuple(known)
        for key in table:
            if key in known:
                continue
            where = f"{path}.{key}" if path else key
            if key.lower() in _SECRET_LIKE:
                self.note(f"{where}: put secrets in the environment or secrets_file")
                continue
            close = difflib.get_close_matches(key, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f"; expected {', '.join(known)}"
            self.note(f"{where}: unknown key{hint}{_source(table[key])}")


def _show(value: object) -> str:
    if isinstance(value, _EnvText):
        return repr(str(value))
    return repr(value)


def _source(value: object) -> str:
    """Which environment variable set ``value`` (or a value inside it), if any."""
    if isinstance(value, _EnvText):
        return f" (from {value.var})"
    if isinstance(value, Mapping):
        for item in value.values():
            found = _source(item)
            if found:
                return found
    return ""


_T = TypeVar("_T")
_MISSING = object()


def load_config(
    path: str | os.PathLike[str] | None = None, *, env: Mapping[str, str] | None = None
) -> Config:
    """Read ``path`` (TOML), apply ``CONNECTOR_*`` environment overrides, validate.

    Args:
        path: The config file; ``None`` starts from the default config
            (every venue on the simulator, BTC/ETH spot and perpetuals, all channels).
        env: The environment to read overrides and secrets from (default ``os.environ``).

    Returns:
        The validated configuration.

    Raises:
        ConfigError: listing every problem found (``.problems``), or naming the
            file that is missing or the line and column of a TOML syntax error.
    """
    environ: Mapping[str, str] = os.environ if env is None else env
    data: dict[str, object] = {}
    base_dir = Path.cwd()
    if path is not None:
        file = Path(path)
        data = _read_toml(file, "config file")
        base_dir = file.parent
    problems = _Problems()
    if "venues" not in data:
        # No venues table: the defaults, which the environment may then adjust.
        data["venues"] = {name: {} for name in VENUES}
    _apply_env_overrides(data, environ, problems)
    config = _build(data, problems)
    _check_dsn(data, problems)
    secrets = _load_secrets(data, base_dir, problems)
    secrets = _merge_env_secrets(secrets, environ, problems)
    if config is not None and not problems.lines:
        config = _attach_credentials(config, secrets, problems)
    if problems.lines or config is None:
        where = f"config {os.fspath(path)!r}" if path is not None else "config"
        count = len(problems.lines)
        message = f"{where}: {count} problem{'s' if count != 1 else ''}:\n" + "\n".join(
            f"  - {line}" for line in problems.lines
        )
        raise ConfigError(message, tuple(problems.lines))
    for venue in config.venues.values():
        if venue.credentials is not None:
            for secret in (
                venue.credentials.api_key,
                venue.credentials.api_secret,
                venue.credentials.passphrase,
            ):
                if secret:
                    register_secret(secret)
    if config.storage.postgres_dsn:
        register_secret(config.storage.postgres_dsn)
        password = _dsn_password(config.storage.postgres_dsn)
        if password:
            register_secret(password)
    return config


def _read_toml(file: Path, what: str) -> dict[str, object]:
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{what} {os.fspath(file)!r} not found") from None
    except OSError as exc:
        raise ConfigError(f"{what} {os.fspath(file)!r} cannot be read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{what} {os.fspath(file)!r} is not UTF-8 text (byte {exc.start})"
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # Python 3.11's message ends "(at line L, column C)"; keep only the rule.
        message = str(exc)
        match = re.search(r"\(at line (\d+), column (\d+)\)$", message)
        if match:
            rule = message[: match.start()].strip()
            where = f"line {match.group(1)}, column {match.group(2)}"
        else:
            rule = re.sub(r"\s*\(at end of document\)$", "", message)
            where = f"line {text.count(chr(10)) + 1}, end of document"
        raise ConfigError(f"{what} {os.fspath(file)!r}: invalid TOML at {where}: {rule}") from None


def _apply_env_overrides(
    data: dict[str, object], environ: Mapping[str, str], problems: _Problems
) -> None:
    for var in sorted(environ):
        if not var.startswith(_ENV_PREFIX) or "__" not in var:
            continue
        parts = [p.lower() for p in var[len(_ENV_PREFIX) :].split("__")]
        if any(not p for p in parts):
            problems.note(f"{var}: empty key in the name (double underscores nest keys)")
            continue
        if parts[0] == "secrets_file":
            problems.note(f"{var}: secrets_file cannot be set from the environment")
            continue
        if len(parts) >= 3 and parts[0] == "venues" and parts[2] == "urls" and len(parts) == 4:
            # '.' cannot appear in a variable name: SPOT_REST means 'spot.rest'.
            parts[3] = parts[3].replace("_", ".", 1)
        table: dict[str, object] = data
        ok = True
        for i, key in enumerate(parts[:-1]):
            child = table.setdefault(key, {})
            if not isinstance(child, dict):
                problems.note(f"{var}: {'.'.join(parts[: i + 1])} is not a table")
                ok = False
                break
            table = child
        if ok:
            table[parts[-1]] = _EnvText(environ[var], var)


def _build(data: Mapping[str, object], problems: _Problems) -> Config | None:
    problems.unknown_keys("", data, _TOP_KEYS)
    venues = _build_venues(data.get("venues", _MISSING), problems)
    risk = _build_section(data, "risk", _RISK_KEYS, _risk, problems)
    storage = _build_section(data, "storage", _STORAGE_KEYS, _storage, problems)
    logging = _build_section(data, "logging", _LOGGING_KEYS, _logging, problems)
    sim = _build_section(data, "sim", _SIM_KEYS, _sim, problems)
    secrets_file = data.get("secrets_file", _MISSING)
    if secrets_file is not _MISSING and not isinstance(secrets_file, str):
        problems.add("secrets_file", secrets_file, "expected a file path (string)")
    if venues is None or risk is None or storage is None or logging is None or sim is None:
        return None
    return Config(venues=venues, risk=risk, storage=storage, logging=logging, sim=sim)


def _build_section(
    data: Mapping[str, object],
    name: str,
    keys: tuple[str, ...],
    build: Callable[[Mapping[str, object], _Problems], _T | None],
    problems: _Problems,
) -> _T | None:
    table = data.get(name, {})
    if not isinstance(table, Mapping):
        problems.add(name, table, "expected a table")
        return None
    problems.unknown_keys(name, table, keys)
    return build(table, problems)


# --------------------------------------------------------------------------- field readers


class _Fields:
    """Reads typed fields of one table; each bad value adds a problem and yields the default."""

    def __init__(self, path: str, table: Mapping[str, object], problems: _Problems) -> None:
        self.path = path
        self.table = table
        self.problems = problems
        self.failed = False

    def _bad(self, key: str, value: object, expected: str) -> None:
        self.problems.add(f"{self.path}.{key}", value, expected)
        self.failed = True

    def boolean(self, key: str, default: bool) -> bool:
        value = self.table.get(key, _MISSING)
        if value is _MISSING:
            return default
        if isinstance(value, _EnvText):
            lowered = value.strip().lower()
            if lowered in ("true", "1", "yes", "on"):
                return True
            if lowered in ("false", "0", "no", "off"):
                return False
        elif isinstance(value, bool):
            return value
        self._bad(key, value, "expected true or false")
        return default

    def integer(self, key: str, default: _T, *, minimum: int | None = None) -> int | _T:
        value = self.table.get(key, _MISSING)
        if value is _MISSING:
            return default
        result: int | None = None
        if isinstance(value, _EnvText):
            try:
                result = int(value.strip())
            except ValueError:
                result = None
        elif isinstance(value, int) and not isinstance(value, bool):
            result = value
        if result is None:
            self._bad(key, value, "expected an integer")
            return default
        if minimum is not None and result < minimum:
            self._bad(key, value, f"expected an integer >= {minimum}")
            return default
        return result

    def number(self, key: str, default: _T, *, positive: bool = False) -> float | _T:
        value = self.table.get(key, _MISSING)
        if value is _MISSING:
            return default
        result: float | None = None
        if isinstance(value, _EnvText):
            try:
                result = float(value.strip())
            except ValueError:
                result = None
        elif isinstance(value, int | float) and not isinstance(value, bool):
            result = float(value)
        if result is None or result != result or result in (float("inf"), float("-inf")):
            self._bad(key, value, "expected a finite number")
            return default
        if positive and result <= 0:
            self._bad(key, value, "expected a number > 0")
            return default
        return result

    def decimal(
        self, key: str, *, positive: bool = True, maximum: Decimal | None = None
    ) -> Decimal | None:
        value = self.table.get(key, _MISSING)
        if value is _MISSING:
            return None
        if isinstance(value, float):
            self._bad(
                key,
                value,
                f'money is exact: write it as a string ("{value!r}") or an integer, not a float',
            )
            return None
        result: Decimal | None = None
        if isinstance(value, str):
            try:
                result = Decimal(value.strip())
            except InvalidOperation:
                result = None
        elif isinstance(value, int) and not isinstance(value, bool):
            result = Decimal(value)
        if result is None or not result.is_finite():
            self._bad(key, value, 'expected a decimal number as a string ("100.5") or an integer')
            return None
        if positive and result <= 0:
            self._bad(key, value, "expected a number > 0")
            return None
        if maximum is not None and result > maximum:
            self._bad(key, value, f"expected a number <= {maximum}")
            return None
        return result

    def choice(self, key: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.table.get(key, _MISSING)
        if value is _MISSING:
            return default
        if isinstance(value, str) and value.strip().lower() in choices:
            return value.strip().lower()
        self._bad(key, value, f"expected one of {', '.join(choices)}")
        return default

    def text(self, key: str) -> str | None:
        value = self.table.get(key, _MISSING)
        if value is _MISSING:
            return None
        if isinstance(value, str):
            return str(value)
        self._bad(key, value, "expected a string")
        return None

    def string_list(self, key: str) -> list[tuple[str, object]] | None:
        """The list's items with the key path of each; ``None`` when absent or bad."""
        value = self.table.get(key, _MISSING)
        if value is _MISSING:
            return None
        if isinstance(value, _EnvText):
            items: list[object] = [
                _EnvText(part.strip(), value.var) for part in value.split(",") if part.strip()
            ]
        elif isinstance(value, list):
            items = list(value)
        else:
            self._bad(key, value, "expected a list of strings")
            return None
        return [(f"{self.path}.{key}[{i}]", item) for i, item in enumerate(items)]


def _build_venues(
    value: object, problems: _Problems
) -> types.MappingProxyType[str, VenueConfig] | None:
    if value is _MISSING:
        return types.MappingProxyType(dict(_default_venues()))
    if not isinstance(value, Mapping):
        problems.add("venues", value, "expected a table of venues ([venues.binance] ...)")
        return None
    venues: dict[str, VenueConfig] = {}
    failed = False
    for name, table in value.items():
        if name not in VENUES:
            close = difflib.get_close_matches(name, VENUES, n=1)
            hint = (
                f"did you mean {close[0]!r}?" if close else f"expected one of {', '.join(VENUES)}"
            )
            problems.note(f"venues.{name}: unknown venue ({hint}){_source(table)}")
            failed = True
            continue
        if not isinstance(table, Mapping):
            problems.add(f"venues.{name}", table, "expected a table")
            failed = True
            continue
        venue = _venue(name, table, problems)
        if venue is None:
            failed = True
        else:
            venues[name] = venue
    return None if failed else types.MappingProxyType(venues)


def _venue(name: str, table: Mapping[str, object], problems: _Problems) -> VenueConfig | None:
    path = f"venues.{name}"
    problems.unknown_keys(path, table, _VENUE_KEYS)
    f = _Fields(path, table, problems)
    enabled = f.boolean("enabled", True)
    endpoint = f.choice("endpoint", "sim", ENDPOINTS)
    book_depth = f.integer("book_depth", 0, minimum=0)

    symbols: list[Symbol] = []
    markets: list[Market] = []
    items = f.string_list("symbols")
    for item_path, item in items if items is not None else [(None, s) for s in DEFAULT_SYMBOLS]:
        if isinstance(item, Symbol):
            symbol = item
        elif not isinstance(item, str):
            problems.add(item_path or path, item, "expected a symbol string like 'BTC-USDT-SPOT'")
            f.failed = True
            continue
        else:
            try:
                symbol = Symbol.parse(str(item).strip())
            except InvalidSymbol as exc:
                problems.add(item_path or path, item, _symbol_rule(str(exc)))
                f.failed = True
                continue
        if symbol in symbols:
            problems.add(item_path or path, item, "duplicate symbol")
            f.failed = True
            continue
        market = _KIND_MARKETS[name].get(symbol.kind)
        if market is None:
            problems.add(item_path or path, item, "dated futures are not supported yet")
            f.failed = True
            continue
        symbols.append(symbol)
        if market not in markets:
            markets.append(market)

    channels: list[str] = []
    items = f.string_list("channels")
    for item_path, item in items if items is not None else [(None, c) for c in CHANNELS]:
        text = item.strip().lower() if isinstance(item, str) else None
        if text not in CHANNELS:
            problems.add(item_path or path, item, f"expected one of {', '.join(CHANNELS)}")
            f.failed = True
        elif text in channels:
            problems.add(item_path or path, item, "duplicate channel")
            f.failed = True
        else:
            channels.append(text)

    urls = _urls(path, table.get("urls", _MISSING), endpoint, markets, problems)
    if urls is None:
        f.failed = True
    if f.failed or urls is None:
        return None
    return VenueConfig(
        name=name,
        enabled=enabled,
        endpoint=endpoint,
        urls=urls,
        symbols=tuple(symbols),
        channels=tuple(channels),
        book_depth=book_depth,
    )


def _symbol_rule(message: str) -> str:
    # InvalidSymbol says "symbol 'X': <rule>"; the problem line already shows the value.
    _, sep, rule = message.partition(": ")
    return rule if sep else message


def _urls(
    path: str, value: object, endpoint: str, markets: list[Market], problems: _Problems
) -> dict[str, str] | None:
    if value is _MISSING:
        if endpoint == "custom":
            needed = [f"{m.value}.{kind}" for m in markets for kind in ("rest", "ws")]
            problems.note(
                f"{path}.urls: endpoint = 'custom' needs base URLs for "
                f"{', '.join(needed) or 'each market used'}"
            )
            return None
        return {}
    if not isinstance(value, Mapping):
        problems.add(f"{path}.urls", value, "expected a table of '<market>.rest' / '<market>.ws'")
        return None
    if endpoint != "custom":
        problems.note(f"{path}.urls: only used with endpoint = 'custom' (endpoint is {endpoint!r})")
        return None
    venue = path.rpartition(".")[2]
    allowed_markets = sorted({m.value for m in _KIND_MARKETS[venue].values()})
    urls: dict[str, str] = {}
    ok = True
    for key, url in value.items():
        market, _, kind = key.partition(".")
        key_path = f'{path}.urls."{key}"'
        if market not in allowed_markets or kind not in ("rest", "ws"):
            allowed = ", ".join(f"{m}.rest, {m}.ws" for m in allowed_markets)
            problems.note(f"{key_path}: unknown key; expected {allowed}{_source(url)}")
            ok = False
            continue
        schemes = ("http", "https") if kind == "rest" else ("ws", "wss")
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in schemes or not parts.netloc:
            problems.add(key_path, url, f"expected a {' or '.join(schemes)} URL")
            ok = False
            continue
        urls[key] = str(url)
    for market in markets:
        for kind in ("rest", "ws"):
            key = f"{market.value}.{kind}"
            if key not in value:
                problems.note(f'{path}.urls."{key}": missing; the symbols need the {market} market')
                ok = False
    return urls if ok else None


def _risk(table: Mapping[str, object], problems: _Problems) -> RiskConfig | None:
    f = _Fields("risk", table, problems)
    none: None = None
    result = RiskConfig(
        max_order_notional=f.decimal("max_order_notional"),
        max_position_qty=f.decimal("max_position_qty"),
        max_open_orders=f.integer("max_open_orders", none, minimum=1),
        price_band_pct=f.decimal("price_band_pct", maximum=Decimal(100)),
        max_orders_per_second=f.number("max_orders_per_second", none, positive=True),
        kill_switch=f.boolean("kill_switch", False),
    )
    return None if f.failed else result


def _storage(table: Mapping[str, object], problems: _Problems) -> StorageConfig | None:
    f = _Fields("storage", table, problems)
    sqlite = f.text("sqlite_path")
    if sqlite is not None and not sqlite.strip():
        f._bad("sqlite_path", sqlite, "expected a file path")
    dsn_value = table.get("postgres_dsn", _MISSING)
    dsn: str | None = None
    if dsn_value is not _MISSING:
        if isinstance(dsn_value, str):
            dsn = str(dsn_value) or None
        else:
            # Not echoed: a DSN may hold a password.
            problems.note("storage.postgres_dsn: expected a string")
            f.failed = True
    if f.failed:
        return None
    return StorageConfig(
        sqlite_path=Path(sqlite).expanduser() if sqlite else Path("connector.sqlite"),
        postgres_dsn=dsn,
    )


def _logging(table: Mapping[str, object], problems: _Problems) -> LoggingConfig | None:
    f = _Fields("logging", table, problems)
    result = LoggingConfig(
        level=f.choice("level", "info", LOG_LEVELS),
        format=f.choice("format", "auto", LOG_FORMATS),
    )
    return None if f.failed else result


def _sim(table: Mapping[str, object], problems: _Problems) -> SimConfig | None:
    f = _Fields("sim", table, problems)
    result = SimConfig(
        seed=f.integer("seed", 1),
        rate=f.number("rate", 200.0, positive=True),
        okx_checksum=f.boolean("okx_checksum", False),
    )
    return None if f.failed else result


# --------------------------------------------------------------------------- secrets

_Secrets = dict[str, dict[str, str]]


def _load_secrets(data: Mapping[str, object], base_dir: Path, problems: _Problems) -> _Secrets:
    name = data.get("secrets_file", _MISSING)
    if not isinstance(name, str):
        return {}
    file = Path(name).expanduser()
    if not file.is_absolute():
        file = base_dir / file
    try:
        raw = _read_toml(file, "secrets file")
    except ConfigError as exc:
        problems.note(f"secrets_file: {exc}")
        return {}
    secrets: _Secrets = {}
    for section, table in raw.items():
        if section == "storage" and isinstance(table, Mapping):
            for key, value in table.items():
                if key != "postgres_dsn":
                    problems.note(
                        f"secrets file [storage] {key}: unknown key; expected postgres_dsn"
                    )
                elif not isinstance(value, str):
                    problems.note("secrets file [storage] postgres_dsn: expected a string")
                else:
                    secrets.setdefault("storage", {})["postgres_dsn"] = value
            continue
        if section not in VENUES:
            close = difflib.get_close_matches(section, (*VENUES, "storage"), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.note(f"secrets file [{section}]: unknown section{hint}")
            continue
        if not isinstance(table, Mapping):
            problems.note(f"secrets file [{section}]: expected a table")
            continue
        for key, value in table.items():
            if key not in _SECRET_KEYS:
                close = difflib.get_close_matches(key, _SECRET_KEYS, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                problems.note(f"secrets file [{section}] {key}: unknown key{hint}")
            elif not isinstance(value, str) or not value:
                # The value is never echoed: it is (or should have been) a secret.
                problems.note(f"secrets file [{section}] {key}: expected a non-empty string")
            else:
                secrets.setdefault(section, {})[key] = value
    return secrets


def _merge_env_secrets(
    secrets: _Secrets, environ: Mapping[str, str], problems: _Problems
) -> _Secrets:
    merged = {section: dict(values) for section, values in secrets.items()}
    for var in sorted(environ):
        match = _SECRET_ENV.fullmatch(var)
        if match is None:
            continue
        venue, key = match.group(1).lower(), match.group(2).lower()
        if venue not in VENUES:
            # CONNECTOR_TEST_... and the like are not ours; only near-misses are worth a word.
            close = difflib.get_close_matches(venue, VENUES, n=1)
            if close:
                problems.note(f"{var}: unknown venue {venue!r} (did you mean {close[0]!r}?)")
            continue
        if environ[var]:
            merged.setdefault(venue, {})[key] = environ[var]
    return merged


def _attach_credentials(config: Config, secrets: _Secrets, problems: _Problems) -> Config:
    venues = dict(config.venues)
    for name, values in secrets.items():
        if name == "storage":
            continue
        source = f"CONNECTOR_{name.upper()}_* or [{name}] in secrets_file"
        missing = [k for k in ("api_key", "api_secret") if k not in values]
        if missing:
            problems.note(f"{name} credentials: {' and '.join(missing)} missing (set {source})")
            continue
        passphrase = values.get("passphrase")
        if name == "okx" and passphrase is None:
            problems.note(f"okx credentials: passphrase missing (set {source})")
            continue
        if name != "okx" and passphrase is not None:
            problems.note(f"{name} credentials: {name} keys have no passphrase; remove it")
            continue
        if name in venues:
            venues[name] = attrs.evolve(
                venues[name],
                credentials=Credentials(
                    api_key=values["api_key"],
                    api_secret=values["api_secret"],
                    passphrase=passphrase,
                ),
            )
    storage = config.storage
    dsn = secrets.get("storage", {}).get("postgres_dsn")
    if dsn is not None and storage.postgres_dsn is None:
        storage = attrs.evolve(storage, postgres_dsn=dsn)
    return attrs.evolve(config, venues=venues, storage=storage)


def _dsn_password(dsn: str) -> str | None:
    if "://" in dsn:
        try:
            return urlsplit(dsn).password
        except ValueError:
            return None
    match = re.search(r"(?:^|\s)password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", dsn)
    if match is None:
        return None
    return match.group(1).strip("'")


def _check_dsn(data: Mapping[str, object], problems: _Problems) -> None:
    """A password inside a DSN written in the main file is a secret in the wrong place."""
    storage = data.get("storage")
    if not isinstance(storage, Mapping):
        return
    dsn = storage.get("postgres_dsn")
    if isinstance(dsn, str) and not isinstance(dsn, _EnvText) and _dsn_password(dsn):
        problems.note(
            "storage.postgres_dsn: holds a password; put secrets in the environment "
            "(CONNECTOR_STORAGE__POSTGRES_DSN) or secrets_file ([storage] postgres_dsn)"
        )


# --------------------------------------------------------------------------- example


def example_config_text() -> str:
    """A commented example config that loads to the default configuration."""
    symbols = ", ".join(f'"{s}"' for s in DEFAULT_SYMBOLS)
    channels = ", ".join(f'"{c}"' for c in CHANNELS)
    venues = "".join(
        f"""
[venues.{name}]
enabled = true
endpoint = "sim"            # live, testnet, sim (local simulator) or custom
symbols = [{symbols}]
channels = [{channels}]
book_depth = 0              # 0: the venue session's default depth
"""
        for name in VENUES
    )
    return f"""\
# connector configuration (TOML).
#
# Every key can be overridden from the environment:
#   CONNECTOR_<SECTION>__<KEY>[__<KEY>], e.g. CONNECTOR_LOGGING__LEVEL=debug,
#   CONNECTOR_VENUES__BINANCE__ENDPOINT=testnet,
#   CONNECTOR_VENUES__OKX__SYMBOLS=BTC-USDT-SPOT,ETH-USDT-PERP (lists: comma-separated)
#
# Secrets never go in this file. Set CONNECTOR_<VENUE>_API_KEY, CONNECTOR_<VENUE>_API_SECRET
# (and CONNECTOR_OKX_PASSPHRASE), or name a separate TOML file here:
# secrets_file = "secrets.toml"     # relative to this file; [binance] api_key = "..." ...

# One table per venue (binance, bybit, okx). Symbols are canonical: BASE-QUOTE-SPOT|PERP.
# endpoint = "custom" needs base URLs, one pair per market the symbols use:
#   [venues.binance.urls]
#   "spot.rest" = "https://127.0.0.1:9000"
#   "spot.ws" = "wss://127.0.0.1:9001"
#   "linear.rest" = "https://127.0.0.1:9002"     # okx uses "swap.*" for PERP symbols
#   "linear.ws" = "wss://127.0.0.1:9003"
{venues}
[risk]
# Every limit is off until set. Money is exact: write decimals as strings.
# max_order_notional = "50000"      # quote currency, per order
# max_position_qty = "2"            # per symbol
# max_open_orders = 50              # per venue
# price_band_pct = "5"              # limit price within 5 % of mid
# max_orders_per_second = 5.0       # per venue
kill_switch = false                 # true refuses every new order

[storage]
sqlite_path = "connector.sqlite"
# postgres_dsn = "postgresql://connector@localhost/connector"   # password: secrets_file or env

[logging]
level = "info"                      # debug, info, warning, error, critical
format = "auto"                     # auto (console on a terminal, else JSON lines), console, json

[sim]
seed = 1                            # same seed, same synthetic market
rate = 200.0                        # book changes per second per instrument
okx_checksum = false                # true: the simulated OKX sends real CRC32 checksums
"""
