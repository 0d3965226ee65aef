"""OKX v5 account reads (sans-I/O): fills, balances and positions, by REST and stream.

Facts (OKXDOCS ``order-book-trading-trade-get-transaction-details-last-3-days``,
``trading-account-rest-api-get-balance``, ``-get-positions``,
``trading-account-websocket-account-channel``, ``-positions-channel``; checked
2026-12-03, see ``docs/venues/okx.md``):

* Fills ``GET /api/v5/trade/fills`` (3 days; ``begin`` in ms): ``fee`` is
  **negative when charged**, so the model's fee is its opposite; swap ``fillSz``
  counts contracts (``× ctVal``).
* Balances ``GET /api/v5/account/balance``: ``details[]`` per currency with
  ``availBal`` (free) and ``frozenBal`` (locked by orders and margin).
* Positions ``GET /api/v5/account/positions?instType=SWAP``: ``pos`` in
  contracts, signed in net mode (``posSide`` ``net``); ``long``/``short`` in
  long/short mode.
* Account configuration ``GET /api/v5/account/config`` (``trading-account-rest-api-
  get-account-configuration``, checked 2026-12-06): ``acctLv`` ``1`` Spot mode, ``2``
  Futures mode, ``3`` Multi-currency margin, ``4`` Portfolio margin; ``posMode``
  ``net_mode`` or ``long_short_mode``. Spot orders take ``tdMode`` ``cash`` in modes
  1 and 2, ``cross`` in 3 and 4 (place-order docs, "tdMode"). This connector trades
  swaps in net mode only: in long/short mode every swap order needs a ``posSide`` and
  positions come per side, so such an account is refused with the setting to change
  (``POST /api/v5/account/set-position-mode``).

Tested on ``nautilus_trader/crates/adapters/okx/test_data/http_transaction_detail.json``
(hand-made, a positive fee: a rebate), ``http_get_account_balance.json``,
``http_get_positions.json``, ``ws_account.json`` (``tests/venues/okx/test_orders.py``,
``test_private.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import attrs
import msgspec

from connector.errors import ConfigError
from connector.model import Balance, Fill, Instrument, Market, Position
from connector.venues.common import SymbolMap
from connector.venues.driver import RestCall
from connector.venues.okx import limits
from connector.venues.okx.orders import (
    VENUE,
    bad_body,
    base_qty,
    decode_answer,
    inst_type,
    instrument_of,
    liquidity_of,
)
from connector.venues.trading_common import ms_to_ns, side_of, venue_decimal

__all__ = [
    "AccountConfig",
    "AccountItem",
    "DetailItem",
    "FillItem",
    "PositionItem",
    "balances_call",
    "balances_of",
    "config_call",
    "fills_call",
    "order_fills_call",
    "parse_balances",
    "parse_config",
    "parse_fills",
    "parse_positions",
    "position_of",
    "positions_call",
]

_ZERO = Decimal(0)
_ACCOUNT_MODES = {
    "1": "Spot mode",
    "2": "Futures mode",
    "3": "Multi-currency margin",
    "4": "Portfolio margin",
}
_SPOT_TD_MODES = {"1": "cash", "2": "cash", "3": "cross", "4": "cross"}
_POS_MODES = frozenset({"net_mode", "long_short_mode"})


@attrs.frozen(kw_only=True)
class AccountConfig:
    """What an OKX account's configuration decides for its orders.

    Attributes:
        acct_lv: The account mode, ``1`` to ``4``.
        pos_mode: ``net_mode`` (the only one traded here).
        spot_td_mode: ``tdMode`` of spot orders: ``cash`` (modes 1, 2) or ``cross`` (3, 4).
    """

    acct_lv: str
    pos_mode: str
    spot_td_mode: str

    @property
    def account_mode(self) -> str:
        """The mode's name, as OKX's settings page calls it."""
        return _ACCOUNT_MODES[self.acct_lv]


def fills_call(market: Market, instrument: Instrument | None, since_ns: int | None) -> RestCall:
    """``GET /api/v5/trade/fills`` (the last 3 days; 100 per page, newest first)."""
    params: dict[str, str | int] = {"instType": inst_type(market)}
    if instrument is not None:
        params["instId"] = instrument.native_id
    if since_ns is not None:
        params["begin"] = since_ns // 1_000_000
    params["limit"] = 100
    return RestCall(
        path="/api/v5/trade/fills", params=params, weights={limits.FILLS: 1.0}, signed=True
    )


def order_fills_call(market: Market, instrument: Instrument, venue_order_id: str) -> RestCall:
    """``GET /api/v5/trade/fills`` of one order (``ordId``; the last 3 days, 100 per page)."""
    params: dict[str, str | int] = {
        "instType": inst_type(market),
        "instId": instrument.native_id,
        "ordId": venue_order_id,
        "limit": 100,
    }
    return RestCall(
        path="/api/v5/trade/fills", params=params, weights={limits.FILLS: 1.0}, signed=True
    )


def balances_call() -> RestCall:
    """``GET /api/v5/account/balance`` (one trading account for every market)."""
    return RestCall(path="/api/v5/account/balance", weights={limits.BALANCE: 1.0}, signed=True)


def config_call() -> RestCall:
    """``GET /api/v5/account/config`` (the account mode and position mode)."""
    return RestCall(path="/api/v5/account/config", weights={limits.CONFIG: 1.0}, signed=True)


def positions_call(market: Market) -> RestCall | None:
    """``GET /api/v5/account/positions?instType=SWAP``; ``None`` for spot."""
    if market is not Market.SWAP:
        return None
    return RestCall(
        path="/api/v5/account/positions",
        params={"instType": "SWAP"},
        weights={limits.POSITIONS: 1.0},
        signed=True,
    )


class FillItem(msgspec.Struct):
    instId: str
    tradeId: str
    ordId: str
    side: str
    fillSz: str
    fillPx: str
    instType: str = ""
    clOrdId: str = ""
    fee: str = "0"
    feeCcy: str = ""
    execType: str = ""
    ts: str = ""
    fillTime: str = ""


class DetailItem(msgspec.Struct):
    ccy: str
    cashBal: str = ""
    availBal: str = ""
    frozenBal: str = ""
    uTime: str = ""


class AccountItem(msgspec.Struct):
    details: list[DetailItem]
    uTime: str = ""


class ConfigItem(msgspec.Struct):
    acctLv: str
    posMode: str


class PositionItem(msgspec.Struct):
    instId: str
    pos: str
    instType: str = "SWAP"
    posSide: str = "net"
    avgPx: str = ""
    realizedPnl: str = ""
    uTime: str = ""


def balances_of(accounts: Sequence[AccountItem]) -> list[Balance]:
    """One balance per currency: ``free`` = ``availBal``, ``locked`` = ``frozenBal``."""
    out: list[Balance] = []
    for account in accounts:
        for d in account.details:
            locked = venue_decimal(d.frozenBal) or _ZERO
            free = venue_decimal(d.availBal)
            if free is None:
                free = (venue_decimal(d.cashBal) or _ZERO) - locked
            out.append(
                Balance(
                    venue=VENUE,
                    asset=d.ccy,
                    free=free,
                    locked=locked,
                    ts_event_ns=ms_to_ns(d.uTime or account.uTime),
                )
            )
    return out


def position_of(item: PositionItem, symbols: SymbolMap) -> Position:
    """A swap position in base units: ``pos × ctVal``, signed (net mode signs ``pos``;
    ``posSide`` ``short`` makes it negative in long/short mode)."""
    instrument = instrument_of(symbols, item.instType, item.instId, Market.SWAP)
    pos = venue_decimal(item.pos) or _ZERO
    if item.posSide == "short":
        pos = -abs(pos)
    qty = base_qty(instrument, pos)
    entry = venue_decimal(item.avgPx)
    return Position(
        venue=VENUE,
        symbol=instrument.symbol,
        qty=qty,
        avg_entry_price=entry if entry and qty else None,
        realized_pnl=venue_decimal(item.realizedPnl) or _ZERO,
        ts_event_ns=ms_to_ns(item.uTime),
    )


_fills = msgspec.json.Decoder(list[FillItem])
_configs = msgspec.json.Decoder(list[ConfigItem])
_accounts = msgspec.json.Decoder(list[AccountItem])
_positions = msgspec.json.Decoder(list[PositionItem])


def parse_fills(market: Market, symbols: SymbolMap, body: bytes, ts_recv_ns: int) -> list[Fill]:
    """The fills of ``/trade/fills``, oldest first, fee sign flipped.

    OKX lists them newest first (by ``billId``) and the fills of one order that
    sweeps the book share a millisecond: the list is reversed before the (stable)
    sort by time, so those come in the order they happened.
    """
    answer = decode_answer(200, body)
    out: list[Fill] = []
    try:
        for item in _fills.decode(answer.data):
            instrument = instrument_of(symbols, item.instType, item.instId, market)
            out.append(
                Fill(
                    venue=VENUE,
                    symbol=instrument.symbol,
                    client_order_id=item.clOrdId,
                    venue_order_id=item.ordId,
                    trade_id=item.tradeId,
                    side=side_of(item.side),
                    qty=base_qty(instrument, venue_decimal(item.fillSz) or _ZERO),
                    price=venue_decimal(item.fillPx) or _ZERO,
                    fee=-(venue_decimal(item.fee) or _ZERO),
                    fee_asset=item.feeCcy,
                    liquidity=liquidity_of(item.execType),
                    ts_event_ns=ms_to_ns(item.fillTime or item.ts),
                    ts_recv_ns=ts_recv_ns,
                )
            )
    except (msgspec.DecodeError, ValueError) as exc:
        raise bad_body("fills", body, exc) from exc
    return sorted(reversed(out), key=lambda f: f.ts_event_ns)


def parse_balances(body: bytes) -> list[Balance]:
    """The balances of ``/account/balance`` (``http_get_account_balance.json``)."""
    answer = decode_answer(200, body)
    try:
        return balances_of(_accounts.decode(answer.data))
    except (msgspec.DecodeError, ValueError) as exc:
        raise bad_body("balance", body, exc) from exc


def parse_positions(symbols: SymbolMap, body: bytes) -> list[Position]:
    """The swap positions of ``/account/positions`` (``http_get_positions.json``)."""
    answer = decode_answer(200, body)
    try:
        return [
            position_of(item, symbols)
            for item in _positions.decode(answer.data)
            if item.instType == "SWAP"
        ]
    except (msgspec.DecodeError, ValueError) as exc:
        raise bad_body("positions", body, exc) from exc


def parse_config(body: bytes) -> AccountConfig:
    """The account's configuration (``/account/config``), checked for trading here.

    Raises:
        ConfigError: The account is in long/short position mode: the message names
            the setting and how to change it.
        MalformedMessage: A body that does not parse, or an account mode or position
            mode OKX does not document.
        As :func:`.orders.answer_error` says for an error answer.
    """
    answer = decode_answer(200, body)
    try:
        (item,) = _configs.decode(answer.data)
        if item.acctLv not in _SPOT_TD_MODES or item.posMode not in _POS_MODES:
            raise ValueError(f"acctLv {item.acctLv!r}, posMode {item.posMode!r}")
    except (msgspec.DecodeError, ValueError) as exc:
        raise bad_body("account config", body, exc) from exc
    if item.posMode != "net_mode":
        raise ConfigError(
            f"{VENUE}: the account is in long/short position mode (posMode"
            f" {item.posMode}); this connector trades swaps in net (one-way) mode only."
            " Switch the account to net mode: POST /api/v5/account/set-position-mode"
            ' {"posMode": "net_mode"} (or the position mode in the account\'s trading'
            " settings on okx.com), with no open swap positions or orders"
        )
    return AccountConfig(
        acct_lv=item.acctLv, pos_mode=item.posMode, spot_td_mode=_SPOT_TD_MODES[item.acctLv]
    )
