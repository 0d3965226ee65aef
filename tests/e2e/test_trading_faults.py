"""Trading through every trading fault of the simulator, end to end, with one checker.

Each case runs ``tests.rig.rig`` (the simulator with one fault plan and a
``Connector`` trading one symbol on it), then :func:`scenario`: two limit buys
that rest, a market buy that fills, the first limit amended down, the second
canceled, all while the fault is active. Then :func:`check` must hold within
:data:`SETTLE` seconds; it is the same for every case:

* every order the venue holds for our account is known locally with the same
  status and filled quantity (OKX swap: contracts times ``ctVal``);
* no client order id appears twice at the venue (nothing was placed twice);
* no local order is ``unknown`` (every lost outcome was resolved);
* local fills have distinct trade ids, equal to the venue's fills of our orders;
* perpetuals: the position equals the venue's; balances (USDT, and BTC on spot)
  equal the venue's within Binance's 8-decimal wire precision.

The matrix is venue-market x fault kind (:data:`MARKETS` x :func:`applicable`);
the ``socket_*`` kinds and ``server_shutdown`` run with websocket order entry.
The default run takes a rotation (:data:`QUICK`): every fault kind once and
every venue-market at least once; the whole matrix is marked ``slow``.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Awaitable, Callable
from decimal import Decimal

import pytest
import trio

from connector import ConnectorError, OrderOutcomeUnknown, OrderStatus
from connector.model import Order, Symbol
from connector.sim.bybit.trade_wire import exec_id
from connector.sim.desk import UserFill
from connector.sim.faults import FaultPlan
from connector.sim.ws import ORDER_REPLIES
from tests.e2e.helpers import sim_instrument
from tests.rig import Rig, rig, until, until_order_sockets_ready

CASE_SECONDS = 45
"""Hard bound on one case (simulator start, scenario, settling)."""

SETTLE = 20.0
"""Bound on the check holding after the scenario (unknown outcomes resolve with
backoff; a reconciliation may be needed after a lost private frame)."""

QTY = Decimal("0.01")
WIRE = Decimal("1e-8")
"""Binance sends balances with 8 decimals; the simulator keeps 10."""

SPOT = Symbol.parse("BTC-USDT-SPOT")
PERP = Symbol.parse("BTC-USDT-PERP")

MARKETS = {
    "binance-spot": ("binance", SPOT),
    "binance-linear": ("binance", PERP),
    "bybit-spot": ("bybit", SPOT),
    "bybit-linear": ("bybit", PERP),
    "okx-spot": ("okx", SPOT),
    "okx-swap": ("okx", PERP),
}

ORDER_PATHS = {
    "binance-spot": "/api/v3/order",
    "binance-linear": "/fapi/v1/order",
    "bybit-spot": "/v5/order/",
    "bybit-linear": "/v5/order/",
    "okx-spot": "/api/v5/trade/",
    "okx-swap": "/api/v5/trade/",
}
"""Order entry (place, amend, cancel, query) of each venue-market: a path prefix."""

PRIVATE_STREAMS = {
    "binance": ("userData",),
    "bybit": ("order", "execution", "position", "wallet"),
    "okx": ("orders", "positions", "account"),
}

FRAME_KINDS = ("drop", "duplicate", "reorder", "delay", "disconnect", "stall")
ORDER_SOCKET_KINDS = ("socket_drop", "socket_duplicate", "socket_delay", "socket_disconnect")
"""Frame faults on the order replies of websocket order entry (the case runs with
``order_entry = "websocket"``): a reply lost (then the call's 10 s timeout), sent
twice, late, or lost with its socket."""
REST_KINDS = ("rest_error", "rest_error_after", "late_rest", "slow_rest", "rest_rate_limited")


def applicable(market: str) -> list[str]:
    """Every trading fault kind that applies to one venue-market."""
    kinds = [*REST_KINDS, *FRAME_KINDS, *ORDER_SOCKET_KINDS, "clock_skew"]
    if market == "binance-spot":
        kinds += ["stream_terminated", "server_shutdown"]
    if market == "binance-linear":
        kinds += ["listen_key_expired"]
    if market.startswith("okx-"):
        kinds += ["server_shutdown"]  # the 64008 service-upgrade notice, then the close
    if market.startswith("bybit-"):
        kinds += ["server_shutdown"]  # /v5/trade restarting: 10019, then the close
    return kinds


def plan_for(market: str, kind: str) -> FaultPlan:
    """One fault kind aimed at one venue-market's order entry or private streams."""
    venue, _ = MARKETS[market]
    path = ORDER_PATHS[market]
    plan = FaultPlan(seed=11)
    if kind == "rest_error":
        return plan.rest_error(0.5, status=503, path=path, venue=venue, max_count=3)
    if kind == "rest_error_after":
        return plan.rest_error_after(0.5, status=503, path=path, venue=venue, max_count=3)
    if kind == "late_rest":
        return plan.late_rest(0.5, 1.0, path=path, venue=venue, max_count=3)
    if kind == "slow_rest":
        return plan.slow_rest(0.5, 0.5, path=path, venue=venue, max_count=3)
    if kind == "rest_rate_limited":
        return plan.rest_rate_limited(0.5, retry_after=0.5, path=path, venue=venue, max_count=2)
    if kind == "clock_skew":
        return plan.clock_skew(1500, venue=venue)
    if kind == "stream_terminated":
        return plan.stream_terminated(at=(2.0,))
    if kind == "server_shutdown":
        return plan.server_shutdown(at=(2.0,), seconds=0.5, venue=venue)
    if kind == "listen_key_expired":
        return plan.listen_key_expired(at=(2.0,))
    if kind == "socket_drop":
        return plan.drop(0.5, venue=venue, stream=ORDER_REPLIES, max_count=1)
    if kind == "socket_duplicate":
        return plan.duplicate(0.5, venue=venue, stream=ORDER_REPLIES, max_count=3)
    if kind == "socket_delay":
        return plan.delay(0.5, 0.3, venue=venue, stream=ORDER_REPLIES, max_count=3)
    if kind == "socket_disconnect":
        return plan.disconnect(after_frames=2, venue=venue, stream=ORDER_REPLIES, max_count=1)
    for stream in PRIVATE_STREAMS[venue]:
        if kind == "drop":
            plan = plan.drop(0.5, venue=venue, stream=stream, max_count=2)
        elif kind == "duplicate":
            plan = plan.duplicate(0.5, venue=venue, stream=stream, max_count=3)
        elif kind == "reorder":
            plan = plan.reorder(0.5, venue=venue, stream=stream, max_count=3)
        elif kind == "delay":
            plan = plan.delay(0.5, 0.3, venue=venue, stream=stream, max_count=3)
        elif kind == "disconnect":
            plan = plan.disconnect(after_frames=2, venue=venue, stream=stream, max_count=1)
        elif kind == "stall":
            plan = plan.stall(1.0, after_frames=1, venue=venue, stream=stream, max_count=1)
        else:
            raise ValueError(f"no plan for fault kind {kind!r}")
    return plan


# -------------------------------------------------------------------- scenario


async def _step(errors: list[str], call: Callable[[], Awaitable[Order]]) -> str | None:
    """Run one order call; a lost outcome gives its client order id, and an error
    the fault may cause (a refusal, a rate limit, a lost answer) is noted."""
    try:
        order = await call()
    except OrderOutcomeUnknown as lost:
        errors.append(f"unknown: {lost}")
        return lost.client_order_id
    except ConnectorError as e:
        errors.append(f"{type(e).__name__}: {e}")
        return None
    return order.client_order_id


async def _settled(r: Rig, cid: str | None) -> bool:
    """Wait (bounded) until the order is past ``unknown``; whether it is open."""
    if cid is None:
        return False
    try:
        order = await r.c.orders.wait(cid, status=OrderStatus.NEW, timeout=SETTLE)
    except trio.TooSlowError:
        return False
    return not order.status.is_terminal


async def scenario(r: Rig, symbol: Symbol) -> list[str]:
    """Place two resting limit buys and a filling market buy, amend the first
    down, cancel the second; return the errors the fault caused."""
    c, venue = r.c, r.venue
    errors: list[str] = []
    bid = c.order_book(venue, symbol).best_bid()
    assert bid is not None
    far = bid.price * Decimal("0.9")
    first = await _step(errors, lambda: c.place_order(venue, symbol, "buy", "limit", 2 * QTY, far))
    second = await _step(
        errors, lambda: c.place_order(venue, symbol, "buy", "limit", QTY, far * Decimal("0.98"))
    )
    await _step(errors, lambda: c.place_order(venue, symbol, "buy", "market", QTY))
    if first is not None and await _settled(r, first):
        await _step(errors, lambda: c.amend_order(venue, symbol, first, qty=QTY))
    if second is not None and await _settled(r, second):
        await _step(errors, lambda: c.cancel_order(venue, symbol, second))
    return errors


# --------------------------------------------------------------------- checker


def wire_trade_id(venue: str, fill: UserFill) -> str:
    """The trade id the venue sends for a fill (Bybit's ``execId`` differs from its
    public trade id)."""
    return exec_id(fill.market, fill.trade_id) if venue == "bybit" else fill.trade_id


def problems(r: Rig, symbol: Symbol) -> list[str]:
    """Every difference between local state and the venue's truth (empty: none)."""
    inst = sim_instrument(r.venue, symbol)
    account = r.truth.default_account()
    at_venue = r.truth.orders(account, inst.market, inst.native_id)
    out: list[str] = []
    twice = [cid for cid, n in Counter(o.client_order_id for o in at_venue).items() if n > 1]
    if twice:
        out.append(f"placed twice at the venue: {twice}")
    for vo in at_venue:
        local = r.c.orders.get(vo.client_order_id)
        filled = vo.filled_qty * inst.contract_size
        if local is None:
            out.append(f"{vo.client_order_id}: at the venue ({vo.state}), not known locally")
        elif (local.status.value, local.filled_qty) != (vo.state.value, filled):
            out.append(
                f"{vo.client_order_id}: local {local.status} {local.filled_qty},"
                f" venue {vo.state} {filled}"
            )
    out += [
        f"{o.client_order_id}: still unknown"
        for o in r.c.orders.all()
        if o.status.value == "unknown"
    ]
    fills = r.c.fills(r.venue, symbol)
    ids = [f.trade_id for f in fills]
    if len(ids) != len(set(ids)):
        out.append(f"a fill counted twice: {sorted(ids)}")
    venue_ids = {
        wire_trade_id(r.venue, f) for f in r.truth.fills(account, inst.market, inst.native_id)
    }
    if set(ids) != venue_ids:
        out.append(f"fills: local {sorted(set(ids))}, venue {sorted(venue_ids)}")
    if symbol.kind is not SPOT.kind:
        truth = [(p.size, p.entry_price) for p in r.truth.positions(account) if p.size]
        held = r.c.positions.get(r.venue, symbol)
        local_pos = [] if held is None or held.qty == 0 else [(held.qty, held.avg_entry_price)]
        if local_pos != truth:
            out.append(f"position: local {local_pos}, venue {truth}")
    for asset in ("USDT", "BTC") if symbol.kind is SPOT.kind else ("USDT",):
        balance = r.c.balances.get(r.venue, asset)
        want = r.truth.balance(asset, account).total
        if balance is None or abs(balance.total - want) > WIRE:
            out.append(f"balance {asset}: local {balance and balance.total}, venue {want}")
    return out


async def run_case(market: str, kind: str) -> None:
    venue, symbol = MARKETS[market]
    plan = plan_for(market, kind)
    # The socket faults and the venues' notices of a close (which reach the order
    # sockets too; Bybit's is its trade service restarting) run with websocket entry.
    entry = "websocket" if kind in (*ORDER_SOCKET_KINDS, "server_shutdown") else "rest"
    with trio.fail_after(CASE_SECONDS):
        async with rig(venue, faults=plan, symbol=symbol, order_entry=entry) as r:
            if entry == "websocket":
                await until_order_sockets_ready(r)
            errors = await scenario(r, symbol)
            if kind in ("stream_terminated", "server_shutdown", "listen_key_expired"):
                # The session faults fire at a time: trade once more after it, priced
                # off a valid book (a venue's notice of a close replaces the market-data
                # socket too: its book resyncs on the new one).
                await until(r, lambda: bool(r.run.fault_log), seconds=10)
                await until(r, lambda: r.c.order_book(venue, symbol).valid, seconds=10)
                errors += await scenario(r, symbol)
            with contextlib.suppress(trio.TooSlowError):
                await until(r, lambda: not problems(r, symbol), seconds=SETTLE)
            found = problems(r, symbol)
            assert [] == found, f"{market} {kind}: {found} (errors: {errors})"
            fired = {f.kind for f in r.run.fault_log}
            assert plan.rules[0].kind in fired, f"{kind} never fired (errors: {errors})"


def _cases() -> list[tuple[str, str]]:
    return [(market, kind) for market in MARKETS for kind in applicable(market)]


def _quick() -> list[tuple[str, str]]:
    """Every fault kind once, each on the applicable venue-market used least so far
    (kinds that apply to fewer markets choose first)."""
    kinds = {k for m in MARKETS for k in applicable(m)}
    fits = {k: [m for m in MARKETS if k in applicable(m)] for k in kinds}
    load = dict.fromkeys(MARKETS, 0)
    out = []
    for kind in sorted(kinds, key=lambda k: (len(fits[k]), k)):
        market = min(fits[kind], key=lambda m: load[m])
        load[market] += 1
        out.append((market, kind))
    return out


QUICK = _quick()


@pytest.mark.parametrize(("market", "kind"), QUICK, ids=[f"{m}-{k}" for m, k in QUICK])
async def test_trading_through_a_fault_ends_as_the_venue_knows_it(market: str, kind: str) -> None:
    await run_case(market, kind)


SLOW = [case for case in _cases() if case not in QUICK]


@pytest.mark.slow
@pytest.mark.parametrize(("market", "kind"), SLOW, ids=[f"{m}-{k}" for m, k in SLOW])
async def test_the_whole_trading_fault_matrix(market: str, kind: str) -> None:
    await run_case(market, kind)


def test_the_quick_rotation_covers_every_kind_and_every_market() -> None:
    assert {k for _, k in QUICK} == {k for m in MARKETS for k in applicable(m)}
    assert {m for m, _ in QUICK} == set(MARKETS)
    assert set(QUICK) <= set(_cases())
