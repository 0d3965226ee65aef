"""Memory: resident set size of a connector streaming three venues for a while.

Starts the simulator in its own process (``python -m connector.sim.standalone``:
Binance, Bybit and OKX, the simulator's default venues, 200 book changes/s per
instrument) and, in this process, a :class:`connector.Connector` with custom
endpoints pointing at it, three symbols per venue (``BTC-USDT-PERP``,
``ETH-USDT-PERP``, ``SOL-USDT-PERP``) and every market-data channel, plus one
consumer task per event type (``orderbook.>``, ``trade.>``, ``ticker.>``,
``quote.>``) that reads the best bid/ask of every book event. The simulator has
its own process so that this process's memory is the connector's alone (its
RSS is shown too, for information).

RSS (``VmRSS`` from ``/proc/<pid>/status``) is sampled after a warm-up (every
book valid, then ``--warmup`` seconds), every ``--every`` seconds, and at the
end. Prints a markdown table and rewrites the "Memory" section of
docs/benchmarks.md (between ``<!-- bench:memory -->`` markers).

Usage: ``python bench/memory.py [--duration 600] [--every 60] [--warmup 10] [--no-write]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import trio

from connector import Connector
from connector.config import Config, VenueConfig
from connector.logs import configure_logging
from connector.model import BookUpdate, Symbol

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
VENUES = ("binance", "bybit", "okx")
SYMBOLS = ("BTC-USDT-PERP", "ETH-USDT-PERP", "SOL-USDT-PERP")


def rss_kib(pid: int | str = "self") -> int:
    """Resident set size of a process (default: this one) in KiB (``VmRSS``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def write_section(name: str, title: str, body: str, doc: Path = DOC) -> None:
    """Replace the text between ``<!-- bench:NAME -->`` markers (add the section if absent)."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    text = doc.read_text() if doc.exists() else "# Benchmarks\n"
    block = f"{start}\n{body.strip()}\n{end}"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + f"\n\n## {title}\n\n{block}\n"
    doc.write_text(text)


async def start_simulator(nursery: trio.Nursery) -> tuple[trio.Process, dict[str, dict[str, str]]]:
    """Start the standalone simulator; return the process and its URL map."""
    cmd = [
        sys.executable,
        "-m",
        "connector.sim.standalone",
        "--venues",
        ",".join(VENUES),
        "--bases",
        "BTC,ETH,SOL",
        "--rate",
        "200",
    ]
    process: trio.Process = await nursery.start(
        partial(
            trio.run_process, cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False
        )
    )
    assert process.stdout is not None
    buffer = b""
    with trio.fail_after(30):
        while b"\n" not in buffer:
            chunk = await process.stdout.receive_some()
            if not chunk:
                raise RuntimeError("the simulator exited before printing its URLs")
            buffer += chunk
    urls: dict[str, dict[str, str]] = json.loads(buffer.split(b"\n", 1)[0])
    return process, urls


Sample = tuple[float, int, int, int]
"""Seconds since warm-up, connector RSS KiB, simulator RSS KiB, events consumed."""


async def measure(duration: float, every: float, warmup: float) -> list[Sample]:
    """Run the connector against the simulator; return the samples."""
    events = 0
    samples: list[Sample] = []
    async with trio.open_nursery() as outer:
        sim, urls = await start_simulator(outer)
        config = Config(
            venues={
                v: VenueConfig(
                    name=v,
                    endpoint="custom",
                    urls=urls[v],
                    symbols=tuple(Symbol.parse(s) for s in SYMBOLS),
                )
                for v in VENUES
            },
        )
        async with Connector(config) as c:

            async def consume(pattern: str) -> None:
                nonlocal events
                async with c.subscribe(pattern) as sub:
                    async for event in sub:
                        events += 1
                        if type(event) is BookUpdate:
                            _ = (event.best_bid, event.best_ask)

            def sample(seconds: float) -> None:
                samples.append((seconds, rss_kib(), rss_kib(sim.pid), events))

            async with trio.open_nursery() as nursery:
                for pattern in ("orderbook.>", "trade.>", "ticker.>", "quote.>"):
                    nursery.start_soon(consume, pattern)
                with trio.fail_after(60):
                    async with c.subscribe("orderbook.>") as books:
                        async for _ in books:
                            if all(c.order_book(v, s).valid for v in VENUES for s in SYMBOLS):
                                break
                await trio.sleep(warmup)
                start = time.monotonic()
                sample(0.0)
                next_at = every
                while next_at < duration:
                    await trio.sleep(max(0.0, start + next_at - time.monotonic()))
                    sample(time.monotonic() - start)
                    next_at += every
                await trio.sleep(max(0.0, start + duration - time.monotonic()))
                sample(time.monotonic() - start)
                nursery.cancel_scope.cancel()
        sim.terminate()
    return samples


def render(samples: list[Sample], duration: float) -> str:
    """The markdown table and the conditions line."""
    first = samples[0][1]
    lines = [
        "| time since warm-up (s) | connector RSS (MiB) | change vs start (MiB) "
        "| events consumed | simulator process RSS (MiB) |",
        "|---:|---:|---:|---:|---:|",
    ]
    for seconds, kib, sim_kib, events in samples:
        lines.append(
            f"| {seconds:.0f} | {kib / 1024:.1f} | {(kib - first) / 1024:+.1f} | {events:,} "
            f"| {sim_kib / 1024:.1f} |"
        )
    load = os.getloadavg()
    lines.append("")
    lines.append(
        f"Three venues on the simulator in its own process (200 book changes/s per "
        f"instrument), three perpetuals each ({', '.join(SYMBOLS)}), every channel, "
        f"one consumer per event type; {duration:.0f} s after warm-up. CPython "
        f"{platform.python_version()}, {os.cpu_count()} CPUs shared with other work; "
        f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min) at the end."
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=600.0, help="seconds after warm-up")
    parser.add_argument("--every", type=float, default=60.0, help="seconds between samples")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds after books are valid")
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/benchmarks.md")
    args = parser.parse_args()
    configure_logging("warning", "console", stream=sys.stderr)
    samples = trio.run(measure, args.duration, args.every, args.warmup)
    table = render(samples, args.duration)
    print(table)
    if not args.no_write:
        body = "Measured by `bench/memory.py`.\n\n" + table
        write_section("memory", "Memory", body)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
