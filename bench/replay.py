"""Replay throughput: a real Binance USDⓈ-M capture through the whole pipeline.

The capture is hftbacktest's ``examples/usdm/btcusdt_20240808.gz`` (under
``../shared/fixtures``): 6,551 ``depthUpdate`` frames (``btcusdt@depth@0ms``,
67 levels per frame on average, median 34), 66,089 ``bookTicker`` and 21,313
``trade`` frames, and the REST depth snapshot (limit 1000) among them. It is
read into memory first; the timed part is the pipeline only:

decode (``VenueFeed.on_frame`` -> Binance parser) -> sequence (USDⓈ-M rule) ->
book (``BookKeeper``/``OrderBook``) -> ``Bus.publish`` -> ONE subscriber
(``orderbook.>``, ``drop_oldest``) that reads ``best_bid`` and ``best_ask`` of
every book event.

How the subscriber consumes (two modes, both reported):

* ``sync``: after every frame the driver drains the subscription with
  ``receive_nowait()`` and reads each event's best bid/ask. No event waits
  and none is dropped (checked).
* ``trio``: the frames are fed in batches of 32 by one trio task; a second
  task does ``async for event in subscription`` and reads best bid/ask; the
  feeder yields (``trio.lowlevel.checkpoint()``) after each batch, so the
  consumer runs between batches, as it would between socket reads in a live
  session. Checked: every published book event was delivered, none dropped.

Figures: depth messages per second (depth frames only, same frames as the
cryptofeed run) and frames per second (every frame of the capture), the
median of ``--runs`` runs each, one process, one core.

cryptofeed side by side: the same depth frames are fed to cryptofeed's own
Binance USDⓈ-M handler (``cryptofeed.exchanges.BinanceFutures``), in a
separate virtualenv (``$BENCH_VENV`` or ``/tmp/bench-venv``; created with
``pip install cryptofeed`` when missing; cryptofeed is never a dependency of
this project) and a subprocess of it. How it is driven:

* the symbol table is loaded from the captured exchangeInfo
  (``cryptofeed/master/sample_data/BINANCE_FUTURES.0``) with
  ``BinanceFutures._parse_symbol_data`` + ``Symbols.set`` (no network);
* each depth frame goes through ``await feed.message_handler(frame, None, ts)``
  (cryptofeed's JSON decode, pair lookup, ``_book`` with its sequence check
  and its C ``order_book`` update, ``book_callback``);
* cryptofeed fetches the REST snapshot itself on the first depth frame
  (``_snapshot``); its ``http_conn.read`` is replaced by a function returning
  the captured snapshot body, so cryptofeed's own snapshot code builds the book;
* the L2_BOOK callback reads the best bid and ask (``book.bids.index(0)``,
  ``book.asks.index(0)``), like our subscriber.

Both sides must end with the same best bid/ask and the same number of book
events, or the bench says so. Prints a markdown table and rewrites the
"Replay throughput" section of docs/benchmarks.md (between
``<!-- bench:replay -->`` markers).

Usage: ``python bench/replay.py [--runs 5] [--no-cryptofeed] [--no-write]``
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import attrs
import msgspec
import trio

from connector.bus import Bus, Overflow
from connector.capture import CaptureRecord, CaptureWriter
from connector.logs import configure_logging
from connector.model import BookUpdate, Market
from connector.venues.common import SymbolMap
from connector.venues.feed import VenueFeed
from connector.venues.registry import adapter_for

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
FIXTURES = Path(os.environ.get("CONNECTOR_FIXTURES") or ROOT.parent / "shared" / "fixtures")
CAPTURE = FIXTURES / "hftbacktest" / "examples" / "usdm" / "btcusdt_20240808.gz"
EXCHANGE_INFO = FIXTURES / "cryptofeed" / "master" / "sample_data" / "BINANCE_FUTURES.0"
BATCH = 32

Frame = tuple[int, str]


def load_frames(path: Path = CAPTURE) -> list[Frame]:
    """``(local receive ns, raw text)`` per line of an hftbacktest capture."""
    frames: list[Frame] = []
    for line in gzip.decompress(path.read_bytes()).decode().splitlines():
        stamp, _, data = line.partition(" ")
        if data:
            frames.append((int(stamp), data))
    return frames


def depth_frames(frames: Sequence[Frame]) -> list[Frame]:
    """The depth diffs and the REST snapshot, in capture order."""
    return [f for f in frames if _is_snapshot(f[1]) or '"e":"depthUpdate"' in f[1][:80]]


def _is_snapshot(data: str) -> bool:
    return data.startswith('{"lastUpdateId"')


# -- synthetic small-diff stream --------------------------------------------------

SYNTHETIC_SYMBOL = "BTCUSDT"
SYNTHETIC_WS_URL = "wss://fstream.binance.com/stream?streams=btcusdt@depth@0ms"
SYNTHETIC_REST_URL = "https://fapi.binance.com/fapi/v1/depth?symbol=BTCUSDT&limit=1000"
_MID_TICKS = 600_000
"""The generator's mid price in ticks of 0.1 (60,000.0)."""
_PRE_SNAPSHOT_DIFFS = 3
"""Diffs recorded before the REST snapshot (two older than it, one straddling it)."""


