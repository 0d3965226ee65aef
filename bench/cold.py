"""Cold starts: what the same small step of the order path costs after a pause.

Not a test. The latency benches (``orders.py``'s tick-to-order, ``store.py``'s
write-ahead) time paths that run once per order, one order every 0.12 s, with
the process idle in between. This bench times one fixed step the same way,
so that their figures can be read against the machine they ran on:

* **sign**: Bybit's REST signature of an order body (``sign_rest``: the
  string to sign, HMAC-SHA256, the headers), a few microseconds when warm;
* **yield**: one pass through Trio's scheduler (``cancel_shielded_checkpoint``);
* **commit**: one small SQLite transaction (WAL, ``synchronous=FULL``: the disk
  included) in a temporary directory.

Each is timed ``--samples`` times right after each of: nothing (back to back,
warm), an idle sleep of 1, 10 and 100 ms, and a busy loop of 10 and 100 ms
that touches nothing but the clock. On a machine whose cores are the process's
own, the figures after a pause stay near the warm one; where a core is shared
(a virtual machine beside other tenants), whatever ran meanwhile has evicted
the step's code and data from the caches and the step costs many times its
warm figure; keeping the core busy spares a small step some of that on some
days and none on others. Medians and p99 in µs.

Run: ``python bench/cold.py [--samples 200] [--no-write]``.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import trio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._docs import write_section
from bench._stats import percentile
from connector import Credentials
from connector.venues.bybit.sign import sign_rest
from connector.venues.signing import Signer

BODY = (
    b'{"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Limit",'
    b'"qty":"0.001","price":"45000.0","timeInForce":"PostOnly",'
    b'"orderLinkId":"c0ffee000000000000000001"}'
)
PAUSES: tuple[tuple[str, float, bool], ...] = (
    ("back to back", 0.0, False),
    ("after 1 ms idle", 0.001, False),
    ("after 10 ms idle", 0.010, False),
    ("after 100 ms idle", 0.100, False),
    ("after a 10 ms busy loop", 0.010, True),
    ("after a 100 ms busy loop", 0.100, True),
)


def pause(seconds: float, busy: bool) -> None:
    if busy:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            pass
    elif seconds:
        time.sleep(seconds)


def timed(step: Callable[[], object], seconds: float, busy: bool, samples: int) -> list[float]:
    step()  # loaded, specialised, its objects made
    out = []
    for _ in range(samples):
        pause(seconds, busy)
        t0 = time.perf_counter_ns()
        step()
        out.append((time.perf_counter_ns() - t0) / 1e3)
    return out


def yields(seconds: float, busy: bool, samples: int) -> list[float]:
    async def main() -> list[float]:
        out = []
        for _ in range(samples):
            if busy:
                pause(seconds, busy)
            else:
                await trio.sleep(seconds)
            t0 = time.perf_counter_ns()
            await trio.lowlevel.cancel_shielded_checkpoint()
            out.append((time.perf_counter_ns() - t0) / 1e3)
        return out

    return trio.run(main)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)

    signer = Signer.from_credentials(Credentials(api_key="k" * 18, api_secret="s" * 36))

    def sign() -> object:
        return sign_rest(signer, method="POST", body=BODY, now_ns=time.time_ns())

    with tempfile.TemporaryDirectory() as tmp:
        db = sqlite3.connect(os.path.join(tmp, "cold.sqlite"), isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("CREATE TABLE t (seq INTEGER PRIMARY KEY, data TEXT)")

        def commit() -> object:
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO t (data) VALUES (?)", (BODY.decode(),))
            return db.execute("COMMIT")

        rows = []
        for label, seconds, busy in PAUSES:
            figures = [
                timed(sign, seconds, busy, args.samples),
                yields(seconds, busy, args.samples),
                timed(commit, seconds, busy, args.samples),
            ]
            rows.append((label, figures))
        db.close()

    lines = [
        f"{args.samples} samples per cell, CPython {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}.",
        "",
        "| timed | sign p50 µs | sign p99 µs | yield p50 µs | yield p99 µs "
        "| SQLite commit p50 µs | commit p99 µs |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, figures in rows:
        cells = " | ".join(
            f"{statistics.median(f):,.1f} | {percentile(f, 0.99):,.1f}" for f in figures
        )
        lines.append(f"| {label} | {cells} |")
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section("cold", "Cold starts", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
