"""A subscription no published topic can match is refused, naming why (a typo would
otherwise wait for ever, silently)."""

from __future__ import annotations

import pytest

from connector import Connector
from connector.config import Config, VenueConfig
from connector.topics import check_published

VENUES = ("binance", "okx")


@pytest.mark.parametrize(
    "pattern",
    [
        ">",
        "*.binance.>",
        "orderbook.>",
        "orderbook.*.BTC-USDT-PERP",
        "orderbook.binance.BTC-USDT-PERP",
        "fill.okx.>",
        "health.binance",
        "consolidated.bbo.BTC-USDT-PERP",
        "risk.alert",
        "order.*.canceled",
    ],
)
def test_patterns_that_can_match_pass(pattern: str) -> None:
    assert check_published(pattern, VENUES) == tuple(pattern.split("."))


@pytest.mark.parametrize(
    ("pattern", "named"),
    [
        ("tickr.binance.>", "no topic is of type 'tickr'"),
        ("orderbook.binanse.>", "venue 'binanse' is not enabled here (venues: binance, okx)"),
        ("fill.bybit.BTC-USDT-PERP", "venue 'bybit' is not enabled here"),
        ("orderbook..x", "empty token"),
    ],
)
def test_patterns_no_topic_can_match_are_refused(pattern: str, named: str) -> None:
    with pytest.raises(ValueError, match="invalid pattern") as refused:
        check_published(pattern, VENUES)
    assert named in str(refused.value)


def test_the_connector_refuses_a_typo_before_it_waits() -> None:
    config = Config(
        venues={
            "binance": VenueConfig(name="binance"),
            "bybit": VenueConfig(name="bybit", enabled=False),
            "okx": VenueConfig(name="okx", enabled=False),
        }
    )
    c = Connector(config, trading=False)
    with pytest.raises(ValueError, match="venue 'bybit' is not enabled here"):
        c.subscribe("orderbook.bybit.>")
    with pytest.raises(ValueError, match="no topic is of type 'tickr'"):
        c.subscribe("tickr.>")
    c.subscribe("orderbook.binance.>").close()
