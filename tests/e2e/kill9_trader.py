"""A trading process for the kill -9 test (tests/e2e/test_kill9.py); run with the venv's python.

``python kill9_trader.py CONFIG LINES trade SEED``: opens a ``Connector`` on the
config (its ``[storage]`` names the store; ``CONNECTOR_*`` variables point the
venues at a running simulator), then places, amends and cancels orders on every
venue until it is killed. Each ``place_order`` that returns appends one JSON line
to ``LINES`` (flushed before the next step: the lines written before a SIGKILL
survive it).

On stderr (beside its logs) it reports each phase it enters as one line
``k9 phase=<name> t=<time.monotonic()>`` (the system-wide clock, so the test can
tell where a kill landed): ``start`` (imports done), ``open`` (the ``Connector``
opens: the store, its replay, the venues' reconciliation), ``ready`` (it is open)
and ``trading`` (the first ``place_order`` of this life returned).

``python kill9_trader.py CONFIG OUT final``: opens the ``Connector`` (the log
is replayed and every venue reconciled before it is ready), waits until no order
is left ``submitted`` or ``unknown`` and none is being (or waiting to be) queried,
and writes the local state (orders, fills, positions, balances) to ``OUT`` as JSON.
"""

from __future__ import annotations

import json
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

import trio

from connector import Connector, OrderStatus, configure_logging
from connector.config import load_config
from connector.errors import ConnectorError

SYMBOL = "BTC-USDT-PERP"
QTY = Decimal("0.01")


def phase(name: str) -> None:
    """Tell the test which phase this life has reached."""
    print(f"k9 phase={name} t={time.monotonic():.6f}", file=sys.stderr, flush=True)


async def _prices(c: Connector, venue: str) -> tuple[Decimal, Decimal]:
    view = c.order_book(venue, SYMBOL)
    while True:
        bid, ask = view.best_bid(), view.best_ask()
        if view.valid and bid is not None and ask is not None:
            return bid.price, ask.price
        await trio.sleep(0.02)


async def trade(config: Path, lines: Path, seed: int) -> None:
    rng = random.Random(seed)
    phase("open")
    async with Connector(load_config(config)) as c:
        phase("ready")
        venues = list(c.config.venues)
        trading = False
        with lines.open("a", encoding="utf-8") as out:
            while True:
                venue = rng.choice(venues)
                bid, ask = await _prices(c, venue)
                mine = [o for o in c.orders.open(venue) if o.status is not OrderStatus.UNKNOWN]
                roll = rng.random()
                try:
                    if roll < 0.45 or not mine:
                        taker = rng.random() < 0.3
                        side = rng.choice(["buy", "sell"])
                        buy = side == "buy"
                        if taker:  # crosses the book: fills at once
                            price = ask * Decimal("1.002") if buy else bid * Decimal("0.998")
                        else:  # rests well away from the market
                            price = bid * Decimal("0.97") if buy else ask * Decimal("1.03")
                        order = await c.place_order(venue, SYMBOL, side, "limit", QTY, price)
                        record = {"venue": venue, "cid": order.client_order_id,
                                  "status": order.status.value}  # fmt: skip
                        out.write(json.dumps(record) + "\n")
                        out.flush()
                        if not trading:
                            trading = True
                            phase("trading")
                    elif roll < 0.7:
                        order = rng.choice(mine)
                        factor = Decimal("0.96") if order.side.value == "buy" else Decimal("1.04")
                        price = (bid if order.side.value == "buy" else ask) * factor
                        await c.amend_order(venue, SYMBOL, order.client_order_id, price=price)
                    else:
                        order = rng.choice(mine)
                        await c.cancel_order(venue, SYMBOL, order.client_order_id)
                except ConnectorError as exc:
                    print(f"{venue}: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
                await trio.sleep(rng.uniform(0, 0.05))


async def final(config: Path, dump: Path) -> None:
    async with Connector(load_config(config)) as c:
        # The start reconciled every venue (or will retry); one more reconciliation
        # that completes, then let the queries it started finish.
        with trio.fail_after(60):
            await c.persistence.reconcile()
            await c.persistence.settled()
        state = {
            "orders": {
                o.client_order_id: {
                    "venue": o.venue,
                    "status": o.status.value,
                    "qty": str(o.qty),
                    "filled": str(o.filled_qty),
                }
                for o in c.orders.all()
            },
            "fills": sorted([f.venue, f.trade_id, str(f.qty)] for f in c.fills()),
            "positions": {
                p.venue: [str(p.qty), None if p.avg_entry_price is None else str(p.avg_entry_price)]
                for p in c.positions.all()
            },
            "balances": {f"{b.venue}:{b.asset}": str(b.total) for b in c.balances.all()},
        }
        await trio.Path(dump).write_text(json.dumps(state), encoding="utf-8")


def main() -> None:
    phase("start")
    config, path, mode = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    loaded = load_config(config)
    configure_logging(loaded.logging.level, loaded.logging.format, stream=sys.stderr)
    if mode == "trade":
        trio.run(trade, config, path, int(sys.argv[4]))
    else:
        trio.run(final, config, path)


if __name__ == "__main__":
    main()
