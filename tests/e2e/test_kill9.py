"""kill -9: a trading process is SIGKILLed at random moments and restarted; nothing it
acknowledged is lost, nothing is placed twice, and its state equals the venues' truth.

The simulator is a standalone ``connector sim`` process (all three venues); the
trading process (``kill9_trader.py``, run with this interpreter) reaches it
through the ``CONNECTOR_*`` variables of its first line
(``connector.sim.line_environment``), trades BTC-USDT-PERP on every venue, and is
killed with SIGKILL 10 times, each life at a random moment (:data:`_KILL_MOMENTS`,
the first three lives one from each anchor, so that the kills cover them all):
a uniform delay from its spawn (the interpreter, the config, the store, its replay,
the reconciliation, connecting, the first orders), from the moment it opens the
``Connector`` (mostly the replay and the reconciliation), or from its first order
of that life (in the middle of placing, amending and cancelling). The trader
reports its phases on stderr, so the kills land there however fast the machine
is. A last run, started right after the last kill, opens the store, reconciles
once, waits until what it left to resolve is resolved (orders the last life sent
just before it was killed are queried as soon as they are as old as the query
window) and dumps its state; the venues' truth is then read over the wire
(``GET /_sim/truth``, ``connector.sim.fetch_truth``).

Then, for SQLite and PostgreSQL (``CONNECTOR_TEST_POSTGRES``, a schema per test):

- every order the simulator has with our client-id prefix is in the store, with the
  simulator's status and filled quantity, and its first event in the log is its
  ``OrderSubmitted`` (write-ahead: nothing reaches a venue before its intent is
  durable; an order sent unrecorded would come back through reconciliation alone);
- every order whose ``place_order`` returned (one line each, written before the
  kill) is in the store;
- no order was placed twice (one venue order per client order id, and every
  order the store holds as sent once at most);
- fills, positions and balances equal the simulator's.

Where the kills landed is printed at the end (``pytest -s``); they must have
covered the start (before the ``Connector`` was open) and the trading. The
``slow`` variants kill 60 times (a longer log to replay, more rare moments).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio

from connector import OrderStatus, sim
from connector.config import StorageConfig
from connector.store.log import EventLog
from connector.store.open import open_store

ROOT = Path(__file__).resolve().parents[2]
TRADER = Path(__file__).resolve().parent / "kill9_trader.py"
POSTGRES = os.environ.get("CONNECTOR_TEST_POSTGRES")
PREFIX = "KNine"
VENUES = ("binance", "bybit", "okx")
RESTART_BUDGET = 90.0
"""Seconds a restarted trader may take to place its first order. It usually takes ~1 s;
but each start spends about 80 of the 2,400 request weight a minute Binance USDⓈ-M allows
an IP (the listing of every open order alone is 40), so quick restarts can use up the
minute, and the next trader then waits out the venue's ``Retry-After`` (up to a minute)
before it trades there, as it must."""


def _config_text(storage: str) -> str:
    venues = "".join(
        f'[venues.{v}]\nsymbols = ["BTC-USDT-PERP"]\nchannels = ["book"]\n\n' for v in VENUES
    )
    return (
        venues
        + f'[storage]\n{storage}client_id_prefix = "{PREFIX}"\n\n'
        # info: the store's replay ("store.replayed") shows where a kill landed.
        + '[logging]\nlevel = "info"\nformat = "json"\n'
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


@attrs.define
class _Life:
    """One run of the trader as the test saw it: the phases it reported, in order."""

    phases: list[tuple[str, float]] = attrs.field(factory=list)
    reached: dict[str, trio.Event] = attrs.field(
        factory=lambda: {"open": trio.Event(), "trading": trio.Event()}
    )

    def note(self, phase: str, t: float) -> None:
        self.phases.append((phase, t))
        if phase in self.reached:
            self.reached[phase].set()

    def landed(self, at: float) -> str:
        """The phase the trader was in at ``at`` (``time.monotonic()``)."""
        name = "interpreter"
        for phase, t in self.phases:
            if t <= at:
                name = phase
        return _PHASE_NAMES.get(name, name)


_PHASE_NAMES = {
    "start": "config",
    "open": "store+replay",
    "store.replayed": "reconcile+connect",
    "ready": "first order",
    "trading": "trading",
}
"""Where a kill landed, by the last phase the trader reported before it."""

_STARTING = ("interpreter", "config", "store+replay", "reconcile+connect")

_KILL_MOMENTS = (
    # (from when, weight, up to how many seconds after it): the first three lives take
    # one each, later kills pick one by weight,
    # then a uniform delay. From the spawn it lands anywhere in the start (interpreter,
    # config, store, replay, reconciliation, connecting) or in the first orders; from
    # "open" mostly in the store's replay and the reconciliation; from the first order
    # of the life in the middle of placing, amending and cancelling.
    ("spawn", 0.25, 1.2),
    ("open", 0.35, 0.35),
    ("trading", 0.40, 1.2),
)


async def _copy_stderr(stream: trio.abc.ReceiveStream, log: Path, life: _Life) -> None:
    """Copy the trader's stderr to ``log``, noting its phase lines as they come."""
    buffer = b""
    with log.open("ab") as out:
        async for chunk in stream:
            out.write(chunk)
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                if line.startswith(b"k9 phase="):
                    name, t = (part.split("=")[1] for part in line.decode().split()[1:])
                    life.note(name, float(t))
                elif b'"store.replayed"' in line:
                    life.note("store.replayed", time.monotonic())


