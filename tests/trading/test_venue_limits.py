"""A venue's order-size limits as the venue applies them, through the public API."""

from __future__ import annotations

from decimal import Decimal

import pytest
import trio

from connector import InvalidOrder, OrderRejected, OrderStatus
from connector.model import Symbol
from tests.rig import PERP, rig

TIMEOUT = 30
SPOT = Symbol.parse("BTC-USDT-SPOT")


async def test_bybit_spot_post_only_orders_go_up_to_five_times_the_limit_maximum() -> None:
    # Get Instruments Info: "for post-only and RPI orders, the maximum limit order
    # quantity is 5x maxLimitOrderQty"; other limit orders stop at maxLimitOrderQty.
    with trio.fail_after(TIMEOUT):
        async with rig("bybit", symbol=SPOT) as r:
            hub = r.run.venue("bybit")
            limit_max = hub.book("spot", "BTCUSDT").instrument.max_qty  # as listed
            qty = limit_max * 2
            hub.desk.transfer("bybit-demo", "BTC", qty, now_ms=hub.now_ms())
            ask = r.c.order_book("bybit", SPOT).best_ask()
            assert ask is not None
            price = ask.price * Decimal("1.05")  # a sell above the book: it rests

            with pytest.raises(InvalidOrder, match="max_qty"):
                await r.c.place_order("bybit", SPOT, "sell", "limit", qty, price)
            order = await r.c.place_order(
                "bybit", SPOT, "sell", "limit", qty, price, time_in_force="post_only"
            )
            assert (OrderStatus.NEW, qty) == (order.status, order.qty)
            at_venue = [o for o in r.truth.orders() if o.client_order_id == order.client_order_id]
            assert [qty] == [o.qty for o in at_venue]

            with pytest.raises(InvalidOrder, match="max_qty"):
                await r.c.place_order("bybit", SPOT, "sell", "limit", limit_max * 5 + 1, price,
                                      time_in_force="post_only")  # fmt: skip
            await r.c.cancel_all("bybit")


@pytest.mark.parametrize(("side", "asked"), [("buy", Decimal("1.05")), ("sell", Decimal("0.95"))])
async def test_a_bybit_linear_order_moved_to_the_price_limit_is_known_at_the_venues_price(
    side: str, asked: Decimal
) -> None:
    # Bybit futures move a limit price beyond the price limit to the limit (lpaPerp
    # false, the default) and answer with ids only: the price the order ended at comes
    # from the private stream, and the local order must carry it.
    with trio.fail_after(TIMEOUT):
        async with rig("bybit") as r:
            mark = r.truth.mark_price("linear", "BTCUSDT")
            order = await r.c.place_order(
                "bybit", PERP, side, "limit", Decimal("0.01"), mark * asked
            )
            done = await r.c.orders.wait(order.client_order_id, timeout=10)
            (at_venue,) = [
                o for o in r.truth.orders() if o.client_order_id == order.client_order_id
            ]
            assert at_venue.price != order.price  # moved by the venue
            assert (OrderStatus.FILLED, at_venue.filled_qty) == (done.status, done.filled_qty)
            assert at_venue.price == done.price


@pytest.mark.parametrize(
    ("venue", "symbol", "market", "native", "qty", "codes", "message"),
    [
        # USDⓈ-M PERCENT_PRICE (BTCUSDT 1.05 / 0.95 of the mark price): "BUY: price <=
        # markPrice * multiplierUp", "SELL: price >= markPrice * multiplierDown".
        pytest.param(
            "binance",
            PERP,
            "linear",
            "BTCUSDT",
            Decimal("0.01"),
            (-4016, -4024),
            "Limit price can't be higher than",
            id="binance-usdm",
        ),
        # Bybit spot refuses a price beyond its limit by default (lpaSpot false).
        pytest.param(
            "bybit",
            SPOT,
            "spot",
            "BTCUSDT",
            Decimal("0.001"),
            (170193, 170194),
            "Buy order price cannot be higher than",
            id="bybit-spot",
        ),
        # OKX: 51006 "Order price is not within the price limit" (both markets).
        pytest.param(
            "okx",
            PERP,
            "swap",
            "BTC-USDT-SWAP",
            Decimal("0.01"),
            ("51006", "51006"),
            "Order price is not within the price limit (max buy price:",
            id="okx-swap",
        ),
    ],
)
async def test_a_limit_price_beyond_the_venues_price_limit_is_refused_with_its_code(
    venue: str,
    symbol: Symbol,
    market: str,
    native: str,
    qty: Decimal,
    codes: tuple[int, int] | tuple[str, str],
    message: str,
) -> None:
    with trio.fail_after(TIMEOUT):
        async with rig(venue, symbol=symbol) as r:
            mark = r.truth.mark_price(market, native)
            with pytest.raises(OrderRejected) as over:
                await r.c.place_order(venue, symbol, "buy", "limit", qty, mark * Decimal("1.1"))
            with pytest.raises(OrderRejected) as under:
                await r.c.place_order(venue, symbol, "sell", "limit", qty, mark * Decimal("0.9"))
            assert codes == (over.value.code, under.value.code)
            assert message in str(over.value)
            # The limits hold the aggressive side only: far passive orders rest.
            low = await r.c.place_order(venue, symbol, "buy", "limit", qty, mark / 2)
            high = await r.c.place_order(venue, symbol, "sell", "limit", qty, mark * 2)
            assert [OrderStatus.NEW] * 2 == [low.status, high.status]
            await r.c.cancel_all(venue)
