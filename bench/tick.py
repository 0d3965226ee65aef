"""The tick side of tick-to-order: frame received -> book published -> subscriber awake.

Not a test. One standalone simulator (``connector sim``, Bybit linear
BTC-USDT-PERP, ``--rate`` book changes per second: few, so caches go cold
between frames as in ``bench/orders.py``) and, in this process, a
:class:`~connector.Connector` following that book (aggregator included, as
always). One subscriber task of ``orderbook.bybit.>`` records, for every
:class:`~connector.model.BookUpdate` of a valid book:

* **published**: ``Bus.publish`` entered for the update (the bus handed to the
  connector stamps it), minus the frame's ``ts_recv_ns``: decode, sequencer,
  book, checks and the update made;
* **awake**: the subscriber task running with the update, minus ``ts_recv_ns``.

It also reports the process's CPU time (user + system) over the measured
seconds per book update: everything the process does for the stream (the
websocket's framing included).

``--consolidated`` adds a second task reading ``consolidated.bbo.>`` (the
aggregator then has a reader to publish for). Prints p50/p90/p99 of both over
``--seconds`` after a warm-up; writes nothing.

Run: ``python bench/tick.py [--seconds 20] [--rate 20] [--consolidated]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._sim import bybit_venues, start_simulator  # noqa: E402
from bench.orders import SYMBOL, percentile  # noqa: E402


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(line: dict[str, Any], args: argparse.Namespace) -> tuple[dict[str, list[int]], float]:
    import trio

    from connector import Config, Connector, configure_logging
    from connector.bus import Bus
    from connector.model import BookUpdate

    configure_logging("error")
    published: dict[int, int] = {}

    class StampingBus(Bus):
        def publish(self, topic: str, event: object) -> None:
            if type(event) is BookUpdate:
                published[event.ts_recv_ns] = time.time_ns()
            super().publish(topic, event)

    config = Config(venues=bybit_venues(line, SYMBOL, trading=False))
    stages: dict[str, list[int]] = {"published": [], "awake": []}
    cpu: list[float] = []

    async def consolidated(c: Connector) -> None:
        async for _ in c.subscribe("consolidated.bbo.>"):
            pass

    async def main() -> None:
        async with Connector(config, bus=StampingBus()) as c, trio.open_nursery() as nursery:
            if args.consolidated:
                nursery.start_soon(consolidated, c)
            start = time.perf_counter() + args.warmup
            end = start + args.seconds
            async with c.subscribe("orderbook.bybit.>") as updates:
                async for update in updates:
                    now = time.time_ns()
                    if not isinstance(update, BookUpdate) or not update.state.valid:
                        continue
                    if time.perf_counter() < start:
                        continue
                    if not cpu:
                        cpu.append(cpu_seconds())
                    if time.perf_counter() > end:
                        cpu.append(cpu_seconds())
                        break
                    stamp = published.pop(update.ts_recv_ns, None)
                    if stamp is not None and not update.snapshot:
                        stages["published"].append(stamp - update.ts_recv_ns)
                        stages["awake"].append(now - update.ts_recv_ns)
                    published.clear()
            nursery.cancel_scope.cancel()

    trio.run(main)
    return stages, (cpu[1] - cpu[0]) / max(1, len(stages["awake"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--rate", type=float, default=20.0, help="simulator book changes/s")
    parser.add_argument("--consolidated", action="store_true", help="a consolidated reader too")
    parser.add_argument("--json", action="store_true", help="one JSON line of the figures")
    args = parser.parse_args(argv)
    proc, line = start_simulator(args.rate)
    try:
        stages, cpu_per_update = run(line, args)
    finally:
        proc.kill()
        proc.wait()
    figures = {
        name: {
            "n": len(v),
            "p50": statistics.median(v) / 1e3,
            "p90": percentile([float(x) for x in v], 0.9) / 1e3,
            "p99": percentile([float(x) for x in v], 0.99) / 1e3,
        }
        for name, v in stages.items()
        if v
    }
    if args.json:
        print(json.dumps({**figures, "cpu_per_update_us": cpu_per_update * 1e6}))
        return 0
    print("| stage (from ts_recv_ns) | samples | p50 µs | p90 µs | p99 µs |")
    print("|---|---:|---:|---:|---:|")
    for name, f in figures.items():
        print(f"| {name} | {f['n']} | {f['p50']:.1f} | {f['p90']:.1f} | {f['p99']:.1f} |")
    print(f"\nProcess CPU per book update: {cpu_per_update * 1e6:.0f} µs.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
