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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import msgspec

if not __package__:  # run as a script (python bench/replay.py): the bench package is beside it
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._cryptofeed import (
    bench_venv,
    cryptofeed_version,
    run_cryptofeed,
    run_cryptofeed_replay,
    timed_process,
)
from bench._docs import write_section
from bench._pipeline import (
    BATCH,
    Frame,
    PipelineResult,
    is_snapshot,
    run_pipeline,
    run_pipeline_trio,
)
from connector.capture import CaptureRecord, CaptureWriter
from connector.logs import configure_logging

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
FIXTURES = Path(os.environ.get("CONNECTOR_FIXTURES") or ROOT.parent / "shared" / "fixtures")
CAPTURE = FIXTURES / "hftbacktest" / "examples" / "usdm" / "btcusdt_20240808.gz"
EXCHANGE_INFO = FIXTURES / "cryptofeed" / "master" / "sample_data" / "BINANCE_FUTURES.0"


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
    return [f for f in frames if is_snapshot(f[1]) or '"e":"depthUpdate"' in f[1][:80]]


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


# -- report ----------------------------------------------------------------------


def _fmt(value: float) -> str:
    return f"{value:,.0f}"


def _rate(count: int, seconds: Sequence[float]) -> float:
    return count / statistics.median(seconds)


def _describe(tree: Path) -> str:
    """A source tree named by its git commit (not by a path of this machine)."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(tree), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "another source tree"
    return f"the source tree at commit {commit}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (median reported)")
    parser.add_argument("--no-cryptofeed", action="store_true", help="skip the cryptofeed run")
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/benchmarks.md")
    parser.add_argument(
        "--part",
        choices=("all", "pipeline", "command"),
        default="all",
        help="the real capture's pipeline, the whole command on the synthetic stream, or both",
    )
    parser.add_argument(
        "--diffs", type=int, default=200_000, help="diffs in the synthetic stream (default 200,000)"
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        default=None,
        metavar="DIR",
        help="also time `connector replay` from this source tree (e.g. the previous version)",
    )
    args = parser.parse_args()
    configure_logging("warning", "console", stream=sys.stderr)
    if args.part in ("all", "pipeline"):
        pipeline_section(args)
    if args.part in ("all", "command"):
        command_section(args)


def pipeline_section(args: argparse.Namespace) -> None:
    """The real capture through the pipeline (in this process), cryptofeed's handler beside it."""
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
            cf = run_cryptofeed(CAPTURE, EXCHANGE_INFO, args.runs, read_best=read_best)
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


def run_command(path: Path, source: Path | None = None) -> tuple[dict[str, Any], float, float]:
    """One whole ``connector replay --summary`` process: its summary, wall and CPU seconds.

    Args:
        path: The capture.
        source: Run the package from this source tree instead (``PYTHONPATH``).
    """
    env = None if source is None else {**os.environ, "PYTHONPATH": str(source)}
    argv = [sys.executable, "-m", "connector", "replay", "--summary", str(path.resolve())]
    # ``-m`` puts the working directory first on the path: run where the package is.
    out, wall, cpu = timed_process(argv, env, cwd=source or ROOT)
    summary: dict[str, Any] = json.loads(out)
    return summary, wall, cpu


def command_problems(
    summary: dict[str, Any], stream: SyntheticStream, depth: int = 10
) -> list[str]:
    """What differs between a ``--summary`` and the book the generator says is right."""
    (book,) = summary["books"]
    expected = {
        "final_state": "valid",
        "final_seq": stream.final_seq,
        "deltas_applied": stream.diffs - (_PRE_SNAPSHOT_DIFFS - 1),
        "gaps": 0,
        "bids": stream.bids[:depth],
        "asks": stream.asks[:depth],
    }
    return [f"{k}: {book[k]!r} != {v!r}" for k, v in expected.items() if book[k] != v]


