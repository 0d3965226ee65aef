"""Watch the best bid and ask of one symbol on every venue, and across them.

Runs against the built-in simulator by default (no network needed)::

    python examples/best_prices.py                 # BTC-USDT-PERP for 5 seconds
    python examples/best_prices.py ETH-USDT-SPOT 10

Every line is one consolidated best bid/offer change: the best bid and ask
over all venues whose book is valid and fresh, with the venue that shows it.
At the end it prints each venue's own book top, read from the live views.
"""

from __future__ import annotations

import sys

import trio

from connector import Connector, ConsolidatedQuote, Symbol, configure_logging, load_config


async def main(symbol: Symbol, seconds: float) -> None:
    configure_logging("warning")
    async with Connector(load_config(None)) as c:
        with trio.move_on_after(seconds):
            async for quote in c.subscribe(f"consolidated.bbo.{symbol}"):
                assert isinstance(quote, ConsolidatedQuote)
                bid, ask = quote.bid, quote.ask
                print(
                    f"{symbol}  bid {bid.price if bid else '-'} @{bid.venue if bid else '-'}"
                    f"  ask {ask.price if ask else '-'} @{ask.venue if ask else '-'}"
                    f"  ({len(quote.venues)} venues)"
                )
        for venue in ("binance", "bybit", "okx"):
            book = c.order_book(venue, symbol)
            state = book.state.status.value
            print(f"{venue:8} {state:8} bid {book.best_bid()}  ask {book.best_ask()}")


if __name__ == "__main__":
    args = sys.argv[1:]
    if len(args) > 2:
        sys.exit(f"usage: {sys.argv[0]} [SYMBOL [SECONDS]]")
    chosen = Symbol.parse(args[0]) if args else Symbol.parse("BTC-USDT-PERP")
    trio.run(main, chosen, float(args[1]) if len(args) > 1 else 5.0)
