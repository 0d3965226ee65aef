"""The one table of venue facts (``connector.model.venues``)."""

from __future__ import annotations

import pytest

from connector.errors import ConfigError
from connector.model import Market, Symbol, SymbolKind
from connector.model.venues import CHANNELS, VENUES, describe_depths, venue_facts


def test_the_table_lists_binance_bybit_and_okx_in_order() -> None:
    assert ("binance", "bybit", "okx") == tuple(VENUES)
    assert all(name == facts.name for name, facts in VENUES.items())


def test_each_venue_has_its_spot_market_and_its_perpetual_market() -> None:
    assert (Market.SPOT, Market.LINEAR) == VENUES["binance"].market_names
    assert (Market.SPOT, Market.LINEAR) == VENUES["bybit"].market_names
    assert (Market.SPOT, Market.SWAP) == VENUES["okx"].market_names


@pytest.mark.parametrize("venue", list(VENUES))
def test_each_symbol_kind_lives_in_at_most_one_market_of_a_venue(venue: str) -> None:
    facts = VENUES[venue]
    for kind in SymbolKind:
        carrying = [m.market for m in facts.markets if kind in m.kinds]
        assert len(carrying) <= 1, (kind, carrying)
        assert (carrying[0] if carrying else None) == facts.market_of(kind)


@pytest.mark.parametrize(
    ("venue", "perp_market"),
    [("binance", Market.LINEAR), ("bybit", Market.LINEAR), ("okx", Market.SWAP)],
)
def test_spot_and_perpetual_symbols_map_to_the_venue_markets(
    venue: str, perp_market: Market
) -> None:
    facts = venue_facts(venue)

    assert Market.SPOT == facts.market_for(Symbol.parse("BTC-USDT-SPOT"))
    assert perp_market == facts.market_for(Symbol.parse("ETH-USDT-PERP"))
    assert facts.market_of(SymbolKind.FUT) is None


def test_a_dated_future_has_no_market_and_the_error_says_what_the_venue_trades() -> None:
    with pytest.raises(ConfigError) as info:
        VENUES["okx"].market_for(Symbol.parse("BTC-USD-FUT-20250328"))

    assert "okx: BTC-USD-FUT-20250328 is not supported (spot and perpetual swaps)" == str(
        info.value
    )


def test_every_venue_offers_the_four_config_channels() -> None:
    assert ("book", "trades", "ticker", "bbo") == CHANNELS
    assert all(CHANNELS == facts.channels for facts in VENUES.values())


@pytest.mark.parametrize(
    ("venue", "accepted", "refused"),
    [
        ("binance", [0, 5, 10, 20, 50, 100, 500, 1000], [1, 7, 200, 2000, 5000, 5001]),
        ("bybit", [0, 50, 200, 1000], [1, 7, 100, 400, 500, 2000]),
        ("okx", [0, 400], [1, 5, 50, 200, 1000]),
    ],
)
def test_a_book_depth_is_accepted_when_every_market_of_the_venue_takes_it(
    venue: str, accepted: list[int], refused: list[int]
) -> None:
    facts = VENUES[venue]

    assert [d for d in accepted + refused if facts.accepts_book_depth(d)] == accepted


def test_binance_spot_alone_takes_any_depth_up_to_5000() -> None:
    spot = VENUES["binance"].market(Market.SPOT)
    linear = VENUES["binance"].market(Market.LINEAR)

    assert spot is not None and linear is not None
    assert frozenset(range(1, 5001)) == spot.book_depths
    assert frozenset({5, 10, 20, 50, 100, 500, 1000}) == linear.book_depths
    assert VENUES["binance"].market(Market.SWAP) is None


def test_default_depths_are_ones_the_venue_accepts() -> None:
    assert {"binance": 1000, "bybit": 200, "okx": 400} == {
        name: facts.default_book_depth for name, facts in VENUES.items()
    }
    assert all(f.accepts_book_depth(f.default_book_depth) for f in VENUES.values())


def test_valid_depths_read_as_short_text() -> None:
    assert "0 (the default, 200) or one of 50, 200, 1000" == VENUES["bybit"].describe_book_depths()
    assert "0 (the default, 400) or 400" == VENUES["okx"].describe_book_depths()
    assert (
        "0 (the default, 1000) or one of 5, 10, 20, 50, 100, 500, 1000 (every market must "
        "take it: spot 1-5000; linear 5, 10, 20, 50, 100, 500, 1000)"
    ) == VENUES["binance"].describe_book_depths()


@pytest.mark.parametrize(
    ("depths", "text"),
    [
        ([], "none"),
        ([400], "400"),
        ([2, 1], "1, 2"),
        ([1, 2, 3, 7, 9, 10, 11, 12], "1-3, 7, 9-12"),
        (range(1, 5001), "1-5000"),
    ],
)
def test_describe_depths_folds_runs_of_three_or_more_into_ranges(
    depths: list[int], text: str
) -> None:
    assert text == describe_depths(depths)


def test_an_unknown_venue_is_a_config_error_naming_the_known_ones() -> None:
    with pytest.raises(ConfigError) as info:
        venue_facts("kraken")

    assert "unknown venue 'kraken': expected one of binance, bybit, okx" == str(info.value)
