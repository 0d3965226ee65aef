"""Websocket order entry (``order_entry = "websocket"``: Bybit ``/v5/trade``, OKX's order
ops on ``/ws/v5/private``) through the public API, against the simulator's order
sockets and their faults: an order whose reply
was lost with the socket is found by its client order id and never sent twice; while
the socket is down orders go over REST; once it is back they go on it again."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
import trio

from connector import IpBanned, OrderOutcomeUnknown, OrderRejected, OrderStatus
from connector.model import Symbol
from connector.oms.order_socket import OrderSocketStatistics
from connector.sim.faults import FaultKind, FaultPlan
from connector.sim.ws import ORDER_REPLIES as STREAM
from tests.rig import PERP, Rig, rig, until_order_sockets_ready

SPOT = Symbol.parse("BTC-USDT-SPOT")

TIMEOUT = 30
QTY = Decimal("0.01")


VENUES = ("binance", "bybit", "okx")


def _socket(r: Rig) -> OrderSocketStatistics:
    (found,) = r.c.statistics().orders[r.venue].order_sockets.values()
    return found


@pytest.mark.parametrize("venue", VENUES)
async def test_a_reply_lost_with_the_socket_resolves_by_query_and_orders_fall_back_to_rest(
    venue: str,
) -> None:
    # The venue places the order, then the reply is dropped and the socket closed.
    plan = (
        FaultPlan()
        .drop(1.0, venue=venue, stream=STREAM, max_count=1)
        .disconnect(after_frames=1, venue=venue, stream=STREAM, max_count=1)
    )
    with trio.fail_after(TIMEOUT):
        async with rig(venue, faults=plan, order_entry="websocket") as r:
            await until_order_sockets_ready(r)
            bid = r.c.order_book(venue, PERP).best_bid()
            assert bid is not None
            price = bid.price * Decimal("0.9")
            with pytest.raises(OrderOutcomeUnknown) as lost:
                await r.c.place_order(venue, PERP, "buy", "limit", QTY, price)
            cid = lost.value.client_order_id

            # The socket is down: the next order goes over REST, at once.
            over_rest = await r.c.place_order(venue, PERP, "buy", "limit", QTY, price)
            assert OrderStatus.NEW == over_rest.status
            assert 1 == _socket(r).fallbacks

            resolved = await r.c.orders.wait(cid, status=OrderStatus.NEW, timeout=10)

            # Back and logged in again: orders go on the socket.
            await until_order_sockets_ready(r)
            sent = _socket(r).sent
            canceled = await r.c.cancel_order(venue, PERP, over_rest.client_order_id)
            assert OrderStatus.CANCELED == canceled.status
            assert sent + 1 == _socket(r).sent
            at_venue = [o for o in r.truth.orders() if o.client_order_id == cid]
            await r.c.cancel_all(venue)
            statistics = _socket(r)

    assert [FaultKind.DROP, FaultKind.DISCONNECT] == [f.kind for f in r.run.fault_log]
    assert OrderStatus.NEW == resolved.status
    assert 1 == len(at_venue)  # placed once, never resent
    assert resolved.venue_order_id == at_venue[0].order_id
    assert 2 == statistics.logins
    assert 1 == statistics.rpc.lost


@pytest.mark.parametrize("venue", VENUES)
async def test_a_refusal_on_the_socket_carries_the_venues_code(venue: str) -> None:
    with trio.fail_after(TIMEOUT):
        async with rig(venue, order_entry="websocket") as r:
            await until_order_sockets_ready(r)
            ask = r.c.order_book(venue, PERP).best_ask()
            assert ask is not None
            # A reduce-only buy with no position: the venue refuses it.
            with pytest.raises(OrderRejected) as refused:
                await r.c.place_order(
                    venue, PERP, "buy", "limit", QTY, ask.price * Decimal("0.9"),
                    reduce_only=True,
                )  # fmt: skip
            order = r.c.orders.get(refused.value.client_order_id)
            sent = _socket(r).sent

    assert refused.value.code
    assert order is not None and OrderStatus.REJECTED == order.status
    assert 1 == sent


async def test_a_reply_that_never_comes_times_out_and_the_order_is_found_by_query() -> None:
    # The venue places the order; its reply is dropped and the socket stays up: the
    # call gives up after the venue's request_timeout, and the order is queried.
    plan = FaultPlan().drop(1.0, venue="okx", stream=STREAM, max_count=1)
    with trio.fail_after(TIMEOUT):
        async with rig("okx", faults=plan, order_entry="websocket", request_timeout=2.0) as r:
            await until_order_sockets_ready(r)
            bid = r.c.order_book("okx", PERP).best_bid()
            assert bid is not None
            with pytest.raises(OrderOutcomeUnknown) as lost:
                await r.c.place_order("okx", PERP, "buy", "limit", QTY, bid.price * Decimal("0.9"))
            cid = lost.value.client_order_id
            resolved = await r.c.orders.wait(cid, status=OrderStatus.NEW, timeout=10)
            at_venue = [o for o in r.truth.orders() if o.client_order_id == cid]
            await r.c.cancel_all("okx")
            statistics = _socket(r)

    assert "no reply in time" in str(lost.value)
    assert OrderStatus.NEW == resolved.status
    assert 1 == len(at_venue)  # placed once, never resent
    assert (1, 0, 1) == (statistics.rpc.timeouts, statistics.rpc.lost, statistics.logins)


@pytest.mark.parametrize(
    ("symbol", "market", "depth_path"),
    [(SPOT, "spot", "/api/v3/depth"), (PERP, "linear", "/fapi/v1/depth")],
    ids=["spot", "usdm"],
)
async def test_an_ip_ban_said_on_the_socket_holds_rest_and_the_socket_alike(
    symbol: Symbol, market: str, depth_path: str
) -> None:
    # Binance's WebSocket APIs share the IP's request weight with REST (spot
    # web-socket-api.md "IP limits", USDⓈ-M websocket-api-general-info): another
    # program on the same IP gets it banned; the order socket's 418 reply bans the
    # REST host's limiter as a REST answer would, and no order goes on the socket
    # until the ban ends.
    window, ban = 2.0, 2.0
    settings = {
        "binance": {
            f"{market}_weight_limit": 400,
            "weight_window": window,
            "strikes_before_ban": 1,
            "ban_seconds": ban,
        }
    }
    with trio.fail_after(TIMEOUT):
        async with rig("binance", symbol=symbol, order_entry="websocket", settings=settings) as r:
            await until_order_sockets_ready(r)
            rest = r.run.urls["binance"][f"{market}.rest"].rstrip("/")
            bid = r.c.order_book("binance", symbol).best_bid()
            assert bid is not None
            price = bid.price * Decimal("0.9")
            depth = {"symbol": "BTCUSDT", "limit": 1000}  # weight 50 (spot), 20 (USDⓈ-M)
            async with httpx.AsyncClient() as other:  # another program on the same IP
                await trio.sleep_until((trio.current_time() // window + 1) * window + 0.05)
                while (await other.get(rest + depth_path, params=depth)).status_code != 418:
                    pass
            with pytest.raises(IpBanned):
                await r.c.place_order("binance", symbol, "buy", "limit", QTY, price)
            banned = r.c.statistics().venues["binance"].limiters[rest].banned_until
            sent = _socket(r).sent
            with pytest.raises(IpBanned):  # held here: not sent
                await r.c.place_order("binance", symbol, "buy", "limit", QTY, price)
            held = _socket(r).sent
            assert banned is not None
            await trio.sleep_until(banned + 0.1)
            placed = await r.c.place_order("binance", symbol, "buy", "limit", QTY, price)
            after = _socket(r).sent
            await r.c.cancel_all("binance")

    assert 1 == sent == held  # the refused order went out; during the ban nothing did
    assert OrderStatus.NEW == placed.status
    assert held + 1 == after  # after the ban, on the socket again


@pytest.mark.parametrize(
    ("venue", "symbol"),
    [("binance", PERP), ("binance", SPOT), ("okx", PERP), ("bybit", PERP)],
    ids=["binance-usdm", "binance-spot", "okx", "bybit"],
)
async def test_a_socket_the_venue_will_close_is_replaced_before_it_closes(
    venue: str, symbol: Symbol
) -> None:
    # Binance's serverShutdown ("establish a new connection as soon as possible",
    # web-socket-api.md "Server Shutdown"), OKX's 64008 notice ("Please reconnect"),
    # Bybit's trade service restarting (10019 to new requests: "You can build new
    # connection"): no new order goes on that socket, and once its requests are
    # answered it is replaced, before the venue closes it.
    close_after = 4.0
    plan = FaultPlan().server_shutdown(at=(3.0,), seconds=close_after, venue=venue)
    placed: list[str] = []
    lost: list[str] = []
    with trio.fail_after(TIMEOUT):
        async with rig(venue, faults=plan, symbol=symbol, order_entry="websocket") as r:
            await until_order_sockets_ready(r)
            bid = r.c.order_book(venue, symbol).best_bid()
            assert bid is not None
            price = bid.price * Decimal("0.9")

            async def place() -> None:
                try:
                    order = await r.c.place_order(venue, symbol, "buy", "limit", QTY, price)
                except OrderOutcomeUnknown as unknown:  # Bybit's 10019: not taken
                    lost.append(unknown.client_order_id)
                else:
                    assert OrderStatus.NEW == order.status
                    placed.append(order.client_order_id)
                await trio.sleep(0.1)

            while not r.run.fault_log:
                await place()
            noticed = trio.current_time()
            while _socket(r).logins < 2 or not _socket(r).ready:
                await place()
            renewed = trio.current_time() - noticed
            sent = _socket(r).sent
            await place()
            on_new_socket = _socket(r).sent - sent
            ended = [await r.c.orders.wait(cid, timeout=10) for cid in lost]
            at_venue = [o.client_order_id for o in r.truth.orders()]
            await r.c.cancel_all(venue)
            statistics = _socket(r)

    assert renewed < close_after
    assert 1 == on_new_socket
    assert sorted(placed) == sorted(c for c in at_venue if c in placed)  # each once
    assert not set(lost) & set(at_venue)
    assert all(o.status.is_terminal for o in ended)
    assert len(lost) <= (1 if venue == "bybit" else 0)
    assert 0 == statistics.rpc.lost
