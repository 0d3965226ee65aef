"""OKX ``/api/v5/trade/fills`` lists fills newest first (by ``billId``); the fills of
one order that sweeps the book share a millisecond. Read from that listing, they come
oldest first in the order they happened, and a position that flips through zero
realises the same P&L as from the private stream.

The page is built in the documented shape (OKXDOCS
``order-book-trading-trade-get-transaction-details-last-3-days``, checked 2026-12-03).
"""

from __future__ import annotations

from decimal import Decimal

from connector.account.positions import PositionBook
from connector.model import Fill, Market
from connector.oms.reconcile import reconcile_fills
from connector.venues.okx.trading import OkxTrading
from tests.venues.okx.trading_helpers import BTC_SWAP, CREDENTIALS, body, symbols

OPEN_MS = 1_765_000_000_000
SWEEP_MS = OPEN_MS + 5_000

# (billId, ordId, side, fillSz contracts, fillPx, fee, ts ms), in the order they happened:
# a buy of 100 contracts (1 BTC: ctVal 0.01), then one sell of 300 that sweeps three levels in one
# millisecond: 100 contracts close the long, 200 open a short.
HAPPENED = [
    ("600000000000000001", "1001", "buy", "100", "60000.1", "-0.6", OPEN_MS),
    ("600000000000000002", "1002", "sell", "50", "59990.5", "-0.3", SWEEP_MS),
    ("600000000000000003", "1002", "sell", "50", "59990.2", "-0.3", SWEEP_MS),
    ("600000000000000004", "1002", "sell", "200", "59989.7", "-0.3", SWEEP_MS),
]


def _item(bill: str, ord_id: str, side: str, sz: str, px: str, fee: str, ts: int) -> object:
    return {
        "instType": "SWAP",
        "instId": BTC_SWAP.native_id,
        "tradeId": str(int(bill) - 599_999_999_000_000_000),
        "ordId": ord_id,
        "clOrdId": "c" + ord_id,
        "billId": bill,
        "subType": "1" if side == "buy" else "2",
        "tag": "",
        "fillPx": px,
        "fillSz": sz,
        "fillPnl": "0",
        "side": side,
        "posSide": "net",
        "execType": "T",
        "feeCcy": "USDT",
        "fee": fee,
        "ts": str(ts),
        "fillTime": str(ts),
        "feeRate": "-0.0005",
    }


def _page() -> bytes:
    """The listing as OKX sends it: newest first."""
    return body({"code": "0", "msg": "", "data": [_item(*f) for f in reversed(HAPPENED)]})


def _rest_fills() -> list[Fill]:
    return OkxTrading(CREDENTIALS).parse_fills(Market.SWAP, symbols(), _page(), 0)


def test_okx_fills_listed_newest_first_come_in_the_order_they_happened() -> None:
    fills = _rest_fills()

    assert [str(int(bill) - 599_999_999_000_000_000) for bill, *_ in HAPPENED] == [
        f.trade_id for f in fills
    ]
    assert [Decimal("1"), Decimal("0.5"), Decimal("0.5"), Decimal("2")] == [f.qty for f in fills]


def test_okx_flip_learned_from_the_fills_listing_realises_the_pnl_of_the_stream() -> None:
    # By hand: the long of 1 BTC at 60000.1 is closed by the sweep's first two fills,
    # 0.5 at 59990.5 and 0.5 at 59990.2: -4.8 - 4.95; fees 0.6 + 3 x 0.3.
    # The third fill opens the short: 2 BTC at 59989.7.
    expected = (Decimal("-2"), Decimal("59989.7"), Decimal("-9.75") - Decimal("1.5"))
    live = PositionBook()
    for fill in sorted(_rest_fills(), key=lambda f: int(f.trade_id)):  # as they happened
        live.apply_fill(fill)
    learned = reconcile_fills(
        "okx", _rest_fills(), seen=lambda _key: False, client_id_of=lambda _id: None
    )
    rest = PositionBook()
    for event in learned.events:
        rest.apply_fill(event.fill)

    position = rest.get("okx", BTC_SWAP.symbol)
    assert position is not None
    assert expected == (position.qty, position.avg_entry_price, position.realized_pnl)
    assert live.get("okx", BTC_SWAP.symbol) == position