def command_section(args: argparse.Namespace) -> None:
    """``connector replay --summary`` as a whole process on the synthetic small-diff stream."""
    with tempfile.TemporaryDirectory() as tmp:
        stream = write_synthetic_capture(Path(tmp) / "small-diffs.jsonl", diffs=args.diffs)
        size = stream.path.stat().st_size
        sides: dict[str, list[tuple[float, float]]] = {"connector": []}
        if args.baseline is not None:
            sides["baseline"] = []
        if not args.no_cryptofeed:
            sides["cryptofeed"] = []
        checks: list[str] = []
        run_command(stream.path)  # warm-up: the page cache, compiled bytecode
        cf_answer: dict[str, object] = {}
        for _ in range(args.runs):  # interleaved, so load on the machine hits all alike
            summary, wall, cpu = run_command(stream.path)
            sides["connector"].append((wall, cpu))
            checks.extend(command_problems(summary, stream))
            if args.baseline is not None:
                summary, wall, cpu = run_command(stream.path, args.baseline)
                sides["baseline"].append((wall, cpu))
                checks.extend(f"baseline: {c}" for c in command_problems(summary, stream))
            if not args.no_cryptofeed:
                cf_answer, wall, cpu = run_cryptofeed_replay(stream.path, EXCHANGE_INFO)
                sides["cryptofeed"].append((wall, cpu))
                best = [*stream.bids[0], *stream.asks[0]]
                if cf_answer["best"] != best:
                    checks.append(f"cryptofeed best bid/ask {cf_answer['best']} != {best}")
        empty = Path(tmp) / "empty.jsonl"
        empty.write_text("")
        startup = [run_command(empty)[2] for _ in range(args.runs)]

    n = stream.diffs
    names = {
        "connector": "`connector replay --summary` (this version)",
        "baseline": f"`connector replay --summary` from {_describe(args.baseline)}",
        "cryptofeed": "cryptofeed "
        + (cryptofeed_version(bench_venv()) if not args.no_cryptofeed else "")
        + " `BinanceFutures`, whole process: reads the same file (`yapic.json` per line), "
        "`message_handler` per frame, callback counts",
    }
    rates = {k: _rate(n, [c for _, c in v]) for k, v in sides.items()}
    rows = [
        f"| {names[k]} | {_fmt(rates[k])} | {1e6 / rates[k]:.1f} | "
        f"{_fmt(_rate(n, [w for w, _ in v]))} | " + ", ".join(_fmt(n / c) for _, c in v) + " |"
        for k, v in sides.items()
    ]
    notes = []
    for other in ("baseline", "cryptofeed"):
        if other in rates:
            notes.append(
                f"Ratio connector / {other}, depth msgs/s on CPU time in this run: "
                f"**{rates['connector'] / rates[other]:.1f}x**."
            )
    load = os.getloadavg()
    lines = [
        "| whole process | depth msgs/s (CPU time, median) | µs per msg | depth msgs/s "
        "(wall, median) | every run (CPU) |",
        "|---|---:|---:|---:|---|",
        *rows,
        "",
        *notes,
        "",
        f"The stream: `write_synthetic_capture` in `bench/replay.py` (Binance USDⓈ-M, "
        f"{n:,} `depthUpdate` frames of {stream.changes / n:.1f} level changes on average, "
        f"a 1,000-level REST snapshot after the third; {size / 2**20:,.0f} MiB in the capture "
        f"format). Each figure is a whole process from start to exit (interpreter start, "
        f"imports, reading the file, the pipeline, the summary), {args.runs} runs each, "
        f"interleaved; rates are the diffs over the process's CPU time (user + system), wall "
        f"rates beside them. Starting the command on an empty capture takes "
        f"{statistics.median(startup):.2f} s of CPU (median), included above. "
        f"CPython {platform.python_version()}, {os.cpu_count()} CPUs shared with other work; "
        f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min) at the end. "
        "Checked in the same run: every connector run ends valid with the generator's book "
        "(top 10 levels, last update id, diffs applied)"
        + (", and cryptofeed with the same best bid/ask." if "cryptofeed" in sides else "."),
    ]
    if checks:
        lines.append("")
        lines.extend(f"**Check failed:** {c}" for c in dict.fromkeys(checks))
    table = "\n".join(lines)
    print(table)
    if not args.no_write:
        body = "Measured by `bench/replay.py --part command`.\n\n" + table
        write_section("replay_command", "Replay command, small diffs", body)


if __name__ == "__main__":
    main()
