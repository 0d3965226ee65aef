"""The ``[metrics]`` table: where ``GET /metrics`` is served, off unless set."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.config import MetricsConfig, load_config
from connector.errors import ConfigError


def load(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> MetricsConfig:
    path = tmp_path / "connector.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, env=env or {}).metrics


def test_metrics_are_off_without_the_table_or_with_an_empty_listen(tmp_path: Path) -> None:
    assert None is load(tmp_path, "").address
    assert None is load(tmp_path, '[metrics]\nlisten = ""\n').address
    assert None is load(tmp_path, '[metrics]\nlisten = "  "\n').address


@pytest.mark.parametrize(
    ("listen", "address"),
    [
        ("127.0.0.1:9464", ("127.0.0.1", 9464)),
        ("0.0.0.0:0", ("0.0.0.0", 0)),
        ("[::1]:9464", ("::1", 9464)),
        ("localhost:65535", ("localhost", 65535)),
    ],
)
def test_listen_is_read_as_host_and_port(
    tmp_path: Path, listen: str, address: tuple[str, int]
) -> None:
    assert address == load(tmp_path, f'[metrics]\nlisten = "{listen}"\n').address


def test_the_environment_sets_listen(tmp_path: Path) -> None:
    env = {"CONNECTOR_METRICS__LISTEN": "127.0.0.1:9100"}
    assert ("127.0.0.1", 9100) == load(tmp_path, "", env).address


@pytest.mark.parametrize(
    "value",
    [
        '"9464"',
        '"localhost:"',
        '":9464"',
        '"127.0.0.1:65536"',
        '"::1:9464"',
        '"h:-1"',
        "9464",
        '"127.0.0.1:\uff19\uff14\uff16\uff14"',  # full-width digits: not a port
    ],
)
def test_a_bad_listen_is_a_config_error_naming_the_key(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError, match=r"metrics\.listen") as caught:
        load(tmp_path, f"[metrics]\nlisten = {value}\n")
    assert "host:port" in str(caught.value) or "string" in str(caught.value)


def test_an_unknown_metrics_key_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"metrics\.port"):
        load(tmp_path, "[metrics]\nport = 9464\n")
