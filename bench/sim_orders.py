"""Simulator order entry: signed REST orders per second each simulated venue sustains.

Not a test. For each venue a standalone ``connector sim`` process serves one
venue with ``--accounts`` many accounts (the venues' order-count limits are per
account, as on the real venues, so one account alone would measure the limit,
not the simulator). ``--tasks`` client tasks, one account each, place a post-only
limit order well below the touch (it rests) and cancel it, over and over, for
``--seconds``; requests are built and signed by connector's own trading adapters
and sent over loopback HTTP/1.1 keep-alive connections.

Reported per venue: placements and cancels answered per second (wall clock,
with every answer checked: a refusal stops the bench), the simulator process's
CPU per order request, and from it the requests per second one core of the
simulator sustains. The client runs on the same two CPUs, so the first figure
is bounded by the client too; the CPU figure is the simulator's own.

Run: ``python bench/sim_orders.py [--venues binance bybit okx] [--tasks 24]
[--seconds 10] [--no-write]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import httpx
import trio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._docs import write_section
from connector.model import Market, OrderType, PlaceOrder, Side, Symbol, TimeInForce
from connector.model.credentials import Credentials
from connector.venues.registry import driver_for

IP_LIMITS_OFF = (
    "--setting",
    "binance.linear_weight_limit=100000000",
    "--setting",
    "bybit.rest_default_limit=100000000",
)
"""The per-IP request limits are lifted (one client IP here stands for many
clients): the per-account order limits still apply, so each task is one account."""

MARKETS = {"binance": Market.LINEAR, "bybit": Market.LINEAR, "okx": Market.SWAP}
SYMBOL = Symbol.parse("BTC-USDT-PERP")
BOOK = {  # a public top-of-book request per venue: (path, params, reader of the best bid)
    "binance": ("/fapi/v1/depth", {"symbol": "BTCUSDT", "limit": "5"}, lambda d: d["bids"][0][0]),
    "bybit": (
        "/v5/market/orderbook",
        {"category": "linear", "symbol": "BTCUSDT", "limit": "1"},
        lambda d: d["result"]["b"][0][0],
    ),
    "okx": (
        "/api/v5/market/books",
        {"instId": "BTC-USDT-SWAP", "sz": "1"},
        lambda d: d["data"][0]["bids"][0][0],
    ),
}


def _accounts_file(folder: Path, venue: str, count: int) -> Path:
    path = folder / f"{venue}-accounts.toml"
    lines = []
    for i in range(count):
        lines += [
            "[[accounts]]",
            f'id = "bench{i}"',
            f'venue = "{venue}"',
            f'api_key = "BENCHKEY{i:04d}"',
            f'secret = "bench-secret-{i}"',
            f'passphrase = "{"Bench-pass1" if venue == "okx" else ""}"',
            "",
        ]
    path.write_text("\n".join(lines))
    return path


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _measure(venue: str, rest: str, tasks: int, seconds: float) -> tuple[int, int, int]:
    market = MARKETS[venue]
    probe = driver_for(venue)
    async with httpx.AsyncClient(base_url=rest, timeout=10) as client:
        call = probe.market_data.instruments_call(market)
        reply = await client.request(call.method, call.path, params=dict(call.params) or None)
        instrument = next(
            i
            for i in probe.market_data.parse_instruments(market, reply.content)
            if i.symbol == SYMBOL
        )
        path, params, best_bid = BOOK[venue]
        bid = Decimal(best_bid((await client.get(path, params=params)).json()))
    price = (bid * Decimal("0.97") // instrument.tick_size) * instrument.tick_size
    step = instrument.lot_step * instrument.contract_size  # base units per lot
    qty = max(instrument.min_qty * instrument.contract_size, Decimal("0.01")) // step * step
    placed = cancelled = paced = 0
    deadline = trio.current_time() + seconds

    async def trader(i: int) -> None:
        nonlocal placed, cancelled, paced
        credentials = Credentials(
            api_key=f"BENCHKEY{i:04d}",
            api_secret=f"bench-secret-{i}",
            passphrase="Bench-pass1" if venue == "okx" else None,
        )
        trading = driver_for(venue, credentials=credentials).trading
        assert trading is not None
        async with httpx.AsyncClient(base_url=rest, timeout=10) as client:
            n = 0
            while trader_time() < deadline:
                n += 1
                cid = f"b{i}x{n}"
                order = PlaceOrder(
                    venue=venue,
                    symbol=SYMBOL,
                    side=Side.BUY,
                    type=OrderType.LIMIT,
                    qty=qty,
                    price=price,
                    time_in_force=TimeInForce.POST_ONLY,
                    client_order_id=cid,
                )
                for call in (
                    trading.place_order_call(market, instrument, order),
                    trading.cancel_order_call(market, instrument, cid),
                ):
                    while True:  # the venue's per-account order limits pace each task
                        signed = trading.sign(call, time.time_ns())
                        url = signed.path + (f"?{signed.query}" if signed.query else "")
                        answer = await client.request(
                            signed.method, url, content=signed.body, headers=dict(signed.headers)
                        )
                        if not _limited(venue, answer):
                            break
                        paced += 1
                        await trio.sleep(0.05)
                    _check(venue, answer)
                placed += 1
                cancelled += 1

    trader_time = trio.current_time
    async with trio.open_nursery() as nursery:
        for i in range(tasks):
            nursery.start_soon(trader, i)
    return placed, cancelled, paced


def _limited(venue: str, answer: httpx.Response) -> bool:
    """The venue's order-limit refusal (Binance 429 -1015, Bybit 10006, OKX 50011)."""
    body = answer.json()
    return (
        (venue == "binance" and answer.status_code == 429)
        or (venue == "bybit" and body.get("retCode") == 10006)
        or (venue == "okx" and body.get("code") == "50011")
    )


