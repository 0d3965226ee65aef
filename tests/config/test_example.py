"""The example config: a real TOML file in the package, valid, and what the CLI prints."""

from __future__ import annotations

import importlib.resources
import tomllib
from pathlib import Path

import pytest

import connector.config
from connector.cli import main
from connector.config import Config, example_config_text, load_config
from connector.model.venues import VENUES

EXAMPLE = Path(connector.config.__file__).resolve().parent / "example.toml"
PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_the_example_file_in_the_package_loads_to_the_default_config() -> None:
    with importlib.resources.as_file(
        importlib.resources.files("connector.config").joinpath("example.toml")
    ) as path:
        config = load_config(path, env={})

    assert Config() == config
    assert tuple(VENUES) == tuple(config.venues)


def test_config_example_prints_the_packaged_file_byte_for_byte(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert 0 == main(["config", "example"])

    assert EXAMPLE.read_text(encoding="utf-8") == capsys.readouterr().out
    assert EXAMPLE.read_text(encoding="utf-8") == example_config_text()


def test_the_example_has_a_table_for_every_venue_of_the_table() -> None:
    data = tomllib.loads(example_config_text())

    assert list(VENUES) == list(data["venues"])


def test_the_example_file_is_shipped_as_package_data() -> None:
    pyproject = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))

    assert "example.toml" in pyproject["tool"]["setuptools"]["package-data"]["connector.config"]
