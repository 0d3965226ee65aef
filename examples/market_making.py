"""Make a market on one venue: keep a post-only bid and ask around the mid.

Runs against the built-in simulator by default (no network, no keys: the
simulated venues trade with their demo accounts)::

    python examples/market_making.py                       # okx BTC-USDT-PERP, 10 s
    python examples/market_making.py binance ETH-USDT-PERP 30

On every book update it looks at the venue's mid: with no quote on a side it
places one (``post_only``, ``SPREAD_BPS`` from the mid); when the mid has moved
more than ``REPRICE_BPS`` since a quote was priced it amends the price (or, where
the venue cannot amend a price, as Binance spot, cancels and places again).
Each fill is printed as it comes. At the end every open order is canceled and
a summary shows the orders, fills, the position and its P&L.
"""

from __future__ import annotations

import sys
from decimal import Decimal

import attrs
import trio

from connector import (
    Config,
    Connector,
    ConnectorError,
    Fill,
    InvalidOrder,
    Order,
    Side,
    Symbol,
    VenueConfig,
    configure_logging,
)

SPREAD_BPS = Decimal(3)
REPRICE_BPS = Decimal(2)
SIZE = {"BTC": Decimal("0.01"), "ETH": Decimal("0.1"), "SOL": Decimal("1")}
BPS = Decimal("0.0001")


def one_venue(venue: str, symbol: Symbol) -> Config:
    """Only ``venue``, only ``symbol``'s book, on the built-in simulator."""
    venues = {
        name: VenueConfig(name=name, symbols=(symbol,), channels=("book",), enabled=name == venue)
        for name in ("binance", "bybit", "okx")
    }
    return Config(venues=venues)


@attrs.define
class Quote:
    order: Order
    mid: Decimal


async def main(venue: str, symbol: Symbol, seconds: float) -> None:
    configure_logging("error")
    size = SIZE[symbol.base]
    quotes: dict[Side, Quote] = {}
    placed = amended = 0
    fills: list[Fill] = []

    async with Connector(one_venue(venue, symbol)) as c:
        book = c.order_book(venue, symbol)

        async def print_fills() -> None:
            async for fill in c.subscribe(f"fill.{venue}.{symbol}"):
                assert isinstance(fill, Fill)
                fills.append(fill)
                print(f"fill   {fill.side.value:4} {fill.qty} @ {fill.price}  ({fill.trade_id})")

        async def quote(side: Side, mid: Decimal) -> None:
            nonlocal placed, amended
            sign = -1 if side is Side.BUY else 1
            price = mid * (1 + sign * SPREAD_BPS * BPS)
            current = quotes.get(side)
            if current is not None:
                known = c.orders.get(current.order.client_order_id)
                if known is None or not known.status.is_terminal:
                    if abs(mid - current.mid) <= current.mid * REPRICE_BPS * BPS:
                        return
                    try:
                        order = await c.amend_order(
                            venue, symbol, current.order.client_order_id, price=price
                        )
                        amended += 1
                        quotes[side] = Quote(order=order, mid=mid)
                        print(f"amend  {side.value:4} {order.qty} @ {order.price}")
                        return
                    except InvalidOrder:  # this venue cannot amend a price: replace it
                        await c.cancel_order(venue, symbol, current.order.client_order_id)
            order = await c.place_order(
                venue, symbol, side, "limit", size, price, time_in_force="post_only"
            )
            placed += 1
            quotes[side] = Quote(order=order, mid=mid)
            print(f"place  {side.value:4} {order.qty} @ {order.price}  {order.status.value}")

        async with trio.open_nursery() as nursery:
            nursery.start_soon(print_fills)
            with trio.move_on_after(seconds):
                async for _ in c.subscribe(f"orderbook.{venue}.{symbol}", overflow="latest"):
                    bid, ask = book.best_bid(), book.best_ask()
                    if not book.valid or bid is None or ask is None:
                        continue
                    mid = (bid.price + ask.price) / 2
                    for side in (Side.BUY, Side.SELL):
                        try:
                            await quote(side, mid)
                        except ConnectorError as exc:  # refused (post-only would take...)
                            print(f"skip   {side.value:4} {exc}")
                            quotes.pop(side, None)
            canceled = await c.cancel_all(venue, symbol)
            await trio.sleep(0.5)  # the private stream's last fills
            nursery.cancel_scope.cancel()

        position = c.positions.get(venue, symbol)
        print(
            f"summary {venue} {symbol}: placed {placed}, amended {amended}, "
            f"canceled at the end {len(canceled)}, fills {len(fills)}"
        )
        if position is not None:
            unrealized = c.positions.unrealized_pnl(venue, symbol)
            print(
                f"position {position.qty} @ {position.avg_entry_price}, realized "
                f"{position.realized_pnl}, unrealized {unrealized}"
            )
        else:
            balances = ", ".join(f"{b.asset} {b.free + b.locked}" for b in c.balances.all(venue))
            print(f"balances {balances}")


if __name__ == "__main__":
    args = sys.argv[1:]
    if len(args) > 3:
        sys.exit(f"usage: {sys.argv[0]} [VENUE [SYMBOL [SECONDS]]]")
    chosen_venue = args[0] if args else "okx"
    chosen_symbol = Symbol.parse(args[1]) if len(args) > 1 else Symbol.parse("BTC-USDT-PERP")
    trio.run(main, chosen_venue, chosen_symbol, float(args[2]) if len(args) > 2 else 10.0)
