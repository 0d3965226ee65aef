"""Every front-end declares its settings one way and refuses names it does not have."""

from __future__ import annotations

import pytest

from connector.errors import ConfigError
from connector.sim.binance import BinanceSettings
from connector.sim.bybit import BybitSettings
from connector.sim.okx import OkxSettings
from connector.sim.settings import FrontendSettings

VENUES: list[tuple[str, type[FrontendSettings]]] = [
    ("binance", BinanceSettings),
    ("bybit", BybitSettings),
    ("okx", OkxSettings),
]


@pytest.mark.parametrize(("venue", "cls"), VENUES)
def test_unknown_setting_is_refused_naming_every_known_one(
    venue: str, cls: type[FrontendSettings]
) -> None:
    with pytest.raises(ConfigError) as info:
        cls.from_options({"send_bufer": 5, "zz": 1}, venue)
    message = str(info.value)
    assert message.startswith(f"sim {venue}: unknown setting send_bufer, zz; known: ")
    assert ", ".join(cls.names()) == message.split("known: ", 1)[1]
    assert "send_buffer" in cls.names()


@pytest.mark.parametrize(("venue", "cls"), VENUES)
def test_known_settings_override_the_defaults_and_keep_the_rest(
    venue: str, cls: type[FrontendSettings]
) -> None:
    settings = cls.from_options({"send_buffer": 7}, venue)
    assert 7 == settings.send_buffer
    assert cls() == cls.from_options({"send_buffer": cls().send_buffer}, venue)


def test_venue_settings_read_their_own_names() -> None:
    assert 5.0 == OkxSettings.from_options({"idle_timeout": 5.0}, "okx").idle_timeout
    assert BybitSettings.from_options({"immediate": True}, "bybit").immediate
    assert 9 == BinanceSettings.from_options({"spot_stream_limit": 9}, "binance").spot_stream_limit


@pytest.mark.parametrize(
    ("venue", "cls", "given", "problem"),
    [
        (
            "bybit",
            BybitSettings,
            {"send_buffer": -5},
            "send_buffer must be an integer, more than 0",
        ),
        (
            "okx",
            OkxSettings,
            {"idle_timeout": 0},
            "idle_timeout must be a number, more than 0, or null",
        ),
        (
            "binance",
            BinanceSettings,
            {"spot_weight_limit": -1},
            "spot_weight_limit must be an integer, more than 0",
        ),
        (
            "binance",
            BinanceSettings,
            {"max_lifetime": float("inf")},
            "max_lifetime must be a number",
        ),
        ("okx", OkxSettings, {"heartbeat": "60"}, "heartbeat must be a number, more than 0"),
        ("bybit", BybitSettings, {"immediate": 1}, "immediate must be true or false"),
        (
            "okx",
            OkxSettings,
            {"rest_limits": {"/api/v5/public/time": 0}},
            "rest_limits must be a table",
        ),
    ],
)
def test_a_setting_of_the_wrong_type_or_out_of_range_is_refused_naming_it(
    venue: str, cls: type[FrontendSettings], given: dict[str, object], problem: str
) -> None:
    with pytest.raises(ConfigError) as info:
        cls.from_options(given, venue)

    (line,) = info.value.problems
    assert line.startswith(f"sim {venue}: {problem}"), line
    assert line.endswith(f"; got {next(iter(given.values()))!r}")


def test_every_bad_setting_is_named_and_good_ones_pass() -> None:
    with pytest.raises(ConfigError) as info:
        OkxSettings.from_options({"send_buffer": 0, "latency": -1, "idle_timeout": None}, "okx")
    settings = OkxSettings.from_options(
        {"idle_timeout": None, "latency": 0, "heartbeat": 5, "rest_limits": {"/a": 2}}, "okx"
    )

    assert (
        "sim okx: send_buffer must be an integer, more than 0; got 0",
        "sim okx: latency must be a number of seconds, 0 or more; got -1",
    ) == info.value.problems
    assert (None, 0, 5, {"/a": 2}) == (
        settings.idle_timeout,
        settings.latency,
        settings.heartbeat,
        dict(settings.rest_limits),
    )
