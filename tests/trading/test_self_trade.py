"""An order the venue's self-trade prevention ends reads ``expired``, as the venue's
truth and Binance's ``EXPIRED_IN_MATCH`` say (Binance's default STP mode is
``EXPIRE_MAKER``, OKX's ``stpMode`` ``cancel_maker``: our resting order goes when our
market order would meet it, and no trade happens)."""

from __future__ import annotations

from decimal import Decimal

import pytest
import trio

from connector import OrderStatus
from connector.model import Symbol
from tests.rig import rig

TIMEOUT = 30


@pytest.mark.parametrize("venue", ["binance", "okx"])
@pytest.mark.parametrize("symbol", ["BTC-USDT-SPOT", "BTC-USDT-PERP"])
async def test_an_order_self_trade_prevention_ends_is_expired(venue: str, symbol: str) -> None:
    sym = Symbol.parse(symbol)
    with trio.fail_after(TIMEOUT):
        async with rig(venue, symbol=sym) as r:
            c = r.c
            view = c.order_book(venue, sym)
            bid, ask = view.best_bid(), view.best_ask()
            assert bid is not None and ask is not None
            tick = c.instrument(venue, sym).tick_size
            inside = ((bid.price + ask.price) / 2 // tick) * tick
            resting = await c.place_order(venue, sym, "buy", "limit", Decimal("0.01"), inside)
            await c.place_order(venue, sym, "sell", "market", Decimal("0.01"))
            ours = await c.orders.wait(resting.client_order_id, timeout=10)
            theirs = r.truth.order(client_order_id=resting.client_order_id)
    assert theirs is not None and "expired" == theirs.state.value
    assert (OrderStatus.EXPIRED, 0) == (ours.status, ours.filled_qty)


@pytest.mark.parametrize("symbol", ["BTC-USDT-SPOT", "BTC-USDT-PERP"])
async def test_a_trade_with_itself_keeps_both_fills(symbol: str) -> None:
    # Bybit's default smpType is None: our buy meets our resting sell, and the venue
    # reports the buy and the sell under one execution id. Both are our fills.
    sym = Symbol.parse(symbol)
    with trio.fail_after(TIMEOUT):
        async with rig("bybit", symbol=sym) as r:
            c = r.c
            view = c.order_book("bybit", sym)
            bid, ask = view.best_bid(), view.best_ask()
            assert bid is not None and ask is not None
            tick = c.instrument("bybit", sym).tick_size
            inside = ((bid.price + ask.price) / 2 // tick) * tick
            sell = await c.place_order("bybit", sym, "sell", "limit", Decimal("0.01"), inside)
            buy = await c.place_order(
                "bybit", sym, "buy", "limit", Decimal("0.01"), inside, time_in_force="ioc"
            )
            for order in (sell, buy):
                await c.orders.wait(order.client_order_id, timeout=10)
            ours = {(f.client_order_id, f.side.value, f.qty) for f in c.fills("bybit", sym)}
            theirs = r.truth.fills(r.truth.default_account())
    assert 2 == len(theirs) and 1 == len({f.trade_id for f in theirs})
    assert {
        (sell.client_order_id, "sell", Decimal("0.01")),
        (buy.client_order_id, "buy", Decimal("0.01")),
    } == ours
