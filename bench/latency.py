"""Live latency: frame received -> subscriber, against the simulator in its own process.

For each rate, starts ``python -m connector.sim.standalone --venues binance
--bases BTC --markets linear --rate R`` (one instrument, ``R`` engine book
changes per second) and, in this process, the client side of one Binance
USDⓈ-M market-data connection:

* a ``WsClientTransport`` socket to ``/stream?streams=btcusdt@depth@0ms`` (one
  diff per engine change; the connector's Binance adapter subscribes
  ``@depth@100ms``, so the bench opens the stream itself instead of going
  through ``Connector``);
* each frame is stamped ``ts_recv_ns = time.time_ns()`` as it is received and
  handed, in the same task, to ``VenueFeed.on_frame`` (decode, sequence, book,
  ``Bus.publish``), which is what ``WsConnection`` does for a live session;
* the REST snapshot (``/fapi/v1/depth?limit=1000``) is fetched by a helper task
  when the keeper asks for one, as the session does;
* ONE subscriber task (``orderbook.>``, ``drop_oldest``, 1024 events) takes
  each ``BookUpdate`` and records ``time.time_ns() - update.ts_recv_ns``.

Per rate it reports the frames/s actually delivered, p50/p99/max latency over
``--seconds`` of steady state, events dropped by the subscription and
sequence gaps. Default steps: 5,000 and 20,000 msgs/s (the issue's figures),
then doubling from 2,500 until the client no longer keeps up (p99 over
``--limit-ms`` or anything dropped or a gap) or the simulator no longer
delivers the rate. Prints a markdown table and rewrites the "Live latency"
section of docs/benchmarks.md (between ``<!-- bench:latency -->`` markers).

Usage: ``python bench/latency.py [--seconds 5] [--rates 5000,20000] [--no-write]``
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import attrs
import httpx
import trio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._docs import write_section
from connector.bus import Bus, Overflow
from connector.logs import configure_logging
from connector.model import BookUpdate, Instrument, Market
from connector.net.ws_transport import WsClientTransport
from connector.venues.common import SymbolMap
from connector.venues.feed import VenueFeed
from connector.venues.registry import driver_for

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
STREAM = "btcusdt@depth@0ms"


@attrs.frozen(kw_only=True)
class Step:
    """One rate's outcome."""

    target: int
    delivered: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    samples: int
    dropped: int
    gaps: int

    @property
    def kept_up(self) -> bool:
        return self.dropped == 0 and self.gaps == 0


async def _simulator(nursery: trio.Nursery, rate: int) -> tuple[trio.Process, dict[str, str]]:
    cmd = [
        sys.executable,
        "-m",
        "connector.sim.standalone",
        "--venues",
        "binance",
        "--bases",
        "BTC",
        "--markets",
        "linear",
        "--rate",
        str(rate),
        # The bench measures the client: no per-connection send cap from the front-end.
        "--setting",
        "binance.send_buffer=1000000",
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
    return process, urls["binance"]


async def measure(rate: int, seconds: float, warmup: float) -> Step:
    """Stream ``rate`` changes/s for ``warmup + seconds``; latencies of the last ``seconds``."""
    adapter = driver_for("binance").market_data
    bus = Bus()
    symbols = SymbolMap("binance", resolver=adapter.guess_instrument)
    send_resync, receive_resync = trio.open_memory_channel[Instrument](16)

    def on_resync(market: Market, instrument: Instrument) -> None:
        with contextlib.suppress(trio.WouldBlock):  # a request is already queued
            send_resync.send_nowait(instrument)

    feed = VenueFeed(adapter, symbols, bus.publish, on_resync=on_resync)
    latencies: list[int] = []
    recording = False
    frames = 0
    async with trio.open_nursery() as nursery:
        sim, urls = await _simulator(nursery, rate)

        async def snapshots() -> None:
            async with httpx.AsyncClient(base_url=urls["linear.rest"]) as client:
                async for instrument in receive_resync:
                    reply = await client.get(
                        "/fapi/v1/depth", params={"symbol": instrument.native_id, "limit": 1000}
                    )
                    ts = time.time_ns()
                    feed.on_snapshot(
                        adapter.parse_snapshot(Market.LINEAR, instrument, reply.content, ts)
                    )

        async def subscriber(*, task_status: trio.TaskStatus[None]) -> None:
            async with bus.subscribe(
                "orderbook.>", buffer=1024, overflow=Overflow.DROP_OLDEST
            ) as sub:
                task_status.started()
                async for event in sub:
                    if type(event) is BookUpdate and not event.snapshot and recording:
                        latencies.append(time.time_ns() - event.ts_recv_ns)

        async def reader() -> None:
            nonlocal frames
            url = urls["linear.ws"] + "/stream?streams=" + STREAM
            async with WsClientTransport(max_message_size=1 << 24).connect(url) as ws:
                on_frame = feed.on_frame
                while True:
                    message = await ws.receive()
                    on_frame(message, Market.LINEAR, time.time_ns())
                    frames += 1

        nursery.start_soon(snapshots)
        await nursery.start(subscriber)
        nursery.start_soon(reader)
        await trio.sleep(warmup)
        keeper = next(iter(feed.keepers().values()), None)
        gaps_before = keeper.statistics().gaps if keeper else 0
        recording = True
        start_frames = frames
        start = time.monotonic()
        await trio.sleep(seconds)
        recording = False
        elapsed = time.monotonic() - start
        delivered = (frames - start_frames) / elapsed
        keeper = next(iter(feed.keepers().values()), None)
        gaps = (keeper.statistics().gaps if keeper else 0) - gaps_before
        dropped = bus.subscriptions()[0].statistics().dropped if bus.subscriptions() else 0
        nursery.cancel_scope.cancel()
        sim.terminate()
    ordered = sorted(latencies) or [0]
    return Step(
        target=rate,
        delivered=delivered,
        p50_ms=statistics.median(ordered) / 1e6,
        p99_ms=ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] / 1e6,
        max_ms=ordered[-1] / 1e6,
        samples=len(latencies),
        dropped=dropped,
        gaps=gaps,
    )


