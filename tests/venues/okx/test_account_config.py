"""The OKX account's configuration decides how it is traded (``GET /api/v5/account/config``).

OKX docs (read 2026-12-06): "Get account configuration" (``acctLv`` 1 Spot mode, 2
Futures mode, 3 Multi-currency margin, 4 Portfolio margin; ``posMode``), "POST /
Place order" ("Multi-currency margin mode: Cross SPOT: cross"; in long/short mode
``posSide`` is required). Sans-I/O through :class:`OkxTrading`, then end to end
through the public API against the simulator.
"""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest
import trio

from connector import OrderStatus, ServiceUnavailable
from connector.errors import AuthenticationFailed, ConfigError, MalformedMessage
from connector.model import Market, OrderType, PlaceOrder, Side, Symbol, TimeInForce
from connector.venues.driver import Bucket
from connector.venues.okx.rest import OkxRest
from connector.venues.okx.trading import OkxTrading
from tests.rig import PERP, rig
from tests.sim.okx.okx_client import Okx
from tests.venues.okx.trading_helpers import BTC_SPOT, BTC_SWAP, CREDENTIALS

SPOT = Symbol.parse("BTC-USDT-SPOT")


def config_body(acct_lv: str, pos_mode: str = "net_mode") -> bytes:
    """The docs' example answer with ``acctLv`` and ``posMode`` set."""
    item = {
        "acctLv": acct_lv, "acctStpMode": "cancel_maker", "autoLoan": False,
        "ctIsoMode": "automatic", "enableSpotBorrow": False, "greeksType": "PA", "feeType": "0",
        "ip": "", "type": "0", "kycLv": "3", "label": "v5 test", "level": "Lv1", "levelTmp": "",
        "liquidationGear": "-1", "mainUid": "44705892343619584", "mgnIsoMode": "automatic",
        "opAuth": "1", "perm": "read_only,withdraw,trade", "posMode": pos_mode, "roleType": "0",
        "spotBorrowAutoRepay": False, "spotOffsetType": "", "spotRoleType": "0",
        "spotTraderInsts": [], "stgyType": "0", "traderInsts": [], "uid": "44705892343619584",
        "settleCcy": "USDC", "settleCcyList": ["USD", "USDC", "USDG"],
    }  # fmt: skip
    return json.dumps({"code": "0", "data": [item], "msg": ""}).encode()


def td_modes(t: OkxTrading) -> tuple[object, object, object]:
    """``tdMode`` of a spot limit, a spot market and a swap limit order."""

    def order(cid: str, symbol: Symbol, side: Side, qty: str, price: int | None) -> PlaceOrder:
        kind = OrderType.LIMIT if price is not None else OrderType.MARKET
        return PlaceOrder(
            venue="okx", symbol=symbol, client_order_id=cid, side=side, type=kind,
            qty=Decimal(qty), price=None if price is None else Decimal(price),
            time_in_force=TimeInForce.GTC if price is not None else TimeInForce.IOC,
        )  # fmt: skip

    limit = order("a1", SPOT, Side.BUY, "0.001", 60000)
    market = order("a2", SPOT, Side.SELL, "0.001", None)
    swap = order("a3", PERP, Side.BUY, "0.01", 60000)
    bodies = [
        t.place_order_call(Market.SPOT, BTC_SPOT, limit).body,
        t.place_order_call(Market.SPOT, BTC_SPOT, market).body,
        t.place_order_call(Market.SWAP, BTC_SWAP, swap).body,
    ]
    modes = [json.loads(b or b"{}")["tdMode"] for b in bodies]
    return modes[0], modes[1], modes[2]


def test_okx_account_config_request() -> None:
    call = OkxTrading(CREDENTIALS).account_setup_call()
    assert ("GET", "/api/v5/account/config", True) == (call.method.upper(), call.path, call.signed)
    assert {"account:config": 1.0} == dict(call.weights)
    # 5 requests per 2 s per user ("Get account configuration")
    assert Bucket(name="account:config", capacity=5.0, period=2.0) in OkxRest().buckets(Market.SPOT)


