"""Event store throughput: durable events per second with group commit.

Not a test. ``--writers`` tasks each append one event at a time (an
``OrderAccepted``, as the command path does) and wait until it is durable; the
stores group the appends that arrive together into one transaction. Reported:
durable events per second (wall clock, median of ``--runs``), events per commit,
and the latency of one append (median, p99). SQLite in a temporary directory
(WAL, ``synchronous=FULL``); PostgreSQL when ``CONNECTOR_TEST_POSTGRES`` (or
``--postgres DSN``) names a server, in a schema of its own that is dropped after.

The latency the write-ahead adds to ``place_order`` (``--orders``, 0 to skip):
one ``Connector`` places passive limit orders one after another on Bybit linear
(BTC-USDT-PERP) and cancels each, once with the in-memory log and once with
SQLite, ``--runs`` times each, alternately; reported per log: the ``place_order``
round trip and the write-ahead append of its ``OrderSubmitted`` (median, p99; the
median of the runs' figures). The venue is a standalone simulator (``connector
sim``, ``--rate`` book changes per second) in a process of its own, as a real
venue is another machine: the figures are the client's own work and waiting,
with no simulator sharing its interpreter lock or its event loop.

The disk beside it: ``fdatasync`` after a 4 KiB write at the end of a file in the
directory of the SQLite files (what a commit waits for), median and p99 of
``--syncs`` calls, measured before the SQLite runs; and the floor under a
write-ahead: a bare SQLite transaction (two small rows, WAL, ``synchronous=FULL``)
from a plain thread with no event loop, one every 0.11 s as the orders are
(``--bare`` commits).

Run: ``python bench/store.py [--events 20000] [--writers 64] [--runs 3] [--orders 300]
[--rate 20] [--syncs 500] [--bare 200] [--no-write]``.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import trio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._docs import write_section
from bench._sim import bybit_venues, start_simulator
from connector import Connector
from connector.config import Config
from connector.model import OrderAccepted, OrderSubmitted, Symbol
from connector.store.log import EventLog, LogEntry, Logged, MemoryEventLog
from connector.store.sql import SqlEventLog
from connector.store.sqlite import open_sqlite

SYMBOL = Symbol.parse("BTC-USDT-PERP")


async def _run(
    open_store: Callable[[], Awaitable[SqlEventLog]], events: int, writers: int
) -> dict[str, float]:
    store = await open_store()
    latencies: list[float] = []
    per_writer = events // writers

    async def writer(w: int) -> None:
        for i in range(per_writer):
            event = OrderAccepted(
                venue="binance", symbol=SYMBOL, client_order_id=f"b{w}x{i}", venue_order_id=str(i)
            )
            t0 = time.perf_counter()
            await store.append([event], ts_ns=time.time_ns())
            latencies.append(time.perf_counter() - t0)

    start = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for w in range(writers):
            nursery.start_soon(writer, w)
    elapsed = time.perf_counter() - start
    stats = store.statistics()
    await store.close()
    latencies.sort()
    return {
        "rate": stats.events / elapsed,
        "per_commit": stats.events / max(stats.transactions, 1),
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
    }


class _Timed:
    """An event log that times the appends of ``OrderSubmitted`` (the write-ahead)."""

    def __init__(self, inner: EventLog) -> None:
        self.inner = inner
        self.write_ahead: list[float] = []

    async def append(self, events: Sequence[Logged], *, ts_ns: int) -> int:
        t0 = time.perf_counter()
        seq = await self.inner.append(events, ts_ns=ts_ns)
        if len(events) == 1 and isinstance(events[0], OrderSubmitted):
            self.write_ahead.append(time.perf_counter() - t0)
        return seq

    async def read(self, after: int = 0, *, limit: int = 1000) -> Sequence[LogEntry]:
        return await self.inner.read(after, limit=limit)

    async def last_seq(self) -> int:
        return await self.inner.last_seq()

    async def close(self) -> None:
        await self.inner.close()


async def _place(
    open_log: Callable[[], Awaitable[EventLog]], orders: int, line: dict[str, Any]
) -> dict[str, float]:
    venues = bybit_venues(line, str(SYMBOL))
    log = _Timed(await open_log())
    places: list[float] = []
    async with Connector(Config(venues=venues), event_log=log) as c:
        view = c.order_book("bybit", SYMBOL)
        async with c.subscribe(f"orderbook.bybit.{SYMBOL}") as updates:
            while not view.valid or view.best_bid() is None:
                await updates.receive()
        for _ in range(orders):
            bid = view.best_bid()
            assert bid is not None
            t0 = time.perf_counter()
            price = bid.price * Decimal("0.9")
            order = await c.place_order("bybit", SYMBOL, "buy", "limit", "0.01", price)
            places.append(time.perf_counter() - t0)
            await c.cancel_order("bybit", SYMBOL, order.client_order_id)
            await trio.sleep(0.11)  # under Bybit's 10 orders/s per UID (untimed)
    await log.close()
    places.sort()
    ahead = sorted(log.write_ahead)
    return {
        "place_p50": places[len(places) // 2] * 1000,
        "place_p99": places[int(len(places) * 0.99)] * 1000,
        "ahead_p50": ahead[len(ahead) // 2] * 1000,
        "ahead_p99": ahead[int(len(ahead) * 0.99)] * 1000,
    }


def _disk_sync(directory: Path, count: int) -> dict[str, float]:
    """Latency of ``fdatasync`` (``fsync`` where there is none) after a 4 KiB append."""
    sync = getattr(os, "fdatasync", os.fsync)
    block = b"\xa5" * 4096
    path = directory / "sync.bin"
    took: list[float] = []
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for _ in range(count):
            os.write(fd, block)
            t0 = time.perf_counter()
            sync(fd)
            took.append(time.perf_counter() - t0)
    finally:
        os.close(fd)
        path.unlink()
    took.sort()
    return {"p50": took[len(took) // 2] * 1000, "p99": took[int(len(took) * 0.99)] * 1000}


def _bare_commits(directory: Path, count: int, pause: float) -> dict[str, float]:
    """Latency of a bare SQLite transaction, ``pause`` s apart as the orders are: two
    small rows (a log row, an upserted order row), WAL, ``synchronous=FULL``, from a
    plain thread with no event loop, no hand-off and no encoding: the floor under a
    write-ahead on this machine."""
    conn = sqlite3.connect(directory / "bare.sqlite", isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("CREATE TABLE log (seq INTEGER PRIMARY KEY, ts_ns INTEGER, data TEXT)")
        conn.execute("CREATE TABLE orders (order_key TEXT PRIMARY KEY, data TEXT)")
        data = "x" * 500  # about a stored OrderSubmitted's size
        took: list[float] = []
        for i in range(count):
            t0 = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO log (ts_ns, data) VALUES (?, ?)", (i, data))
            conn.execute(
                "INSERT INTO orders (order_key, data) VALUES (?, ?)"
                " ON CONFLICT (order_key) DO UPDATE SET data = excluded.data",
                (f"o{i}", data),
            )
            conn.execute("COMMIT")
            took.append(time.perf_counter() - t0)
            time.sleep(pause)
    finally:
        conn.close()
    took.sort()
    return {"p50": took[len(took) // 2] * 1000, "p99": took[int(len(took) * 0.99)] * 1000}


def _median(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--writers", type=int, default=64)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres", default=os.environ.get("CONNECTOR_TEST_POSTGRES"))
    parser.add_argument("--orders", type=int, default=300, help="place_order latency (0: skip)")
    parser.add_argument("--rate", type=float, default=20.0, help="simulator book changes/s")
    parser.add_argument("--syncs", type=int, default=500, help="fdatasync calls timed")
    parser.add_argument("--bare", type=int, default=200, help="bare SQLite commits timed (0: skip)")
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/benchmarks.md")
    args = parser.parse_args()

    rows: list[tuple[str, dict[str, float]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        disk = _disk_sync(Path(tmp), args.syncs)
        bare = _bare_commits(Path(tmp), args.bare, 0.11) if args.bare else None
        runs = []
        for i in range(args.runs):
            path = Path(tmp) / f"bench{i}.sqlite"
            runs.append(trio.run(_run, lambda p=path: open_sqlite(p), args.events, args.writers))
        rows.append(("SQLite (WAL, synchronous=FULL)", _median(runs)))
    if args.postgres:
        import psycopg

        from connector.store.postgres import open_postgres

        runs = []
        for _ in range(args.runs):
            schema = "bench_" + uuid.uuid4().hex[:12]
            dsn: str = args.postgres
            runs.append(
                trio.run(
                    _run,
                    lambda s=schema, d=dsn: open_postgres(d, schema=s),
                    args.events,
                    args.writers,
                )
            )
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")
        rows.append(("PostgreSQL (psycopg pool, local server)", _median(runs)))

    lines = [
        "| store | durable events/s (median) | events per commit | append p50 (ms) "
        "| append p99 (ms) |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, r in rows:
        lines.append(
            f"| {name} | {r['rate']:,.0f} | {r['per_commit']:.1f} | {r['p50_ms']:.2f} "
            f"| {r['p99_ms']:.2f} |"
        )
    if args.orders:
        lines += [
            "",
            "Write-ahead on the command path: `place_order` against a standalone simulator in "
            f"its own process (Bybit linear, {args.rate:g} book changes/s; {args.orders} passive "
            f"limit orders one after another, each canceled after; median of {args.runs} runs).",
            "",
            "| event log | place_order p50 (ms) | place_order p99 (ms) | write-ahead p50 (ms) "
            "| write-ahead p99 (ms) |",
            "|---|---:|---:|---:|---:|",
        ]

        async def memory() -> EventLog:
            return MemoryEventLog()

        in_memory: list[dict[str, float]] = []
        sqlite: list[dict[str, float]] = []
        proc, line = start_simulator(args.rate)
        try:
            with tempfile.TemporaryDirectory() as tmp:
                for i in range(args.runs):  # alternately, so both see the same machine
                    path = Path(tmp) / f"place{i}.sqlite"
                    in_memory.append(trio.run(_place, memory, args.orders, line))
                    sqlite.append(
                        trio.run(_place, lambda p=path: open_sqlite(p), args.orders, line)
                    )
        finally:
            proc.kill()
            proc.wait()
        place_rows = [("in memory", _median(in_memory)), ("SQLite", _median(sqlite))]
        for name, r in place_rows:
            lines.append(
                f"| {name} | {r['place_p50']:.2f} | {r['place_p99']:.2f} | {r['ahead_p50']:.3f} "
                f"| {r['ahead_p99']:.3f} |"
            )
    lines += [
        "",
        f"The disk beside it: `fdatasync` after a 4 KiB write (what a commit waits for), "
        f"p50 {disk['p50']:.2f} ms, p99 {disk['p99']:.2f} ms ({args.syncs} calls).",
    ]
    if bare is not None:
        lines[-1] += (
            " A bare SQLite transaction of two small rows (WAL, `synchronous=FULL`), one every "
            f"0.11 s as the orders above, from a plain thread (no event loop, no hand-off): "
            f"p50 {bare['p50']:.2f} ms, p99 {bare['p99']:.2f} ms ({args.bare} commits)."
        )
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    table = "\n".join(lines)
    print(table)
    if not args.no_write:
        write_section(
            "store",
            "Event store",
            f"Measured by `bench/store.py`: {args.writers} tasks each append one `OrderAccepted` "
            f"at a time and wait until it is durable, {args.events:,} events per run, median of "
            f"{args.runs} runs; appends that arrive together share one transaction (group "
            f"commit). CPython {sys.version.split()[0]}, 2 CPUs; load average {load} at the "
            "end.\n\n" + table,
        )


if __name__ == "__main__":
    main()
