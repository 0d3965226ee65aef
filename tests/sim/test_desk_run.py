"""The desk inside a running simulator: accounts, the first JSON line, truth, the live flow."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
import trio

from connector import Connector
from connector.cli import main
from connector.config import Config, VenueConfig, load_config
from connector.model import OrderType, Side, Symbol
from connector.sim import AccountSpec, Truth, run, serve_standalone
from connector.sim.accounts import DEFAULT_CREDENTIALS, Credentials, default_accounts
from connector.sim.desk import OrderState, UserOrder
from connector.sim.instruments import default_instruments

D = Decimal
TIMEOUT = 20
BTC_ONLY = default_instruments(["binance"], ["BTC"])
ALICE = AccountSpec(
    account_id="alice",
    venue="binance",
    credentials=Credentials(api_key="alice-key", secret="alice-secret"),
    balances={"USDT": D(500)},
)


async def test_first_json_line_carries_urls_route_keys_and_credentials() -> None:
    lines: list[str] = []
    with trio.fail_after(TIMEOUT):
        async with trio.open_nursery() as nursery:
            urls = await nursery.start(
                lambda task_status: serve_standalone(
                    ["--venues", "binance,okx", "--bases", "BTC", "--rate", "20"],
                    out=lines.append,
                    task_status=task_status,
                )
            )
            nursery.cancel_scope.cancel()
    first = json.loads(lines[0])
    binance, okx = first["binance"], first["okx"]
    assert urls["binance"].items() <= binance.items()
    assert binance["linear.ws.public"] == binance["linear.ws"].rstrip("/") + "/public"
    assert binance["linear.ws.market"] == binance["linear.ws"].rstrip("/") + "/market"
    demo = DEFAULT_CREDENTIALS["binance"]
    assert {"api_key": demo.api_key, "api_secret": demo.secret} == binance["credentials"]
    assert DEFAULT_CREDENTIALS["okx"].passphrase == okx["credentials"]["passphrase"]


async def test_run_environment_configures_a_connector_against_the_run() -> None:
    with trio.fail_after(TIMEOUT):
        async with run(venues=("binance",), instruments=BTC_ONLY, rate=20) as s:
            env = s.environment()
    config = load_config(None, env={**env, "CONNECTOR_VENUES__BYBIT__ENABLED": "false",
                                    "CONNECTOR_VENUES__OKX__ENABLED": "false"})  # fmt: skip
    binance = config.venues["binance"]
    assert "custom" == binance.endpoint
    assert s.urls["binance"]["spot.rest"] == binance.urls["spot.rest"]
    assert binance.credentials is not None
    assert DEFAULT_CREDENTIALS["binance"].api_key == binance.credentials.api_key


async def test_run_takes_more_accounts_and_truth_shows_them() -> None:
    with trio.fail_after(TIMEOUT):
        async with run(
            venues=("binance",),
            instruments=BTC_ONLY,
            rate=20,
            paused=True,
            accounts=[*default_accounts(), ALICE],
        ) as s:
            desk = s.venue("binance").desk
            truth = s.truth("binance")
            order = desk.place(
                "alice", "spot", "BTCUSDT", side=Side.BUY, type=OrderType.MARKET,
                qty=D("0.001"), now_ms=s.venue("binance").now_ms(),
            )  # fmt: skip
    assert isinstance(truth, Truth) and isinstance(order, UserOrder)
    assert ("binance-demo", "alice") == truth.accounts()
    assert "binance-demo" == truth.default_account()
    assert [order] == truth.orders() == truth.orders("alice")
    assert [] == truth.open_orders()
    assert truth.fills("alice") == truth.fills()
    assert D(500) - order.cum_quote == truth.balance("USDT", "alice").total
    assert D(100_000) == truth.balance("USDT").total
    assert "alice" == desk.account_for_key("alice-key")
    assert s.credentials("binance", "alice") == ALICE.credentials


async def test_user_order_at_the_touch_fills_in_seconds_of_the_running_flow(
    autojump_clock: trio.abc.Clock,
) -> None:
    with trio.fail_after(60):  # virtual seconds: the autojump clock skips idle time
        async with run(venues=("binance",), instruments=BTC_ONLY) as s:
            venue = s.venue("binance")
            engine = venue.book("spot", "BTCUSDT").engine
            bid, ask = engine.best_bid(), engine.best_ask()
            assert bid is not None and ask is not None
            near = venue.desk.place(
                "binance-demo", "spot", "BTCUSDT", side=Side.BUY, type=OrderType.LIMIT,
                qty=D("0.001"), price=bid.price, now_ms=venue.now_ms(),
            )  # fmt: skip
            far = venue.desk.place(
                "binance-demo", "spot", "BTCUSDT", side=Side.SELL, type=OrderType.LIMIT,
                qty=D("0.001"), price=(ask.price * D("1.05")).quantize(D("0.01")),
                now_ms=venue.now_ms(),
            )  # fmt: skip
            assert isinstance(near, UserOrder) and isinstance(far, UserOrder)
            truth = s.truth("binance")
            waited = 0
            while waited < 5:
                await trio.sleep(0.5)
                waited += 1
                found = truth.order(order_id=near.order_id)
                if found is not None and found.state is OrderState.FILLED:
                    break
            assert found is not None and OrderState.FILLED == found.state
            await trio.sleep(10)
            still = truth.order(order_id=far.order_id)
            assert still is not None and OrderState.NEW == still.state


async def test_connector_on_the_sim_uses_the_demo_credentials_and_exposes_truth() -> None:
    config = Config(
        venues={
            "binance": VenueConfig(
                name="binance",
                endpoint="sim",
                symbols=(Symbol.parse("BTC-USDT-SPOT"),),
                channels=("trades",),
            )
        }
    )
    connector = Connector(config)
    creds = connector.config.venues["binance"].credentials
    assert creds is not None and DEFAULT_CREDENTIALS["binance"].api_key == creds.api_key
    assert DEFAULT_CREDENTIALS["binance"].secret == creds.api_secret
    service = connector.simulator
    assert service is not None and service.running is None
    with trio.fail_after(TIMEOUT):
        async with connector:
            assert service.running is not None
            truth = service.truth("binance")
            assert D(100_000) == truth.balance("USDT").total
    assert service.running is None


def test_cli_refuses_a_bad_accounts_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "accounts.toml"
    bad.write_text('[[accounts]]\nid = "x"\nvenue = "kraken"\napi_key = "k"\n', encoding="utf-8")

    code = main(["sim", "--venues", "binance", "--accounts", str(bad)])

    assert 2 == code
    assert "kraken" in capsys.readouterr().err
