"""kill -9: a trading process is SIGKILLed at random moments and restarted; nothing it
acknowledged is lost, nothing is placed twice, and its state equals the venues' truth.

The simulator runs here (``connector.sim.run``, all three venues, the truth API at
hand); the trading process (``kill9_trader.py``, run with this interpreter) reaches
it over its URLs with its demo credentials (``SimRun.environment()``), trades
BTC-USDT-PERP on every venue, and is killed with SIGKILL at a random moment of
its life (starting up, replaying, reconciling, in the middle of an order) again
and again. A last run opens the store, reconciles once and dumps its state.

Then, for SQLite and PostgreSQL (``CONNECTOR_TEST_POSTGRES``, a schema per test):

- every order the simulator has with our client-id prefix is in the store, with the
  simulator's status and filled quantity (write-ahead: nothing reaches a venue
  before its ``OrderSubmitted`` is durable);
- every order whose ``place_order`` returned (one line each, written before the
  kill) is in the store;
- no order was placed twice (one venue order per client order id, and every
  order the store holds as sent once at most);
- fills, positions and balances equal the simulator's.

The default variants kill 4 times; the ``slow`` ones 20 times.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pytest
import trio

from connector import OrderStatus, sim
from connector.config import StorageConfig
from connector.store.open import open_store

ROOT = Path(__file__).resolve().parents[2]
TRADER = Path(__file__).resolve().parent / "kill9_trader.py"
POSTGRES = os.environ.get("CONNECTOR_TEST_POSTGRES")
PREFIX = "KNine"
VENUES = ("binance", "bybit", "okx")


def _config_text(storage: str) -> str:
    venues = "".join(
        f'[venues.{v}]\nsymbols = ["BTC-USDT-PERP"]\nchannels = ["book"]\n\n' for v in VENUES
    )
    return (
        venues
        + f'[storage]\n{storage}client_id_prefix = "{PREFIX}"\n\n'
        + '[logging]\nlevel = "warning"\nformat = "json"\n'
    )


@contextmanager
def _store(kind: str, tmp_path: Path) -> Iterator[tuple[str, StorageConfig, dict[str, str]]]:
    """(the ``[storage]`` lines, the same as a StorageConfig, extra environment)."""
    if kind == "sqlite":
        path = tmp_path / "events.sqlite"
        yield (
            f'kind = "sqlite"\nsqlite_path = "{path.name}"\n',
            StorageConfig(kind="sqlite", sqlite_path=path),
            {},
        )
        return
    if not POSTGRES:
        pytest.skip("CONNECTOR_TEST_POSTGRES is not set")
    import psycopg

    schema = "k9_" + uuid.uuid4().hex[:16]
    try:
        yield (
            f'kind = "postgres"\npostgres_schema = "{schema}"\n',
            StorageConfig(kind="postgres", postgres_dsn=POSTGRES, postgres_schema=schema),
            {"CONNECTOR_STORAGE__POSTGRES_DSN": POSTGRES},
        )
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


async def _run_and_kill(args: list[str], env: dict[str, str], after: float, log: Path) -> None:
    with log.open("ab") as err:
        proc = await trio.lowlevel.open_process(
            [sys.executable, str(TRADER), *args], env=env, stdout=subprocess.DEVNULL, stderr=err
        )
        try:
            with trio.move_on_after(after):
                await proc.wait()
            assert proc.returncode is None, f"the trader ended by itself: see {log}"
        finally:
            proc.send_signal(signal.SIGKILL)
            with trio.CancelScope(shield=True):
                await proc.wait()


async def _kill9(kind: str, kills: int, tmp_path: Path) -> None:
    rng = random.Random()
    config = tmp_path / "connector.toml"
    lines = tmp_path / "placed.jsonl"
    dump = tmp_path / "final.json"
    log = tmp_path / "trader.log"
    with _store(kind, tmp_path) as (storage_lines, storage, extra):
        config.write_text(_config_text(storage_lines), encoding="utf-8")
        lines.touch()
        async with sim.run(venues=VENUES, rate=20.0, seed=rng.randrange(1 << 30)) as s:
            env = {**os.environ, **s.environment(VENUES), **extra, "PYTHONPATH": str(ROOT)}
            for _ in range(kills):
                # A random moment: while starting, replaying, reconciling or trading.
                after = rng.uniform(0.5, 5.0)
                await _run_and_kill(
                    [str(config), str(lines), "trade", str(rng.randrange(1 << 30))],
                    env,
                    after,
                    log,
                )
            with log.open("ab") as err:
                with trio.fail_after(90):
                    done = await trio.run_process(
                        [sys.executable, str(TRADER), str(config), str(dump), "final"],
                        env=env,
                        stdout=subprocess.DEVNULL,
                        stderr=err,
                        check=False,
                    )
            assert 0 == done.returncode, log.read_text("utf-8")[-3000:]
            truths = {v: s.truth(v) for v in VENUES}
            state = json.loads(dump.read_text("utf-8"))
            store = await open_store(storage)
            try:
                stored = {o.client_order_id: o for o in await store.orders()}
                stored_fills = await store.fills()
                check = await store.check()
            finally:
                await store.close()

    assert check.ok, check.problems
    placed = [json.loads(line) for line in lines.read_text("utf-8").splitlines()]
    assert placed, f"no order was ever placed: see {log}"
    # Every order whose place_order returned is in the store.
    missing = [p["cid"] for p in placed if p["cid"] not in stored]
    assert not missing, missing
    venue_orders = 0
    for venue, truth in truths.items():
        theirs = [
            o for o in truth.orders(truth.default_account()) if o.client_order_id.startswith(PREFIX)
        ]
        venue_orders += len(theirs)
        # Never placed twice: one venue order per client order id.
        ids = [o.client_order_id for o in theirs]
        assert len(ids) == len(set(ids)), venue
        for o in theirs:
            ours = stored.get(o.client_order_id)
            assert ours is not None, f"{venue} has {o.client_order_id}, the store does not"
            assert OrderStatus(o.state.value) == ours.status, (o, ours)
            assert o.filled_qty * ours.qty == ours.filled_qty * o.qty, (o, ours)
            local = state["orders"][o.client_order_id]
            assert ours.status.value == local["status"]
        # Orders the store has that the venue never got were refused or never sent.
        sent = set(ids)
        for cid, ours in stored.items():
            if ours.venue == venue and cid not in sent:
                assert ours.status.is_terminal and ours.filled_qty == 0, ours
        # Fills, positions, balances.
        their_fills = [f for f in truth.fills(truth.default_account()) if f.client_order_id in sent]
        our_fills = [f for f in stored_fills if f.venue == venue]
        assert len(their_fills) == len(our_fills), venue
        assert len(their_fills) == sum(1 for f in state["fills"] if f[0] == venue)
        positions = [p for p in truth.positions() if p.size != 0]
        qty, entry = state["positions"].get(venue, ["0", None])
        if positions:
            (p,) = positions
            assert p.size == Decimal(qty), venue
            # Bybit's position list rounds avgPrice to the price tick.
            assert abs(p.entry_price - Decimal(entry)) <= Decimal("0.01"), venue
        else:
            assert Decimal(qty) == 0, venue
        # The venues' APIs show balances to 8 decimals at most.
        ours_usdt = Decimal(state["balances"][f"{venue}:USDT"])
        assert abs(truth.balance("USDT").total - ours_usdt) < Decimal("0.00000001"), venue
    assert venue_orders > 0


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_kill9_a_few_times_loses_nothing(kind: str, tmp_path: Path) -> None:
    with trio.fail_after(150):
        await _kill9(kind, 4, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_kill9_twenty_times_loses_nothing(kind: str, tmp_path: Path) -> None:
    with trio.fail_after(600):
        await _kill9(kind, 20, tmp_path)
