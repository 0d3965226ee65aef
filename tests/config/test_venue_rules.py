"""``connector config check`` refuses what ``Connector(config)`` and the venue drivers refuse.

Walks the table of venue facts (``connector.model.venues``): for every venue,
every book depth (allowed or not), every symbol kind and every channel, the
check agrees with the Connector where construction is where it refuses
(``book_depth``), and with the venue adapters' own checks otherwise (symbol
kinds, channels and markets are refused only once a session runs).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.cli import main
from connector.config import Config, VenueConfig, load_config
from connector.connector import Connector
from connector.errors import ConfigError
from connector.model import Instrument, Market, Symbol, SymbolKind
from connector.model.credentials import Credentials
from connector.model.venues import VENUES
from connector.sim.accounts import DEFAULT_CREDENTIALS
from connector.venues.driver import OrderSocketEntry
from connector.venues.registry import driver_for

SAMPLE_SYMBOLS = {
    SymbolKind.SPOT: Symbol.parse("BTC-USDT-SPOT"),
    SymbolKind.PERP: Symbol.parse("BTC-USDT-PERP"),
    SymbolKind.FUT: Symbol.parse("BTC-USD-FUT-20250328"),
}
# Venue-native ids of BTC/USDT in each market, for instruments the adapters can build.
NATIVE_IDS = {
    ("binance", Market.SPOT): "BTCUSDT",
    ("binance", Market.LINEAR): "BTCUSDT",
    ("bybit", Market.SPOT): "BTCUSDT",
    ("bybit", Market.LINEAR): "BTCUSDT",
    ("okx", Market.SPOT): "BTC-USDT",
    ("okx", Market.SWAP): "BTC-USDT-SWAP",
}
NOT_CHANNELS = ("quotes", "book5", "depth5", "agg_trades", "orderbook")


def depth_candidates() -> list[int]:
    """Depths worth trying: every listed depth, its neighbours, and the edges of ranges."""
    found = {0, 1, 2, 7, 300, 2000, 7000}
    for facts in VENUES.values():
        found.add(facts.default_book_depth)
        for market in facts.markets:
            depths = market.book_depths
            edges = depths if len(depths) <= 50 else {min(depths), max(depths)}
            for depth in edges:
                found.update({depth - 1, depth, depth + 1})
    return sorted(d for d in found if d >= 0)


def _cases() -> Iterator[tuple[str, int]]:
    for venue in VENUES:
        for depth in depth_candidates():
            yield venue, depth


def _check(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """``connector config check`` on ``text``: exit status and its stderr."""
    path = tmp_path / "connector.toml"
    path.write_text(text, encoding="utf-8")
    status = main(["config", "check", str(path)])
    return status, capsys.readouterr().err


def _instrument(venue: str, market: Market) -> Instrument:
    instrument = driver_for(venue).market_data.guess_instrument(market, NATIVE_IDS[venue, market])
    assert instrument is not None
    return instrument


def test_the_walk_tries_allowed_and_refused_depths_on_every_venue() -> None:
    depths = depth_candidates()

    for facts in VENUES.values():
        assert any(facts.accepts_book_depth(d) and d for d in depths), facts.name
        assert any(not facts.accepts_book_depth(d) for d in depths), facts.name
    assert {4, 5, 6, 4999, 5000, 5001, 399, 400, 401} <= set(depths)


@pytest.mark.parametrize(("venue", "depth"), list(_cases()))
def test_config_check_and_connector_agree_on_book_depth(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], venue: str, depth: int
) -> None:
    status, err = _check(tmp_path, f"[venues.{venue}]\nbook_depth = {depth}\n", capsys)
    try:
        Connector(Config(venues={venue: VenueConfig(name=venue, book_depth=depth)}))
    except ConfigError:
        constructed = False
    else:
        constructed = True

    assert (0 if constructed else 2) == status, err
    assert constructed == VENUES[venue].accepts_book_depth(depth)
    if not constructed:
        assert err.startswith(f"connector: config error: venues.{venue}.book_depth = {depth}: ")


@pytest.mark.parametrize("venue", list(VENUES))
@pytest.mark.parametrize("kind", list(SymbolKind))
def test_config_check_and_the_adapter_agree_on_which_market_carries_a_symbol_kind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], venue: str, kind: SymbolKind
) -> None:
    symbol = SAMPLE_SYMBOLS[kind]
    status, err = _check(tmp_path, f'[venues.{venue}]\nsymbols = ["{symbol}"]\n', capsys)
    try:
        market: Market | None = driver_for(venue).market_data.market_for(symbol)
    except ConfigError:
        market = None

    assert (0 if market is not None else 2) == status, err
    assert market == VENUES[venue].market_of(kind)
    if market is not None:
        config = load_config(tmp_path / "connector.toml", env={})
        assert (market,) == config.venues[venue].markets


@pytest.mark.parametrize("venue", list(VENUES))
def test_every_channel_the_check_accepts_the_adapter_subscribes_in_every_market(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], venue: str
) -> None:
    facts = VENUES[venue]
    channels = ", ".join(f'"{c}"' for c in facts.channels)

    assert (0, "") == _check(tmp_path, f"[venues.{venue}]\nchannels = [{channels}]\n", capsys)
    adapter = driver_for(venue).market_data
    for market in facts.market_names:
        instrument = _instrument(venue, market)
        for channel in facts.channels:
            assert adapter.streams(market, instrument, channel), (market, channel)


@pytest.mark.parametrize("venue", list(VENUES))
@pytest.mark.parametrize("channel", NOT_CHANNELS)
def test_config_check_refuses_a_channel_outside_the_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], venue: str, channel: str
) -> None:
    status, err = _check(tmp_path, f'[venues.{venue}]\nchannels = ["{channel}"]\n', capsys)

    assert 2 == status
    assert f"venues.{venue}.channels[0] = '{channel}': expected one of" in err


@pytest.mark.parametrize("venue", list(VENUES))
def test_the_table_markets_are_the_markets_the_adapter_has_urls_for(venue: str) -> None:
    keys = driver_for(venue).rest.endpoints("live")

    assert {m.value for m in VENUES[venue].market_names} == {k.split(".")[0] for k in keys}


@pytest.mark.parametrize("venue", list(VENUES))
def test_custom_urls_are_accepted_for_exactly_the_table_markets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], venue: str
) -> None:
    urls = "".join(
        f'"{m.value}.rest" = "http://127.0.0.1:1"\n"{m.value}.ws" = "ws://127.0.0.1:2"\n'
        for m in VENUES[venue].market_names
    )
    head = f'[venues.{venue}]\nendpoint = "custom"\nsymbols = ["BTC-USDT-SPOT", "BTC-USDT-PERP"]\n'

    assert (0, "") == _check(tmp_path, f"{head}[venues.{venue}.urls]\n{urls}", capsys)
    others = [m for m in Market if m not in VENUES[venue].market_names]
    extra = "".join(f'"{m.value}.ws" = "ws://127.0.0.1:3"\n' for m in others)
    status, err = _check(tmp_path, f"{head}[venues.{venue}.urls]\n{urls}{extra}", capsys)
    assert 2 == status
    assert len(others) == len(err.splitlines())


@pytest.mark.parametrize("venue", list(VENUES))
def test_config_check_takes_websocket_order_entry_where_the_adapter_has_it(venue: str) -> None:
    demo = DEFAULT_CREDENTIALS[venue]
    keys = Credentials(
        api_key=demo.api_key, api_secret=demo.secret, passphrase=demo.passphrase or None
    )
    adapter = driver_for(venue, credentials=keys).trading
    assert adapter is not None
    assert isinstance(adapter, OrderSocketEntry) == ("websocket" in VENUES[venue].order_entry)
    assert "rest" in VENUES[venue].order_entry
