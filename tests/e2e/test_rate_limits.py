"""Rate limits and the health breaker against the simulator, end to end.

* A Binance IP ban that another program on the same IP earned (418 with
  ``Retry-After``): our limiter refuses REST locally until the ban ends, those
  refusals are no venue failures, and orders go again once ``Retry-After`` ran out.
* Binance's order-count 429 (-1015, another program on the same account): the
  error names the code and message; it holds new orders, not the host (a cancel
  goes at once).
* Bybit 10006: the refused order is sent again at ``X-Bapi-Limit-Reset-Timestamp``.
* The breaker's scope: one market's market-data websockets refused do not refuse
  orders on another market whose REST host answers.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import urllib.parse
from decimal import Decimal

import attrs
import httpx
import pytest
import trio

from connector import (
    Connector,
    IpBanned,
    OrderOutcomeUnknown,
    OrderStatus,
    RateLimited,
    ServiceUnavailable,
    sim,
)
from connector.config import AccountConfig, Config, RiskConfig
from connector.health import BreakerState
from connector.model import ConnectionEvent, ConnectionStatus, Symbol
from connector.sim.accounts import DEFAULT_CREDENTIALS
from connector.sim.faults import FaultPlan
from tests.rig import PERP, first_bid, rig, venue_configs

SPOT = Symbol.parse("BTC-USDT-SPOT")
QTY = Decimal("0.01")
CASE_SECONDS = 60


async def _hammer_until_banned(url: str) -> float:
    """Another program on our IP: heavy book requests until the venue bans the IP
    (HTTP 418); returns the ban's ``Retry-After``."""
    async with httpx.AsyncClient() as client:
        for _ in range(200):
            reply = await client.get(
                url + "/fapi/v1/depth", params={"symbol": "BTCUSDT", "limit": 1000}
            )
            if reply.status_code == 418:
                return float(reply.headers["retry-after"])
    raise AssertionError("the simulator never banned the IP")


async def test_orders_resume_when_a_binance_ip_ban_ends_and_local_refusals_open_no_breaker() -> (
    None
):
    settings = {
        "binance": {"linear_weight_limit": 200, "strikes_before_ban": 1, "ban_seconds": 4.0}
    }
    with trio.fail_after(CASE_SECONDS):
        async with rig("binance", settings=settings) as r:
            price = (await first_bid(r.c, "binance") * Decimal("0.9")).quantize(Decimal("0.1"))
            ban = await _hammer_until_banned(r.run.urls["binance"]["linear.rest"])
            ends = trio.current_time() + ban
            # The venue's 418, then refusals of our own limiter (nothing sent).
            for _ in range(4):
                with pytest.raises(IpBanned):
                    await r.c.place_order("binance", PERP, "buy", "limit", QTY, price)
            health = r.c.statistics().health.venues
            binance = next(h for h in health if h.venue == "binance")
            assert (BreakerState.CLOSED, 0) == (binance.state, binance.consecutive_failures)

            await trio.sleep_until(ends + 0.2)
            order = await r.c.place_order("binance", PERP, "buy", "limit", QTY, price)
            assert OrderStatus.NEW == order.status


def _signed(secret: str, params: dict[str, str]) -> str:
    query = urllib.parse.urlencode(params)
    signature = hmac.new(secret.encode(), query.encode(), hashlib.sha256).hexdigest()
    return f"{query}&signature={signature}"


async def _fill_order_count(url: str, price: Decimal) -> None:
    """Another program on our account: new spot orders until the venue answers -1015."""
    keys = DEFAULT_CREDENTIALS["binance"]
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            params = {
                "symbol": "BTCUSDT",
                "side": "BUY",
                "type": "LIMIT",
                "timeInForce": "GTC",
                "quantity": "0.001",
                "price": str(price),
                "timestamp": str(int(time.time() * 1000)),
            }
            reply = await client.post(
                f"{url}/api/v3/order?{_signed(keys.secret, params)}",
                headers={"X-MBX-APIKEY": keys.api_key},
            )
            if reply.status_code == 429:
                assert -1015 == reply.json()["code"]
                return
    raise AssertionError("the simulator never refused an order with -1015")


async def test_binance_order_count_429_names_its_code_and_holds_new_orders_not_the_host() -> None:
    with trio.fail_after(CASE_SECONDS):
        async with rig("binance", symbol=SPOT) as r:
            bid = await first_bid(r.c, "binance", SPOT)
            price = (bid * Decimal("0.9")).quantize(Decimal("0.01"))
            resting = await r.c.place_order("binance", SPOT, "buy", "limit", QTY, price)
            await _fill_order_count(r.run.urls["binance"]["spot.rest"], price)

            with pytest.raises(RateLimited) as refused:
                await r.c.place_order("binance", SPOT, "buy", "limit", QTY, price)
            started = trio.current_time()
            canceled = await r.c.cancel_order("binance", SPOT, resting.client_order_id)
            took = trio.current_time() - started

    assert "-1015 Too many new orders" in str(refused.value)
    assert OrderStatus.CANCELED == canceled.status
    assert took < 0.5, f"the cancel waited {took:.2f} s behind the order-count limit"


