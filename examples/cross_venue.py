"""Trade across venues: make a market on one venue, hedge every fill on another.

Runs against the built-in simulator by default (every venue trades with its
demo account)::

    python examples/cross_venue.py                       # okx makes BTC-USDT-PERP, 10 s
    python examples/cross_venue.py bybit ETH-USDT-PERP 30

The maker venue keeps a post-only bid and ask at its own best bid and ask
(joining the touch; moved when the touch moves away). Every fill there
(``fill.{maker}.{symbol}``) is hedged at once with a market order on the
other venue that shows the best price for the hedge in the consolidated book
(``c.consolidated_book``): a buy filled on the maker venue is sold where the
best bid is, and the other way round. At the end the quotes are canceled and
the summary shows each venue's position: they add up to zero. A hedge is sized
to what is not hedged yet, in whole lots of the hedge venue
(``c.instrument(venue, symbol).lot_step``); a rest under its lot or minimum
notional waits for the next fill, and what is left at the end is closed on the
maker venue.
"""

from __future__ import annotations

import sys
from decimal import Decimal

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

VENUES = ("binance", "bybit", "okx")
SIZE = {"BTC": Decimal("0.01"), "ETH": Decimal("0.1"), "SOL": Decimal("1")}


def every_venue(symbol: Symbol) -> Config:
    """Every venue, only ``symbol``'s book, on the built-in simulator."""
    return Config(
        venues={n: VenueConfig(name=n, symbols=(symbol,), channels=("book",)) for n in VENUES}
    )


async def main(maker: str, symbol: Symbol, seconds: float) -> None:
    configure_logging("error")
    size = SIZE[symbol.base]
    quotes: dict[Side, Order] = {}
    maker_fills = hedges = 0

    async with Connector(every_venue(symbol)) as c:
        book = c.order_book(maker, symbol)

        def hedge_venue(side: Side) -> str | None:
            """The other venue with the best price for a ``side`` order."""
            merged = c.consolidated_book(symbol, 10)
            levels = merged.bids if side is Side.SELL else merged.asks
            return next((level.venue for level in levels if level.venue != maker), None)

        async def hedge_fills() -> None:
            nonlocal maker_fills, hedges
            exposure = Decimal(0)  # maker fills not hedged yet (signed, base units)
            async for fill in c.subscribe(f"fill.{maker}.{symbol}"):
                assert isinstance(fill, Fill)
                maker_fills += 1
                exposure += fill.qty if fill.side is Side.BUY else -fill.qty
                print(f"{maker} {fill.side.value} {fill.qty} @ {fill.price} filled")
                side = Side.SELL if exposure > 0 else Side.BUY
                venue = hedge_venue(side)
                if venue is None:
                    print("  no other venue has a valid book: left for the end")
                    continue
                # Whole lots of the hedge venue (an order is never rounded for us):
                # the rest waits for the next fill (or the end).
                lot = c.instrument(venue, symbol).lot_step
                qty = abs(exposure) // lot * lot
                try:
                    order = await c.place_order(venue, symbol, side, "market", qty)
                    done = await c.orders.wait(order.client_order_id, timeout=5)
                except InvalidOrder as too_small:  # no whole lot, or under the minimum notional
                    print(f"  {abs(exposure)} not hedged on {venue} yet ({too_small})")
                    continue
                except ConnectorError as exc:
                    print(f"  hedge on {venue} failed: {exc} (left for the end)")
                    continue
                hedges += 1
                exposure += done.filled_qty if side is Side.BUY else -done.filled_qty
                filled = f"{done.filled_qty} @ {done.avg_fill_price}"
                print(f"  hedged on {venue}: {side.value} {filled}")

        async def keep_quotes() -> None:
            async for _ in c.subscribe(f"orderbook.{maker}.{symbol}", overflow="latest"):
                bid, ask = book.best_bid(), book.best_ask()
                if not book.valid or bid is None or ask is None:
                    continue
                for side, price in ((Side.BUY, bid.price), (Side.SELL, ask.price)):
                    order = quotes.get(side)
                    known = c.orders.get(order.client_order_id) if order is not None else None
                    if known is not None and not known.status.is_terminal:
                        if known.price == price:
                            continue
                        await c.cancel_order(maker, symbol, known.client_order_id)
                    try:
                        quotes[side] = await c.place_order(
                            maker, symbol, side, "limit", size, price, time_in_force="post_only"
                        )
                    except ConnectorError as exc:  # post-only would take: the touch moved
                        print(f"{maker} {side.value} quote refused: {exc}")
                        quotes.pop(side, None)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(hedge_fills)
            with trio.move_on_after(seconds):
                await keep_quotes()
            await c.cancel_all(maker, symbol)
            await trio.sleep(1.0)  # the last fills and their hedges
            nursery.cancel_scope.cancel()
        await flatten(c, symbol, maker)

        positions = {
            v: (p.qty if (p := c.positions.get(v, symbol)) else Decimal(0)) for v in VENUES
        }
        print(f"summary {symbol}: {maker_fills} fills on {maker}, {hedges} hedges")
        print("positions " + ", ".join(f"{v} {q}" for v, q in positions.items()))
        print(f"net position {sum(positions.values(), Decimal(0))}")


def position_qty(c: Connector, venue: str, symbol: Symbol) -> Decimal:
    position = c.positions.get(venue, symbol)
    return position.qty if position is not None else Decimal(0)


async def flatten(c: Connector, symbol: Symbol, maker: str) -> None:
    """Close what the venues' positions add up to (an unhedged rest) with one market
    order: on the maker venue (its fills made the rest, so its lot fits it), else on
    the first venue that takes it."""
    net = sum((position_qty(c, v, symbol) for v in VENUES), Decimal(0))
    if net == 0:
        return
    side = Side.SELL if net > 0 else Side.BUY
    for venue in (maker, *(v for v in VENUES if v != maker)):
        try:
            order = await c.place_order(venue, symbol, side, "market", abs(net))
        except InvalidOrder:
            continue  # under this venue's lot or minimum notional
        done = await c.orders.wait(order.client_order_id, timeout=5)
        print(f"flatten: {side.value} {done.filled_qty} on {venue}")
        return
    print(f"flatten: {abs(net)} is under every venue's lot or minimum notional")


if __name__ == "__main__":
    args = sys.argv[1:]
    if len(args) > 3:
        sys.exit(f"usage: {sys.argv[0]} [MAKER_VENUE [SYMBOL [SECONDS]]]")
    chosen_maker = args[0] if args else "okx"
    chosen = Symbol.parse(args[1]) if len(args) > 1 else Symbol.parse("BTC-USDT-PERP")
    trio.run(main, chosen_maker, chosen, float(args[2]) if len(args) > 2 else 10.0)
