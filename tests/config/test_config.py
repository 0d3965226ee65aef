"""Config loading: defaults, TOML, environment overrides, secrets, validation."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import attrs
import pytest

from connector import logs
from connector.config import (
    Config,
    Credentials,
    LoggingConfig,
    RiskConfig,
    SimConfig,
    StorageConfig,
    VenueConfig,
    example_config_text,
    load_config,
)
from connector.errors import ConfigError
from connector.model import Market, Symbol
from connector.model.credentials import KeyType

DEFAULT_SYMBOLS = tuple(
    Symbol.parse(s) for s in ("BTC-USDT-SPOT", "ETH-USDT-SPOT", "BTC-USDT-PERP", "ETH-USDT-PERP")
)


@pytest.fixture(autouse=True)
def _forget_registered_secrets() -> object:
    yield
    logs.clear_secrets()


def write(tmp_path: Path, text: str, name: str = "connector.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path | None, env: dict[str, str] | None = None) -> tuple[str, ...]:
    with pytest.raises(ConfigError) as info:
        load_config(path, env=env or {})
    return info.value.problems


# --------------------------------------------------------------------------- defaults


def test_default_config_runs_all_three_venues_on_the_simulator() -> None:
    config = load_config(env={})

    assert ("binance", "bybit", "okx") == tuple(config.venues)
    for name, venue in config.venues.items():
        assert name == venue.name
        assert venue.enabled
        assert "sim" == venue.endpoint
        assert DEFAULT_SYMBOLS == venue.symbols
        assert ("book", "trades", "ticker", "bbo") == venue.channels
        assert 0 == venue.book_depth
        assert venue.credentials is None
        assert {} == dict(venue.urls)
    assert RiskConfig() == config.risk
    assert StorageConfig() == config.storage
    assert LoggingConfig(level="info", format="auto") == config.logging
    assert SimConfig(seed=1, rate=200.0, okx_checksum=False) == config.sim
    assert Config() == config


def test_example_config_text_loads_to_the_default_config(tmp_path: Path) -> None:
    path = write(tmp_path, example_config_text())

    from_file = load_config(path, env={})

    # Only the store differs: a config file persists, to SQLite beside the file.
    assert StorageConfig(kind="sqlite", sqlite_path=tmp_path / "connector.sqlite") == (
        from_file.storage
    )
    assert load_config(env={}) == attrs.evolve(from_file, storage=StorageConfig())


def test_example_config_text_is_commented() -> None:
    text = example_config_text()

    assert text.count("\n#") >= 10
    assert "secrets_file" in text


def test_empty_file_gives_the_default_config(tmp_path: Path) -> None:
    loaded = load_config(write(tmp_path, ""), env={})

    assert Config() == attrs.evolve(loaded, storage=StorageConfig())
    assert ("sqlite", tmp_path / "connector.sqlite") == (
        loaded.storage.kind,
        loaded.storage.sqlite_path,
    )


def test_venue_markets_follow_each_venues_perp_segment() -> None:
    config = load_config(env={})

    assert (Market.SPOT, Market.LINEAR) == config.venues["binance"].markets
    assert (Market.SPOT, Market.LINEAR) == config.venues["bybit"].markets
    assert (Market.SPOT, Market.SWAP) == config.venues["okx"].markets


def test_venue_markets_refuses_dated_futures() -> None:
    venue = VenueConfig(name="okx", symbols=(Symbol.parse("BTC-USD-FUT-20250328"),))

    with pytest.raises(ConfigError, match="not supported yet"):
        _ = venue.markets


# --------------------------------------------------------------------------- reading values


def test_full_file_is_read_into_typed_values(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[venues.okx]
enabled = false
endpoint = "testnet"
symbols = ["BTC-USDT-PERP"]
channels = ["book", "bbo"]
book_depth = 400

[risk]
max_order_notional = "50000.5"
max_position_qty = 2
max_open_orders = 10
price_band_pct = "5"
max_orders_per_second = 5
kill_switch = true

[storage]
sqlite_path = "/var/lib/connector/events.sqlite"
postgres_dsn = "postgresql://connector@db/connector"

[logging]
level = "DEBUG"
format = "json"

[sim]
seed = 7
rate = 50.5
okx_checksum = true
""",
    )

    config = load_config(path, env={})

    assert ("okx",) == tuple(config.venues)
    okx = config.venues["okx"]
    assert not okx.enabled
    assert "testnet" == okx.endpoint
    assert (Symbol.parse("BTC-USDT-PERP"),) == okx.symbols
    assert ("book", "bbo") == okx.channels
    assert 400 == okx.book_depth
    assert (Market.SWAP,) == okx.markets
    assert (
        RiskConfig(
            max_order_notional=Decimal("50000.5"),
            max_position_qty=Decimal(2),
            max_open_orders=10,
            price_band_pct=Decimal(5),
            max_orders_per_second=5.0,
            kill_switch=True,
        )
        == config.risk
    )
    assert Path("/var/lib/connector/events.sqlite") == config.storage.sqlite_path
    assert "postgresql://connector@db/connector" == config.storage.postgres_dsn
    assert LoggingConfig(level="debug", format="json") == config.logging
    assert SimConfig(seed=7, rate=50.5, okx_checksum=True) == config.sim