@attrs.frozen(kw_only=True)
class SyntheticStream:
    """What :func:`write_synthetic_capture` wrote, and the book a replay must end with.

    Attributes:
        path: The capture file.
        diffs: ``depthUpdate`` frames in it.
        changes: Level changes over all diffs.
        final_seq: ``u`` of the last diff.
        bids: Every bid level at the end, ``[price, qty]`` text, best first.
        asks: Every ask level at the end, best first.
    """

    path: Path
    diffs: int
    changes: int
    final_seq: int
    bids: list[list[str]]
    asks: list[list[str]]


def _price_text(ticks: int) -> str:
    return f"{ticks // 10}.{ticks % 10}0"


def write_synthetic_capture(
    path: Path,
    *,
    diffs: int = 200_000,
    changes: int = 10,
    levels: int = 1000,
    seed: int = 1,
) -> SyntheticStream:
    """Write a Binance USDⓈ-M capture of small diffs (the common case on a live feed).

    The file is in the capture format ``connector record`` writes
    (``{"t","conn","ts_ns","venue","market","url","data"}`` per line): a
    ``connect`` record, :data:`_PRE_SNAPSHOT_DIFFS` diffs, the REST depth
    snapshot (``limit=1000``, ``levels`` per side) as an ``http`` record, then
    the remaining diffs, each a combined-stream ``depthUpdate`` frame of about
    ``changes`` level changes (between ``changes // 2`` and ``changes * 3 // 2``,
    ``changes`` on average): two thirds change the quantity of a level that
    is there, a sixth remove one, a sixth add one, mostly near the top of the
    book. Diffs chain as on the venue (``pu`` is the previous ``u``); bids stay
    below and asks above a fixed mid price, so the book never crosses.

    Args:
        path: Where to write (plain text; ``.zst`` compresses).
        diffs: ``depthUpdate`` frames in all.
        changes: Average level changes per diff.
        levels: Levels per side in the snapshot.
        seed: Seed of the random choices (same seed, same file).

    Returns:
        What was written and the full book a correct replay ends with.
    """
    rng = random.Random(seed)
    book: dict[bool, dict[int, str]] = {True: {}, False: {}}
    for offset in range(1, levels + 1):
        book[True][_MID_TICKS - offset] = f"{rng.randint(1, 20_000) / 1000:.3f}"
        book[False][_MID_TICKS + offset] = f"{rng.randint(1, 20_000) / 1000:.3f}"
    reach = levels + levels // 4
    ts_ns = 1_723_075_200_000_000_000
    update_id = 5_000_000_000
    total = 0
    encode = msgspec.json.encode
    with CaptureWriter(path) as out:

        def record(kind: str, url: str, data: str, conn: str = "binance-linear-1") -> None:
            out.write(
                CaptureRecord(
                    t=kind,
                    conn=conn,
                    ts_ns=ts_ns,
                    venue="binance",
                    market="linear",
                    url=url,
                    data=data,
                )
            )

        record("connect", SYNTHETIC_WS_URL, "")
        for n in range(diffs):
            sides: dict[bool, list[tuple[str, str]]] = {True: [], False: []}
            for _ in range(rng.randint(changes // 2, changes * 3 // 2)):
                bid = rng.random() < 0.5
                offset = min(reach, 1 + int(rng.expovariate(1 / 40)))
                ticks = _MID_TICKS - offset if bid else _MID_TICKS + offset
                levels_now = book[bid]
                roll = rng.random()
                if ticks in levels_now and roll < 0.2:
                    del levels_now[ticks]
                    qty = "0.000"
                else:
                    qty = levels_now[ticks] = f"{rng.randint(1, 20_000) / 1000:.3f}"
                sides[bid].append((_price_text(ticks), qty))
                total += 1
            first = update_id + 1
            update_id = first + rng.randint(0, 4)
            ts_ms = ts_ns // 1_000_000
            frame = {
                "stream": "btcusdt@depth@0ms",
                "data": {
                    "e": "depthUpdate",
                    "E": ts_ms,
                    "T": ts_ms - 1,
                    "s": SYNTHETIC_SYMBOL,
                    "U": first,
                    "u": update_id,
                    "pu": first - 1,
                    "b": sides[True],
                    "a": sides[False],
                },
            }
            record("recv", SYNTHETIC_WS_URL, encode(frame).decode())
            ts_ns += rng.randint(200_000, 2_000_000)
            if n == _PRE_SNAPSHOT_DIFFS - 1:
                # The snapshot holds this diff's changes; the replay applies the
                # diff again (U <= lastUpdateId <= u), which changes nothing.
                snapshot = {
                    "lastUpdateId": update_id,
                    "E": ts_ms,
                    "T": ts_ms,
                    "bids": [
                        (_price_text(t), q) for t, q in sorted(book[True].items(), reverse=True)
                    ],
                    "asks": [(_price_text(t), q) for t, q in sorted(book[False].items())],
                }
                record("http", SYNTHETIC_REST_URL, encode(snapshot).decode(), "binance-linear-rest")
    return SyntheticStream(
        path=path,
        diffs=diffs,
        changes=total,
        final_seq=update_id,
        bids=[[_price_text(t), q] for t, q in sorted(book[True].items(), reverse=True)],
        asks=[[_price_text(t), q] for t, q in sorted(book[False].items())],
    )


@attrs.frozen(kw_only=True)
class PipelineResult:
    """What one run did: counts, the consumer's last reading, the final book."""

    frames: int
    depth_frames: int
    events: int
    dropped: int
    last_best: tuple[str, str, str, str] | None
    bids: list[list[str]]
    asks: list[list[str]]
    final_state: str
    final_seq: int
    deltas_applied: int
    seconds: float
    cpu_seconds: float


class Pipeline:
    """The connector's market-data path with a bus and one best-bid/ask subscriber.

    A :class:`VenueFeed` for Binance (what a live session and ``connector replay``
    run) publishing to a real :class:`Bus`; the REST snapshot line is parsed by
    the adapter and loaded with ``VenueFeed.on_snapshot``, as replay does.
    """

    def __init__(self, *, buffer: int = 1024) -> None:
        self.bus = Bus()
        self.sub = self.bus.subscribe("orderbook.>", buffer=buffer, overflow=Overflow.DROP_OLDEST)
        adapter = adapter_for("binance")
        symbols = SymbolMap("binance", resolver=adapter.guess_instrument)
        self.adapter = adapter
        self.feed = VenueFeed(adapter, symbols, self.bus.publish, snapshot_depth=10)
        self.events = 0
        self.last: BookUpdate | None = None

    def frame(self, ts_ns: int, data: str) -> None:
        """One captured line: the REST snapshot, or a websocket frame."""
        if _is_snapshot(data):
            ((market, symbol),) = self.feed.keepers()
            instrument = self.feed.symbols.by_symbol(market, symbol)
            snapshot = self.adapter.parse_snapshot(market, instrument, data.encode(), ts_ns)
            self.feed.on_snapshot(snapshot)
        else:
            self.feed.on_frame(data, Market.LINEAR, ts_ns)

    def consume(self, event: object) -> None:
        """The subscriber's work per event: read the best bid and ask."""
        if type(event) is BookUpdate:
            bid = event.best_bid
            ask = event.best_ask
            if bid is not None and ask is not None:
                self.last = event
        self.events += 1

    def result(self, frames: int, depth: int, seconds: float, cpu: float) -> PipelineResult:
        """The run's counts, the subscriber's last reading and the final top 10 levels."""
        ((_, keeper),) = self.feed.keepers().items()
        last = self.last
        best = None
        if last is not None and last.best_bid is not None and last.best_ask is not None:
            bid, ask = last.best_bid, last.best_ask
            best = (str(bid.price), str(bid.qty), str(ask.price), str(ask.qty))
        return PipelineResult(
            frames=frames,
            depth_frames=depth,
            events=self.events,
            dropped=self.sub.statistics().dropped,
            last_best=best,
            bids=[[str(lv.price), str(lv.qty)] for lv in keeper.book.bids(10)],
            asks=[[str(lv.price), str(lv.qty)] for lv in keeper.book.asks(10)],
            final_state=keeper.state.status.value,
            final_seq=keeper.seq,
            deltas_applied=keeper.statistics().deltas_applied,
            seconds=seconds,
            cpu_seconds=cpu,
        )


def run_pipeline(frames: Sequence[Frame]) -> PipelineResult:
    """Run ``frames`` through the pipeline; the subscriber drains after every frame."""
    pipe = Pipeline()
    receive = pipe.sub.receive_nowait
    consume = pipe.consume
    depth = sum(1 for _, data in frames if '"e":"depthUpdate"' in data[:80])
    cpu = time.process_time()
    start = time.perf_counter()
    for ts_ns, data in frames:
        pipe.frame(ts_ns, data)
        while True:
            try:
                event = receive()
            except trio.WouldBlock:
                break
            consume(event)
    seconds = time.perf_counter() - start
    return pipe.result(len(frames), depth, seconds, time.process_time() - cpu)


def run_pipeline_trio(frames: Sequence[Frame], batch: int = BATCH) -> PipelineResult:
    """Run ``frames`` with a trio consumer task between batches of ``batch`` frames."""
    pipe = Pipeline()
    depth = sum(1 for _, data in frames if '"e":"depthUpdate"' in data[:80])

    async def main() -> tuple[float, float]:
        sub = pipe.sub
        consume = pipe.consume

        async def consumer() -> None:
            # Wait for an event, then take everything already buffered.
            while True:
                consume(await sub.receive())
                while True:
                    try:
                        event = sub.receive_nowait()
                    except trio.WouldBlock:
                        break
                    consume(event)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(consumer)
            await trio.lowlevel.checkpoint()
            cpu = time.process_time()
            start = time.perf_counter()
            process = pipe.frame
            for i in range(0, len(frames), batch):
                for ts_ns, data in frames[i : i + batch]:
                    process(ts_ns, data)
                await trio.lowlevel.checkpoint()
            while pipe.sub.statistics().buffered:
                await trio.lowlevel.checkpoint()
            seconds = time.perf_counter() - start
            cpu = time.process_time() - cpu
            nursery.cancel_scope.cancel()
        return seconds, cpu

    seconds, cpu = trio.run(main)
    return pipe.result(len(frames), depth, seconds, cpu)


# -- cryptofeed ----------------------------------------------------------------

_CRYPTOFEED_DRIVER = r"""
import asyncio, gzip, json, statistics, sys, time
from cryptofeed.defines import L2_BOOK
from cryptofeed.exchanges import BinanceFutures
from cryptofeed.symbols import Symbols

capture, exchange_info = sys.argv[1], sys.argv[2]
runs, read_best = int(sys.argv[3]), sys.argv[4] == "read"
info_line = next(l for l in open(exchange_info) if " -> " in l)
syms, info = BinanceFutures._parse_symbol_data(json.loads(info_line.split(": ", 1)[1]))
Symbols.set(BinanceFutures.id, syms, info)

frames, snapshot = [], None
for line in gzip.decompress(open(capture, "rb").read()).decode().splitlines():
    stamp, _, data = line.partition(" ")
    if data.startswith('{"lastUpdateId"'):
        snapshot = data
    elif '"e":"depthUpdate"' in data[:80]:
        frames.append((int(stamp) / 1e9, data))

class CapturedRest:
    async def read(self, *args, **kwargs):
        return snapshot
    async def close(self):
        pass

async def one_run():
    state = {"events": 0, "best": None}
    async def on_book(book, receipt_timestamp):
        state["events"] += 1
        state["book"] = book
        if read_best:
            bid = book.book.bids.index(0)
            ask = book.book.asks.index(0)
            state["best"] = (str(bid[0]), str(bid[1]), str(ask[0]), str(ask[1]))
    feed = BinanceFutures(
        symbols=["BTC-USDT-PERP"], channels=[L2_BOOK], callbacks={L2_BOOK: on_book}
    )
    feed.http_conn = CapturedRest()
    feed._reset()
    handler = feed.message_handler
    cpu = time.process_time()
    start = time.perf_counter()
    for ts, data in frames:
        await handler(data, None, ts)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    book = state.pop("book").book
    bid, ask = book.bids.index(0), book.asks.index(0)
    state["best"] = (str(bid[0]), str(bid[1]), str(ask[0]), str(ask[1]))
    return seconds, cpu, state

async def main():
    times, cpus, state = [], [], None
    for _ in range(runs):
        seconds, cpu, state = await one_run()
        times.append(seconds)
        cpus.append(cpu)
    print(json.dumps({"times": times, "cpu": cpus, "depth_frames": len(frames),
                      "events": state["events"], "best": state["best"]}))

asyncio.run(main())
"""


def bench_venv() -> Path:
    """The benchmark-only virtualenv with cryptofeed (created when missing)."""
    venv = Path(os.environ.get("BENCH_VENV", "/tmp/bench-venv"))
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    check = subprocess.run([str(python), "-c", "import cryptofeed"], capture_output=True)
    if check.returncode != 0:
        subprocess.run([str(python), "-m", "pip", "install", "-q", "cryptofeed"], check=True)
    return python


def run_cryptofeed(runs: int, *, read_best: bool) -> dict[str, object]:
    """Time cryptofeed's Binance futures handler over the capture's depth frames.

    Args:
        runs: Timed runs (a fresh feed each).
        read_best: The callback reads the best bid and ask on every book event
            (as our subscriber does); otherwise it only counts (read once at the end).
    """
    python = bench_venv()
    version = subprocess.run(
        [str(python), "-m", "pip", "show", "cryptofeed"], capture_output=True, text=True
    ).stdout
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as script:
        script.write(_CRYPTOFEED_DRIVER)
    try:
        out = subprocess.run(
            [
                str(python),
                script.name,
                str(CAPTURE),
                str(EXCHANGE_INFO),
                str(runs),
                "read" if read_best else "count",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    result: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    for line in version.splitlines():
        if line.startswith("Version:"):
            result["version"] = line.split(":", 1)[1].strip()
    return result


# -- report ----------------------------------------------------------------------


def _fmt(value: float) -> str:
    return f"{value:,.0f}"


def _rate(count: int, seconds: Sequence[float]) -> float:
    return count / statistics.median(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (median reported)")
    parser.add_argument("--no-cryptofeed", action="store_true", help="skip the cryptofeed run")
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/benchmarks.md")
    args = parser.parse_args()
    configure_logging("warning", "console", stream=sys.stderr)

    frames = load_frames()
    depth = depth_frames(frames)
    run_pipeline(depth)  # warm-up: imports, caches

    checks: list[str] = []
    depth_runs = [run_pipeline(depth) for _ in range(args.runs)]
    trio_runs = [run_pipeline_trio(depth) for _ in range(args.runs)]
    all_runs = [run_pipeline(frames) for _ in range(args.runs)]
    ours = depth_runs[-1]
    n_depth = ours.depth_frames
    n_all = len(frames)

    def row(name: str, runs: Sequence[PipelineResult], count: int, work: str) -> str:
        cpu = _rate(count, [r.cpu_seconds for r in runs])
        wall = _rate(count, [r.seconds for r in runs])
        return f"| {name} | {_fmt(cpu)} | {1e6 / cpu:.1f} | {_fmt(wall)} | {work} |"

    rows = [
        row(
            "connector, depth frames, `sync` subscriber",
            depth_runs,
            n_depth,
            f"{len(depth):,} frames; {ours.deltas_applied:,} diffs applied; "
            f"{ours.events:,} book events consumed",
        ),
        row(
            f"connector, depth frames, `trio` subscriber (batches of {BATCH})",
            trio_runs,
            n_depth,
            f"{trio_runs[-1].events:,} book events consumed",
        ),
        row(
            "connector, every frame (depth + bookTicker + trade), `sync` subscriber: **frames/s**",
            all_runs,
            n_all,
            f"{n_all:,} frames; {all_runs[-1].events:,} book events consumed",
        ),
    ]
    all_depth_cpu = _rate(n_depth, [r.cpu_seconds for r in all_runs])
    for r in (*depth_runs, *trio_runs, *all_runs):
        if r.dropped or r.final_state != "valid":
            checks.append(f"a run dropped {r.dropped} events, final state {r.final_state}")
        if (r.bids, r.asks, r.last_best) != (ours.bids, ours.asks, ours.last_best):
            checks.append("a run ended with a different book")
    if trio_runs[-1].events != ours.events:
        checks.append(f"trio consumer saw {trio_runs[-1].events} events, sync {ours.events}")

    notes: list[str] = []
    if not args.no_cryptofeed:
        sync_rate = _rate(n_depth, [r.cpu_seconds for r in depth_runs])
        trio_rate = _rate(n_depth, [r.cpu_seconds for r in trio_runs])
        ours_best = list(ours.last_best) if ours.last_best else None
        for read_best in (True, False):
            cf = run_cryptofeed(args.runs, read_best=read_best)
            cf_cpu: list[float] = cf["cpu"]  # type: ignore[assignment]
            cf_wall: list[float] = cf["times"]  # type: ignore[assignment]
            cf_depth: int = cf["depth_frames"]  # type: ignore[assignment]
            cf_events: int = cf["events"]  # type: ignore[assignment]
            cf_rate = _rate(cf_depth, cf_cpu)
            how = (
                "callback reads best bid/ask every event"
                if read_best
                else "callback only counts (no best bid/ask read)"
            )
            rows.append(
                f"| cryptofeed {cf.get('version', '?')} `BinanceFutures` handler, same depth "
                f"frames, {how} | {_fmt(cf_rate)} | {1e6 / cf_rate:.1f} "
                f"| {_fmt(_rate(cf_depth, cf_wall))} | {cf_depth:,} frames; "
                f"{cf_events:,} book callbacks |"
            )
            notes.append(
                f"Ratio connector / cryptofeed ({how}), depth msgs/s on CPU time in this run: "
                f"**{sync_rate / cf_rate:.1f}x** (`sync` subscriber), "
                f"**{trio_rate / cf_rate:.1f}x** (`trio` subscriber)."
            )
            if cf["best"] != ours_best:
                checks.append(
                    f"final best bid/ask differ: connector {ours_best}, cryptofeed {cf['best']}"
                )
            # cryptofeed calls back once for its snapshot and once per applied diff.
            if cf_events != ours.deltas_applied + 1:
                checks.append(
                    f"diffs applied differ: connector {ours.deltas_applied}, "
                    f"cryptofeed {cf_events - 1}"
                )
    notes.append(
        f"With bookTicker and trade frames interleaved (the capture as recorded), "
        f"depth messages go through at {_fmt(all_depth_cpu)}/s."
    )
    load = os.getloadavg()
    lines = [
        "| pipeline | depth msgs/s (CPU time, median) | µs per msg | msgs/s (wall, median) "
        "| work |",
        "|---|---:|---:|---:|---|",
        *rows,
        "",
        *notes,
        "",
        f"Median of {args.runs} runs each, one process on one core (rates from the process's "
        f"CPU time, which other work on the machine disturbs less than wall time; wall "
        f"rates beside them). CPython {platform.python_version()}, {os.cpu_count()} CPUs "
        f"shared with other work; load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} "
        "(1/5/15 min) at the end. Checked in the same run: every run ends with the same "
        "valid book and best bid/ask, no event dropped"
        + (
            ", and cryptofeed ends with the same best bid/ask after the same diffs."
            if not args.no_cryptofeed
            else "."
        ),
    ]
    if checks:
        lines.append("")
        lines.extend(f"**Check failed:** {c}" for c in dict.fromkeys(checks))
    table = "\n".join(lines)
    print(table)
    if not args.no_write:
        body = (
            "Measured by `bench/replay.py` (method in its docstring and in bench/README.md).\n\n"
            + table
        )
        write_section("replay", "Replay throughput", body)


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


if __name__ == "__main__":
    main()
