"""Order state machine throughput: events applied per second by the pure machine.

Not a test. A synthetic stream is built in memory first; the timed part is
``OrderBookkeeping.apply`` only. Per order (spread over several venues and
symbols, interleaved across ``--open`` orders in flight), the stream holds what
a live session sees:

    OrderSubmitted, OrderAccepted, 3 x OrderFilled, a repeated fill, an
    OrderReport (partially filled), an OrderReport (filled), a repeated
    report, a late OrderAccepted                         = 10 inputs

so about a third of the inputs are repeats or stale, as from a private stream
racing REST answers. Figures: inputs per second from the process's CPU time
(median of ``--runs``), wall-clock beside it. Prints a markdown table; it does
not write ``docs/benchmarks.md``.

Run: ``python bench/order_state.py [--orders 50000] [--runs 5]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connector.model import (
    Fill,
    Order,
    OrderAccepted,
    OrderFilled,
    OrderStatus,
    OrderSubmitted,
    OrderType,
    Side,
    Symbol,
)
from connector.model.trading import OrderReport
from connector.oms.state import OrderBookkeeping

VENUES = ("binance", "bybit", "okx")
SYMBOLS = tuple(Symbol.parse(s) for s in ("BTC-USDT-PERP", "ETH-USDT-PERP", "SOL-USDT-SPOT"))
QTY = Decimal("0.003")
PART = Decimal("0.001")
PRICE = Decimal("60000.1")


def order_inputs(n: int) -> list[OrderSubmitted | OrderAccepted | OrderFilled | OrderReport]:
    """The ten inputs of order ``n``, in arrival order."""
    venue, symbol = VENUES[n % 3], SYMBOLS[n % 3]
    cid, voi = f"bench{n:012d}", str(10_000_000 + n)
    ts = 1_767_000_000_000_000_000 + n * 1_000
    common = {"venue": venue, "symbol": symbol, "client_order_id": cid}
    order = Order(
        side=Side.BUY, type=OrderType.LIMIT, qty=QTY, price=PRICE, ts_created_ns=ts, **common
    )
    fills = [
        OrderFilled(
            venue_order_id=voi,
            ts_event_ns=ts + 10 + i,
            fill=Fill(
                venue_order_id=voi,
                trade_id=f"{n}-{i}",
                side=Side.BUY,
                qty=PART,
                price=PRICE,
                **common,
            ),
            **common,
        )
        for i in range(3)
    ]

    def report(status: OrderStatus, filled: Decimal, dt: int) -> OrderReport:
        return OrderReport(
            venue_order_id=voi,
            side=Side.BUY,
            type=OrderType.LIMIT,
            qty=QTY,
            price=PRICE,
            status=status,
            filled_qty=filled,
            avg_fill_price=PRICE,
            ts_event_ns=ts + dt,
            **common,
        )

    accepted = OrderAccepted(venue_order_id=voi, ts_event_ns=ts + 5, **common)
    done = report(OrderStatus.FILLED, QTY, 20)
    return [
        OrderSubmitted(order=order, ts_event_ns=ts, **common),
        accepted,
        fills[0],
        fills[1],
        report(OrderStatus.PARTIALLY_FILLED, 2 * PART, 15),
        fills[1],
        fills[2],
        done,
        done,
        accepted,
    ]


def stream(
    orders: int, in_flight: int
) -> list[OrderSubmitted | OrderAccepted | OrderFilled | OrderReport]:
    """All inputs, ``in_flight`` orders interleaved at a time."""
    result: list[OrderSubmitted | OrderAccepted | OrderFilled | OrderReport] = []
    for start in range(0, orders, in_flight):
        group = [order_inputs(n) for n in range(start, min(start + in_flight, orders))]
        for step in range(10):
            result.extend(inputs[step] for inputs in group)
    return result


def run_once(
    inputs: list[OrderSubmitted | OrderAccepted | OrderFilled | OrderReport],
) -> tuple[float, float, OrderBookkeeping]:
    book = OrderBookkeeping()
    apply = book.apply
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for item in inputs:
        apply(item)
    return time.process_time() - cpu0, time.perf_counter() - wall0, book


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=50_000)
    parser.add_argument("--open", type=int, default=100, help="orders in flight at once")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)

    inputs = stream(args.orders, args.open)
    cpu_times, wall_times = [], []
    for _ in range(args.runs):
        cpu, wall, book = run_once(inputs)
        cpu_times.append(cpu)
        wall_times.append(wall)
        stats = book.statistics()
        assert stats.orders == args.orders and stats.open == 0, stats
        assert stats.fills == 3 * args.orders and stats.duplicate_fills == args.orders, stats
    cpu, wall = statistics.median(cpu_times), statistics.median(wall_times)
    load = os.getloadavg()[0]
    print("| inputs | orders | in flight | inputs/s (CPU) | inputs/s (wall) | µs/input | load |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {len(inputs):,} | {args.orders:,} | {args.open} | {len(inputs) / cpu:,.0f} "
        f"| {len(inputs) / wall:,.0f} | {cpu / len(inputs) * 1e6:.2f} | {load:.2f} |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
