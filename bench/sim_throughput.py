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
of ``u - U + 1``; for Bybit and OKX, one per delta message). Prints a markdown
table and rewrites the "Simulator throughput" section of docs/benchmarks.md.

Usage: ``python bench/sim_throughput.py [--rate 6000] [--seconds 5] [--venues binance,bybit,okx]``
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
from typing import Any

import msgspec
import trio
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, Request, TextMessage

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
SECTION = "## Simulator throughput"


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


def _write_section(table: str) -> None:
    body = f"{SECTION}\n\nMeasured by `bench/sim_throughput.py`.\n\n{table}\n"
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    if SECTION in text:
        head, rest = text.split(SECTION, 1)
        tail = rest.split("\n## ", 1)
        after = "\n## " + tail[1] if len(tail) > 1 else ""
        text = head + body + after
    else:
        text = text.rstrip("\n") + "\n\n" + body
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text)


def _run_one(venue: str, rate: float, seconds: float) -> tuple[str, bool]:
    """One measurement: (table row, whether to retry at a lower rate)."""
    try:
        proc, urls = _start([venue], rate)
    except (json.JSONDecodeError, OSError) as exc:
        return f"| {venue} | {rate:,.0f} | - | - | not available ({type(exc).__name__}) |", False
    try:
        start = time.perf_counter()
        frames, updates = trio.run(MEASURE[venue], urls[venue], seconds)
        elapsed = time.perf_counter() - start
    except RuntimeError as exc:
        return f"| {venue} | {rate:,.0f} | - | - | {exc} |", True
    except Exception as exc:  # a venue front-end may not exist yet
        return f"| {venue} | {rate:,.0f} | - | - | failed: {type(exc).__name__} |", False
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return (
        f"| {venue} | {rate:,.0f} | {frames / elapsed:,.0f} | {updates / elapsed:,.0f} | |",
        False,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=6000.0, help="changes/s per instrument")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--venues", default="binance,bybit,okx")
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/benchmarks.md")
    args = parser.parse_args()
    rows = []
    for venue in [v for v in args.venues.split(",") if v]:
        rate = args.rate
        for attempt in range(4):
            row, retry = _run_one(venue, rate, args.seconds)
            if not retry or attempt == 3:
                rows.append(row)
                break
            rate *= 0.75  # the client or server could not keep up: try lower
    header = (
        "| venue | target changes/s per instrument | frames/s | book updates/s | note |\n"
        "|---|---:|---:|---:|---|"
    )
    table = "\n".join([header, *rows])
    machine = (
        f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs"
    )
    load = os.getloadavg()[0]
    table += (
        f"\n\nOne subscribed instrument per venue, simulator in its own process; {machine}; "
        f"load average {load:.1f} at the end of the run (the machine is shared, so figures vary). "
        "When the server closes the connection as a slow consumer the rate is retried 25 % lower."
    )
    print(table)
    if not args.no_write:
        _write_section(table)


if __name__ == "__main__":
    main()
