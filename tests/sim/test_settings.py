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
