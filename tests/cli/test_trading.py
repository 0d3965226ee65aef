"""The trading commands against one standalone ``connector sim`` process.

The simulator runs in its own process (its first JSON line gives the URLs and
the demo credentials), so its orders outlive each command: one command places,
the next lists, amends, cancels or kills, as a user's shell session would.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connector.cli import main

PROCESS_TIMEOUT = 60
VENUES = ("binance", "bybit", "okx")
SYMBOL = "BTC-USDT-PERP"
FAR_ASK = "90000"
"""A sell price far above the simulated BTC mid (about 60000): the order rests."""


@contextlib.contextmanager
def standalone_sim(*extra: str) -> Iterator[dict[str, Any]]:
    """A ``connector sim`` process (BTC instruments); yields its first line.

    Its Binance per-IP request weights are lifted: the commands of a module's tests
    are as many separate clients, each reading instruments, a book and the account,
    and on a fast run they would spend one IP's 2,400 a minute between them."""
    lifted = [f"binance.{market}_weight_limit=100000000" for market in ("spot", "linear")]
    settings = [arg for setting in lifted for arg in ("--setting", setting)]
    command = [sys.executable, "-m", "connector", "sim", "--rate", "20", "--bases", "BTC"]
    proc = subprocess.Popen(
        [*command, *settings, *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    watchdog = threading.Timer(600, proc.kill)
    watchdog.start()
    try:
        assert proc.stdout is not None
        yield json.loads(proc.stdout.readline())
    finally:
        watchdog.cancel()
        proc.kill()
        proc.wait()


def write_config(folder: Path, line: dict[str, Any], venues: Sequence[str]) -> Path:
    """A config whose ``venues`` point at the simulator of ``line``, with its demo keys."""
    main_file, secrets = ['secrets_file = "secrets.toml"\n'], []
    for venue in venues:
        entry = dict(line[venue])
        credentials = entry.pop("credentials")
        main_file.append(
            f'[venues.{venue}]\nendpoint = "custom"\nsymbols = ["{SYMBOL}"]\n'
            'channels = ["book"]\n'
            f"[venues.{venue}.urls]\n"
            + "".join(f'"{key}" = "{url}"\n' for key, url in entry.items())
        )
        secrets.append(f"[{venue}]\n" + "".join(f'{k} = "{v}"\n' for k, v in credentials.items()))
    (folder / "secrets.toml").write_text("\n".join(secrets), encoding="utf-8")
    path = folder / "connector.toml"
    path.write_text("\n".join(main_file), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def sim_line() -> Iterator[dict[str, Any]]:
    """The first line of a standalone simulator running for the module's tests."""
    with standalone_sim() as line:
        yield line


@pytest.fixture(scope="module")
def config(sim_line: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A config whose venues point at the module's simulator."""
    return write_config(tmp_path_factory.mktemp("cli-trading"), sim_line, VENUES)


def test_first_line_names_each_private_stream_at_the_venues_path(sim_line: dict[str, Any]) -> None:
    assert sim_line["binance"]["linear.ws.private"].endswith("/private")
    for market in ("spot", "linear"):
        bybit = sim_line["bybit"]
        assert bybit[f"{market}.ws.private"] == bybit[f"{market}.ws"] + "/v5/private"
    for market in ("spot", "swap"):
        okx = sim_line["okx"]
        assert okx[f"{market}.ws.private"] == okx[f"{market}.ws"] + "/ws/v5/private"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main([*argv, "--timeout", str(PROCESS_TIMEOUT)])
    out, err = capsys.readouterr()
    return code, out, err


def _lines(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def _client_id() -> str:
    return "cli" + uuid.uuid4().hex[:16]


@pytest.mark.parametrize("venue", VENUES)
def test_place_list_amend_cancel_across_commands(
    venue: str, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = ("-c", str(config))
    cid = _client_id()

    code, out, err = _run(
        capsys, "order", "place", venue, SYMBOL, "sell", "limit", "0.01", FAR_ASK,
        "--client-id", cid, "--json", *cfg,
    )  # fmt: skip
    assert 0 == code, err
    [placed] = _lines(out)
    assert (placed["client_order_id"], placed["status"]) == (cid, "new")

    code, out, err = _run(capsys, "orders", "--venue", venue, *cfg)
    assert 0 == code, err
    [row] = [line for line in out.splitlines() if cid in line]
    assert row.split() == [venue, SYMBOL, cid, "sell", "limit", "0.01", FAR_ASK, "0", "new"]

    code, out, err = _run(capsys, "order", "amend", venue, SYMBOL, cid, "--price", "91000", *cfg)
    assert 0 == code, err
    assert "91000" in next(line for line in out.splitlines() if cid in line)

    code, out, err = _run(capsys, "orders", "--json", *cfg)
    assert 0 == code, err
    [listed] = [o for o in _lines(out) if o["client_order_id"] == cid]
    assert (Decimal(str(listed["price"])), listed["status"]) == (Decimal(91000), "new")

    code, out, err = _run(capsys, "order", "cancel", venue, SYMBOL, cid, "--json", *cfg)
    assert 0 == code, err
    assert "canceled" == _lines(out)[0]["status"]

    code, out, err = _run(capsys, "orders", "--venue", venue, "--json", *cfg)
    assert 0 == code, err
    assert cid not in out


def test_kill_cancels_the_open_orders_of_every_venue_and_prints_them(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = ("-c", str(config))
    ids = {}
    for venue in VENUES:
        ids[venue] = _client_id()
        code, _, err = _run(
            capsys, "order", "place", venue, SYMBOL, "sell", "limit", "0.01", "95000",
            "--client-id", ids[venue], *cfg,
        )  # fmt: skip
        assert 0 == code, err

    code, out, err = _run(capsys, "kill", "test over", "--json", *cfg)

    assert 0 == code, err
    canceled = {(o["venue"], o["client_order_id"]): o["status"] for o in _lines(out)}
    for venue, cid in ids.items():
        assert "canceled" == canceled[venue, cid]
    code, out, err = _run(capsys, "orders", "--json", *cfg)
    assert (0, []) == (code, _lines(out)), err
    code, out, _ = _run(capsys, "kill", *cfg)
    assert (0, "no open orders to cancel") == (code, out.strip())


def test_kill_prints_each_venues_order_when_they_share_an_id(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # With the log in memory one command cannot know another's orders of another
    # venue, so an id can be used on each; the kill prints every one of them.
    memory = config.with_name("memory.toml")
    text = config.read_text(encoding="utf-8")
    memory.write_text(text + '\n[storage]\nkind = "memory"\n', encoding="utf-8")
    cfg = ("-c", str(memory))
    cid = _client_id()
    for venue in VENUES:
        code, _, err = _run(
            capsys, "order", "place", venue, SYMBOL, "sell", "limit", "0.01", "95000",
            "--client-id", cid, *cfg,
        )  # fmt: skip
        assert 0 == code, err

    code, out, err = _run(capsys, "kill", "--json", *cfg)

    assert 0 == code, err
    assert [(venue, cid, "canceled") for venue in VENUES] == [
        (o["venue"], o["client_order_id"], o["status"]) for o in _lines(out)
    ]


def test_an_id_the_store_holds_for_another_venue_is_refused(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The config file's event store (SQLite by default) holds every command's orders.
    cfg = ("-c", str(config))
    cid = _client_id()
    code, _, err = _run(
        capsys, "order", "place", "okx", SYMBOL, "sell", "limit", "0.01", FAR_ASK,
        "--client-id", cid, *cfg,
    )  # fmt: skip
    assert 0 == code, err

    code, out, err = _run(
        capsys, "order", "place", "binance", SYMBOL, "sell", "limit", "0.01", FAR_ASK,
        "--client-id", cid, *cfg,
    )  # fmt: skip

    assert (1, "") == (code, out)
    assert f"client_order_id: {cid} is already used on okx" in err, err
    assert 0 == _run(capsys, "order", "cancel", "okx", SYMBOL, cid, *cfg)[0]


def test_positions_and_balances_after_a_market_order(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = ("-c", str(config))
    code, out, err = _run(
        capsys, "order", "place", "okx", SYMBOL, "buy", "market", "0.02", "--json", *cfg
    )
    assert 0 == code, err
    assert "filled" == _lines(out)[0]["status"]

    code, out, err = _run(capsys, "positions", "--venue", "okx", "--json", *cfg)
    assert 0 == code, err
    [position] = [p for p in _lines(out) if p["symbol"] == SYMBOL]
    assert Decimal(str(position["qty"])) >= Decimal("0.02")
    assert Decimal(str(position["avg_entry_price"])) > 0
    assert position["unrealized_pnl"] is not None  # priced from the book, once valid

    code, out, err = _run(capsys, "balances", "--venue", "okx", "--json", *cfg)
    assert 0 == code, err
    for balance in _lines(out):
        assert Decimal(balance["total"]) == Decimal(balance["free"]) + Decimal(balance["locked"])
    code, out, err = _run(capsys, "balances", *cfg)
    assert 0 == code, err
    usdt = [line.split() for line in out.splitlines() if " USDT " in f" {line} "]
    assert {row[0] for row in usdt} == set(VENUES), out


def test_balances_show_what_is_reserved_and_available(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = ("-c", str(config))
    code, out, err = _run(capsys, "balances", "--venue", "bybit", "--json", *cfg)
    assert 0 == code, err
    [usdt] = [b for b in _lines(out) if b["asset"] == "USDT"]
    # This process placed nothing: what is available is the venue's free balance.
    assert (Decimal(0), Decimal(str(usdt["free"]))) == (
        Decimal(str(usdt["reserved"])),
        Decimal(str(usdt["available"])),
    )
    code, out, err = _run(capsys, "balances", "--venue", "bybit", *cfg)
    assert 0 == code, err
    header, *rows = [line.split() for line in out.splitlines() if line.strip()]
    assert ["reserved", "available"] == header[-2:], out
    [row] = [row for row in rows if row[1] == "USDT"]
    assert "0" == row[-2]
    assert Decimal(row[-1]) == Decimal(row[2])  # available = free


def test_instruments_give_the_lot_an_order_is_sized_in(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = ("-c", str(config))
    code, out, err = _run(capsys, "instruments", "--json", *cfg)
    assert 0 == code, err
    lots = {line["venue"]: Decimal(line["lot_step"]) for line in _lines(out)}
    assert set(VENUES) == set(lots)
    # In base units on every venue: an OKX swap lot of 0.01 contracts of 0.01 BTC.
    assert Decimal("0.0001") == lots["okx"]

    code, out, err = _run(capsys, "instruments", "--venue", "okx", *cfg)
    assert 0 == code, err
    header, row = out.splitlines()
    assert header.split()[:4] == ["venue", "symbol", "venue", "id"]
    assert row.split()[:4] == ["okx", SYMBOL, "BTC-USDT-SWAP", "trading"]

    # A configured symbol the venue does not list: the others listed, it named, exit 1.
    unlisted = config.parent / "unlisted.toml"
    text = config.read_text(encoding="utf-8")
    unlisted.write_text(
        text.replace(f'symbols = ["{SYMBOL}"]', f'symbols = ["{SYMBOL}", "ZZZ-USDT-PERP"]', 1),
        encoding="utf-8",
    )
    code, out, err = _run(capsys, "instruments", "--json", "-c", str(unlisted))
    assert 1 == code
    assert {(v, SYMBOL) for v in VENUES} == {
        (line["venue"], line["symbol"]) for line in _lines(out)
    }
    [problem] = [line for line in err.splitlines() if line.startswith("connector: ")]
    assert problem.endswith("has no instrument ZZZ-USDT-PERP"), problem
    code, out, err = _run(capsys, "status", "--wait", "0", "-c", str(unlisted))
    assert 0 == code, err
    [binance] = [line for line in out.splitlines() if line.startswith("venue binance:")]
    assert binance.endswith("; account reconciled; does not list ZZZ-USDT-PERP"), binance

    # A quantity between two lots: refused, named, never rounded.
    half_lot = str(lots["binance"] * Decimal("1.5"))
    code, out, err = _run(
        capsys, "order", "place", "binance", SYMBOL, "buy", "limit", half_lot, "50000", *cfg
    )
    assert (1, "") == (code, out)
    assert f"lot_step: {half_lot} is not a whole number of lots" in err, err


@pytest.mark.parametrize("venue", VENUES)
def test_amending_an_order_another_command_filled_names_its_status(
    venue: str, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The next command's start-up reconciliation lists open orders only: the filled
    # order is read from the venue, and the amendment refused for what it is.
    cfg = ("-c", str(config))
    cid = _client_id()
    code, out, err = _run(
        capsys, "order", "place", venue, SYMBOL, "buy", "market", "0.01", "--client-id", cid,
        "--json", *cfg,
    )  # fmt: skip
    assert (0, "filled") == (code, _lines(out)[0]["status"]), err

    code, out, err = _run(capsys, "order", "amend", venue, SYMBOL, cid, "--price", "50000", *cfg)
    assert (1, "") == (code, out)
    assert f"invalid order: status: order {cid} is filled" in err, err

    code, out, err = _run(capsys, "order", "amend", venue, SYMBOL, "nosuch1", "--qty", "1", *cfg)
    assert (1, "") == (code, out)
    assert f"{venue} has no order nosuch1" in err, err


def test_refusals_print_one_line_and_exit_1(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = ("-c", str(config))
    code, out, err = _run(
        capsys, "order", "place", "binance", SYMBOL, "buy", "limit", "0.0000001", "50000", *cfg
    )
    assert (1, "") == (code, out)
    assert 1 == len(err.strip().splitlines()) and "invalid order" in err, err

    # A post-only buy above the best ask would take: the venue refuses it.
    code, out, err = _run(
        capsys, "order", "place", "binance", SYMBOL, "buy", "limit", "0.01", "200000",
        "--tif", "post_only", *cfg,
    )  # fmt: skip
    assert (1, "") == (code, out)
    [line] = err.strip().splitlines()
    assert line.startswith("connector: error: binance rejected order"), line

    code, _, err = _run(capsys, "order", "cancel", "bybit", SYMBOL, "nosuchorder1", *cfg)
    assert 1 == code
    assert 1 == len(err.strip().splitlines()), err


def test_a_risk_refusal_names_the_limit_and_exits_1(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    limited = config.with_name("limited.toml")
    text = config.read_text(encoding="utf-8")
    limited.write_text(text + '\n[risk]\nmax_order_notional = "100"\n', encoding="utf-8")

    code, out, err = _run(
        capsys, "order", "place", "okx", SYMBOL, "sell", "limit", "0.01", FAR_ASK,
        "-c", str(limited),
    )  # fmt: skip

    assert (1, "") == (code, out)
    [line] = err.strip().splitlines()
    assert "max_order_notional" in line, line


@pytest.mark.parametrize("venue", VENUES)
def test_a_risk_limit_that_prices_by_the_book_waits_for_it(
    venue: str, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The price band needs a valid book's mid: a command starting fresh waits for
    # the book rather than refusing an order it could check a moment later.
    banded = config.with_name(f"banded-{venue}.toml")
    text = config.read_text(encoding="utf-8")
    banded.write_text(text + '\n[risk]\nprice_band_pct = "60"\n', encoding="utf-8")
    cfg = ("-c", str(banded))
    for _ in range(2):
        cid = _client_id()
        code, _, err = _run(
            capsys, "order", "place", venue, SYMBOL, "sell", "limit", "0.01", FAR_ASK,
            "--client-id", cid, *cfg,
        )  # fmt: skip
        assert 0 == code, err
        assert 0 == _run(capsys, "order", "cancel", venue, SYMBOL, cid, *cfg)[0]


def test_usage_mistakes_exit_2(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = ("-c", str(config))
    code, _, err = _run(capsys, "order", "place", "okx", SYMBOL, "buy", "limit", "0.01", *cfg)
    assert (2, "connector: error: order place: a limit order needs a PRICE") == (code, err.strip())
    code, _, err = _run(capsys, "order", "amend", "okx", SYMBOL, "abc", *cfg)
    assert 2 == code and "--qty, --price" in err
    code, _, err = _run(capsys, "orders", "--venue", "kraken", *cfg)
    assert 2 == code and "'kraken' is not enabled" in err
    # A pair as other tools write it: the canonical symbols it may mean are named.
    code, _, err = _run(capsys, "order", "place", "okx", "BTC-USDT", "buy", "limit", "0.01", "5",
                        *cfg)  # fmt: skip
    assert 2 == code
    assert err.startswith("connector: error: symbol 'BTC-USDT': expected BASE-QUOTE-TYPE"), err
    assert err.strip().endswith("did you mean 'BTC-USDT-SPOT' or 'BTC-USDT-PERP'?"), err
    with pytest.raises(SystemExit) as exited:
        main(["order", "place", "okx", SYMBOL, "buy", "limit", "-1", "5"])
    assert 2 == exited.value.code


def test_a_lost_answer_names_the_order_to_follow_and_the_next_command_finds_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    faults = tmp_path / "faults.toml"
    faults.write_text(
        '[[fault]]\nkind = "rest_error_after"\nfraction = 1.0\nvenue = "binance"\n'
        'path = "/fapi/v1/order"\nmethod = "POST"\nmax_count = 1\n',
        encoding="utf-8",
    )
    with standalone_sim("--venues", "binance", "--faults", str(faults)) as line:
        cfg = ("-c", str(write_config(tmp_path, line, ["binance"])))
        cid = _client_id()

        code, out, err = _run(
            capsys, "order", "place", "binance", SYMBOL, "sell", "limit", "0.01", FAR_ASK,
            "--client-id", cid, *cfg,
        )  # fmt: skip

        assert (1, "") == (code, out)
        [message] = err.strip().splitlines()
        assert "outcome unknown" in message and cid in message, message
        # The venue took it (the answer was spoiled after): the next command knows it.
        code, out, err = _run(capsys, "orders", "--json", *cfg)
        assert 0 == code, err
        assert [(cid, "new")] == [(o["client_order_id"], o["status"]) for o in _lines(out)]


def test_listings_say_which_venue_is_not_known_with_wrong_keys(
    sim_line: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # OKX's secret is wrong: its account never reconciles, so "no orders" would be a
    # guess; the other venues list as usual and the exit status says it.
    line = {venue: dict(sim_line[venue]) for venue in ("bybit", "okx")}
    line["okx"]["credentials"] = {**line["okx"]["credentials"], "api_secret": "wrong"}
    cfg = ("-c", str(write_config(tmp_path, line, ("bybit", "okx"))))
    for listing in ("orders", "positions", "balances"):
        code, out, err = _run(capsys, listing, "--json", *cfg)
        assert 1 == code, (listing, err)
        assert {"bybit"} >= {line["venue"] for line in _lines(out)}, listing
        assert "connector: okx: not reconciled with the venue since the start" in err
        assert "50113 Invalid signature" in err  # the venue's own refusal, named
    code, out, err = _run(capsys, "balances", "--venue", "bybit", *cfg)
    assert (0, "") == (code, err)
    # The kill switch cannot list OKX's open orders: it says so instead of "no open
    # orders to cancel" and success.
    (tmp_path / "okx").mkdir()
    only_okx = ("-c", str(write_config(tmp_path / "okx", {"okx": line["okx"]}, ("okx",))))
    code, out, err = _run(capsys, "kill", *only_okx)
    assert (1, "no orders canceled") == (code, out.strip())
    assert "okx: its open orders could not be listed" in err and "50113" in err


def test_orders_placed_without_a_client_id_are_listed_and_killed_by_their_key(
    sim_line: dict[str, Any], config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Two Bybit orders placed elsewhere without an orderLinkId (as Bybit's web page does):
    # listed as "#" + the venue's id, the key `order cancel` takes; the kill prints the
    # one it canceled, not the one canceled before.
    import httpx

    from tests.sim.bybit.client import Signed

    cfg = ("-c", str(config))
    body = {"category": "linear", "symbol": "BTCUSDT", "side": "Sell", "orderType": "Limit"}
    with httpx.Client(base_url=sim_line["bybit"]["linear.rest"]) as client:
        signed = Signed(client)  # type: ignore[arg-type]
        ids = []
        for _ in range(2):
            text = json.dumps({**body, "qty": "0.01", "price": FAR_ASK})
            answer = client.post("/v5/order/create", content=text, headers=signed.headers(text))
            ids.append("#" + answer.json()["result"]["orderId"])

    code, out, err = _run(capsys, "orders", "--venue", "bybit", *cfg)
    assert 0 == code, err
    assert all(key in out for key in ids)
    code, _, err = _run(capsys, "order", "cancel", "bybit", SYMBOL, ids[0], *cfg)
    assert 0 == code, err
    code, out, err = _run(capsys, "kill", "--json", *cfg)
    assert 0 == code, err
    killed = [("#" + str(o["venue_order_id"]), o["status"]) for o in _lines(out)]
    assert [(ids[1], "canceled")] == killed


def test_the_positions_table_shows_figures_worked_out_by_division_to_12_decimals() -> None:
    from connector.cli.trading_io import position_rows
    from connector.model import Position, Symbol

    position = Position(
        venue="bybit",
        symbol=Symbol.parse(SYMBOL),
        qty=Decimal("0.03"),
        avg_entry_price=Decimal("60062.1062500000000000000000"),
        realized_pnl=Decimal("-11.13652045000000000000000036"),
    )
    _, [row] = position_rows([position], lambda _p: Decimal("0.4999999999999999999999"))
    assert ["0.03", "60062.10625", "-11.13652045", "0.5"] == row[2:]
