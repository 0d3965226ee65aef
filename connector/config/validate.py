"""Validate the raw tables of a config file and build the frozen values from them.

Each section reader returns its value, or ``None`` after adding its problems to
the shared :class:`~connector.config.fields.Problems`. Venue rules (markets,
channels, symbol kinds, book depths) come from :mod:`connector.model.venues`, the
table the venue drivers follow, so a file that passes here is one a
:class:`~connector.connector.Connector` accepts.
"""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from connector.config.fields import MISSING, Fields, Problems, source_of
from connector.config.values import (
    DEFAULT_REORDER_WINDOW,
    DEFAULT_SYMBOLS,
    ENDPOINTS,
    LISTEN_EXPECTED,
    LOG_FORMATS,
    LOG_LEVELS,
    SIM_MAX_RATE,
    SIM_SEED_LIMIT,
    VENUES,
    AccountConfig,
    Config,
    LoggingConfig,
    MarketDataConfig,
    MetricsConfig,
    RiskConfig,
    SimConfig,
    StorageConfig,
    VenueConfig,
    default_venues,
    parse_listen,
    unsupported_kind,
)
from connector.errors import InvalidSymbol
from connector.model import Market, Symbol
from connector.model.venues import venue_facts

__all__ = ["build"]

_T = TypeVar("_T")

_TOP_KEYS = (
    "venues",
    "risk",
    "storage",
    "logging",
    "sim",
    "account",
    "metrics",
    "market_data",
    "secrets_file",
)
_VENUE_KEYS = (
    "enabled",
    "endpoint",
    "urls",
    "symbols",
    "channels",
    "book_depth",
    "order_entry",
    "request_timeout",
)
_ORDER_ENTRIES = ("rest", "websocket")
_RISK_KEYS = (
    "max_order_notional",
    "max_position_qty",
    "max_open_orders",
    "price_band_pct",
    "max_orders_per_second",
    "kill_switch",
    "check_balance",
)
_STORAGE_KEYS = ("kind", "sqlite_path", "postgres_dsn", "postgres_schema", "client_id_prefix")
STORE_KINDS = ("sqlite", "postgres", "memory")
_LOGGING_KEYS = ("level", "format")
_SIM_KEYS = ("seed", "rate", "okx_checksum", "tls")
_ACCOUNT_KEYS = ("reconcile_interval", "forget_finished_after")
_METRICS_KEYS = ("listen",)
_MARKET_DATA_KEYS = ("reorder_window",)


def build(data: Mapping[str, object], problems: Problems) -> Config | None:
    """The config the raw tables describe, or ``None`` after adding every problem found."""
    problems.unknown_keys("", data, _TOP_KEYS)
    venues = _build_venues(data.get("venues", MISSING), problems)
    risk = _build_section(data, "risk", _RISK_KEYS, _risk, problems)
    storage = _build_section(data, "storage", _STORAGE_KEYS, _storage, problems)
    logging = _build_section(data, "logging", _LOGGING_KEYS, _logging, problems)
    sim = _build_section(data, "sim", _SIM_KEYS, _sim, problems)
    account = _build_section(data, "account", _ACCOUNT_KEYS, _account, problems)
    metrics = _build_section(data, "metrics", _METRICS_KEYS, _metrics, problems)
    market_data = _build_section(data, "market_data", _MARKET_DATA_KEYS, _market_data, problems)
    secrets_file = data.get("secrets_file", MISSING)
    if secrets_file is not MISSING and not isinstance(secrets_file, str):
        problems.add("secrets_file", secrets_file, "expected a file path (string)")
    if (
        venues is None
        or risk is None
        or storage is None
        or logging is None
        or sim is None
        or account is None
        or metrics is None
        or market_data is None
    ):
        return None
    return Config(
        venues=venues,
        risk=risk,
        storage=storage,
        logging=logging,
        sim=sim,
        account=account,
        metrics=metrics,
        market_data=market_data,
    )


