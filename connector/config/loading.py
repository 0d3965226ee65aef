"""``load_config``: read the file, apply environment overrides, validate, attach secrets.

Also the example config, a real TOML file shipped with the package
(``connector/config/example.toml``) that ``connector config example`` prints.
"""

from __future__ import annotations

import importlib.resources
import os
from collections.abc import Mapping
from pathlib import Path

import attrs

from connector.config.credentials import (
    attach_credentials,
    check_dsn,
    load_secrets,
    merge_env_secrets,
    register_secrets,
)
from connector.config.fields import EnvText, Problems
from connector.config.files import read_toml
from connector.config.validate import build
from connector.config.values import VENUES, Config
from connector.errors import ConfigError

__all__ = ["EXAMPLE_CONFIG", "example_config_text", "load_config"]

EXAMPLE_CONFIG = "example.toml"
"""The example config's file name inside the ``connector.config`` package."""

_ENV_PREFIX = "CONNECTOR_"


def load_config(
    path: str | os.PathLike[str] | None = None, *, env: Mapping[str, str] | None = None
) -> Config:
    """Read ``path`` (TOML), apply ``CONNECTOR_*`` environment overrides, validate.

    Args:
        path: The config file; ``None`` starts from the default config
            (every venue on the simulator, BTC/ETH spot and perpetuals, all channels).
        env: The environment to read overrides and secrets from (default ``os.environ``).

    Returns:
        The validated configuration.

    Raises:
        ConfigError: listing every problem found (``.problems``), or naming the
            file that is missing or the line and column of a TOML syntax error.
    """
    environ: Mapping[str, str] = os.environ if env is None else env
    data: dict[str, object] = {}
    base_dir = Path.cwd()
    if path is not None:
        file = Path(path)
        data = read_toml(file, "config file")
        base_dir = file.parent
    problems = Problems()
    if "venues" not in data:
        # No venues table: the defaults, which the environment may then adjust.
        data["venues"] = {name: {} for name in VENUES}
    _apply_env_overrides(data, environ, problems)
    config = build(data, problems)
    check_dsn(data, problems)
    secrets = load_secrets(data, base_dir, problems)
    secrets = merge_env_secrets(secrets, environ, problems)
    if config is not None and not problems.lines:
        config = attach_credentials(config, secrets, problems)
        config = _resolve_storage(config, data, file_dir=base_dir if path is not None else None,
                                  problems=problems)  # fmt: skip
    if problems.lines or config is None:
        where = f"config {os.fspath(path)!r}" if path is not None else "config"
        count = len(problems.lines)
        message = f"{where}: {count} problem{'s' if count != 1 else ''}:\n" + "\n".join(
            f"  - {line}" for line in problems.lines
        )
        raise ConfigError(message, tuple(problems.lines))
    register_secrets(config)
    return config


def _resolve_storage(
    config: Config, data: Mapping[str, object], *, file_dir: Path | None, problems: Problems
) -> Config:
    """``[storage] kind`` made explicit, and a relative ``sqlite_path`` resolved.

    A config file persists: SQLite at ``sqlite_path`` (relative to the file's
    directory) or PostgreSQL when a DSN is set. Without a file the log stays in
    memory unless a store is configured (``kind``, ``sqlite_path``, a DSN).
    """
    storage = config.storage
    table = data.get("storage")
    configured = isinstance(table, Mapping) and "sqlite_path" in table
    kind = storage.kind
    if kind is None:
        if storage.postgres_dsn:
            kind = "postgres"
        elif file_dir is not None or configured:
            kind = "sqlite"
        else:
            return config  # kind None: in memory (``StorageConfig.store``)
    if kind == "postgres" and not storage.postgres_dsn:
        problems.note(
            "storage.kind: 'postgres' needs storage.postgres_dsn (secrets_file [storage] "
            "postgres_dsn, or CONNECTOR_STORAGE__POSTGRES_DSN)"
        )
    path = storage.sqlite_path
    if file_dir is not None and not path.is_absolute():
        path = file_dir.resolve() / path
    return attrs.evolve(config, storage=attrs.evolve(storage, kind=kind, sqlite_path=path))


def _apply_env_overrides(
    data: dict[str, object], environ: Mapping[str, str], problems: Problems
) -> None:
    for var in sorted(environ):
        if not var.startswith(_ENV_PREFIX) or "__" not in var:
            continue
        parts = [p.lower() for p in var[len(_ENV_PREFIX) :].split("__")]
        if any(not p for p in parts):
            problems.note(f"{var}: empty key in the name (double underscores nest keys)")
            continue
        if parts[0] == "secrets_file":
            problems.note(f"{var}: secrets_file cannot be set from the environment")
            continue
        if len(parts) >= 3 and parts[0] == "venues" and parts[2] == "urls" and len(parts) == 4:
            # '.' cannot appear in a variable name: SPOT_REST means 'spot.rest'.
            parts[3] = parts[3].replace("_", ".", 1)
        table: dict[str, object] = data
        ok = True
        for i, key in enumerate(parts[:-1]):
            child = table.setdefault(key, {})
            if not isinstance(child, dict):
                problems.note(f"{var}: {'.'.join(parts[: i + 1])} is not a table")
                ok = False
                break
            table = child
        if ok:
            table[parts[-1]] = EnvText(environ[var], var)


def example_config_text() -> str:
    """The commented example config (``connector config example``); it loads to ``Config()``."""
    resource = importlib.resources.files("connector.config").joinpath(EXAMPLE_CONFIG)
    return resource.read_text(encoding="utf-8")