async def test_bybit_10006_holds_the_order_until_the_venue_reset_time_then_places_it() -> None:
    reset = 3.0
    plan = FaultPlan().rest_rate_limited(
        1.0, retry_after=reset, path="/v5/order/create", venue="bybit", max_count=1
    )
    with trio.fail_after(CASE_SECONDS):
        async with rig("bybit", faults=plan) as r:
            price = (await first_bid(r.c, "bybit") * Decimal("0.9")).quantize(Decimal("0.1"))
            started = trio.current_time()
            order = await r.c.place_order("bybit", PERP, "buy", "limit", QTY, price)
            waited = trio.current_time() - started

    assert OrderStatus.NEW == order.status
    assert reset - 0.5 <= waited < reset + 2.0


@pytest.mark.slow  # about 35 s: the connector's start waits out the refused market
async def test_refused_market_data_sockets_of_one_market_refuse_no_orders_on_another() -> None:
    plan = FaultPlan().refuse_connections(CASE_SECONDS, venue="binance", market="linear")
    with trio.fail_after(CASE_SECONDS):
        async with sim.run(venues=("binance",), rate=50.0, faults=plan) as running:
            venues = venue_configs(running, "binance", SPOT)
            venues["binance"] = attrs.evolve(venues["binance"], symbols=(SPOT, PERP))
            config = Config(
                venues=venues, account=AccountConfig(reconcile_interval=60.0), risk=RiskConfig()
            )
            async with (
                Connector(config) as c,
                c.subscribe("connection.binance") as connections,
            ):
                refused = 0
                while refused < 3:
                    event = await connections.receive()
                    if (
                        isinstance(event, ConnectionEvent)
                        and "linear" in event.conn_id
                        and event.status is ConnectionStatus.DISCONNECTED
                    ):
                        refused += 1
                bid = await first_bid(c, "binance", SPOT)
                price = (bid * Decimal("0.9")).quantize(Decimal("0.01"))
                order = await c.place_order("binance", SPOT, "buy", "limit", QTY, price)
                health = next(h for h in c.statistics().health.venues if h.venue == "binance")

    assert OrderStatus.NEW == order.status
    assert BreakerState.CLOSED == health.state


@pytest.mark.parametrize(
    ("venue", "path", "code"),
    [
        ("binance", "/fapi/v1/order", None),
        ("bybit", "/v5/order/create", None),
        ("okx", "/api/v5/trade/order", None),
        ("bybit", "/v5/order/create", 10016),
        ("okx", "/api/v5/trade/order", 50001),
    ],
)
async def test_server_errors_in_answers_to_orders_open_the_breaker(
    venue: str, path: str, code: int | None
) -> None:
    # The order answers come back unread (the adapter reads their codes): a 5xx one, or
    # a server error Bybit and OKX say in an HTTP 200 (``code``), must still count as
    # the venue failing, not as an answer. Each lost order is queried before the next
    # is sent, as at a normal pace: the queries' answers do not clear the failures.
    plan = FaultPlan().rest_error(1.0, code=code, path=path, method="POST", max_count=3)
    with trio.fail_after(CASE_SECONDS):
        async with sim.run(venues=(venue,), rate=50.0, faults=plan) as running:
            config = Config(venues=venue_configs(running, venue), risk=RiskConfig())
            async with Connector(config) as c, c.subscribe(f"orderbook.{venue}.>") as ticks:
                price = (await first_bid(c, venue, PERP) * Decimal("0.9")).quantize(Decimal("0.1"))
                for _ in range(3):
                    queried = c.statistics().orders[venue].queries
                    with pytest.raises(
                        OrderOutcomeUnknown, match=None if code is None else str(code)
                    ):
                        await c.place_order(venue, PERP, "buy", "limit", QTY, price)
                    while c.statistics().orders[venue].queries == queried:
                        await ticks.receive()  # until the lost order was queried
                with pytest.raises(ServiceUnavailable, match="circuit breaker open"):
                    await c.place_order(venue, PERP, "buy", "limit", QTY, price)
                stats = c.statistics()
    health = next(h for h in stats.health.venues if h.venue == venue)
    assert BreakerState.OPEN == health.state
    # The order round-trip histogram times answers: a 5xx is none; an HTTP 200 is one,
    # whatever its code says.
    assert (0 if code is None else 3) == stats.latency.orders[venue]["place"].count