def _build_section(
    data: Mapping[str, object],
    name: str,
    keys: tuple[str, ...],
    build: Callable[[Mapping[str, object], Problems], _T | None],
    problems: Problems,
) -> _T | None:
    table = data.get(name, {})
    if not isinstance(table, Mapping):
        problems.add(name, table, "expected a table")
        return None
    problems.unknown_keys(name, table, keys)
    return build(table, problems)


def _build_venues(
    value: object, problems: Problems
) -> types.MappingProxyType[str, VenueConfig] | None:
    if value is MISSING:
        return types.MappingProxyType(dict(default_venues()))
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
            problems.note(f"venues.{name}: unknown venue ({hint}){source_of(table)}")
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


def _venue(name: str, table: Mapping[str, object], problems: Problems) -> VenueConfig | None:
    path = f"venues.{name}"
    facts = venue_facts(name)
    problems.unknown_keys(path, table, _VENUE_KEYS)
    f = Fields(path, table, problems)
    enabled = f.boolean("enabled", True)
    endpoint = f.choice("endpoint", "sim", ENDPOINTS)
    book_depth = f.integer("book_depth", 0, minimum=0)
    if not facts.accepts_book_depth(book_depth):
        f.bad("book_depth", table["book_depth"], f"expected {facts.describe_book_depths()}")
        book_depth = 0
    order_entry = f.choice("order_entry", "rest", _ORDER_ENTRIES)
    if order_entry not in facts.order_entry:
        f.bad(
            "order_entry",
            table["order_entry"],
            f"{name} orders go over {' or '.join(facts.order_entry)} only",
        )
    request_timeout = f.number("request_timeout", 10.0, positive=True)

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
        market = facts.market_of(symbol.kind)
        if market is None:
            problems.add(item_path or path, item, unsupported_kind(name, symbol.kind))
            f.failed = True
            continue
        symbols.append(symbol)
        if market not in markets:
            markets.append(market)

    if enabled and items is not None and not items:
        f.bad(
            "symbols",
            table["symbols"],
            "an enabled venue streams at least one symbol; set enabled = false to keep it idle",
        )

    channels: list[str] = []
    items = f.string_list("channels")
    allowed = facts.channels
    for item_path, item in items if items is not None else [(None, c) for c in allowed]:
        text = item.strip().lower() if isinstance(item, str) else None
        if text not in allowed:
            problems.add(item_path or path, item, f"expected one of {', '.join(allowed)}")
            f.failed = True
        elif text in channels:
            problems.add(item_path or path, item, "duplicate channel")
            f.failed = True
        else:
            channels.append(text)

    urls = _urls(path, table.get("urls", MISSING), endpoint, markets, problems)
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
        order_entry=order_entry,
        request_timeout=request_timeout,
    )


def _symbol_rule(message: str) -> str:
    # InvalidSymbol says "symbol 'X': <rule>"; the problem line already shows the value.
    _, sep, rule = message.partition(": ")
    return rule if sep else message


def _urls(
    path: str, value: object, endpoint: str, markets: list[Market], problems: Problems
) -> dict[str, str] | None:
    if value is MISSING:
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
    allowed_keys = [key for m in venue_facts(venue).markets for key in m.url_keys()]
    urls: dict[str, str] = {}
    ok = True
    for key, url in value.items():
        kind = key.split(".")[1] if key.count(".") >= 1 else ""
        key_path = f'{path}.urls."{key}"'
        if key not in allowed_keys:
            allowed = ", ".join(allowed_keys)
            problems.note(f"{key_path}: unknown key; expected {allowed}{source_of(url)}")
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


def _risk(table: Mapping[str, object], problems: Problems) -> RiskConfig | None:
    f = Fields("risk", table, problems)
    none: None = None
    result = RiskConfig(
        max_order_notional=f.decimal("max_order_notional"),
        max_position_qty=f.decimal("max_position_qty"),
        max_open_orders=f.integer("max_open_orders", none, minimum=1),
        price_band_pct=f.decimal("price_band_pct", maximum=Decimal(100)),
        max_orders_per_second=f.number("max_orders_per_second", none, positive=True),
        kill_switch=f.boolean("kill_switch", False),
        check_balance=f.boolean("check_balance", False),
    )
    return None if f.failed else result


