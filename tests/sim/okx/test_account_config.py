"""The simulated OKX account's configuration, balance listing and mass cancel, per OKX's docs.

"Get account configuration" (``acctLv``, ``posMode``), "Set position mode", "Set
account mode", "POST / Place order" (``tdMode``, ``posSide``), "Get balance" and
"POST / Mass cancel order" (docs read 2026-12-06; see ``docs/venues/okx.md``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest
import trio

from connector.errors import ConfigError
from connector.sim.standalone import run
from tests.sim.okx.okx_client import Okx

ORDER = "/api/v5/trade/order"
CONFIG = "/api/v5/account/config"

# Every field of the docs' example answer, with its JSON type.
CONFIG_FIELDS: dict[str, type] = {
    "acctLv": str, "acctStpMode": str, "autoLoan": bool, "ctIsoMode": str,
    "enableSpotBorrow": bool, "feeType": str, "greeksType": str, "ip": str, "kycLv": str,
    "label": str, "level": str, "levelTmp": str, "liquidationGear": str, "mainUid": str,
    "mgnIsoMode": str, "opAuth": str, "perm": str, "posMode": str, "roleType": str,
    "settleCcy": str, "settleCcyList": list, "spotBorrowAutoRepay": bool,
    "spotOffsetType": str, "spotRoleType": str, "spotTraderInsts": list, "stgyType": str,
    "traderInsts": list, "type": str, "uid": str,
}  # fmt: skip


def spot_limit(td_mode: str, px: Decimal, **extra: str) -> dict[str, str]:
    return {
        "instId": "BTC-USDT", "tdMode": td_mode, "side": "buy", "ordType": "limit",
        "px": str(px), "sz": "0.001", **extra,
    }  # fmt: skip


def swap_limit(px: Decimal, **extra: str) -> dict[str, str]:
    return {
        "instId": "BTC-USDT-SWAP", "tdMode": "cross", "side": "buy", "ordType": "limit",
        "px": str(px), "sz": "1", **extra,
    }  # fmt: skip


def below(sim: Any, market: str, inst_id: str) -> Decimal:
    """A buy price far under the book (it rests, and stays inside the price limit)."""
    bid: Decimal = sim.venues["okx"].book(market, inst_id).engine.best_bid().price
    return (bid * Decimal("0.99")).quantize(Decimal("0.1"))


async def test_okx_account_config_has_the_documented_fields_and_types(
    okx: tuple[Okx, Any],
) -> None:
    client, _sim = okx
    status, answer = await client.get(CONFIG)
    (item,) = answer["data"]
    assert (200, "0") == (status, answer["code"])
    assert CONFIG_FIELDS == {name: type(item[name]) for name in CONFIG_FIELDS}
    assert ("2", "net_mode") == (item["acctLv"], item["posMode"])


async def test_okx_multi_currency_margin_spot_orders_are_cross_not_cash(
    okx: tuple[Okx, Any],
) -> None:
    client, sim = okx
    px = below(sim, "spot", "BTC-USDT")
    # Futures mode (the default): spot is cash; cross would be margin trading.
    _, cross = await client.post(ORDER, spot_limit("cross", px))
    assert ("51000", "Parameter tdMode error") == (
        cross["data"][0]["sCode"],
        cross["data"][0]["sMsg"],
    )
    _, switched = await client.post("/api/v5/account/set-account-level", {"acctLv": "3"})
    assert ("0", [{"acctLv": "3"}]) == (switched["code"], switched["data"])
    _, config = await client.get(CONFIG)
    assert "3" == config["data"][0]["acctLv"]
    # Multi-currency margin: cash is refused (ccxt/ccxt#14922), cross trades spot.
    _, cash = await client.post(ORDER, spot_limit("cash", px))
    assert ("1", "51000", "Parameter tdMode error") == (
        cash["code"], cash["data"][0]["sCode"], cash["data"][0]["sMsg"],
    )  # fmt: skip
    _, placed = await client.post(ORDER, spot_limit("cross", px, clOrdId="mcm1"))
    assert ("0", "0") == (placed["code"], placed["data"][0]["sCode"])
    _, got = await client.get(ORDER, instId="BTC-USDT", clOrdId="mcm1")
    assert ("live", "cross") == (got["data"][0]["state"], got["data"][0]["tdMode"])
    # An open order stops a switch of account mode.
    _, refused = await client.post("/api/v5/account/set-account-level", {"acctLv": "2"})
    assert "59132" == refused["code"]
    status, bad = await client.post("/api/v5/account/set-account-level", {"acctLv": "5"})
    assert (400, "51000") == (status, bad["code"])


async def test_okx_long_short_mode_swap_orders_need_pos_side(okx: tuple[Okx, Any]) -> None:
    client, sim = okx
    px = below(sim, "swap", "BTC-USDT-SWAP")
    _, switched = await client.post(
        "/api/v5/account/set-position-mode", {"posMode": "long_short_mode"}
    )
    assert ("0", [{"posMode": "long_short_mode"}]) == (switched["code"], switched["data"])
    _, config = await client.get(CONFIG)
    assert "long_short_mode" == config["data"][0]["posMode"]
    for extra in ({}, {"posSide": "net"}):
        _, refused = await client.post(ORDER, swap_limit(px, **extra))
        assert ("1", "51000", "Parameter posSide error") == (
            refused["code"], refused["data"][0]["sCode"], refused["data"][0]["sMsg"],
        )  # fmt: skip
    # Spot orders do not have a position side.
    _, spot = await client.post(ORDER, spot_limit("cash", below(sim, "spot", "BTC-USDT")))
    assert "0" == spot["code"]
    # Back to net mode; then an open swap order stops a switch (59000).
    await client.post("/api/v5/account/set-position-mode", {"posMode": "net_mode"})
    _, placed = await client.post(ORDER, swap_limit(px))
    assert "0" == placed["code"]
    _, refused = await client.post(
        "/api/v5/account/set-position-mode", {"posMode": "long_short_mode"}
    )
    assert "59000" == refused["code"]


async def test_okx_portfolio_margin_is_net_mode_only(okx: tuple[Okx, Any]) -> None:
    client, _sim = okx
    _, done = await client.post("/api/v5/account/set-account-level", {"acctLv": "4"})
    assert "0" == done["code"]
    _, refused = await client.post(
        "/api/v5/account/set-position-mode", {"posMode": "long_short_mode"}
    )
    assert "51041" == refused["code"]


async def test_okx_account_mode_settings_start_every_account() -> None:
    settings = {"okx": {"acct_lv": 3, "pos_mode": "long_short_mode"}}
    with trio.fail_after(30):
        async with (
            run(venues=("okx",), paused=True, settings=settings) as sim,
            httpx.AsyncClient(base_url=sim.urls["okx"]["spot.rest"]) as http,
        ):
            _, config = await Okx(http).get(CONFIG)
    assert ("3", "long_short_mode") == (config["data"][0]["acctLv"], config["data"][0]["posMode"])
    with pytest.raises(ConfigError, match="net_mode only"):
        async with run(
            venues=("okx",),
            paused=True,
            settings={"okx": {"acct_lv": 4, "pos_mode": "long_short_mode"}},
        ):
            pass


async def test_okx_balance_leaves_out_currencies_with_nothing(okx: tuple[Okx, Any]) -> None:
    """ "The currency details will not be returned when cashBal and eq is both 0."""
    client, _sim = okx
    body = {
        "instId": "SOL-USDT", "tdMode": "cash", "side": "sell", "ordType": "market",
        "sz": "100", "tgtCcy": "base_ccy",
    }  # fmt: skip
    _, sold = await client.post(ORDER, body)  # every SOL the account has
    assert "0" == sold["code"]
    _, balance = await client.get("/api/v5/account/balance")
    assert ["BTC", "ETH", "USDT"] == sorted(d["ccy"] for d in balance["data"][0]["details"])
    _, one = await client.get("/api/v5/account/balance", ccy="SOL")
    assert [] == one["data"][0]["details"]