def test_custom_endpoint_reads_base_urls_per_market(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[venues.okx]
endpoint = "custom"
symbols = ["BTC-USDT-SPOT", "BTC-USDT-PERP"]
[venues.okx.urls]
"spot.rest" = "http://127.0.0.1:9000"
"spot.ws" = "ws://127.0.0.1:9001"
"swap.rest" = "https://127.0.0.1:9002"
"swap.ws" = "wss://127.0.0.1:9003"
""",
    )

    okx = load_config(path, env={}).venues["okx"]

    assert {
        "spot.rest": "http://127.0.0.1:9000",
        "spot.ws": "ws://127.0.0.1:9001",
        "swap.rest": "https://127.0.0.1:9002",
        "swap.ws": "wss://127.0.0.1:9003",
    } == dict(okx.urls)


def test_custom_endpoint_without_urls_names_the_urls_needed(tmp_path: Path) -> None:
    path = write(tmp_path, '[venues.bybit]\nendpoint = "custom"\nsymbols = ["BTC-USDT-PERP"]\n')

    assert (
        "venues.bybit.urls: endpoint = 'custom' needs base URLs for linear.rest, linear.ws",
    ) == problems_of(path)


def test_urls_with_wrong_scheme_market_or_missing_market_are_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[venues.binance]
endpoint = "custom"
symbols = ["BTC-USDT-SPOT", "BTC-USDT-PERP"]
[venues.binance.urls]
"spot.rest" = "ws://127.0.0.1:1"
"spot.ws" = "wss://127.0.0.1:2"
"swap.ws" = "wss://127.0.0.1:3"
""",
    )

    assert (
        "venues.binance.urls.\"spot.rest\" = 'ws://127.0.0.1:1': expected a http or https URL",
        'venues.binance.urls."swap.ws": unknown key; expected spot.rest, spot.ws, spot.wsapi, '
        "linear.rest, linear.ws, linear.ws.public, linear.ws.market, linear.ws.private, "
        "linear.wsapi",
        'venues.binance.urls."linear.rest": missing; the symbols need the linear market',
        'venues.binance.urls."linear.ws": missing; the symbols need the linear market',
    ) == problems_of(path)


def test_urls_are_refused_unless_the_endpoint_is_custom(tmp_path: Path) -> None:
    path = write(tmp_path, '[venues.okx]\nendpoint = "live"\nurls = {"spot.ws" = "wss://x"}\n')

    assert (
        "venues.okx.urls: only used with endpoint = 'custom' (endpoint is 'live')",
    ) == problems_of(path)


