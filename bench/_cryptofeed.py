"""cryptofeed, driven side by side with the connector by ``bench/replay.py``.

cryptofeed is never a dependency of this project: it runs in a separate
virtualenv (``$BENCH_VENV`` or ``/tmp/bench-venv``, created with ``pip install
cryptofeed`` when missing), in subprocesses of it. Two drivers:

* :data:`_HANDLER_DRIVER`: the real capture's depth frames, read into memory
  first, through ``BinanceFutures.message_handler``; only the handler loop is
  timed (inside the subprocess).
* :data:`_REPLAY_DRIVER`: a whole process, timed from outside like
  ``connector replay --summary``: start, read a capture file in our JSON Lines
  format line by line (``yapic.json``, the decoder cryptofeed itself uses), each
  received frame through ``message_handler``; the REST depth snapshot that
  cryptofeed asks for on the first diff is answered with the capture's own
  ``http`` record. The L2_BOOK callback counts.

Both load the symbol table from the captured exchangeInfo with
``BinanceFutures._parse_symbol_data`` + ``Symbols.set`` (no network).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

__all__ = [
    "bench_venv",
    "cryptofeed_version",
    "run_cryptofeed",
    "run_cryptofeed_replay",
    "timed_process",
]

_HANDLER_DRIVER = r"""
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


_REPLAY_DRIVER = r"""
import asyncio, sys
from yapic import json
from cryptofeed.defines import L2_BOOK
from cryptofeed.exchanges import BinanceFutures
from cryptofeed.symbols import Symbols

capture, exchange_info = sys.argv[1], sys.argv[2]
info_line = next(l for l in open(exchange_info) if " -> " in l)
syms, info = BinanceFutures._parse_symbol_data(json.loads(info_line.split(": ", 1)[1]))
Symbols.set(BinanceFutures.id, syms, info)
state = {"events": 0}

async def on_book(book, receipt_timestamp):
    state["events"] += 1
    state["book"] = book

class CapturedRest:
    # cryptofeed asks for the snapshot on the first diff; the capture recorded it
    # a few diffs later (as a live session does): read ahead for it.
    async def read(self, url, *args, **kwargs):
        with open(capture, encoding="utf-8") as lines:
            for line in lines:
                record = json.loads(line)
                if record["t"] == "http" and "/depth" in record["url"]:
                    return record["data"]
    async def close(self):
        pass

async def main():
    feed = BinanceFutures(
        symbols=["BTC-USDT-PERP"], channels=[L2_BOOK], callbacks={L2_BOOK: on_book}
    )
    feed.http_conn = CapturedRest()
    feed._reset()
    handler = feed.message_handler
    loads = json.loads
    with open(capture, encoding="utf-8") as lines:
        for line in lines:
            record = loads(line)
            if record["t"] == "recv":
                await handler(record["data"], None, record["ts_ns"] / 1e9)
    book = state["book"].book
    bid, ask = book.bids.index(0), book.asks.index(0)
    best = [str(bid[0]), str(bid[1]), str(ask[0]), str(ask[1])]
    print(json.dumps({"events": state["events"], "best": best}))

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


def cryptofeed_version(python: Path) -> str:
    """The installed cryptofeed's version (``?`` when pip does not say)."""
    shown = subprocess.run(
        [str(python), "-m", "pip", "show", "cryptofeed"], capture_output=True, text=True
    ).stdout
    for line in shown.splitlines():
        if line.startswith("Version:"):
            return line.split(":", 1)[1].strip()
    return "?"


def _script(text: str) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as script:
        script.write(text)
    return script.name


def run_cryptofeed(
    capture: Path, exchange_info: Path, runs: int, *, read_best: bool
) -> dict[str, object]:
    """Time cryptofeed's Binance futures handler over a real capture's depth frames.

    Args:
        capture: The hftbacktest capture (``<ns> <json>`` lines, gzip).
        exchange_info: cryptofeed's captured exchangeInfo (its symbol table).
        runs: Timed runs (a fresh feed each).
        read_best: The callback reads the best bid and ask on every book event
            (as our subscriber does); otherwise it only counts (read once at the end).

    Returns:
        ``times`` and ``cpu`` (seconds per run), ``depth_frames``, ``events``,
        ``best`` (the final best bid/ask texts) and ``version``.
    """
    python = bench_venv()
    script = _script(_HANDLER_DRIVER)
    try:
        out = subprocess.run(
            [
                str(python),
                script,
                str(capture),
                str(exchange_info),
                str(runs),
                "read" if read_best else "count",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script)
    result: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    result["version"] = cryptofeed_version(python)
    return result


def timed_process(
    argv: list[str], env: dict[str, str] | None = None, cwd: Path | None = None
) -> tuple[str, float, float]:
    """Run ``argv`` to its end: its stdout, wall seconds and CPU seconds (user + system)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run(argv, capture_output=True, text=True, check=True, env=env, cwd=cwd).stdout
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return out, wall, cpu


def run_cryptofeed_replay(
    capture: Path, exchange_info: Path
) -> tuple[dict[str, object], float, float]:
    """One whole cryptofeed process over a capture in our format (see :data:`_REPLAY_DRIVER`).

    Returns:
        Its answer (``events``, ``best``), wall seconds and CPU seconds.
    """
    python = bench_venv()
    script = _script(_REPLAY_DRIVER)
    try:
        out, wall, cpu = timed_process([str(python), script, str(capture), str(exchange_info)])
    finally:
        os.unlink(script)
    answer: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    return answer, wall, cpu
