"""The example config: a real TOML file in the package, valid, and what the CLI prints."""

from __future__ import annotations

import importlib.resources
import tomllib
from pathlib import Path

import attrs
import pytest

import connector.config
from connector.cli import main
from connector.config import Config, StorageConfig, example_config_text, load_config
from connector.errors import ConfigError
from connector.model.venues import VENUES

EXAMPLE = Path(connector.config.__file__).resolve().parent / "example.toml"
PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_the_example_file_in_the_package_loads_to_the_default_config() -> None:
    with importlib.resources.as_file(
        importlib.resources.files("connector.config").joinpath("example.toml")
    ) as path:
        config = load_config(path, env={})

    # A config file persists: SQLite beside the file.
    storage = attrs.evolve(
        StorageConfig(), kind="sqlite", sqlite_path=Path(path).resolve().parent / "connector.sqlite"
    )
    assert attrs.evolve(Config(), storage=storage) == config
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


def test_storage_from_a_file_persists_beside_it_and_without_a_file_stays_in_memory(
    tmp_path: Path,
) -> None:
    (tmp_path / "sub").mkdir()
    file = tmp_path / "sub" / "c.toml"
    file.write_text('[storage]\nsqlite_path = "data/events.sqlite"\n', encoding="utf-8")

    from_file = load_config(file, env={}).storage
    default = load_config(None, env={}).storage
    memory = load_config(None, env={"CONNECTOR_STORAGE__KIND": "memory"}).storage
    chosen = load_config(None, env={"CONNECTOR_STORAGE__SQLITE_PATH": "x.sqlite"}).storage

    assert ("sqlite", tmp_path / "sub" / "data" / "events.sqlite") == (
        from_file.kind,
        from_file.sqlite_path,
    )
    assert (None, "memory") == (default.kind, default.store)
    assert "memory" == memory.store
    assert "sqlite" == chosen.store


def test_a_bad_storage_kind_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "c.toml"
    file.write_text('[storage]\nkind = "mongo"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"storage.kind.*sqlite, postgres, memory"):
        load_config(file, env={})
    file.write_text('[storage]\nkind = "postgres"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"storage.kind: 'postgres' needs storage.postgres_dsn"):
        load_config(file, env={})
