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
end, with the number of price and quantity strings the book's interning
caches hold (:func:`connector.model.levels.decimal_cache_statistics`; at most
``2 * DECIMAL_CACHE_SIZE`` each) and the number of memory blocks Python has
allocated (``sys.getallocatedblocks()``: live objects, whatever the allocator
keeps in reserve), and the C heap glibc's malloc has in use and holds
(:func:`malloc_kib`; Python objects over 512 bytes, buffers and C extensions
live there, and the heap it holds does not shrink when a chunk is freed below
its top, so RSS follows its high-water mark). Prints a markdown table and rewrites the
"Memory" section of docs/benchmarks.md (between ``<!-- bench:memory -->``
markers).

``--trace`` finds where memory grows instead: :mod:`tracemalloc` runs in this
process (the simulator's process is not traced) from before the connector
starts, a snapshot is taken at every sample, and the allocation sites
(``file:line``) whose traced size grew most between the first and the last
snapshot are printed with their size at every sample, so a site that keeps
growing is told apart from one that reached a cap (allocations made by this
file itself, the tracer's bookkeeping, are left out). The tracemalloc overhead
makes RSS meaningless in that mode, so docs/benchmarks.md is not touched.
``--rate`` raises the simulator's book changes/s per instrument to speed
growth up.

Usage: ``python bench/memory.py [--duration 600] [--every 60] [--warmup 10] [--no-write]
[--rate 200] [--trace [--top 25] [--frames 8]]``
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import platform
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from functools import partial
from pathlib import Path

import trio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._docs import write_section
from connector import Connector
from connector.config import Config, VenueConfig
from connector.logs import configure_logging
from connector.model import BookUpdate, Symbol
from connector.model.levels import decimal_cache_statistics

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


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd",
            "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost",
        )
    ]  # fmt: skip


def malloc_kib() -> tuple[int, int]:
    """C heap of this process from glibc's ``mallinfo2()``, in KiB: (in use, held).

    "In use" is what malloc has handed out and not had back (Python objects over
    512 bytes, buffers, C extensions); "held" is that plus the free space malloc
    keeps (its heap does not shrink below its highest live chunk). ``(-1, -1)``
    where glibc has no ``mallinfo2`` (before 2.33, or not glibc).
    """
    try:
        mallinfo2 = ctypes.CDLL(None).mallinfo2
    except (AttributeError, OSError):
        return -1, -1
    mallinfo2.restype = _MallInfo2
    info = mallinfo2()
    return (info.uordblks + info.hblkhd) // 1024, (info.arena + info.hblkhd) // 1024


async def start_simulator(
    nursery: trio.Nursery, rate: float = 200.0
) -> tuple[trio.Process, dict[str, dict[str, str]]]:
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
        f"{rate:g}",
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


Sample = tuple[float, int, int, int, int, int, int, tuple[int, int]]
"""Seconds since warm-up, connector RSS KiB, simulator RSS KiB, events consumed,
interned price strings, interned quantity strings, Python memory blocks in use,
C heap KiB (in use, held)."""


Probe = Callable[[float, Connector], None]
"""Called at every sample with the seconds since warm-up and the running connector."""


async def measure(
    duration: float,
    every: float,
    warmup: float,
    *,
    rate: float = 200.0,
    probe: Probe | None = None,
) -> list[Sample]:
    """Run the connector against the simulator; return the samples."""
    events = 0
    samples: list[Sample] = []
    async with trio.open_nursery() as outer:
        sim, urls = await start_simulator(outer, rate)
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
                cache = decimal_cache_statistics()
                samples.append(
                    (
                        seconds,
                        rss_kib(),
                        rss_kib(sim.pid),
                        events,
                        cache.prices,
                        cache.qtys,
                        sys.getallocatedblocks(),
                        malloc_kib(),
                    )
                )
                if probe is not None:
                    probe(seconds, c)

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


SiteKey = tuple[str, int]
"""``(file, line)`` of an allocation site."""

_TRACE_IGNORED = (
    __file__,  # this benchmark's own bookkeeping (and its consumers' short-lived tuples)
    tracemalloc.__file__,
    "<frozen importlib._bootstrap>",
    "<frozen importlib._bootstrap_external>",
    "<unknown>",
)