def render(steps: list[Step], sustained: Step | None, note: str, seconds: float) -> str:
    """The markdown table, the verdict and the conditions line."""
    lines = [
        "| target msgs/s | delivered frames/s | p50 (ms) | p99 (ms) | max (ms) "
        "| samples | dropped | gaps |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in steps:
        lines.append(
            f"| {s.target:,} | {s.delivered:,.0f} | {s.p50_ms:.3f} | {s.p99_ms:.3f} "
            f"| {s.max_ms:.1f} | {s.samples:,} | {s.dropped} | {s.gaps} |"
        )
    load = os.getloadavg()
    lines.append("")
    if sustained is not None:
        bound = "at least " if "simulator" in note else ""
        lines.append(
            f"Highest rate one connection sustained: {bound}**{sustained.delivered:,.0f} "
            f"msgs/s** (target {sustained.target:,}). {note}"
        )
    lines.append("")
    lines.append(
        f"Latency = `time.time_ns()` in the subscriber task minus the `ts_recv_ns` stamped when "
        f"the frame was received; {seconds:.0f} s of steady state per rate after a warm-up; "
        f"the simulator (one Binance USDⓈ-M instrument, `@depth@0ms`) in its own process. "
        f"CPython {platform.python_version()}, {os.cpu_count()} CPUs shared by the simulator, "
        f"the client and other work; load average {load[0]:.1f} / {load[1]:.1f} / "
        f"{load[2]:.1f} (1/5/15 min) at the end."
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="steady state per rate")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before recording")
    parser.add_argument("--rates", default="5000,20000", help="fixed rates to report")
    parser.add_argument("--limit-ms", type=float, default=50.0, help="p99 that counts as exploded")
    parser.add_argument("--max-rate", type=int, default=160_000, help="stop stepping here")
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/benchmarks.md")
    args = parser.parse_args()
    configure_logging("warning", "console", stream=sys.stderr)

    def run(rate: int) -> Step:
        step = trio.run(measure, rate, args.seconds, args.warmup)
        print(
            f"rate {rate:,}: delivered {step.delivered:,.0f}/s p50 {step.p50_ms:.3f} ms "
            f"p99 {step.p99_ms:.3f} ms dropped {step.dropped} gaps {step.gaps}",
            file=sys.stderr,
        )
        return step

    fixed = {int(r): run(int(r)) for r in args.rates.split(",") if r}
    steps = list(fixed.values())
    sustained: Step | None = None
    note = ""
    rate = 2500
    best_delivered = 0.0
    while rate <= args.max_rate:
        step = fixed.get(rate) or run(rate)
        if rate not in fixed:
            steps.append(step)
        if not step.kept_up or step.p99_ms > args.limit_ms:
            note = (
                f"At a target of {rate:,} msgs/s the client fell behind "
                f"(p99 {step.p99_ms:.1f} ms, {step.dropped} dropped, {step.gaps} gaps)."
            )
            break
        if sustained is None or step.delivered > sustained.delivered:
            sustained = step  # the fastest step whose latency stayed bounded
        if step.delivered < 0.9 * rate and step.delivered <= best_delivered * 1.1:
            note = (
                f"At a target of {rate:,} msgs/s the simulator delivered only "
                f"{step.delivered:,.0f} frames/s: past this the simulator, not the client, "
                "is the limit on this machine."
            )
            break
        best_delivered = max(best_delivered, step.delivered)
        rate *= 2
    steps.sort(key=lambda s: s.target)
    table = render(steps, sustained, note, args.seconds)
    print(table)
    if not args.no_write:
        write_section("latency", "Live latency", "Measured by `bench/latency.py`.\n\n" + table)


if __name__ == "__main__":
    main()