def _storage(table: Mapping[str, object], problems: Problems) -> StorageConfig | None:
    f = Fields("storage", table, problems)
    kind = f.choice("kind", "", STORE_KINDS) if "kind" in table else None
    sqlite = f.text("sqlite_path")
    if sqlite is not None and not sqlite.strip():
        f.bad("sqlite_path", sqlite, "expected a file path")
    schema = f.text("postgres_schema")
    if schema is not None and not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", schema):
        f.bad("postgres_schema", schema, "expected a lower-case SQL name (letters, digits, _)")
    prefix = f.text("client_id_prefix")
    if prefix is not None and not re.fullmatch(r"[A-Za-z][0-9A-Za-z]{0,7}", prefix):
        f.bad("client_id_prefix", prefix, "expected a letter then up to 7 ASCII letters or digits")
    dsn_value = table.get("postgres_dsn", MISSING)
    dsn: str | None = None
    if dsn_value is not MISSING:
        if isinstance(dsn_value, str):
            dsn = str(dsn_value) or None
        else:
            # Not echoed: a DSN may hold a password.
            problems.note("storage.postgres_dsn: expected a string")
            f.failed = True
    if f.failed:
        return None
    return StorageConfig(
        kind=kind or None,
        sqlite_path=Path(sqlite).expanduser() if sqlite else Path("connector.sqlite"),
        postgres_dsn=dsn,
        postgres_schema=schema or "public",
        client_id_prefix=prefix,
    )


def _logging(table: Mapping[str, object], problems: Problems) -> LoggingConfig | None:
    f = Fields("logging", table, problems)
    result = LoggingConfig(
        level=f.choice("level", "info", LOG_LEVELS),
        format=f.choice("format", "auto", LOG_FORMATS),
    )
    return None if f.failed else result


def _sim(table: Mapping[str, object], problems: Problems) -> SimConfig | None:
    f = Fields("sim", table, problems)
    rate = f.number("rate", 200.0, positive=True)
    if rate > SIM_MAX_RATE:
        f.bad(
            "rate",
            table["rate"],
            f"expected at most {SIM_MAX_RATE:.0f} book changes per second per instrument, "
            "about what the simulator makes on one core (docs/simulator.md)",
        )
    result = SimConfig(
        seed=f.integer("seed", 1, minimum=0, maximum=SIM_SEED_LIMIT - 1),
        rate=rate,
        okx_checksum=f.boolean("okx_checksum", False),
        tls=f.boolean("tls", False),
    )
    return None if f.failed else result


def _account(table: Mapping[str, object], problems: Problems) -> AccountConfig | None:
    f = Fields("account", table, problems)
    result = AccountConfig(
        reconcile_interval=f.number("reconcile_interval", 60.0, positive=True),
        forget_finished_after=f.number("forget_finished_after", 86400.0, positive=True),
    )
    return None if f.failed else result


def _market_data(table: Mapping[str, object], problems: Problems) -> MarketDataConfig | None:
    f = Fields("market_data", table, problems)
    window = f.number("reorder_window", DEFAULT_REORDER_WINDOW)
    if window < 0:
        f.bad("reorder_window", table["reorder_window"], "expected seconds >= 0 (0: no wait)")
    return None if f.failed else MarketDataConfig(reorder_window=window)


def _metrics(table: Mapping[str, object], problems: Problems) -> MetricsConfig | None:
    f = Fields("metrics", table, problems)
    listen = f.text("listen") or ""
    try:
        parse_listen(listen)
    except ValueError:
        f.bad("listen", table["listen"], LISTEN_EXPECTED)
    return None if f.failed else MetricsConfig(listen=listen.strip())
