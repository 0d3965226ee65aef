"""The venue's truth over the wire: ``GET /_sim/truth``, :class:`TruthSnapshot`, the first line."""

from __future__ import annotations

import json
import socket
from decimal import Decimal

import attrs
import httpx
import pytest
import trio

from connector.config import load_config
from connector.errors import ConnectionLost, MalformedMessage, RemoteError
from connector.model import OrderType, Side
from connector.sim import (
    AccountSpec,
    FaultPlan,
    SimRun,
    Truth,
    TruthSnapshot,
    fetch_truth,
    line_environment,
    run,
    serve_standalone,
)
from connector.sim.accounts import Balance, Credentials, Position, default_accounts
from connector.sim.desk import UserOrder
from connector.sim.instruments import default_instruments
from connector.sim.server import VenueServer
from connector.sim.truth import TRUTH_PATH

D = Decimal
TIMEOUT = 20
BTC = default_instruments(["binance", "okx"], ["BTC"])
ALICE = AccountSpec(
    account_id="alice",
    venue="binance",
    credentials=Credentials(api_key="alice-key", secret="alice-secret"),
    balances={"USDT": D(5000), "BTC": D(1)},
)


def _trade(s: SimRun) -> None:
    """Orders of two accounts on both Binance markets: resting, filled, cancelled."""
    venue = s.venue("binance")
    desk = venue.desk
    for account, market in (("binance-demo", "linear"), ("alice", "spot"), ("alice", "linear")):
        engine = venue.book(market, "BTCUSDT").engine
        ask, bid = engine.best_ask(), engine.best_bid()
        assert ask is not None and bid is not None
        taken = desk.place(
            account, market, "BTCUSDT", side=Side.BUY, type=OrderType.MARKET, qty=D("0.01"),
            client_order_id=f"{account}-{market}-taker", now_ms=venue.now_ms(),
        )  # fmt: skip
        resting = desk.place(
            account, market, "BTCUSDT", side=Side.BUY, type=OrderType.LIMIT, qty=D("0.01"),
            price=(bid.price * D("0.95")).quantize(D("0.1")),
            client_order_id=f"{account}-{market}-rest", now_ms=venue.now_ms(),
        )  # fmt: skip
        gone = desk.place(
            account, market, "BTCUSDT", side=Side.SELL, type=OrderType.LIMIT, qty=D("0.01"),
            price=(ask.price * D("1.05")).quantize(D("0.1")), now_ms=venue.now_ms(),
        )  # fmt: skip
        assert isinstance(taken, UserOrder) and isinstance(resting, UserOrder)
        assert isinstance(gone, UserOrder)
        desk.cancel(account, market, "BTCUSDT", order_id=gone.order_id, now_ms=venue.now_ms())


def _endpoints(s: SimRun, venue: str) -> list[VenueServer]:
    servers = getattr(s.frontends[venue], "servers")  # noqa: B009 (not in the Frontend protocol)
    return list({id(server): server for server in servers.values()}.values())


def _queries(t: Truth | TruthSnapshot) -> list[object]:
    """Every query of the truth API, over the arguments that select differently."""
    out: list[object] = [t.venue, t.accounts(), t.default_account()]
    for account in (None, "binance-demo", "alice"):
        for market in (None, "spot", "linear", "swap"):
            out += [t.orders(account, market), t.open_orders(account, market, "BTCUSDT")]
            out += [t.fills(account, market, "BTCUSDT")]
        out += [t.balances(account), t.balance("USDT", account), t.balance("DOGE", account)]
        out += [t.positions(account)]
        out += [t.order(account, client_order_id="alice-spot-rest")]
    first = t.orders()[0]
    out += [t.order(order_id=first.order_id), t.fills(order_id=first.order_id)]
    return out


async def test_a_snapshot_read_back_from_json_answers_every_query_as_the_live_truth() -> None:
    with trio.fail_after(TIMEOUT):
        async with run(
            venues=("binance",),
            instruments=BTC,
            rate=20,
            paused=True,
            accounts=[*default_accounts(), ALICE],
        ) as s:
            _trade(s)
            truth = s.truth("binance")
            snapshot = TruthSnapshot.from_json(truth.to_json())
            live = _queries(truth)
            document = truth.document()
            marks = {m: truth.mark_price(m, "BTCUSDT") for m in ("spot", "linear", "swap")}

    assert document == snapshot.document
    assert live == _queries(snapshot)
    assert marks == {m: snapshot.mark_price(m, "BTCUSDT") for m in marks}
    # What was traded is in it: fills of both accounts, a position, a cancelled order.
    assert {"binance-demo", "alice"} == {f.account for f in snapshot.fills()}
    assert snapshot.positions("alice") and snapshot.positions()
    assert ["canceled"] * 3 == [o.state.value for o in snapshot.orders() if o.cancel_cause]
    with pytest.raises(KeyError):
        snapshot.orders("bob")
    with pytest.raises(KeyError):
        snapshot.mark_price("linear", "ETHUSDT")