# --------------------------------------------------------------------------- validation


def test_every_problem_is_reported_at_once_with_key_value_and_expectation(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[venues.binance]
endpoint = "lve"
symbol = ["BTC-USDT-SPOT"]
symbols = ["BTC-USDT", "ETH-USDT-PERP", "ETH-USDT-PERP", 3]
channels = ["book", "quotes"]
book_depth = -1
enabled = "yes"

[venues.binanc]

[risk]
max_open_orders = 0

[logging]
level = "loud"
format = "xml"

[sim]
rate = 0
seed = "one"

[sotrage]
""",
    )

    problems = problems_of(path)

    expected = {
        "sotrage: unknown key (did you mean 'storage'?)",
        "venues.binance.symbol: unknown key (did you mean 'symbols'?)",
        "venues.binance.endpoint = 'lve': expected one of live, testnet, sim, custom",
        "venues.binance.enabled = 'yes': expected true or false",
        "venues.binance.book_depth = -1: expected an integer >= 0",
        "venues.binance.symbols[0] = 'BTC-USDT': expected BASE-QUOTE-TYPE or "
        "BASE-QUOTE-FUT-YYYYMMDD (e.g. 'BTC-USDT-SPOT', 'ETH-USDT-PERP', 'BTC-USD-FUT-20250328');"
        " did you mean 'BTC-USDT-SPOT' or 'BTC-USDT-PERP'?",
        "venues.binance.symbols[2] = 'ETH-USDT-PERP': duplicate symbol",
        "venues.binance.symbols[3] = 3: expected a symbol string like 'BTC-USDT-SPOT'",
        "venues.binance.channels[1] = 'quotes': expected one of book, trades, ticker, bbo",
        "venues.binanc: unknown venue (did you mean 'binance'?)",
        "risk.max_open_orders = 0: expected an integer >= 1",
        "logging.level = 'loud': expected one of debug, info, warning, error, critical",
        "logging.format = 'xml': expected one of auto, console, json",
        "sim.rate = 0: expected a number > 0",
        "sim.seed = 'one': expected an integer",
    }
    assert expected == set(problems)
    assert len(expected) == len(problems)


def test_config_error_message_lists_each_problem_on_its_own_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[logging]\nlevel = "loud"\nformat = "xml"\n')

    with pytest.raises(ConfigError) as info:
        load_config(path, env={})

    lines = str(info.value).splitlines()
    assert f"config {str(path)!r}: 2 problems:" == lines[0]
    assert [f"  - {p}" for p in info.value.problems] == lines[1:]


def test_float_money_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = write(tmp_path, "[risk]\nmax_order_notional = 0.1\n")

    assert (
        "risk.max_order_notional = 0.1: money is exact: write it as a string "
        '("0.1") or an integer, not a float',
    ) == problems_of(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('max_position_qty = "abc"', "expected a decimal number as a string"),
        ('max_position_qty = "NaN"', "expected a decimal number as a string"),
        ('max_position_qty = "-1"', "expected a number > 0"),
        ('price_band_pct = "0"', "expected a number > 0"),
        ('price_band_pct = "101"', "expected a number <= 100"),
        ("max_orders_per_second = -2", "expected a number > 0"),
        ("kill_switch = 1", "expected true or false"),
    ],
)
def test_bad_risk_values_are_refused(tmp_path: Path, text: str, expected: str) -> None:
    (problem,) = problems_of(write(tmp_path, f"[risk]\n{text}\n"))

    assert expected in problem
    assert problem.startswith("risk." + text.split(" =")[0] + " = ")


def test_dated_future_in_config_is_not_supported_yet(tmp_path: Path) -> None:
    path = write(tmp_path, '[venues.okx]\nsymbols = ["BTC-USD-FUT-20250328"]\n')

    assert (
        "venues.okx.symbols[0] = 'BTC-USD-FUT-20250328': dated futures are not supported yet",
    ) == problems_of(path)


def test_book_depth_the_venue_does_not_offer_is_refused_naming_the_valid_depths(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "[venues.bybit]\nbook_depth = 300\n[venues.okx]\nbook_depth = 50\n")

    assert (
        "venues.bybit.book_depth = 300: expected 0 (the default, 200) or one of 50, 200, 1000",
        "venues.okx.book_depth = 50: expected 0 (the default, 400) or 400",
    ) == problems_of(path)


def test_binance_book_depth_must_suit_both_markets() -> None:
    (problem,) = problems_of(None, {"CONNECTOR_VENUES__BINANCE__BOOK_DEPTH": "2000"})

    assert (
        "venues.binance.book_depth = '2000': expected 0 (the default, 1000) or one of 5, 10, "
        "20, 50, 100, 500, 1000 (every market must take it: spot 1-5000; linear 5, 10, 20, "
        "50, 100, 500, 1000) (from CONNECTOR_VENUES__BINANCE__BOOK_DEPTH)"
    ) == problem


def test_section_that_is_not_a_table_is_reported(tmp_path: Path) -> None:
    assert ("risk = 5: expected a table",) == problems_of(write(tmp_path, "risk = 5\n"))


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"

    with pytest.raises(ConfigError) as info:
        load_config(path, env={})

    assert f"config file {str(path)!r} not found" == str(info.value)


def test_toml_syntax_error_names_file_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, '[logging]\nlevel = "info"\nformat = json\n')

    with pytest.raises(ConfigError) as info:
        load_config(path, env={})

    assert f"config file {str(path)!r}: invalid TOML at line 3, column 10: Invalid value" == str(
        info.value
    )


# --------------------------------------------------------------------------- environment


def test_environment_overrides_nested_keys_and_keeps_other_defaults() -> None:
    env = {
        "CONNECTOR_LOGGING__LEVEL": "debug",
        "CONNECTOR_VENUES__BINANCE__ENDPOINT": "testnet",
        "CONNECTOR_VENUES__OKX__SYMBOLS": "BTC-USDT-SPOT, ETH-USDT-PERP",
        "CONNECTOR_VENUES__BYBIT__ENABLED": "false",
        "CONNECTOR_VENUES__BYBIT__BOOK_DEPTH": "50",
        "CONNECTOR_RISK__MAX_ORDER_NOTIONAL": "1000.25",
        "CONNECTOR_RISK__MAX_ORDERS_PER_SECOND": "2.5",
        "CONNECTOR_SIM__OKX_CHECKSUM": "true",
        "CONNECTOR_TEST_POSTGRES": "postgresql://ignored",
        "HOME": "/root",
    }

    config = load_config(env=env)

    assert ("binance", "bybit", "okx") == tuple(config.venues)
    assert "debug" == config.logging.level
    assert "testnet" == config.venues["binance"].endpoint
    assert DEFAULT_SYMBOLS == config.venues["binance"].symbols
    assert (
        Symbol.parse("BTC-USDT-SPOT"),
        Symbol.parse("ETH-USDT-PERP"),
    ) == config.venues["okx"].symbols
    assert not config.venues["bybit"].enabled
    assert 50 == config.venues["bybit"].book_depth
    assert Decimal("1000.25") == config.risk.max_order_notional
    assert 2.5 == config.risk.max_orders_per_second
    assert config.sim.okx_checksum


def test_environment_wins_over_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[logging]\nlevel = "warning"\nformat = "console"\n')

    config = load_config(path, env={"CONNECTOR_LOGGING__LEVEL": "error"})

    assert LoggingConfig(level="error", format="console") == config.logging


def test_environment_url_override_maps_underscore_to_dot(tmp_path: Path) -> None:
    path = write(tmp_path, '[venues.bybit]\nendpoint = "custom"\nsymbols = ["BTC-USDT-SPOT"]\n')
    env = {
        "CONNECTOR_VENUES__BYBIT__URLS__SPOT_REST": "http://127.0.0.1:1",
        "CONNECTOR_VENUES__BYBIT__URLS__SPOT_WS": "ws://127.0.0.1:2",
    }

    venue = load_config(path, env=env).venues["bybit"]

    assert {"spot.rest": "http://127.0.0.1:1", "spot.ws": "ws://127.0.0.1:2"} == dict(venue.urls)


def test_bad_environment_value_names_the_variable() -> None:
    env = {"CONNECTOR_VENUES__OKX__ENDPOINT": "nope", "CONNECTOR_LOGGIN__LEVEL": "info"}

    assert (
        "loggin: unknown key (did you mean 'logging'?) (from CONNECTOR_LOGGIN__LEVEL)",
        "venues.okx.endpoint = 'nope': expected one of live, testnet, sim, custom "
        "(from CONNECTOR_VENUES__OKX__ENDPOINT)",
    ) == problems_of(None, env)


# --------------------------------------------------------------------------- secrets


def test_credentials_come_from_the_environment() -> None:
    env = {
        "CONNECTOR_BINANCE_API_KEY": "binance-key-1",
        "CONNECTOR_BINANCE_API_SECRET": "binance-secret-1",
        "CONNECTOR_OKX_API_KEY": "okx-key-1",
        "CONNECTOR_OKX_API_SECRET": "okx-secret-1",
        "CONNECTOR_OKX_PASSPHRASE": "okx-pass-1",
    }

    config = load_config(env=env)

    assert (
        Credentials(api_key="binance-key-1", api_secret="binance-secret-1")
        == config.venues["binance"].credentials
    )
    assert (
        Credentials(api_key="okx-key-1", api_secret="okx-secret-1", passphrase="okx-pass-1")
        == config.venues["okx"].credentials
    )
    assert config.venues["bybit"].credentials is None


def test_credentials_come_from_the_secrets_file_relative_to_the_config(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    write(
        tmp_path,
        '[bybit]\napi_key = "bybit-key-2"\napi_secret = "bybit-secret-2"\n'
        '[storage]\npostgres_dsn = "postgresql://u:pw-db-2@db/connector"\n',
        name="conf/secrets.toml",
    )
    path = write(tmp_path, 'secrets_file = "secrets.toml"\n', name="conf/connector.toml")

    config = load_config(path, env={"CONNECTOR_BYBIT_API_SECRET": "bybit-secret-env"})

    assert (
        Credentials(api_key="bybit-key-2", api_secret="bybit-secret-env")
        == config.venues["bybit"].credentials
    )
    assert "postgresql://u:pw-db-2@db/connector" == config.storage.postgres_dsn


def test_secrets_appear_in_no_repr_str_or_error(tmp_path: Path) -> None:
    env = {
        "CONNECTOR_OKX_API_KEY": "okx-key-visible?",
        "CONNECTOR_OKX_API_SECRET": "okx-secret-visible?",
        "CONNECTOR_OKX_PASSPHRASE": "okx-pass-visible?",
        "CONNECTOR_STORAGE__POSTGRES_DSN": "postgresql://u:dbpass-visible?@db/x",
    }
    config = load_config(env=env)

    for text in (repr(config), str(config), repr(config.venues["okx"].credentials)):
        for secret in ("okx-key", "okx-secret", "okx-pass", "dbpass"):
            assert secret not in text

    secrets = write(tmp_path, "[okx]\napi_key = 12345678\n", name="s.toml")
    path = write(tmp_path, f'secrets_file = "{secrets.name}"\n')
    (problem,) = problems_of(path)
    assert "secrets file [okx] api_key: expected a non-empty string" == problem
    assert "12345678" not in problem


def test_loaded_secrets_are_registered_for_log_redaction() -> None:
    env = {"CONNECTOR_BINANCE_API_KEY": "reg-key-3", "CONNECTOR_BINANCE_API_SECRET": "reg-sec-3"}
    load_config(env=env)

    event = logs.redact_secrets(None, "info", {"event": "x", "url": "/a?k=reg-key-3&s=reg-sec-3"})

    assert "/a?k=***&s=***" == event["url"]


def test_secret_written_in_the_main_config_is_an_error(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[venues.binance]\napi_key = "main-file-key"\n'
        '[storage]\npostgres_dsn = "postgresql://u:main-pw@db/x"\n',
    )

    problems = problems_of(path)

    assert (
        "venues.binance.api_key: put secrets in the environment or secrets_file",
        "storage.postgres_dsn: holds a password; put secrets in the environment "
        "(CONNECTOR_STORAGE__POSTGRES_DSN) or secrets_file ([storage] postgres_dsn)",
    ) == problems
    assert not any("main-file-key" in p or "main-pw" in p for p in problems)


def test_okx_credentials_without_passphrase_are_refused() -> None:
    env = {"CONNECTOR_OKX_API_KEY": "k-okx-4", "CONNECTOR_OKX_API_SECRET": "s-okx-4"}

    (problem,) = problems_of(None, env)

    assert problem.startswith("okx credentials: passphrase missing")


def test_key_type_and_pem_password_come_with_the_credentials() -> None:
    env = {
        "CONNECTOR_BINANCE_API_KEY": "binance-key-2",
        "CONNECTOR_BINANCE_API_SECRET": "-----BEGIN PRIVATE KEY-----",
        "CONNECTOR_BINANCE_KEY_TYPE": "ED25519",
        "CONNECTOR_BINANCE_KEY_PASSWORD": "pem-password-2",
    }

    credentials = load_config(env=env).venues["binance"].credentials

    assert credentials is not None
    assert KeyType.ED25519 is credentials.key_type
    assert "pem-password-2" == credentials.key_password


@pytest.mark.parametrize(("venue", "key_type"), [("okx", "rsa"), ("bybit", "ed25519")])
def test_a_key_type_the_venue_does_not_accept_is_refused(venue: str, key_type: str) -> None:
    env = {
        f"CONNECTOR_{venue.upper()}_API_KEY": "key-3",
        f"CONNECTOR_{venue.upper()}_API_SECRET": "secret-3",
        f"CONNECTOR_{venue.upper()}_KEY_TYPE": key_type,
    }
    if venue == "okx":
        env["CONNECTOR_OKX_PASSPHRASE"] = "pass-3"

    (problem,) = problems_of(None, env)

    assert problem.startswith(f"{venue} credentials: key_type {key_type!r}: expected")


def test_half_a_key_pair_is_refused() -> None:
    (problem,) = problems_of(None, {"CONNECTOR_BYBIT_API_KEY": "only-the-key"})

    assert problem.startswith("bybit credentials: api_secret missing")


def test_missing_secrets_file_and_unknown_sections_are_reported(tmp_path: Path) -> None:
    path = write(tmp_path, 'secrets_file = "absent.toml"\n')
    (problem,) = problems_of(path)
    assert f"secrets_file: secrets file {str(tmp_path / 'absent.toml')!r} not found" == problem

    write(tmp_path, '[binanse]\napi_key = "x-unknown-5"\n', name="absent.toml")
    (problem,) = problems_of(path)
    assert "secrets file [binanse]: unknown section (did you mean 'binance'?)" == problem


def test_order_entry_is_rest_by_default_or_websocket(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '[venues.bybit]\norder_entry = "websocket"\n'), env={})
    assert "websocket" == config.venues["bybit"].order_entry
    assert "rest" == load_config(None, env={}).venues["okx"].order_entry

    problems = problems_of(write(tmp_path, '[venues.okx]\norder_entry = "ws"\n'))

    assert ("venues.okx.order_entry = 'ws': expected one of rest, websocket",) == problems


def test_request_timeout_is_ten_seconds_by_default_or_a_positive_number(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "[venues.okx]\nrequest_timeout = 2.5\n"), env={})
    assert 2.5 == config.venues["okx"].request_timeout
    assert 10.0 == load_config(None, env={}).venues["bybit"].request_timeout
    env = {"CONNECTOR_VENUES__BYBIT__REQUEST_TIMEOUT": "4"}
    assert 4.0 == load_config(None, env=env).venues["bybit"].request_timeout

    problems = problems_of(write(tmp_path, "[venues.okx]\nrequest_timeout = 0\n"))
    assert ("venues.okx.request_timeout = 0: expected a number > 0",) == problems
    problems = problems_of(write(tmp_path, '[venues.okx]\nrequest_timeout = "soon"\n'))
    assert ("venues.okx.request_timeout = 'soon': expected a finite number",) == problems


def test_reorder_window_is_fifty_ms_by_default_zero_or_seconds(tmp_path: Path) -> None:
    assert 0.05 == load_config(None, env={}).market_data.reorder_window
    config = load_config(write(tmp_path, "[market_data]\nreorder_window = 0\n"), env={})
    assert 0.0 == config.market_data.reorder_window
    env = {"CONNECTOR_MARKET_DATA__REORDER_WINDOW": "0.2"}
    assert 0.2 == load_config(None, env=env).market_data.reorder_window

    problems = problems_of(write(tmp_path, "[market_data]\nreorder_window = -0.1\n"))
    assert ("market_data.reorder_window = -0.1: expected seconds >= 0 (0: no wait)",) == problems
    problems = problems_of(write(tmp_path, '[market_data]\nreorder_window = "50ms"\n'))
    assert ("market_data.reorder_window = '50ms': expected a finite number",) == problems
    problems = problems_of(write(tmp_path, "[market_data]\nwindow = 1\n"))
    assert 1 == len(problems) and "market_data.window" in problems[0]


# --------------------------------------------------------------------------- what a venue can take

NEWLINE_KEY = "JQXSKDKRyMlAtXZ7-newline-key"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {
                "CONNECTOR_BINANCE_API_KEY": NEWLINE_KEY + "\n",
                "CONNECTOR_BINANCE_API_SECRET": "s-1",
            },
            "binance credentials: api_key (from CONNECTOR_BINANCE_API_KEY) has a line break "
            "at its end",
        ),
        (
            {
                "CONNECTOR_OKX_API_KEY": "okx-key-1",
                "CONNECTOR_OKX_API_SECRET": "okx-secret-1",
                "CONNECTOR_OKX_PASSPHRASE": NEWLINE_KEY + "\n",
            },
            "okx credentials: passphrase (from CONNECTOR_OKX_PASSPHRASE) has a line break "
            "at its end",
        ),
        (
            {
                "CONNECTOR_BYBIT_API_KEY": "bybit-key-1",
                "CONNECTOR_BYBIT_API_SECRET": NEWLINE_KEY + " x",
            },
            "bybit credentials: api_secret (from CONNECTOR_BYBIT_API_SECRET) has whitespace inside",
        ),
        (
            {
                "CONNECTOR_BINANCE_API_KEY": "\x00" + NEWLINE_KEY,
                "CONNECTOR_BINANCE_API_SECRET": "s-1",
            },
            "binance credentials: api_key (from CONNECTOR_BINANCE_API_KEY) has a control "
            "character (U+0000) at its start",
        ),
    ],
)
def test_a_key_secret_or_passphrase_with_whitespace_is_refused_without_showing_it(
    env: dict[str, str], expected: str
) -> None:
    (problem,) = problems_of(None, env)

    assert problem.startswith(expected), problem
    assert NEWLINE_KEY not in problem


def test_a_credential_with_a_newline_in_the_secrets_file_names_the_file(tmp_path: Path) -> None:
    secrets = write(
        tmp_path, f'[binance]\napi_key = "{NEWLINE_KEY}\\n"\napi_secret = "s-2"\n', "s.toml"
    )
    path = write(tmp_path, 'secrets_file = "s.toml"\n')

    (problem,) = problems_of(path)

    assert problem.startswith(
        f"binance credentials: api_key (from secrets file {str(secrets)!r} [binance]) "
        "has a line break at its end; "
    )
    assert NEWLINE_KEY not in problem


def test_a_pem_private_key_keeps_its_line_breaks_but_its_api_key_may_not() -> None:
    pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n"
    env = {
        "CONNECTOR_BINANCE_API_KEY": "binance-key-9",
        "CONNECTOR_BINANCE_API_SECRET": pem,
        "CONNECTOR_BINANCE_KEY_TYPE": "ed25519",
    }

    credentials = load_config(env=env).venues["binance"].credentials
    (problem,) = problems_of(None, {**env, "CONNECTOR_BINANCE_API_KEY": "binance-key-9\r\n"})

    assert credentials is not None and pem == credentials.api_secret
    assert problem.startswith("binance credentials: api_key (from CONNECTOR_BINANCE_API_KEY)")


def test_an_enabled_venue_without_symbols_is_refused(tmp_path: Path) -> None:
    empty = write(tmp_path, "[venues.okx]\nsymbols = []\n")
    idle = write(tmp_path, "[venues.okx]\nenabled = false\nsymbols = []\n", "idle.toml")

    from_file = problems_of(empty)
    from_env = problems_of(None, {"CONNECTOR_VENUES__OKX__SYMBOLS": ""})

    assert (
        "venues.okx.symbols = []: an enabled venue streams at least one symbol; "
        "set enabled = false to keep it idle",
    ) == from_file
    assert (
        "venues.okx.symbols = '': an enabled venue streams at least one symbol; "
        "set enabled = false to keep it idle (from CONNECTOR_VENUES__OKX__SYMBOLS)",
    ) == from_env
    assert () == load_config(idle, env={}).venues["okx"].symbols


@pytest.mark.parametrize("value", ["BTC-USDT-SPOT,,ETH-USDT-PERP", "BTC-USDT-SPOT,ETH-USDT-PERP,"])
def test_an_empty_item_in_a_list_variable_is_refused_like_one_in_the_file(value: str) -> None:
    (problem,) = problems_of(None, {"CONNECTOR_VENUES__OKX__SYMBOLS": value})

    index = value.split(",").index("")
    assert problem.startswith(f"venues.okx.symbols[{index}] = '': expected BASE-QUOTE-TYPE")
    assert problem.endswith("(from CONNECTOR_VENUES__OKX__SYMBOLS)")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("seed = -1", "sim.seed = -1: expected an integer from 0 to 4294967295"),
        ("seed = 4294967296", "sim.seed = 4294967296: expected an integer from 0 to 4294967295"),
        ("rate = 1e5", "sim.rate = 100000.0: expected at most 40000 book changes per second"),
        ("rate = 1e308", "sim.rate = 1e+308: expected at most 40000 book changes per second"),
    ],
)
def test_a_sim_seed_or_rate_the_simulator_cannot_run_is_refused(
    tmp_path: Path, text: str, expected: str
) -> None:
    (problem,) = problems_of(write(tmp_path, f"[sim]\n{text}\n"))

    assert problem.startswith(expected), problem


def test_the_sim_bounds_are_the_simulators_and_their_edges_load(tmp_path: Path) -> None:
    from connector.config.values import SIM_MAX_RATE, SIM_SEED_LIMIT
    from connector.sim.hub import MAX_RATE, SEED_LIMIT

    top = load_config(write(tmp_path, "[sim]\nseed = 4294967295\nrate = 40000\n"), env={})
    bottom = load_config(env={"CONNECTOR_SIM__SEED": "0"})

    assert (MAX_RATE, SEED_LIMIT) == (SIM_MAX_RATE, SIM_SEED_LIMIT)
    assert (4294967295, 40000.0) == (top.sim.seed, top.sim.rate)
    assert 0 == bottom.sim.seed
