"""Our order meeting our own resting order. Where the venue's self-trade prevention is on
(Binance's default STP mode ``EXPIRE_MAKER``, OKX's ``stpMode`` ``cancel_maker``) the
resting order reads ``expired``, as the venue's truth and Binance's ``EXPIRED_IN_MATCH``
say; where it is off (Bybit's default ``smpType`` None) the trade is two fills of ours
under one execution id, and both are kept."""

from __future__ import annotations

from decimal import Decimal

import pytest
import trio

from connector import Connector, Order, OrderStatus
from connector.model import Symbol
from connector.sim import SimRun
from tests.rig import rig

TIMEOUT = 40
QTY = Decimal("0.01")


async def meet_our_own(c: Connector, run: SimRun, venue: str, sym: Symbol) -> tuple[Order, Order]:
    """A resting sell inside the spread, then our IOC buy at its price: the two orders,
    once the buy met the sell. The market's own flow is paused meanwhile, so that it
    cannot take the sell first (a loaded machine leaves it time to); tried again if the
    spread had no room inside or the sell met someone else all the same."""
    tick = c.instrument(venue, sym).tick_size
    market = run.venues[venue]
    for _ in range(5):
        market.pause()
        try:
            await trio.sleep(0.3)  # the updates sent before the pause arrive
            view = c.order_book(venue, sym)
            bid, ask = view.best_bid(), view.best_ask()
            assert bid is not None and ask is not None
            inside = ((bid.price + ask.price) / 2 // tick) * tick
            room = bid.price < inside < ask.price
            if room:
                resting = await c.place_order(venue, sym, "sell", "limit", QTY, inside)
                taker = await c.place_order(
                    venue, sym, "buy", "limit", QTY, inside, time_in_force="ioc"
                )
                for order in (resting, taker):
                    await c.orders.wait(order.client_order_id, timeout=10)
        finally:
            market.resume()
        if not room:
            await trio.sleep(0.2)  # the flow moves the spread
            continue
        truth = run.truth(venue)
        theirs = truth.fills(truth.default_account())
        if any(f.client_order_id == taker.client_order_id for f in theirs) or not [
            f for f in theirs if f.client_order_id == resting.client_order_id
        ]:
            return resting, taker
        await c.cancel_all(venue)
    raise AssertionError("our order never met our own resting order")


@pytest.mark.parametrize("venue", ["binance", "okx"])
@pytest.mark.parametrize("symbol", ["BTC-USDT-SPOT", "BTC-USDT-PERP"])
async def test_an_order_self_trade_prevention_ends_is_expired(venue: str, symbol: str) -> None:
    sym = Symbol.parse(symbol)
    with trio.fail_after(TIMEOUT):
        async with rig(venue, symbol=sym) as r:
            resting, _taker = await meet_our_own(r.c, r.run, venue, sym)
            ours = r.c.orders.get(resting.client_order_id)
            theirs = r.truth.order(client_order_id=resting.client_order_id)
    assert theirs is not None and "expired" == theirs.state.value
    assert ours is not None and (OrderStatus.EXPIRED, 0) == (ours.status, ours.filled_qty)


@pytest.mark.parametrize("symbol", ["BTC-USDT-SPOT", "BTC-USDT-PERP"])
async def test_a_trade_with_itself_keeps_both_fills(symbol: str) -> None:
    sym = Symbol.parse(symbol)
    with trio.fail_after(TIMEOUT):
        async with rig("bybit", symbol=sym) as r:
            resting, taker = await meet_our_own(r.c, r.run, "bybit", sym)
            mine = {resting.client_order_id, taker.client_order_id}
            ours = {
                (f.client_order_id, f.side.value, f.qty)
                for f in r.c.fills("bybit", sym)
                if f.client_order_id in mine
            }
            theirs = [
                f for f in r.truth.fills(r.truth.default_account()) if f.client_order_id in mine
            ]
    assert 2 == len(theirs) and 1 == len({f.trade_id for f in theirs})
    assert {(resting.client_order_id, "sell", QTY), (taker.client_order_id, "buy", QTY)} == ours
