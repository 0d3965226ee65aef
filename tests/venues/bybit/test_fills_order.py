"""Bybit ``/v5/execution/list`` lists fills newest first; the fills of one order that
sweeps the book share a millisecond (and a ``seq``; ``execId`` is a UUID, not ordered).
Read from that listing, they come oldest first in the order they happened, and a
position that flips through zero realises the same P&L as from the private stream.

The page is built in the documented shape (BYDOCS ``order/execution.mdx``, checked
2026-12-03).
"""

from __future__ import annotations

from decimal import Decimal

from connector.account.positions import PositionBook
from connector.model import Fill, Market
from connector.oms.reconcile import reconcile_fills
from connector.venues.bybit.trading import BybitTrading
from tests.venues.bybit.trading_helpers import BTC_LINEAR, CREDENTIALS, body, symbols

OPEN_MS = 1_765_000_000_000
SWEEP_MS = OPEN_MS + 5_000

# (execId, orderId, side, execQty, execPrice, execFee, execTime ms, seq), in the order
# they happened: a buy of 1 BTC, then one sell of 3 that sweeps three levels in one
# millisecond: 1 BTC closes the long, 2 open a short. The ids are in no order.
HAPPENED = [
    ("f1dce92e-1f29-4977-a526-d0420c6ecb4c", "o1", "Buy", "1.000", "60000.10", "0.6", OPEN_MS, 7),
    ("e0cbe81d-0f18-5866-9415-cf319b5dab3b", "o2", "Sell", "0.500", "59990.50", "0.3", SWEEP_MS, 9),
    ("a7c61e2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b", "o2", "Sell", "0.500", "59990.20", "0.3", SWEEP_MS, 9),
    ("c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f", "o2", "Sell", "2.000", "59989.70", "0.3", SWEEP_MS, 9),
]  # fmt: skip
ORDER = [exec_id for exec_id, *_ in HAPPENED]


def _item(
    exec_id: str, order_id: str, side: str, qty: str, px: str, fee: str, ts: int, seq: int
) -> object:
    return {
        "symbol": BTC_LINEAR.native_id,
        "orderId": order_id,
        "orderLinkId": "link-" + order_id,
        "side": side,
        "orderPrice": px,
        "orderQty": qty,
        "leavesQty": "0.000",
        "createType": "CreateByUser",
        "orderType": "Market",
        "stopOrderType": "",
        "execFee": fee,
        "execId": exec_id,
        "execPrice": px,
        "execQty": qty,
        "execType": "Trade",
        "execValue": str(Decimal(qty) * Decimal(px)),
        "execTime": str(ts),
        "feeCurrency": "USDT",
        "isMaker": False,
        "feeRate": "0.00055",
        "tradeIv": "",
        "markIv": "",
        "markPrice": px,
        "indexPrice": px,
        "underlyingPrice": "",
        "blockTradeId": "",
        "closedSize": "0.000",
        "seq": seq,
    }


def _page() -> bytes:
    """The listing as Bybit sends it: newest first."""
    return body(
        {
            "retCode": 0,
            "retMsg": "OK",
            "result": {
                "nextPageCursor": "",
                "category": "linear",
                "list": [_item(*f) for f in reversed(HAPPENED)],
            },
            "retExtInfo": {},
            "time": SWEEP_MS + 60_000,
        }
    )


def _rest_fills() -> list[Fill]:
    return BybitTrading(CREDENTIALS).parse_fills(Market.LINEAR, symbols(), _page(), 0)


def test_bybit_fills_listed_newest_first_come_in_the_order_they_happened() -> None:
    assert ORDER == [f.trade_id for f in _rest_fills()]


def test_bybit_flip_learned_from_the_fills_listing_realises_the_pnl_of_the_stream() -> None:
    # By hand: the long of 1 BTC at 60000.10 is closed by the sweep's first two fills,
    # 0.5 at 59990.50 and 0.5 at 59990.20: -4.8 - 4.95; fees 0.6 + 3 x 0.3.
    # The third fill opens the short: 2 BTC at 59989.70.
    expected = (Decimal("-2"), Decimal("59989.7"), Decimal("-9.75") - Decimal("1.5"))
    live = PositionBook()
    for fill in sorted(_rest_fills(), key=lambda f: ORDER.index(f.trade_id)):  # as they happened
        live.apply_fill(fill)
    learned = reconcile_fills(
        "bybit", _rest_fills(), seen=lambda _key: False, client_id_of=lambda _id: None
    )
    rest = PositionBook()
    for event in learned.events:
        rest.apply_fill(event.fill)

    position = rest.get("bybit", BTC_LINEAR.symbol)
    assert position is not None
    assert expected == (position.qty, position.avg_entry_price, position.realized_pnl)
    assert live.get("bybit", BTC_LINEAR.symbol) == position