class Tracer:
    """Takes tracemalloc snapshots at every sample and reports the growing sites.

    Per-site totals (``file:line``, the allocating frame) are kept for every
    sample; only the first and the last full snapshots are kept, for tracebacks.

    Args:
        frames: Frames stored per allocation (tracebacks show this many).
    """

    def __init__(self, frames: int) -> None:
        self.frames = frames
        self.times: list[float] = []
        self.totals: list[dict[SiteKey, tuple[int, int]]] = []
        self.traced: list[int] = []
        self.books: list[dict[str, tuple[int, int]]] = []
        self.first: tracemalloc.Snapshot | None = None
        self.last: tracemalloc.Snapshot | None = None

    def start(self) -> None:
        tracemalloc.start(self.frames)

    def __call__(self, seconds: float, connector: Connector) -> None:
        snapshot = tracemalloc.take_snapshot().filter_traces(
            [tracemalloc.Filter(False, name) for name in _TRACE_IGNORED]
        )
        totals: dict[SiteKey, tuple[int, int]] = {}
        for stat in snapshot.statistics("lineno"):
            frame = stat.traceback[0]
            totals[(frame.filename, frame.lineno)] = (stat.size, stat.count)
        self.times.append(seconds)
        self.totals.append(totals)
        # Every site but the ignored ones (the snapshots themselves are traced too).
        self.traced.append(sum(size for size, _ in totals.values()))
        books: dict[str, tuple[int, int]] = {}
        for v in VENUES:
            for s in SYMBOLS:
                # Private on purpose: the level counts without sorting the book
                # (a depth view would change the state being measured).
                found = connector._book_state(v, Symbol.parse(s))
                if found is not None:
                    books[f"{v}:{s}"] = (found[0].bid_count, found[0].ask_count)
        self.books.append(books)
        if self.first is None:
            self.first = snapshot
        else:
            self.last = snapshot

    def report(self, top: int) -> str:
        """The growing sites, their size at every sample, and the book sizes."""
        first, last = self.totals[0], self.totals[-1]
        growth = sorted(
            ((last.get(k, (0, 0))[0] - first.get(k, (0, 0))[0], k) for k in last.keys() | first),
            reverse=True,
        )
        head = " | ".join(f"{t:.0f} s" for t in self.times)
        lines = [
            f"Traced memory (KiB) by allocation site; top {top} by growth from "
            f"{self.times[0]:.0f} s to {self.times[-1]:.0f} s.",
            "",
            f"| site | growth | blocks now | {head} |",
            "|---|---:|---:|" + "---:|" * len(self.times),
        ]
        for diff, key in growth[:top]:
            sizes = " | ".join(f"{t.get(key, (0, 0))[0] / 1024:.1f}" for t in self.totals)
            lines.append(
                f"| {_short(key[0])}:{key[1]} | {diff / 1024:+.1f} "
                f"| {last.get(key, (0, 0))[1]:,} | {sizes} |"
            )
        traced = " | ".join(f"{b / 1024:.0f}" for b in self.traced)
        lines.append(
            f"| **all sites** | {(self.traced[-1] - self.traced[0]) / 1024:+.1f} | | {traced} |"
        )
        lines += ["", "Client book levels (bids/asks) per sample:", ""]
        for name in self.books[0]:
            counts = "  ".join("{}/{}".format(*b.get(name, (0, 0))) for b in self.books)
            lines.append(f"    {name:<24} {counts}")
        if self.first is not None and self.last is not None:
            lines += ["", "Tracebacks of the top growing allocations:"]
            diffs = self.last.compare_to(self.first, "traceback")
            for stat in diffs[: min(top, 8)]:
                lines.append(f"\n{stat.size_diff / 1024:+.1f} KiB, {stat.count_diff:+,} blocks:")
                lines += [f"    {_short(f.filename)}:{f.lineno}" for f in stat.traceback]
        return "\n".join(lines)


def _short(filename: str) -> str:
    for marker in ("/site-packages/", "/lib/python3"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    root = str(ROOT) + "/"
    return filename[len(root) :] if filename.startswith(root) else filename


def render(samples: list[Sample], duration: float, rate: float = 200.0) -> str:
    """The markdown table and the conditions line."""
    first = samples[0][1]
    lines = [
        "| time since warm-up (s) | connector RSS (MiB) | change vs start (MiB) "
        "| events consumed | interned prices / qtys | Python blocks in use "
        "| C heap in use / held (MiB) | simulator process RSS (MiB) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for seconds, kib, sim_kib, events, prices, qtys, blocks, (used, held) in samples:
        heap = "n/a" if used < 0 else f"{used / 1024:.1f} / {held / 1024:.1f}"
        lines.append(
            f"| {seconds:.0f} | {kib / 1024:.1f} | {(kib - first) / 1024:+.1f} | {events:,} "
            f"| {prices:,} / {qtys:,} | {blocks:,} | {heap} | {sim_kib / 1024:.1f} |"
        )
    load = os.getloadavg()
    lines.append("")
    lines.append(
        f"Three venues on the simulator in its own process ({rate:g} book changes/s per "
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
    parser.add_argument("--rate", type=float, default=200.0, help="simulator book changes/s")
    parser.add_argument("--trace", action="store_true", help="tracemalloc: report growing sites")
    parser.add_argument("--top", type=int, default=25, help="sites shown by --trace")
    parser.add_argument("--frames", type=int, default=8, help="frames per --trace allocation")
    args = parser.parse_args()
    configure_logging("warning", "console", stream=sys.stderr)
    tracer = Tracer(args.frames) if args.trace else None
    if tracer is not None:
        tracer.start()
    samples = trio.run(
        partial(measure, rate=args.rate, probe=tracer), args.duration, args.every, args.warmup
    )
    table = render(samples, args.duration, args.rate)
    print(table)
    if tracer is not None:
        print()
        print(tracer.report(args.top))
    elif not args.no_write:
        body = "Measured by `bench/memory.py`.\n\n" + table
        write_section("memory", "Memory", body)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
