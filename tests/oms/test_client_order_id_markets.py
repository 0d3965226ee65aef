"""Caller-chosen client order ids are checked against their market's rule: Binance USDⓈ-M
allows ``.``, ``:`` and ``/`` (``^[\\.A-Z\\:/a-z0-9_-]{1,36}$``, "New Order (TRADE)"),
Binance spot does not (``^[a-zA-Z0-9-_]{1,36}$``)."""

from __future__ import annotations

from decimal import Decimal

import pytest
import trio

from connector import Connector, InvalidOrder, sim
from connector.config import Config
from connector.model import Market, Symbol
from connector.oms.ids import check_client_order_id
from tests.rig import PERP, venue_configs

PUNCTUATED = "my.order:1/a_b-2"


def test_binance_usdm_allows_dot_colon_and_slash_and_spot_does_not() -> None:
    assert PUNCTUATED == check_client_order_id(PUNCTUATED, "binance", Market.LINEAR)
    for venue, market in (("binance", Market.SPOT), ("bybit", Market.LINEAR)):
        with pytest.raises(InvalidOrder, match="client_order_id"):
            check_client_order_id(PUNCTUATED, venue, market)
    with pytest.raises(InvalidOrder):
        check_client_order_id("a" * 37, "binance", Market.LINEAR)


@pytest.mark.parametrize(
    ("symbol", "accepted"), [(PERP, True), (Symbol.parse("BTC-USDT-SPOT"), False)]
)
async def test_binance_places_a_punctuated_client_order_id_on_usdm_only(
    symbol: Symbol, accepted: bool, autojump_clock: trio.abc.Clock
) -> None:
    with trio.fail_after(60):  # virtual seconds
        async with (
            sim.run(venues=("binance",), rate=50.0) as running,
            Connector(Config(venues=venue_configs(running, "binance", symbol))) as c,
        ):
            truth = running.truth("binance")
            place = c.place_order(
                "binance", symbol, "buy", "limit", Decimal("0.01"), Decimal("50000"),
                client_order_id=PUNCTUATED,
            )  # fmt: skip
            if accepted:
                order = await place
                assert PUNCTUATED == order.client_order_id
                venue_ids = [o.client_order_id for o in truth.orders(truth.default_account())]
                assert [PUNCTUATED] == venue_ids
            else:
                with pytest.raises(InvalidOrder, match="client_order_id"):
                    await place
                assert [] == truth.orders(truth.default_account())