async def _until(event: trio.Event, proc: trio.Process) -> None:
    """Wait for ``event``, or for the process to end (then the caller sees its exit)."""
    async with trio.open_nursery() as nursery:

        async def first(wait: Callable[[], Awaitable[object]]) -> None:
            await wait()
            nursery.cancel_scope.cancel()

        nursery.start_soon(first, event.wait)
        nursery.start_soon(first, proc.wait)


async def _run_and_kill(
    args: list[str],
    env: dict[str, str],
    rng: random.Random,
    log: Path,
    moment: tuple[str, float, float],
) -> str:
    """Run the trader and SIGKILL it at a random delay after ``moment``'s anchor; the
    phase the kill landed in."""
    life = _Life()
    anchor, _, most = moment
    proc = await trio.lowlevel.open_process(
        [sys.executable, str(TRADER), *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_copy_stderr, proc.stderr, log, life)
            if anchor != "spawn":
                with trio.move_on_after(RESTART_BUDGET):
                    await _until(life.reached[anchor], proc)
                assert life.reached[anchor].is_set() or proc.returncode is not None, (
                    f"the trader did not reach {anchor!r} in {RESTART_BUDGET} s: see {log}"
                )
            with trio.move_on_after(rng.uniform(0.0, most)):
                await proc.wait()
            assert proc.returncode is None, f"the trader ended by itself: see {log}"
            killed = time.monotonic()
            proc.send_signal(signal.SIGKILL)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGKILL)
        with trio.CancelScope(shield=True):
            await proc.wait()
    return life.landed(killed)


async def _first_events(store: EventLog) -> dict[str, str]:
    """Per client order id, the type of the first event the log holds of it."""
    first: dict[str, str] = {}
    after = 0
    while entries := await store.read(after, limit=5000):
        for entry in entries:
            cid = getattr(entry.event, "client_order_id", None)
            if isinstance(cid, str):
                first.setdefault(cid, type(entry.event).__name__)
        after = entries[-1].seq
    return first


@asynccontextmanager
async def _standalone_sim(seed: int, log: Path) -> AsyncIterator[dict[str, Any]]:
    """A ``connector sim`` process serving the three venues; yields its first line."""
    with log.open("ab") as err:
        proc = await trio.lowlevel.open_process(
            [sys.executable, "-m", "connector", "sim", "--venues", ",".join(VENUES),
             "--bases", "BTC", "--rate", "20", "--seed", str(seed)],
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE,
            stderr=err,
        )  # fmt: skip
    assert proc.stdout is not None
    try:
        first = b""
        with trio.fail_after(30):
            while not first.endswith(b"\n"):
                chunk = await proc.stdout.receive_some()
                assert chunk, f"connector sim printed no first line: see {log}"
                first += chunk
        yield json.loads(first)
    finally:
        proc.kill()
        with trio.CancelScope(shield=True):
            await proc.wait()


