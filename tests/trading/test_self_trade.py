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
