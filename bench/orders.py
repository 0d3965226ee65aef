"""Order benchmarks: connector, ccxt (async) and pybit side by side against one simulator.

Not a test. One standalone simulator (``connector sim``, Bybit linear only,
``--rate`` book changes per second) serves every client in turn; each client
runs in its own process (``--worker``) so that its CPU time is its own:

* **place-to-acknowledgement round trip**: ``--orders`` post-only limit buys of
  0.001 BTC-USDT-PERP 10 % under the touch (they rest), one every
  ``--interval`` seconds (under Bybit's 10 orders/s, so that no client waits in
  a rate limiter), each timed from the call to its return (the venue's
  acknowledgement): median and p99. ``connector``: ``c.place_order`` (validate,
  risk, client id, write-ahead, order lane, sign, send, parse, apply) over REST;
  ``connector-ws``: the same with ``order_entry = "websocket"`` (Bybit's
  ``/v5/trade`` socket, logged in once: no signature per order);
  ``ccxt``: ``ccxt.async_support.bybit.create_order`` as ccxt comes (its
  rate limiter on: ``enableRateLimit``, the default); ``ccxt-unthrottled``: the
  same with ``enableRateLimit`` off; ``pybit``: ``unified_trading.HTTP.place_order``.
* **client CPU per order**: the process's CPU time (user + system, every
  thread) over the placement loop, less what the process spends idle over
  the same wall time (measured just before: the connector keeps its book and
  private stream running; the others spend nothing), divided by the orders.
The connector runs with its in-memory event log (no ``[storage]``): the
write-ahead of each order is an append to a list, so these figures are the
command path's own; what a durable log adds (an SQLite or PostgreSQL commit per
write-ahead) is ``bench/store.py``'s measure.

* **tick-to-order** (connector): a subscriber of ``orderbook.bybit.*`` places
  an order on a book update; from the frame's receipt (``BookUpdate.ts_recv_ns``)
  to the order request written (the REST client's wire time of the ``POST
  /v5/order/create``, or the order socket's of its ``order.create``), p50 and
  p99, over ``--ticks`` orders.
* **order state machine**: ``bench/order_state.py`` (the pure machine, inputs/s).

The clients take turns, ``--rounds`` times (connector, ccxt, ccxt-unthrottled,
pybit, connector, ...), each round against the same simulator: a client's figures are the median
of its rounds', the CPU ratio the median of the rounds' ratios (each measured
side by side within one round), and tick-to-order's percentiles are taken over
the samples of every round.

Every order is canceled after its phase. Prints a markdown table and rewrites
the ``orders`` section of ``docs/benchmarks.md`` (``--no-write``: leaves it).

Run: ``python bench/orders.py [--orders 200] [--interval 0.12] [--ticks 200] [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._sim import bybit_venues, start_simulator  # noqa: E402 (needs the path set above)
from bench._stats import percentile  # noqa: E402

SYMBOL = "BTC-USDT-PERP"
NATIVE = "BTCUSDT"
CCXT_SYMBOL = "BTC/USDT:USDT"
QTY = Decimal("0.001")
CLIENTS = ("connector", "connector-ws", "ccxt", "ccxt-unthrottled", "pybit")
CONNECTORS = ("connector", "connector-ws")
IDLE_SECONDS = 2.0


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def result(rtts_ns: list[int], cpu: float, wall: float, idle_rate: float, **extra: Any) -> str:
    orders = len(rtts_ns)
    busy = max(cpu - idle_rate * wall, 0.0)
    return json.dumps(
        {
            "orders": orders,
            "rtt_median_us": statistics.median(rtts_ns) / 1e3,
            "rtt_p99_us": percentile([float(r) for r in rtts_ns], 0.99) / 1e3,
            "cpu_per_order_us": busy / orders * 1e6,
            "cpu_raw_per_order_us": cpu / orders * 1e6,
            "idle_cpu_pct": idle_rate * 100,
            **extra,
        }
    )


# --------------------------------------------------------------------------- workers


def connector_worker(
    line: dict[str, Any], args: argparse.Namespace, *, order_entry: str = "rest"
) -> str:
    import attrs
    import trio

    from connector import Config, Connector, configure_logging
    from connector.model import BookUpdate, Market
    from connector.net.http import RestResponse

    configure_logging("error")
    venues = bybit_venues(line, SYMBOL)
    venues["bybit"] = attrs.evolve(venues["bybit"], order_entry=order_entry)
    config = Config(venues=venues)

    async def main() -> str:
        async with Connector(config) as c:
            view = c.order_book("bybit", SYMBOL)
            socket = c._trading.states["bybit"].order_sockets.get(Market.LINEAR)
            async with c.subscribe("orderbook.bybit.>") as updates:
                while (
                    not view.valid
                    or view.best_bid() is None
                    or (socket is not None and not socket.ready)
                ):
                    await updates.receive()
            bid = view.best_bid()
            assert bid is not None
            price = bid.price * Decimal("0.9")

            cpu0, wall0 = cpu_seconds(), time.perf_counter()
            await trio.sleep(IDLE_SECONDS)
            idle_rate = (cpu_seconds() - cpu0) / (time.perf_counter() - wall0)

            rtts: list[int] = []
            cpu0, wall0 = cpu_seconds(), time.perf_counter()
            for _ in range(args.orders):
                t0 = time.perf_counter_ns()
                await c.place_order("bybit", SYMBOL, "buy", "limit", QTY, price,
                                    time_in_force="post_only")  # fmt: skip
                rtts.append(time.perf_counter_ns() - t0)
                await trio.sleep(args.interval)
            cpu, wall = cpu_seconds() - cpu0, time.perf_counter() - wall0
            await c.cancel_all("bybit")

            # Tick-to-order: a book update in, an order request out.
            sent: list[int] = []

            def observe(response: RestResponse) -> None:
                if socket is not None or "/v5/order/create" in response.url:
                    sent.append(response.sent_ns)

            if socket is None:
                c._sessions["bybit"].context.rest(Market.LINEAR).observers.append(observe)
            else:
                socket.observers.append(observe)
            ticks: list[int] = []
            async with c.subscribe("orderbook.bybit.>") as updates:
                next_at = 0.0
                async for update in updates:
                    if not isinstance(update, BookUpdate) or time.perf_counter() < next_at:
                        continue
                    received = update.ts_recv_ns
                    before = len(sent)
                    await c.place_order("bybit", SYMBOL, "buy", "limit", QTY, price,
                                        time_in_force="post_only")  # fmt: skip
                    if len(sent) == before + 1:
                        ticks.append(sent[-1] - received)
                    next_at = time.perf_counter() + args.interval
                    if len(ticks) >= args.ticks:
                        break
            await c.cancel_all("bybit")
        return result(
            rtts,
            cpu,
            wall,
            idle_rate,
            ticks_us=[t / 1e3 for t in ticks],
        )

    return trio.run(main)


def ccxt_worker(line: dict[str, Any], args: argparse.Namespace, *, throttled: bool = True) -> str:
    import asyncio

    import ccxt.async_support as ccxt_async

    bybit = line["bybit"]
    creds = bybit["credentials"]

    async def main() -> str:
        keys = {"apiKey": creds["api_key"], "secret": creds["api_secret"]}
        client = ccxt_async.bybit({**keys, "enableRateLimit": throttled})
        client.urls["api"] = {
            key: bybit["linear.rest"] for key in client.urls["api"] if key != "ws"
        }
        try:
            await client.load_markets()
            book = await client.fetch_order_book(CCXT_SYMBOL, 1)
            price = float(client.price_to_precision(CCXT_SYMBOL, book["bids"][0][0] * 0.9))
            cpu0, wall0 = cpu_seconds(), time.perf_counter()
            await asyncio.sleep(IDLE_SECONDS)
            idle_rate = (cpu_seconds() - cpu0) / (time.perf_counter() - wall0)
            rtts: list[int] = []
            cpu0, wall0 = cpu_seconds(), time.perf_counter()
            for _ in range(args.orders):
                t0 = time.perf_counter_ns()
                await client.create_order(
                    CCXT_SYMBOL, "limit", "buy", float(QTY), price, {"postOnly": True}
                )
                rtts.append(time.perf_counter_ns() - t0)
                await asyncio.sleep(args.interval)
            cpu, wall = cpu_seconds() - cpu0, time.perf_counter() - wall0
            await client.cancel_all_orders(CCXT_SYMBOL)
            return result(rtts, cpu, wall, idle_rate)
        finally:
            await client.close()

    return asyncio.run(main())


def pybit_worker(line: dict[str, Any], args: argparse.Namespace) -> str:
    from pybit import unified_trading

    bybit = line["bybit"]
    creds = bybit["credentials"]
    session = unified_trading.HTTP(api_key=creds["api_key"], api_secret=creds["api_secret"])
    session.endpoint = bybit["linear.rest"]
    book = session.get_orderbook(category="linear", symbol=NATIVE, limit=1)["result"]
    price = str((Decimal(book["b"][0][0]) * Decimal("0.9")).quantize(Decimal("0.1")))
    cpu0, wall0 = cpu_seconds(), time.perf_counter()
    time.sleep(IDLE_SECONDS)
    idle_rate = (cpu_seconds() - cpu0) / (time.perf_counter() - wall0)
    rtts: list[int] = []
    cpu0, wall0 = cpu_seconds(), time.perf_counter()
    for _ in range(args.orders):
        t0 = time.perf_counter_ns()
        reply = session.place_order(
            category="linear", symbol=NATIVE, side="Buy", orderType="Limit",
            qty=str(QTY), price=price, timeInForce="PostOnly",
        )  # fmt: skip
        rtts.append(time.perf_counter_ns() - t0)
        assert reply["retCode"] == 0, reply
        time.sleep(args.interval)
    cpu, wall = cpu_seconds() - cpu0, time.perf_counter() - wall0
    session.cancel_all_orders(category="linear", symbol=NATIVE)
    return result(rtts, cpu, wall, idle_rate)


WORKERS = {
    "connector": connector_worker,
    "connector-ws": functools.partial(connector_worker, order_entry="websocket"),
    "ccxt": ccxt_worker,
    "ccxt-unthrottled": functools.partial(ccxt_worker, throttled=False),
    "pybit": pybit_worker,
}


# --------------------------------------------------------------------------- driver


def run_worker(client: str, line: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, __file__, "--worker", client, "--sim", json.dumps(line),
               "--orders", str(args.orders), "--interval", str(args.interval),
               "--ticks", str(args.ticks)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{client} worker failed:\n{done.stderr[-3000:]}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def order_state_rate() -> str:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "order_state.py"), "--runs", "3"],
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
    )
    row = done.stdout.strip().splitlines()[-1].split("|")
    return row[4].strip()  # inputs/s (CPU)


def versions() -> str:
    from importlib.metadata import version

    return ", ".join(f"{name} {version(name)}" for name in ("ccxt", "pybit", "trio", "msgspec"))


def median_of(rounds: list[dict[str, Any]], key: str) -> float:
    return statistics.median(float(r[key]) for r in rounds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--interval", type=float, default=0.12, help="seconds between orders")
    parser.add_argument("--ticks", type=int, default=200, help="tick-to-order samples per round")
    parser.add_argument("--rounds", type=int, default=3, help="turns of every client")
    parser.add_argument("--rate", type=float, default=20.0, help="simulator book changes/s")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--worker", choices=CLIENTS, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--sim", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker is not None:
        print(WORKERS[args.worker](json.loads(args.sim), args))
        return 0

    proc, line = start_simulator(args.rate)
    rounds: dict[str, list[dict[str, Any]]] = {client: [] for client in CLIENTS}
    try:
        for _ in range(args.rounds):
            for client in CLIENTS:
                rounds[client].append(run_worker(client, line, args))
    finally:
        proc.kill()
        proc.wait()
    machine = order_state_rate()
    load = os.getloadavg()[0]

    def ratios(other: str, ours: str = "connector") -> list[float]:
        return [
            mine["cpu_per_order_us"] / theirs["cpu_per_order_us"]
            for mine, theirs in zip(rounds[ours], rounds[other], strict=True)
        ]

    def ratio_line(ours: str) -> str:
        of_ccxt = ratios("ccxt", ours)
        return (
            f"`{ours}` CPU per order / ccxt's, median of the rounds' ratios: "
            f"{statistics.median(of_ccxt):.2f} "
            f"(rounds: {', '.join(f'{r:.2f}' for r in of_ccxt)}; target at most 0.33); "
            "/ ccxt's with its rate limiter off: "
            f"{statistics.median(ratios('ccxt-unthrottled', ours)):.2f}."
        )

    def tick_line(ours: str) -> str:
        ticks = [t for r in rounds[ours] for t in r["ticks_us"]]
        return (
            f"`{ours}`, {len(ticks)} orders over the rounds: p50 "
            f"{statistics.median(ticks):,.0f} µs, p99 {percentile(ticks, 0.99):,.0f} µs"
        )

    lines = [
        f"{args.orders} post-only limit orders per client and round, one every "
        f"{args.interval} s, Bybit linear {SYMBOL} on one standalone simulator "
        f"({args.rate:g} book changes/s), each client in its own process, the clients "
        f"taking turns for {args.rounds} rounds; each figure is the median of the "
        f"client's rounds; load average {load:.2f}; {versions()}. The "
        "connector keeps its event log in memory (no `[storage]`; a durable log's commit "
        "per write-ahead is the Event store section's measure).",
        "",
        "| client | place→ack median µs | p99 µs | client CPU/order µs | raw CPU/order µs "
        "| idle CPU % | CPU/order by round µs |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for client in CLIENTS:
        runs = rounds[client]
        by_round = ", ".join(f"{r['cpu_per_order_us']:,.0f}" for r in runs)
        lines.append(
            f"| {client} | {median_of(runs, 'rtt_median_us'):,.0f} "
            f"| {median_of(runs, 'rtt_p99_us'):,.0f} "
            f"| {median_of(runs, 'cpu_per_order_us'):,.0f} "
            f"| {median_of(runs, 'cpu_raw_per_order_us'):,.0f} "
            f"| {median_of(runs, 'idle_cpu_pct'):.1f} | {by_round} |"
        )
    lines += [
        "",
        *(ratio_line(ours) for ours in CONNECTORS),
        "",
        "`connector` sends its orders over REST, `connector-ws` on Bybit's `/v5/trade` "
        'socket (`order_entry = "websocket"`). ccxt\'s limiter charges '
        "Bybit's order endpoint 2.5 tokens, refills one token per 20 ms and credits none "
        "of the time it sat idle, so before each order it waits for its tokens in 1 ms "
        "sleeps (its place→ack median shows it): as ccxt runs by default. "
        "The connector's "
        "CPU per order holds everything its process does for the order: the command path "
        "(validation, risk, write-ahead, limiter, signing, the request, the answer) and the "
        "private stream's events the order causes (order and wallet updates decoded, applied "
        "to the order state and the balances, published); ccxt and pybit only send the "
        "request and read the answer.",
        "",
        "Tick-to-order (a subscriber placing on a book update; frame received → order "
        f"request written; target p99 under 300 µs): {'; '.join(map(tick_line, CONNECTORS))}.",
        "",
        f"Order state machine (`bench/order_state.py`, pure): {machine} inputs/s "
        "(target at least 200,000).",
    ]
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        from bench._docs import write_section

        write_section("orders", "Orders", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
