"""The ``[account]`` table: the reconciliation interval, how long finished orders stay in
memory."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.config import AccountConfig, load_config
from connector.errors import ConfigError


def load(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> AccountConfig:
    path = tmp_path / "connector.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, env=env or {}).account


def test_the_interval_defaults_to_a_minute_and_is_read_from_the_file(tmp_path: Path) -> None:
    assert AccountConfig(reconcile_interval=60.0) == load(tmp_path, "")
    assert 2.5 == load(tmp_path, "[account]\nreconcile_interval = 2.5\n").reconcile_interval
    env = {"CONNECTOR_ACCOUNT__RECONCILE_INTERVAL": "15"}
    assert 15.0 == load(tmp_path, "", env).reconcile_interval


def test_finished_orders_stay_in_memory_a_day_unless_configured(tmp_path: Path) -> None:
    assert 86400.0 == load(tmp_path, "").forget_finished_after
    text = "[account]\nforget_finished_after = 3600\n"
    assert 3600.0 == load(tmp_path, text).forget_finished_after
    env = {"CONNECTOR_ACCOUNT__FORGET_FINISHED_AFTER": "600"}
    assert 600.0 == load(tmp_path, "", env).forget_finished_after


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("reconcile_interval = 0", "account.reconcile_interval = 0: expected a number > 0"),
        ('reconcile_interval = "often"', "account.reconcile_interval"),
        ("interval = 5", "account.interval"),
        ("forget_finished_after = -1", "account.forget_finished_after = -1: expected a number > 0"),
    ],
)
def test_bad_values_and_unknown_keys_are_refused(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, f"[account]\n{text}\n")
    (problem,) = info.value.problems
    assert problem.startswith(expected)