@pytest.mark.parametrize(
    ("acct_lv", "spot"), [("1", "cash"), ("2", "cash"), ("3", "cross"), ("4", "cross")]
)
def test_okx_spot_orders_take_the_trade_mode_of_the_account_mode(acct_lv: str, spot: str) -> None:
    t = OkxTrading(CREDENTIALS)
    assert ("cash", "cash", "cross") == td_modes(t)  # before the configuration is read
    t.apply_account_setup(config_body(acct_lv))
    assert t.config is not None and (acct_lv, spot) == (t.config.acct_lv, t.config.spot_td_mode)
    assert (spot, spot, "cross") == td_modes(t)


def test_okx_long_short_mode_account_is_refused_naming_the_setting() -> None:
    t = OkxTrading(CREDENTIALS)
    with pytest.raises(ConfigError) as refused:
        t.apply_account_setup(config_body("2", "long_short_mode"))
    message = str(refused.value)
    for words in ("long/short position mode", "posMode long_short_mode", "net_mode",
                  "POST /api/v5/account/set-position-mode"):  # fmt: skip
        assert words in message
    assert t.config is None


def test_okx_account_config_the_adapter_cannot_read() -> None:
    t = OkxTrading(CREDENTIALS)
    with pytest.raises(MalformedMessage):
        t.apply_account_setup(config_body("7"))
    with pytest.raises(MalformedMessage):
        t.apply_account_setup(b'{"code":"0","msg":"","data":[]}')
    with pytest.raises(AuthenticationFailed):
        t.apply_account_setup(b'{"code":"50113","msg":"Invalid signature.","data":[]}')
    assert t.config is None


# Through the public API, against the simulator ----------------------------------------


async def test_okx_multi_currency_margin_account_trades_spot(
    autojump_clock: trio.abc.Clock,
) -> None:
    """The simulator refuses ``tdMode`` cash in Multi-currency margin (51000), as OKX does."""
    with trio.fail_after(60):  # virtual seconds
        async with rig("okx", symbol=SPOT, settings={"okx": {"acct_lv": 3}}) as r:
            bid = r.c.order_book("okx", SPOT).best_bid()
            assert bid is not None
            resting = await r.c.place_order(
                "okx", SPOT, "buy", "limit", Decimal("0.001"), (bid.price * Decimal("0.99"))
            )
            assert OrderStatus.NEW == resting.status
            bought = await r.c.place_order("okx", SPOT, "buy", "market", Decimal("0.001"))
            assert bought.status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED,
                                     OrderStatus.FILLED)  # fmt: skip
            venue = {o.client_order_id: o for o in r.truth.orders()}
            assert {resting.client_order_id, bought.client_order_id} <= set(venue)


async def test_okx_long_short_mode_account_refuses_orders_until_switched(
    autojump_clock: trio.abc.Clock,
) -> None:
    settings = {"okx": {"pos_mode": "long_short_mode"}}
    with trio.fail_after(120):  # virtual seconds
        async with rig("okx", settings=settings) as r:
            why = r.c.status().unreconciled["okx"]
            assert "long/short position mode" in why and "set-position-mode" in why
            with pytest.raises(ServiceUnavailable) as refused:
                await r.c.place_order(
                    "okx", PERP, "buy", "limit", Decimal("0.01"), Decimal("50000")
                )
            assert "set-position-mode" in str(refused.value)
            assert [] == r.truth.orders()  # nothing reached the venue
            # Switched as the message says: the next reconciliation lets orders through.
            async with httpx.AsyncClient(base_url=r.run.urls["okx"]["swap.rest"]) as http:
                _, done = await Okx(http).post(
                    "/api/v5/account/set-position-mode", {"posMode": "net_mode"}
                )
            assert "0" == done["code"]
            await trio.sleep(10)  # a failed reconciliation is tried again after 5 s
            assert r.c.status().reconciled["okx"]
            placed = await r.c.place_order(
                "okx", PERP, "buy", "limit", Decimal("0.01"), Decimal("50000")
            )
            assert OrderStatus.NEW == placed.status
