"""Memory: resident set size of a connector streaming three venues for a while.

Starts a :class:`connector.Connector` on the built-in simulator (Binance, Bybit
and OKX, the simulator's default venues) with three symbols each
(``BTC-USDT-PERP``, ``ETH-USDT-PERP``, ``SOL-USDT-PERP``) and every market-data
channel, and one consumer task that drains ``orderbook.>``, ``trade.>``,
``ticker.>`` and ``quote.>`` and reads the best bid/ask of every book event.
The simulator runs in the same process (as ``connector demo`` does), so the
figure covers the whole system.

RSS (``VmRSS`` from ``/proc/self/status``) is sampled after a warm-up (every
book valid, then ``--warmup`` seconds), every ``--every`` seconds, and at the
end. Prints a markdown table and rewrites the "Memory" section of
docs/benchmarks.md (between ``<!-- bench:memory -->`` markers).

Usage: ``python bench/memory.py [--duration 600] [--every 60] [--warmup 10] [--no-write]``
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import trio

from connector import Connector
from connector.config import Config, SimConfig, VenueConfig
from connector.logs import configure_logging
from connector.model import BookUpdate, Symbol

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
VENUES = ("binance", "bybit", "okx")
SYMBOLS = ("BTC-USDT-PERP", "ETH-USDT-PERP", "SOL-USDT-PERP")


def rss_kib() -> int:
    """Resident set size of this process in KiB (``VmRSS``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
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


async def measure(duration: float, every: float, warmup: float) -> list[tuple[float, int, int]]:
    """Run the connector; return ``(seconds since warm-up, RSS KiB, events)`` samples."""
    config = Config(
        venues={
            v: VenueConfig(name=v, symbols=tuple(Symbol.parse(s) for s in SYMBOLS))
            for v in VENUES
        },
        sim=SimConfig(rate=200.0),
    )
    events = 0
    samples: list[tuple[float, int, int]] = []
    async with Connector(config) as c:

        async def consume(pattern: str) -> None:
            nonlocal events
            async with c.subscribe(pattern) as sub:
                async for event in sub:
                    events += 1
                    if type(event) is BookUpdate:
                        _ = (event.best_bid, event.best_ask)

        async with trio.open_nursery() as nursery:
            for pattern in ("orderbook.>", "trade.>", "ticker.>", "quote.>"):
                nursery.start_soon(consume, pattern)
            with trio.fail_after(60):
                while not all(
                    c.order_book(v, s).valid for v in VENUES for s in SYMBOLS
                ):
                    await trio.sleep(0.2)
            await trio.sleep(warmup)
            start = time.monotonic()
            samples.append((0.0, rss_kib(), events))
            next_at = every
            while next_at < duration:
                await trio.sleep(start + next_at - time.monotonic())
                samples.append((time.monotonic() - start, rss_kib(), events))
                next_at += every
            await trio.sleep(max(0.0, start + duration - time.monotonic()))
            samples.append((time.monotonic() - start, rss_kib(), events))
            nursery.cancel_scope.cancel()
    return samples


def render(samples: list[tuple[float, int, int]], duration: float) -> str:
    """The markdown table and the conditions line."""
    first = samples[0][1]
    lines = [
        "| time since warm-up (s) | RSS (MiB) | change vs start (MiB) | events consumed |",
        "|---:|---:|---:|---:|",
    ]
    for seconds, kib, events in samples:
        lines.append(
            f"| {seconds:.0f} | {kib / 1024:.1f} | {(kib - first) / 1024:+.1f} | {events:,} |"
        )
    load = os.getloadavg()
    lines.append("")
    lines.append(
        f"Three venues on the in-process simulator (200 book changes/s per instrument), "
        f"three perpetuals each ({', '.join(SYMBOLS)}), every channel, one consumer per "
        f"event type; {duration:.0f} s after warm-up. CPython "
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
