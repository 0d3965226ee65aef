"""Bybit v5 account, position and asset endpoints (signed REST).

* ``GET /v5/account/wallet-balance?accountType=UNIFIED`` (optional ``coin``,
  comma separated): account totals in USD and ``coin[]`` (``walletBalance``,
  ``equity``, ``locked``, ``totalOrderIM``, ``totalPositionIM``,
  ``unrealisedPnl``, ``cumRealisedPnl``...). Other account types: 10001.
* ``GET /v5/position/list?category=linear`` with ``symbol`` (that position,
  flat or not) or ``settleCoin`` (the open ones); one-way: ``positionIdx`` 0,
  ``size`` unsigned plus ``side`` (``""`` when flat).
* ``POST /v5/position/set-leverage`` (``buyLeverage`` = ``sellLeverage``,
  1-100): ``{}``; the same leverage again is 110043 "Set leverage not modified".
* ``POST /v5/position/switch-mode``: ``mode`` 0 (one-way) is 110025 "Position
  mode is not modified"; 3 (both sides) is refused with 110029: the simulator
  keeps one-way positions only.
* ``GET /v5/account/fee-rate`` (``category``, optional ``symbol``).
* ``GET /v5/account/info``: UTA 2.0 Pro (``unifiedMarginStatus`` 6), regular margin.
* ``GET /v5/user/query-api``: the key's permissions, ``uta`` 1.
* ``GET /v5/asset/coin/query-info`` (optional ``coin``): every coin the
  instruments use, one chain each.

Sources: Bybit v5 docs ``account/wallet-balance``, ``position/position``,
``position/leverage``, ``position/position-mode``, ``account/fee-rate``,
``account/account-info``, ``user/apikey-info``, ``asset/coin-info`` (checked
2026-12-03) and the response fixtures ``nautilus_trader/.../bybit/test_data/
http_get_{wallet_balance,positions,fee_rate,account_info,user_query_api}.json``.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from decimal import Decimal

from connector.sim.accounts import Position
from connector.sim.bybit.orders import UNSIMULATED
from connector.sim.bybit.signed import SignedRest, int_param
from connector.sim.bybit.trade_wire import position_item, wallet_account
from connector.sim.bybit.wire import JsonDict, format_trim
from connector.sim.http import Response, Router
from connector.sim.hub import SimVenue
from connector.sim.rest import RestCall

__all__ = ["BybitAccount"]

_ONE = Decimal(1)
_ZERO = Decimal(0)
_STABLE = ("USDT", "USDC", "USD")
_MAX_LEVERAGE = 100


class BybitAccount:
    """The account routes of one Bybit front-end.

    Args:
        venue: The Bybit hub.
        signed: The signed-route registrar.
    """

    def __init__(self, venue: SimVenue, signed: SignedRest) -> None:
        self.venue = venue
        self.desk = venue.desk
        self.signed = signed
        #: ``seq`` and time of each account's last position change, by symbol.
        self.position_seq: dict[tuple[str, str], tuple[int, int]] = {}

    def register(self, router: Router) -> None:
        """Add the routes."""
        get, post = self.signed.get, self.signed.post
        get(router, "/v5/account/wallet-balance", self.wallet_balance)
        get(router, "/v5/position/list", self.positions)
        post(router, "/v5/position/set-leverage", self.set_leverage)
        post(router, "/v5/position/switch-mode", self.switch_mode)
        get(router, "/v5/account/fee-rate", self.fee_rate)
        get(router, "/v5/account/info", self.account_info)
        get(router, "/v5/user/query-api", self.query_api)
        get(router, "/v5/asset/coin/query-info", self.coin_info)

    # --------------------------------------------------------------- values

    def usd_price(self, coin: str) -> Decimal:
        """USD value of one unit of ``coin`` (stable coins 1, others the spot mark)."""
        if coin in _STABLE:
            return _ONE
        if self.venue.find("spot", coin + "USDT") is None:
            return _ZERO
        return self.desk.mark_price("spot", coin + "USDT")

    def upl(self, position: Position) -> Decimal:
        """Unrealised P&L of a linear position at the mark price."""
        if not position.size:
            return _ZERO
        mark = self.desk.mark_price("linear", position.symbol)
        return position.size * (mark - position.entry_price)

    def order_im(self, account: str) -> Mapping[str, Decimal]:
        """Initial margin held by the account's open linear orders, per settle coin."""
        out: dict[str, Decimal] = {}
        for order in self.desk.open_orders(account, "linear"):
            inst = self.venue.book("linear", order.native_id).instrument
            price = order.price if order.price is not None else _ZERO
            leverage = self.desk.leverage(account, order.native_id)
            im = order.remaining_qty * price / leverage
            out[inst.quote] = out.get(inst.quote, _ZERO) + im
        return out

    def linear_held(self, account: str) -> Mapping[str, Decimal]:
        """What the account's open linear orders hold (margin and fee reserve), per
        settle coin: the rest of a coin's holds is its spot orders'."""
        out: dict[str, Decimal] = {}
        for order in self.desk.open_orders(account, "linear"):
            coin = self.venue.book("linear", order.native_id).instrument.quote
            out[coin] = out.get(coin, _ZERO) + self.desk.order_hold(account, order.order_id)
        return out

    def wallet(self, account: str, coins: set[str] | None = None) -> JsonDict:
        """The UNIFIED account (all coins, or only ``coins``)."""
        balances = [b for b in self.desk.balances(account) if coins is None or b.asset in coins]
        held = self.order_im(account)
        linear = self.linear_held(account)
        return wallet_account(
            balances,
            self.desk.positions(account),
            usd_price=self.usd_price,
            upl=self.upl,
            order_im=lambda coin: held.get(coin, _ZERO),
            linear_held=lambda coin: linear.get(coin, _ZERO),
        )

    def position_json(self, account: str, symbol: str, *, push: bool) -> JsonDict:
        """One linear position on the wire (REST list item or ``position`` push item)."""
        inst = self.venue.book("linear", symbol).instrument
        seq, updated = self.position_seq.get((account, symbol), (0, self.venue.now_ms()))
        return position_item(
            self.desk.position(account, symbol),
            inst,
            mark=self.desk.mark_price("linear", symbol),
            leverage=self.desk.leverage(account, symbol),
            seq=seq,
            updated_ms=updated,
            push=push,
        )

    # --------------------------------------------------------------- routes

    async def wallet_balance(
        self, account: str, params: Mapping[str, object], call: RestCall
    ) -> Response:
        """``GET /v5/account/wallet-balance``."""
        if params.get("accountType") != "UNIFIED":
            return self.signed.answer(10001, "accountType only support UNIFIED.", {})
        raw = str(params.get("coin") or "")
        coins = {c for c in raw.split(",") if c} or None
        return self.signed.ok({"list": [self.wallet(account, coins)]})

    async def positions(
        self, account: str, params: Mapping[str, object], call: RestCall
    ) -> Response:
        """``GET /v5/position/list`` (linear, one-way)."""
        category = params.get("category")
        if category in UNSIMULATED:
            return self.signed.ok({"list": [], "nextPageCursor": "", "category": category})
        if category != "linear":
            return self.signed.answer(10001, "Illegal category", {})
        symbol = params.get("symbol") or None
        settle = params.get("settleCoin") or None
        if symbol is None and settle is None:
            return self.signed.answer(
                10001, "Missing some parameters that must be filled in, symbol or settleCoin", {}
            )
        if symbol is not None:
            if self.venue.find("linear", str(symbol)) is None:
                return self.signed.answer(10001, "params error: symbol invalid", {})
            symbols = [str(symbol)]
        else:
            symbols = [
                p.symbol for p in self.desk.positions(account) if p.settle == settle and p.size
            ]
        limit = int_param(params, "limit", 20, 200)
        if limit is None:
            return self.signed.answer(10001, "params error: limit invalid", {})
        rows = [self.position_json(account, s, push=False) for s in symbols[:limit]]
        return self.signed.ok({"list": rows, "nextPageCursor": "", "category": "linear"})

    async def set_leverage(
        self, account: str, params: Mapping[str, object], call: RestCall
    ) -> Response:
        """``POST /v5/position/set-leverage``."""
        symbol = str(params.get("symbol") or "")
        if params.get("category") != "linear" or self.venue.find("linear", symbol) is None:
            return self.signed.answer(10001, "params error: symbol invalid", {})
        buy, sell = params.get("buyLeverage"), params.get("sellLeverage")
        try:
            leverage = Decimal(str(buy))
        except ArithmeticError:
            return self.signed.answer(10001, "params error: buyLeverage invalid", {})
        if str(buy) != str(sell):
            return self.signed.answer(
                10001, "buy leverage must be equal to sell leverage in one-way mode", {}
            )
        if leverage != leverage.to_integral_value() or not 1 <= leverage <= _MAX_LEVERAGE:
            return self.signed.answer(10001, "leverage invalid", {})
        if int(leverage) == self.desk.leverage(account, symbol):
            return self.signed.answer(110043, "Set leverage not modified", {})
        self.desk.set_leverage(account, symbol, int(leverage))
        return self.signed.ok({})

    async def switch_mode(
        self, account: str, params: Mapping[str, object], call: RestCall
    ) -> Response:
        """``POST /v5/position/switch-mode``: one-way only."""
        mode = str(params.get("mode", ""))
        if params.get("category") != "linear" or mode not in ("0", "3"):
            return self.signed.answer(10001, "params error: mode invalid", {})
        if mode == "0":
            return self.signed.answer(110025, "Position mode is not modified", {})
        return self.signed.answer(110029, "Hedge mode is not available for this symbol", {})

    async def fee_rate(
        self, account: str, params: Mapping[str, object], call: RestCall
    ) -> Response:
        """``GET /v5/account/fee-rate``."""
        category = params.get("category")
        if category not in ("spot", "linear"):
            return self.signed.answer(10001, "Illegal category", {})
        assert isinstance(category, str)
        symbol = params.get("symbol") or None
        rates = self.desk.fee_rates(account, category)
        rows = [
            {
                "symbol": inst.native_id,
                "takerFeeRate": format_trim(rates.taker),
                "makerFeeRate": format_trim(rates.maker),
                "baseCoin": "",
            }
            for inst in self.venue.instruments(category)
            if symbol is None or inst.native_id == symbol
        ]
        return self.signed.ok({"list": rows})

    async def account_info(
        self, account: str, params: Mapping[str, object], call: RestCall
    ) -> Response:
        """``GET /v5/account/info``."""
        return self.signed.ok(
            {
                "marginMode": "REGULAR_MARGIN",
                "updatedTime": str(self.venue.now_ms()),
                "unifiedMarginStatus": 6,
                "dcpStatus": "OFF",
                "timeWindow": 10,
                "smpGroup": 0,
                "isMasterTrader": False,
                "spotHedgingStatus": "OFF",
            }
        )

    async def query_api(
        self, account: str, params: Mapping[str, object], call: RestCall
    ) -> Response:
        """``GET /v5/user/query-api``."""
        api_key = call.request.headers.get("x-bapi-api-key", "")
        uid = zlib.crc32(f"{self.venue.name}:{account}".encode()) % 100_000_000
        return self.signed.ok(
            {
                "id": str(uid),
                "note": account,
                "apiKey": api_key,
                "readOnly": 0,
                "secret": "",
                "permissions": {
                    "ContractTrade": ["Order", "Position"],
                    "Spot": ["SpotTrade"],
                    "Wallet": ["AccountTransfer", "SubMemberTransfer"],
                    "Options": [],
                    "Derivatives": ["DerivativesTrade"],
                    "CopyTrading": [],
                    "BlockTrade": [],
                    "Exchange": [],
                    "NFT": [],
                    "Affiliate": [],
                    "Earn": [],
                },
                "ips": ["*"],
                "type": 1,
                "deadlineDay": -1,
                "expiredAt": "",
                "createdAt": "2026-01-01T00:00:00Z",
                "unified": 0,
                "uta": 1,
                "userID": uid,
                "inviterID": 0,
                "vipLevel": "No VIP",
                "mktMakerLevel": "0",
                "affiliateID": 0,
                "rsaPublicKey": "",
                "isMaster": True,
                "parentUid": "0",
                "kycLevel": "LEVEL_DEFAULT",
                "kycRegion": "",
            }
        )

    async def coin_info(
        self, account: str, params: Mapping[str, object], call: RestCall
    ) -> Response:
        """``GET /v5/asset/coin/query-info``."""
        wanted = params.get("coin") or None
        coins: list[str] = []
        for inst in self.venue.instruments():
            for coin in (inst.base, inst.quote):
                if coin not in coins and (wanted is None or coin == wanted):
                    coins.append(coin)
        rows = [
            {
                "name": coin,
                "coin": coin,
                "remainAmount": "1000000",
                "chains": [
                    {
                        "chainType": coin,
                        "confirmation": "6",
                        "withdrawFee": "0",
                        "depositMin": "0",
                        "withdrawMin": "0",
                        "chain": coin,
                        "chainDeposit": "1",
                        "chainWithdraw": "1",
                        "minAccuracy": "8",
                        "withdrawPercentageFee": "0",
                        "contractAddress": "",
                        "safeConfirmNumber": "6",
                    }
                ],
            }
            for coin in coins
        ]
        return self.signed.ok({"rows": rows})