def _check(venue: str, answer: httpx.Response) -> None:
    body = answer.json()
    ok = answer.status_code == 200 and (
        venue == "binance"
        or (venue == "bybit" and body.get("retCode") == 0)
        or (venue == "okx" and body.get("code") == "0")
    )
    if not ok:
        raise SystemExit(
            f"{venue}: order request refused: {answer.status_code} {answer.text[:300]}"
        )


def _run_venue(venue: str, tasks: int, seconds: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        accounts = _accounts_file(Path(tmp), venue, tasks)
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "connector.sim.standalone",
                *IP_LIMITS_OFF,
                "--venues",
                venue,
                "--bases",
                "BTC",
                "--rate",
                "50",
                "--accounts",
                str(accounts),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            assert proc.stdout is not None
            first = json.loads(proc.stdout.readline())
            rest = first[venue][f"{MARKETS[venue].value}.rest"]
            cpu0, t0 = _cpu_seconds(proc.pid), time.perf_counter()
            placed, cancelled, paced = trio.run(_measure, venue, rest, tasks, seconds)
            cpu, wall = _cpu_seconds(proc.pid) - cpu0, time.perf_counter() - t0
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    requests = placed + cancelled + paced
    return {
        "paced_per_s": paced / wall,
        "placed_per_s": placed / wall,
        "requests_per_s": requests / wall,
        "cpu_us_per_request": cpu / requests * 1e6,
        "per_core": requests / cpu,
        "server_cpu": cpu / wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--venues", nargs="+", default=list(MARKETS))
    parser.add_argument("--tasks", type=int, default=24)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/benchmarks.md")
    report(parser.parse_args())


def report(args: argparse.Namespace) -> None:
    """Measure ``args.venues`` (``tasks``, ``seconds``, ``runs``), print the table and,
    unless ``no_write``, write it to docs/benchmarks.md."""
    rows = []
    for venue in args.venues:
        runs = [_run_venue(venue, args.tasks, args.seconds) for _ in range(args.runs)]
        rows.append((venue, {k: statistics.median(r[k] for r in runs) for k in runs[0]}))
    lines = [
        "| venue (market) | placements/s | order requests/s | simulator CPU per request (µs) "
        "| requests/s per simulator core | simulator CPU use | refused by order limits/s |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for venue, r in rows:
        lines.append(
            f"| {venue} ({MARKETS[venue].value}) | {r['placed_per_s']:,.0f} "
            f"| {r['requests_per_s']:,.0f} | {r['cpu_us_per_request']:,.0f} "
            f"| {r['per_core']:,.0f} | {r['server_cpu']:.0%} | {r['paced_per_s']:,.0f} |"
        )
    table = "\n".join(lines)
    print(table)
    if not args.no_write:
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        write_section(
            "sim_orders",
            "Simulator order entry",
            f"Measured by `bench/sim_orders.py`: {args.tasks} client tasks, one account each, "
            f"place a resting post-only order and cancel it (the per-IP request limits lifted "
            "with `--setting`, the per-account order limits kept: a refused request is retried "
            f"after 50 ms and counted in the last column), for {args.seconds:g} s per venue "
            f"(median of {args.runs}); signed by connector's trading adapters, loopback "
            "HTTP/1.1 keep-alive, every answer checked. The client shares the 2 CPUs, so the "
            "rates are bounded by it too; CPU per request is the simulator process's own. "
            f"CPython {sys.version.split()[0]}; load average {load} at the end.\n\n" + table,
        )


if __name__ == "__main__":
    main()
