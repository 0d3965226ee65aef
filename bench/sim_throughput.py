"""Simulator throughput: book updates per second each venue's websocket delivers.

Starts ``python -m connector.sim.standalone`` in its own process at a high
rate (one instrument: BTC/USDT spot), subscribes from this process to one instrument's
finest-grained book stream per venue, and counts for a few seconds:

* binance: ``btcusdt@depth@0ms`` on spot (one event per engine update);
* bybit: ``orderbook.50.BTCUSDT`` on ``/v5/public/spot``;
* okx: ``books`` for ``BTC-USDT`` on ``/ws/v5/public``;

Bybit and OKX run with their ``immediate`` setting (one book message per
engine change instead of the documented push intervals).

"Updates" are engine book updates the client received (for Binance, the sum
of ``u - U + 1``; for Bybit and OKX, one per delta message). Each venue is
measured ``--runs`` times (a fresh simulator process each time) and the median
run is reported, with every run's figure and the simulator process's CPU use
(user + system time over the measured seconds, from ``/proc``) during the
median run. Prints a markdown table and rewrites the "Simulator throughput"
section of docs/benchmarks.md (between ``<!-- bench:sim_throughput -->`` markers).

With ``--part orders`` (or ``all``, the default) it also reports the signed
order requests per second each venue sustains (``bench/sim_orders.py``).

Usage: ``python bench/sim_throughput.py [--rate 6000] [--seconds 5] [--runs 3]
[--venues binance,bybit,okx]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import msgspec
import trio
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, Request, TextMessage

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._docs import write_section  # noqa: E402 (needs the path set above)

NAME = "sim_throughput"


class _Ids(msgspec.Struct):
    U: int
    u: int


_ids = msgspec.json.Decoder(_Ids)


async def _count(
    ws_base: str, target: str, subscribe: str | None, count: Callable[[str], int], seconds: float
) -> tuple[int, int]:
    """Frames and book updates received in ``seconds`` on one websocket.

    A bare wsproto client: it parses many frames per read, so the client is
    not what limits the measurement.
    """
    host, port = ws_base.removeprefix("ws://").split(":")
    stream = await trio.open_tcp_stream(host, int(port))
    ws = WSConnection(ConnectionType.CLIENT)
    await stream.send_all(ws.send(Request(host=host, target=target)))
    frames = updates = 0
    parts: list[str] = []
    deadline = float("inf")
    while trio.current_time() < deadline:
        data = await stream.receive_some(1 << 20)
        if not data:
            break
        ws.receive_data(data)
        for event in ws.events():
            if isinstance(event, CloseConnection):
                raise RuntimeError(f"closed by the server: {event.code} {event.reason}")
            if isinstance(event, AcceptConnection):
                deadline = trio.current_time() + seconds
                if subscribe is not None:
                    await stream.send_all(ws.send(TextMessage(data=subscribe)))
            elif isinstance(event, TextMessage):
                parts.append(event.data)
                if event.message_finished:
                    n = count("".join(parts))
                    parts.clear()
                    if n:
                        frames += 1
                        updates += n
    await stream.aclose()
    return frames, updates


def _binance_updates(text: str) -> int:
    ids = _ids.decode(text)
    return ids.u - ids.U + 1


def _bybit_updates(text: str) -> int:
    return 1 if '"type":"delta"' in text else 0


def _okx_updates(text: str) -> int:
    return 1 if '"action":"update"' in text else 0


async def _measure_binance(urls: dict[str, str], seconds: float) -> tuple[int, int]:
    return await _count(urls["spot.ws"], "/ws/btcusdt@depth@0ms", None, _binance_updates, seconds)


async def _measure_bybit(urls: dict[str, str], seconds: float) -> tuple[int, int]:
    sub = json.dumps({"op": "subscribe", "args": ["orderbook.50.BTCUSDT"]})
    return await _count(urls["spot.ws"], "/v5/public/spot", sub, _bybit_updates, seconds)


async def _measure_okx(urls: dict[str, str], seconds: float) -> tuple[int, int]:
    sub = json.dumps({"op": "subscribe", "args": [{"channel": "books", "instId": "BTC-USDT"}]})
    return await _count(urls["spot.ws"], "/ws/v5/public", sub, _okx_updates, seconds)


MEASURE = {"binance": _measure_binance, "bybit": _measure_bybit, "okx": _measure_okx}


def _start(venues: list[str], rate: float) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    cmd = [
        sys.executable,
        "-m",
        "connector.sim.standalone",
        "--venues",
        ",".join(venues),
        "--bases",
        "BTC",
        "--markets",
        "spot",
        "--rate",
        str(rate),
        # One book message per engine change on Bybit and OKX too.
        "--setting",
        "bybit.immediate=true",
        "--setting",
        "okx.immediate=true",
    ]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    return proc, json.loads(line)


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of process ``pid`` so far (None without ``/proc``)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # After the command name: state is field 3, utime 14 and stime 15 (1-based).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class _Run(NamedTuple):
    """One measurement of one venue."""

    rate: float
    frames_per_s: float | None
    updates_per_s: float | None
    cpu: float | None
    note: str


def _run_one(venue: str, rate: float, seconds: float) -> tuple[_Run, bool]:
    """One measurement, and whether to retry at a lower rate."""
    try:
        proc, urls = _start([venue], rate)
    except (json.JSONDecodeError, OSError) as exc:
        return _Run(rate, None, None, None, f"not available ({type(exc).__name__})"), False
    try:
        cpu_before = _cpu_seconds(proc.pid)
        start = time.perf_counter()
        frames, updates = trio.run(MEASURE[venue], urls[venue], seconds)
        elapsed = time.perf_counter() - start
        cpu_after = _cpu_seconds(proc.pid)
    except RuntimeError as exc:
        return _Run(rate, None, None, None, str(exc)), True
    except Exception as exc:  # a venue front-end may not exist yet
        return _Run(rate, None, None, None, f"failed: {type(exc).__name__}"), False
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    cpu = None
    if cpu_before is not None and cpu_after is not None:
        cpu = (cpu_after - cpu_before) / elapsed
    return _Run(rate, frames / elapsed, updates / elapsed, cpu, ""), False


def _measure(venue: str, rate: float, seconds: float) -> _Run:
    """One run, retried up to three times 25 % slower when the server gave up on the client."""
    for attempt in range(4):
        run, retry = _run_one(venue, rate, seconds)
        if not retry or attempt == 3:
            return run
        rate *= 0.75
    raise AssertionError("unreachable")


def _row(venue: str, runs: list[_Run]) -> str:
    done = sorted(
        (r for r in runs if r.updates_per_s is not None), key=lambda r: r.updates_per_s or 0.0
    )
    if not done:
        return f"| {venue} | {runs[0].rate:,.0f} | - | - | - | - | {runs[0].note} |"
    median = done[len(done) // 2]
    every = ", ".join(f"{r.updates_per_s:,.0f}" for r in runs if r.updates_per_s is not None)
    cpu = f"{median.cpu:.0%}" if median.cpu is not None else "-"
    notes = "; ".join(sorted({r.note for r in runs if r.note}))
    if any(r.rate != runs[0].rate for r in runs):
        notes = "; ".join(filter(None, [notes, "some runs retried at a lower rate"]))
    return (
        f"| {venue} | {median.rate:,.0f} | {median.frames_per_s:,.0f} | "
        f"{median.updates_per_s:,.0f} | {every} | {cpu} | {notes} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=6000.0, help="changes/s per instrument")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=3, help="runs per venue (median reported)")
    parser.add_argument("--venues", default="binance,bybit,okx")
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/benchmarks.md")
    parser.add_argument(
        "--part",
        choices=("all", "books", "orders"),
        default="all",
        help="book updates, signed order entry (bench/sim_orders.py), or both",
    )
    args = parser.parse_args()
    if args.part != "books":
        import sim_orders  # beside this file (bench/ is on sys.path when run as a script)

        sim_orders.report(
            argparse.Namespace(
                venues=[v for v in args.venues.split(",") if v],
                tasks=24,
                seconds=args.seconds,
                runs=1,
                no_write=args.no_write,
            )
        )
        if args.part == "orders":
            return
    load_start = os.getloadavg()[0]
    rows = []
    for venue in [v for v in args.venues.split(",") if v]:
        runs = [_measure(venue, args.rate, args.seconds) for _ in range(max(1, args.runs))]
        rows.append(_row(venue, runs))
    load_end = os.getloadavg()[0]
    header = (
        f"| venue | target changes/s per instrument | frames/s | book updates/s "
        f"(median of {max(1, args.runs)}) | every run | simulator CPU | note |\n"
        "|---|---:|---:|---:|---|---:|---|"
    )
    table = "\n".join([header, *rows])
    machine = (
        f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs"
    )
    table += (
        f"\n\nOne subscribed instrument per venue, simulator in its own process (a fresh one "
        f"per run), {args.seconds:g} s per run; {machine}; 1-minute load average "
        f"{load_start:.1f} at the start and {load_end:.1f} at the end of the run (the machine "
        "is shared, so figures vary). The target rate caps what a venue can deliver; "
        '"simulator CPU" is the simulator process\'s CPU time over the measured seconds in '
        "the median run (100 % = one core), so it shows the headroom left. When the server "
        "closes the connection as a slow consumer the run is retried 25 % slower."
    )
    print(table)
    if not args.no_write:
        write_section(
            NAME, "Simulator throughput", f"Measured by `bench/sim_throughput.py`.\n\n{table}"
        )


if __name__ == "__main__":
    main()