def test_the_json_names_every_field_of_the_desk_types_with_decimals_as_strings() -> None:
    balance = Balance(asset="USDT", total=D("100.50"), held=D("1.5"))
    position = Position(symbol="BTCUSDT", settle="USDT", size=D("-0.010"), entry_price=D("60000.1"))
    raw = json.loads(
        TruthSnapshot.from_json(
            json.dumps(
                {
                    "venue": "okx",
                    "default_account": "okx-demo",
                    "accounts": {
                        "okx-demo": {
                            "orders": [],
                            "fills": [],
                            "balances": [attrs.asdict(balance)],
                            "positions": [attrs.asdict(position)],
                        }
                    },
                    "marks": {"swap": {"BTC-USDT-SWAP": "60000.5"}},
                },
                default=str,
            )
        ).to_json()
    )
    account = raw["accounts"]["okx-demo"]
    assert {"100.50", "1.5", "0"} == set(account["balances"][0].values()) - {"USDT"}
    assert "-0.010" == account["positions"][0]["size"]
    assert {a.name for a in attrs.fields(Position)} == set(account["positions"][0])
    snapshot = TruthSnapshot.from_json(json.dumps(raw))
    assert (balance,) == snapshot.balances()
    assert (position,) == snapshot.positions()
    assert D("60000.5") == snapshot.mark_price("linear", "BTC-USDT-SWAP")


@pytest.mark.parametrize(
    "body",
    [b"{}", b"[1]", b'{"venue": "okx", "default_account": null, "accounts": {}, "marks": 3}'],
)
def test_a_body_that_is_not_a_truth_is_refused(body: bytes) -> None:
    with pytest.raises(MalformedMessage):
        TruthSnapshot.from_json(body)


async def test_every_rest_port_serves_the_truth_unsigned_past_faults_and_limits() -> None:
    # Every venue request fails; the simulator's own view still answers.
    plan = FaultPlan().rest_error(1.0, status=503)
    with trio.fail_after(TIMEOUT):
        async with run(
            venues=("binance", "okx"),
            instruments=BTC,
            rate=20,
            paused=True,
            faults=plan,
            accounts=[*default_accounts(), ALICE],
        ) as s:
            _trade(s)
            expected = s.truth("binance").document()
            async with httpx.AsyncClient() as client:
                bodies = [
                    (await client.get(s.urls["binance"][f"{m}.rest"] + TRUTH_PATH)).content
                    for m in ("spot", "linear")
                ]
                venue_api = await client.get(s.urls["binance"]["spot.rest"] + "/api/v3/ping")
                post = await client.post(s.urls["binance"]["spot.rest"] + TRUTH_PATH)
            fetched = await fetch_truth(s.truth_urls["binance"])
            okx = await fetch_truth(s.truth_urls["okx"])
            requests = sum(server.statistics().requests for server in _endpoints(s, "binance"))

    assert 503 == venue_api.status_code
    assert [expected, expected] == [TruthSnapshot.from_json(b).document for b in bodies]
    assert expected == fetched.document
    assert ("okx-demo",) == okx.accounts() and [] == okx.orders()
    assert 503 == post.status_code  # read-only: a POST is the venue's (failing) API
    assert 2 == requests  # the ping and the POST; the truth is not a venue request
    assert {"binance", "okx"} == set(s.truth_urls)
    assert s.truth_urls["binance"] == s.urls["binance"]["spot.rest"] + TRUTH_PATH


async def test_fetch_truth_names_a_url_that_is_not_a_truth() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}{TRUTH_PATH}"
    with trio.fail_after(TIMEOUT):
        async with run(venues=("okx",), instruments=BTC, rate=20, paused=True) as s:
            with pytest.raises(RemoteError, match="404"):
                await fetch_truth(s.urls["okx"]["spot.rest"] + "/_sim/nothing")
        with pytest.raises(ConnectionLost):
            await fetch_truth(closed)


async def test_the_first_line_names_the_truth_and_gives_the_run_environment() -> None:
    lines: list[str] = []
    with trio.fail_after(TIMEOUT):
        async with run(venues=("binance", "okx"), instruments=BTC, rate=20) as s:
            inside = s.environment()
            first = json.loads(json.dumps(s.first_line()))
        async with trio.open_nursery() as nursery:
            await nursery.start(
                lambda task_status: serve_standalone(
                    ["--venues", "okx", "--bases", "BTC", "--rate", "20"],
                    out=lines.append,
                    task_status=task_status,
                )
            )
            standalone = json.loads(lines[0])
            fetched = await fetch_truth(standalone["truth"]["okx"])
            nursery.cancel_scope.cancel()

    assert s.truth_urls == first["truth"]
    assert inside == line_environment(first)
    assert {k: v for k, v in inside.items() if "OKX" in k} == line_environment(first, ["okx"])
    off = {"CONNECTOR_VENUES__BYBIT__ENABLED": "false"}
    config = load_config(None, env={**line_environment(first), **off})
    assert first["okx"]["swap.rest"] == config.venues["okx"].urls["swap.rest"]
    creds = config.venues["okx"].credentials
    assert creds is not None and first["okx"]["credentials"]["passphrase"] == creds.passphrase
    assert ["okx", "truth"] == list(standalone)
    assert standalone["truth"]["okx"] == standalone["okx"]["spot.rest"] + TRUTH_PATH
    assert "okx" == fetched.venue and ("okx-demo",) == fetched.accounts()
    with pytest.raises(KeyError):
        line_environment(first, ["truth"])


async def test_the_truth_path_is_outside_every_venue_api() -> None:
    with trio.fail_after(TIMEOUT):
        async with run(rate=20, paused=True) as s:
            routes = {
                venue: {
                    path for server in _endpoints(s, venue) for _, path in server.router._routes
                }
                for venue in s.frontends
            }
    for venue, paths in routes.items():
        assert len(paths) > 10, venue
        assert [] == [p for p in paths if p.startswith("/_sim")], venue