async def _kill9(kind: str, kills: int, tmp_path: Path) -> None:
    rng = random.Random()
    config = tmp_path / "connector.toml"
    lines = tmp_path / "placed.jsonl"
    dump = tmp_path / "final.json"
    log = tmp_path / "trader.log"
    started = time.monotonic()
    landed: list[str] = []
    with _store(kind, tmp_path) as (storage_lines, storage, extra):
        config.write_text(_config_text(storage_lines), encoding="utf-8")
        lines.touch()
        async with _standalone_sim(rng.randrange(1 << 30), tmp_path / "sim.log") as line:
            env = {
                **os.environ,
                **sim.line_environment(line, VENUES),
                **extra,
                "PYTHONPATH": str(ROOT),
            }
            weights = [m[1] for m in _KILL_MOMENTS]
            for life in range(kills):
                args = [str(config), str(lines), "trade", str(rng.randrange(1 << 30))]
                moment = (
                    _KILL_MOMENTS[life]
                    if life < len(_KILL_MOMENTS)
                    else rng.choices(_KILL_MOMENTS, weights=weights)[0]
                )
                landed.append(await _run_and_kill(args, env, rng, log, moment))
            killed = time.monotonic()
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
            truths = {v: await sim.fetch_truth(line["truth"][v]) for v in VENUES}
        state = json.loads(dump.read_text("utf-8"))
        store = await open_store(storage)
        try:
            stored = {o.client_order_id: o for o in await store.orders()}
            stored_fills = await store.fills()
            check = await store.check()
            first_event = await _first_events(store)
        finally:
            await store.close()

    counts = Counter(landed)
    print(
        f"\nkill9[{kind}]: {kills} kills in {killed - started:.1f} s, final run and checks "
        f"{time.monotonic() - killed:.1f} s; kills landed: "
        + ", ".join(f"{name} {counts[name]}" for name in ("interpreter", *_PHASE_NAMES.values()))
    )
    # The kills covered the start (before the Connector was open) and the trading.
    assert sum(counts[name] for name in _STARTING) > 0, counts
    assert counts["trading"] > 0, counts
    assert check.ok, check.problems
    placed = [json.loads(line) for line in lines.read_text("utf-8").splitlines()]
    assert placed, f"no order was ever placed: see {log}"
    # Every order whose place_order returned is in the store.
    missing = [p["cid"] for p in placed if p["cid"] not in stored]
    assert not missing, missing
    venue_orders = fills = 0
    for venue, truth in truths.items():
        theirs = [
            o for o in truth.orders(truth.default_account()) if o.client_order_id.startswith(PREFIX)
        ]
        venue_orders += len(theirs)
        # Never placed twice: one venue order per client order id.
        ids = [o.client_order_id for o in theirs]
        assert len(ids) == len(set(ids)), venue
        for o in theirs:
            # Write-ahead: the log recorded the order as submitted before anything else
            # of it (an order the log first learnt of from the venue was sent unrecorded).
            assert "OrderSubmitted" == first_event.get(o.client_order_id), (venue, o)
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
        # The same fills (each venue words its trade ids its own way: Bybit's execId).
        assert sorted((f.order_id, f.price) for f in their_fills) == sorted(
            (f.venue_order_id, f.price) for f in our_fills
        ), venue
        assert len(their_fills) == sum(1 for f in state["fills"] if f[0] == venue)
        fills += len(their_fills)
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
        for balance in truth.balances():
            ours_total = Decimal(state["balances"].get(f"{venue}:{balance.asset}", "0"))
            assert abs(balance.total - ours_total) < Decimal("0.00000001"), (venue, balance)
    assert venue_orders > 0
    print(
        f"kill9[{kind}]: {venue_orders} orders at the venues, {fills} fills, {len(placed)} placed"
    )


# pytest-timeout's bound (120 s for every test) above the test's own: past it, the
# worker could end without the test's cleanup and leave its simulator running.
@pytest.mark.timeout(180)
@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_kill9_ten_times_loses_nothing(kind: str, tmp_path: Path) -> None:
    with trio.fail_after(150):
        await _kill9(kind, 10, tmp_path)


@pytest.mark.slow
@pytest.mark.timeout(480)
@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_kill9_sixty_times_loses_nothing(kind: str, tmp_path: Path) -> None:
    with trio.fail_after(450):
        await _kill9(kind, 60, tmp_path)