async def test_okx_mass_cancel_is_for_options_only(okx: tuple[Okx, Any]) -> None:
    """ "Only applicable to Option in Portfolio Margin mode, and MMP privilege is required"."""
    client, sim = okx
    _, placed = await client.post(
        ORDER, swap_limit(below(sim, "swap", "BTC-USDT-SWAP"), clOrdId="keep1")
    )
    assert "0" == placed["code"]
    for body, expected in (
        ({"instType": "SWAP"}, (400, "51000", "Parameter instType error")),
        ({"instType": "SPOT"}, (400, "51000", "Parameter instType error")),
        ({}, (400, "50014", "Parameter instType can not be empty.")),
        ({"instType": "OPTION"}, (400, "50014", "Parameter instFamily can not be empty.")),
        (
            {"instType": "OPTION", "instFamily": "BTC-USD"},
            (200, "51411", "Account does not have permission for mass cancellation."),
        ),
    ):
        status, answer = await client.post("/api/v5/trade/mass-cancel", body)
        assert expected == (status, answer["code"], answer["msg"])
    _, got = await client.get(ORDER, instId="BTC-USDT-SWAP", clOrdId="keep1")
    assert "live" == got["data"][0]["state"]


async def test_okx_spot_mode_takes_no_swap_order(okx: tuple[Okx, Any]) -> None:
    # "Spot mode: SPOT and OPTION buyer: cash": no derivatives. 51010 "Operation is not
    # supported under the current account mode."
    client, sim = okx
    _, switched = await client.post("/api/v5/account/set-account-level", {"acctLv": "1"})
    assert "0" == switched["code"]
    _, refused = await client.post(ORDER, swap_limit(below(sim, "swap", "BTC-USDT-SWAP")))
    assert ("1", "51010") == (refused["code"], refused["data"][0]["sCode"])
