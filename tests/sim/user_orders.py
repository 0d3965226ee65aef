"""A desk order for tests of the venues' order listings: a resting limit buy of 1 at 100."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connector.model import OrderType, Side, TimeInForce
from connector.sim.desk import OrderState, UserOrder


def user_order(
    *, state: OrderState = OrderState.NEW, filled: str = "0", created_ms: int, **fields: Any
) -> UserOrder:
    """The order in ``state`` with ``filled`` of it done at 100; ``fields`` override the rest."""
    done = Decimal(filled)
    values: dict[str, Any] = {
        "order_id": "1",
        "client_order_id": "c1",
        "account": "a",
        "market": "spot",
        "native_id": "BTCUSDT",
        "side": Side.BUY,
        "type": OrderType.LIMIT,
        "time_in_force": TimeInForce.GTC,
        "qty": Decimal(1),
        "price": Decimal(100),
        "reduce_only": False,
        "state": state,
        "filled_qty": done,
        "cum_quote": done * 100,
        "avg_price": Decimal(100) if done else Decimal(0),
        "fee": Decimal(0),
        "fee_asset": "",
        "cancel_cause": None,
        "created_ms": created_ms,
        "updated_ms": created_ms,
        "revision": 1,
    }
    values.update(fields)
    return UserOrder(**values)
