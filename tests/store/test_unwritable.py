"""Stores this program may read but not write: a read-only file, a read-only directory.

The machine's tests run as root, whom file modes do not stop: each case runs in a
child process without the capabilities that override them (``capsh``), as a user
without write permission would.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
import trio

from connector.model import Balance
from connector.store.sqlite import open_sqlite
from tests.store.configs import okx_config

TIMEOUT = 60
_DROP = "cap_dac_override,cap_dac_read_search,cap_fowner"


def _as_a_user(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``args`` run without the power to write what file modes forbid."""
    if os.geteuid() == 0:
        capsh = shutil.which("capsh")
        if capsh is None:
            pytest.skip("running as root without capsh: file modes cannot be enforced")
        args = [capsh, f"--drop={_DROP}", "--", "-c", shlex.join(args)]
    return subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )


async def _store_with_a_balance(path: Path) -> None:
    store = await open_sqlite(path)
    await store.append([Balance(venue="okx", asset="USDT", free=Decimal("5"))], ts_ns=1)
    await store.close()


_START = """
import trio
from connector import Connector, load_config
from connector.errors import StoreError

async def main():
    try:
        async with Connector(load_config("connector.toml")):
            print("opened")
    except StoreError as exc:
        print("StoreError:", exc)

trio.run(main)
"""


def test_a_read_only_store_file_fails_the_start_saying_it_cannot_be_written(
    tmp_path: Path,
) -> None:
    okx_config(tmp_path)
    trio.run(_store_with_a_balance, tmp_path / "store.sqlite")
    (tmp_path / "store.sqlite").chmod(0o444)

    result = _as_a_user([sys.executable, "-c", _START], tmp_path)

    assert 0 == result.returncode, result.stderr
    assert (
        f"StoreError: the event store {tmp_path / 'store.sqlite'} cannot be written: "
        "attempt to write a readonly database\n"
    ) == result.stdout


@pytest.mark.parametrize("command", [["orders", "--history", "--json"], ["fills", "--json"]])
def test_history_reads_a_store_in_a_directory_it_may_not_write(
    tmp_path: Path, command: list[str]
) -> None:
    desk = tmp_path / "desk"
    desk.mkdir()
    config = okx_config(desk)
    trio.run(_store_with_a_balance, desk / "store.sqlite")
    assert not (desk / "store.sqlite-wal").exists()  # closed cleanly: folded in
    desk.chmod(0o555)
    try:
        result = _as_a_user([sys.executable, "-m", "connector", *command, "-c", str(config)], desk)
    finally:
        desk.chmod(0o755)

    assert (0, "", "") == (result.returncode, result.stdout, result.stderr)


def test_history_names_why_it_cannot_read_a_wal_file_in_a_directory_it_may_not_write(
    tmp_path: Path,
) -> None:
    desk = tmp_path / "desk"
    desk.mkdir()
    config = okx_config(desk)
    trio.run(_store_with_a_balance, desk / "store.sqlite")
    (desk / "store.sqlite-wal").touch()  # a writer's, left behind: its -shm is needed
    desk.chmod(0o555)
    try:
        result = _as_a_user([sys.executable, "-m", "connector", "fills", "-c", str(config)], desk)
    finally:
        desk.chmod(0o755)

    assert 1 == result.returncode
    assert (
        f"connector: error: cannot read the event store {desk / 'store.sqlite'}: unable to open"
        f" database file (this program may not write {desk}, where SQLite needs to create"
        " store.sqlite-shm to read store.sqlite-wal)\n"
    ) == result.stderr
