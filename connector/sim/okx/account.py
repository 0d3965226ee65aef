"""OKX v5 signed REST: the trading account and the asset endpoints clients call on start.

Shapes follow ``nautilus_trader/crates/adapters/okx/test_data``
(``http_get_account_balance``, ``http_get_positions``,
``http_get_trade_fee_response``) and the OKX docs
``trading-account-rest-api-*`` and ``funding-account-rest-api-*`` (checked
2026-12-03; ``get-balance``, ``get-account-configuration``, ``set-position-mode``,
``set-account-mode`` and the account error class checked 2026-12-06). Each
account has an account mode (``acctLv``, by default 2, Futures mode) and a
position mode (by default ``net_mode``): :mod:`connector.sim.okx.modes`; margin
is cross:

* ``GET account/balance`` (``ccy`` optional, comma-separated): ``cashBal``
  wallet balance, ``frozenBal`` held by orders plus position margin,
  ``ordFrozen`` held by orders, ``availBal`` the rest, ``upl`` the unrealised
  P&L of positions settled in it, ``eq = cashBal + upl``, ``eqUsd`` at the
  spot ``<ccy>-USDT`` price. "The currency details will not be returned when
  cashBal and eq is both 0."
* ``GET account/positions`` (``instType``, ``instId``): open positions, ``pos``
  signed in contracts.
* ``GET account/config`` (the account's ``acctLv`` and ``posMode``),
  ``POST set-position-mode`` (59000 with open SWAP orders or positions, 51041 in
  Portfolio margin), ``POST set-account-level`` (59132 with open orders, 59134
  with open positions), ``leverage-info``, ``POST set-leverage`` (1-125),
  ``GET trade-fee`` (rates negative when charged, as OKX signs them; SWAP
  rates in ``makerU``/``takerU``), ``GET max-size``.
* ``GET asset/currencies`` (what ccxt loads with keys), ``GET asset/balances``
  (the funding account: empty, everything is in the trading account).
"""

from __future__ import annotations

import zlib
from decimal import Decimal

import msgspec

from connector.sim.accounts import Balance
from connector.sim.http import Response, Router, json_response
from connector.sim.hub import SimVenue
from connector.sim.okx.modes import ACCOUNT_LEVELS, POSITION_MODES, check_mode
from connector.sim.okx.ops import OkxOrders
from connector.sim.okx.orders import position_item
from connector.sim.okx.trading import signed_check
from connector.sim.okx.wire import MARKETS, JsonDict, error_body, format_number
from connector.sim.rest import RestCall, RestChain

__all__ = ["OkxAccount", "balance_detail", "pos_id"]

_dec = msgspec.json.Decoder()
_MAX_LEVER = 125


def pos_id(inst_id: str) -> str:
    """A stable ``posId`` for an account's net position in one instrument."""
    return str(int.from_bytes(inst_id.encode()[:8].ljust(8, b"\0"), "big") % 10**18)


def _ok(data: list[JsonDict]) -> Response:
    return json_response({"code": "0", "msg": "", "data": data})


def _fail(code: str, msg: str, status: int = 200) -> Response:
    return json_response(error_body(code, msg), status=status)


def balance_detail(balance: Balance, *, upl: Decimal, usd: Decimal, now_ms: int) -> JsonDict:
    """One ``details`` entry of ``account/balance`` (and the ``account`` channel)."""
    f = format_number
    eq = balance.total + upl
    return {
        "accAvgPx": "",
        "availBal": f(balance.free),
        "availEq": f(balance.free),
        "borrowFroz": "",
        "cashBal": f(balance.total),
        "ccy": balance.asset,
        "clSpotInUseAmt": "",
        "collateralEnabled": False,
        "crossLiab": "",
        "disEq": f(eq * usd),
        "eq": f(eq),
        "eqUsd": f(eq * usd),
        "fixedBal": "0",
        "frozenBal": f(balance.locked),
        "imr": f(balance.margin),
        "interest": "",
        "isoEq": "0",
        "isoLiab": "",
        "isoUpl": "0",
        "liab": "",
        "maxLoan": "",
        "maxSpotInUseAmt": "",
        "mgnRatio": "",
        "mmr": "0",
        "notionalLever": "0",
        "openAvgPx": "",
        "ordFrozen": f(balance.held),
        "rewardBal": "0",
        "smtSyncEq": "0",
        "spotBal": "",
        "spotCopyTradingEq": "0",
        "spotInUseAmt": "",
        "spotIsoBal": "0",
        "spotUpl": "",
        "spotUplRatio": "",
        "stgyEq": "0",
        "totalPnl": "",
        "totalPnlRatio": "",
        "twap": "0",
        "uTime": str(now_ms),
        "upl": f(upl),
        "uplLiab": "",
    }


class OkxAccount:
    """Account, position, fee and asset routes over the desk.

    Args:
        venue: The venue hub.
        orders: The order operations (instruments, leverage).
        chain: The venue's chain.
    """

    def __init__(self, venue: SimVenue, orders: OkxOrders, chain: RestChain) -> None:
        self.venue = venue
        self.orders = orders
        self.chain = chain

    def register(self, router: Router) -> None:
        """Add the routes."""
        signed = signed_check(self.venue)
        get = self.chain.get
        get(router, "/api/v5/account/balance", self.balance, signed)
        get(router, "/api/v5/account/positions", self.positions, signed)
        get(router, "/api/v5/account/config", self.config, signed)
        self.chain.post(router, "/api/v5/account/set-position-mode", self.set_pos_mode, signed)
        self.chain.post(router, "/api/v5/account/set-account-level", self.set_acct_lv, signed)
        get(router, "/api/v5/account/leverage-info", self.leverage_info, signed)
        self.chain.post(router, "/api/v5/account/set-leverage", self.set_leverage, signed)
        get(router, "/api/v5/account/trade-fee", self.trade_fee, signed)
        get(router, "/api/v5/account/max-size", self.max_size, signed)
        get(router, "/api/v5/asset/currencies", self.currencies, signed)
        get(router, "/api/v5/asset/balances", self.funding_balances, signed)

    # ------------------------------------------------------------- helpers

    def usd_price(self, ccy: str) -> Decimal:
        """``ccy`` in USD: 1 for USDT, else the spot ``<ccy>-USDT`` last price (0 unlisted)."""
        if ccy in ("USDT", "USDC", "USD"):
            return Decimal(1)
        book = self.venue.find("spot", f"{ccy}-USDT")
        return book.ticker().last if book is not None else Decimal(0)

    def upl_by_ccy(self, account: str) -> dict[str, Decimal]:
        """Unrealised P&L of the account's positions by settle asset."""
        out: dict[str, Decimal] = {}
        for p in self.venue.desk.positions(account):
            if p.size:
                mark = self.venue.desk.mark_price("swap", p.symbol)
                out[p.settle] = out.get(p.settle, Decimal(0)) + p.size * (mark - p.entry_price)
        return out

    def details(self, account: str, ccys: set[str] | None = None) -> list[JsonDict]:
        """``details`` of every asset (or of ``ccys``), those with nothing too."""
        now = self.venue.now_ms()
        upl = self.upl_by_ccy(account)
        return [
            balance_detail(
                b, upl=upl.get(b.asset, Decimal(0)), usd=self.usd_price(b.asset), now_ms=now
            )
            for b in self.venue.desk.balances(account)
            if ccys is None or b.asset in ccys
        ]

    def position_items(
        self, account: str, market: str | None = None, inst_id: str | None = None
    ) -> list[JsonDict]:
        """Open positions as ``account/positions`` lists them."""
        now = self.venue.now_ms()
        out: list[JsonDict] = []
        for p in self.venue.desk.positions(account):
            inst = self.orders.instruments.get(p.symbol)
            if inst is None or not p.size or (inst_id and p.symbol != inst_id):
                continue
            if market is not None and inst.market != market:
                continue
            out.append(
                position_item(
                    p,
                    inst,
                    mark=self.venue.desk.mark_price(inst.market, inst.native_id),
                    lever=self.orders.leverage(account, inst.native_id),
                    now_ms=now,
                    pos_id=pos_id(inst.native_id),
                )
            )
        return out

    # -------------------------------------------------------------- routes

    def summary(
        self, account: str, ccys: set[str] | None = None, *, skip_empty: bool = False
    ) -> JsonDict:
        """One ``account/balance`` item (and ``account`` channel push): totals over every
        currency, ``details`` of ``ccys`` (every currency when None); ``skip_empty``
        leaves out the currencies whose ``cashBal`` and ``eq`` are both 0, as
        ``account/balance`` does."""
        every = self.details(account)
        if skip_empty:
            every = [d for d in every if Decimal(str(d["cashBal"])) or Decimal(str(d["eq"]))]
        total = sum((Decimal(str(d["eqUsd"])) for d in every), Decimal(0))
        upl = self.upl_by_ccy(account).get("USDT", Decimal(0))
        imr = sum((b.margin for b in self.venue.desk.balances(account)), Decimal(0))
        f = format_number
        return {
            "adjEq": "",
            "availEq": "",
            "borrowFroz": "",
            "details": [d for d in every if ccys is None or d["ccy"] in ccys],
            "imr": f(imr),
            "isoEq": "0",
            "mgnRatio": "",
            "mmr": "",
            "notionalUsd": "",
            "notionalUsdForBorrow": "",
            "notionalUsdForFutures": "",
            "notionalUsdForOption": "",
            "notionalUsdForSwap": "",
            "ordFroz": "",
            "totalEq": f(total),
            "uTime": str(self.venue.now_ms()),
            "upl": f(upl),
        }

    async def balance(self, call: RestCall) -> Response:
        """``GET /api/v5/account/balance``."""
        raw = call.query.get("ccy", "")
        ccys = {c for c in raw.split(",") if c} or None
        return _ok([self.summary(call.get("account", str), ccys, skip_empty=True)])

    async def positions(self, call: RestCall) -> Response:
        """``GET /api/v5/account/positions``."""
        inst_type = call.query.get("instType", "")
        market = MARKETS.get(inst_type) if inst_type else None
        if inst_type and market is None:
            return _fail("51000", "Parameter instType error", 400)
        inst_id = call.query.get("instId") or None
        return _ok(self.position_items(call.get("account", str), market, inst_id))

    async def config(self, call: RestCall) -> Response:
        """``GET /api/v5/account/config``: the account's ``acctLv`` and ``posMode``; the
        other fields as the docs' example shows them (strings, ``autoLoan`` and
        ``enableSpotBorrow`` booleans, ``*Insts`` and ``settleCcyList`` lists)."""
        account = call.get("account", str)
        mode = self.orders.modes.of(account)
        return _ok(
            [
                {
                    "acctLv": mode.acct_lv,
                    "acctStpMode": "cancel_maker",
                    "autoLoan": False,
                    "ctIsoMode": "automatic",
                    "enableSpotBorrow": False,
                    "feeType": "0",
                    "greeksType": "PA",
                    "ip": "",
                    "kycLv": "2",
                    "label": account,
                    "level": "Lv1",
                    "levelTmp": "",
                    "liquidationGear": "-1",
                    "mainUid": str(zlib.crc32(account.encode())),
                    "mgnIsoMode": "automatic",
                    "opAuth": "0",
                    "perm": "read_only,trade",
                    "posMode": mode.pos_mode,
                    "roleType": "0",
                    "settleCcy": "USDC",
                    "settleCcyList": ["USD", "USDC", "USDG"],
                    "spotBorrowAutoRepay": False,
                    "spotOffsetType": "",
                    "spotRoleType": "0",
                    "spotTraderInsts": [],
                    "stgyType": "0",
                    "traderInsts": [],
                    "type": "0",
                    "uid": str(zlib.crc32(account.encode())),
                }
            ]
        )

    def _setting(self, call: RestCall, name: str, allowed: tuple[str, ...]) -> str | Response:
        """The one parameter of a settings request, or the refusal of the request."""
        try:
            body = _dec.decode(call.request.body or b"{}")
        except msgspec.DecodeError:
            return _fail("50002", "JSON syntax error", 400)
        if not isinstance(body, dict):
            return _fail("50002", "JSON syntax error", 400)
        value = body.get(name)
        if value is None or value == "":
            return _fail("50014", f"Parameter {name} can not be empty.", 400)
        if not isinstance(value, str) or value not in allowed:
            return _fail("51000", f"Parameter {name} error", 400)
        return value

    async def set_pos_mode(self, call: RestCall) -> Response:
        """``POST /api/v5/account/set-position-mode`` (``posMode``)."""
        value = self._setting(call, "posMode", POSITION_MODES)
        if isinstance(value, Response):
            return value
        account = call.get("account", str)
        mode = self.orders.modes.of(account)
        if check_mode(mode.acct_lv, value) is not None:
            return _fail("51041", "Portfolio margin account only supports the Buy/Sell mode.")
        desk = self.venue.desk
        if value != mode.pos_mode and (
            desk.open_orders(account, "swap") or any(p.size for p in desk.positions(account))
        ):
            return _fail(
                "59000",
                "Settings failed. Close any open positions or orders before modifying settings.",
            )
        self.orders.modes.set(account, pos_mode=value)
        return _ok([{"posMode": value}])

    async def set_acct_lv(self, call: RestCall) -> Response:
        """``POST /api/v5/account/set-account-level`` (``acctLv``)."""
        value = self._setting(call, "acctLv", ACCOUNT_LEVELS)
        if isinstance(value, Response):
            return value
        account = call.get("account", str)
        mode = self.orders.modes.of(account)
        if check_mode(value, mode.pos_mode) is not None:
            return _fail("51041", "Portfolio margin account only supports the Buy/Sell mode.")
        desk = self.venue.desk
        if value != mode.acct_lv:
            if desk.open_orders(account):
                return _fail(
                    "59132",
                    "Unable to switch. Please close or cancel all open orders and refer to the"
                    " pre-check endpoint to stop any incompatible bots.",
                )
            if any(p.size for p in desk.positions(account)):
                return _fail(
                    "59134",
                    "Unable to switch. Refer to the pre-check endpoint and close any"
                    " incompatible positions.",
                )
        self.orders.modes.set(account, acct_lv=value)
        return _ok([{"acctLv": value}])

    def _swap_inst(self, inst_id: str) -> Response | str:
        if not inst_id:
            return _fail("50014", "Parameter instId can not be empty.", 400)
        inst = self.orders.instruments.get(inst_id)
        if inst is None:
            return _fail("51001", "Instrument ID, Instrument ID code, or Spread ID doesn't exist.")
        return inst_id

    async def leverage_info(self, call: RestCall) -> Response:
        """``GET /api/v5/account/leverage-info`` (``instId``, ``mgnMode``)."""
        mgn_mode = call.query.get("mgnMode", "")
        if mgn_mode not in ("cross", "isolated"):
            return _fail("50014", "Parameter mgnMode can not be empty.", 400)
        account = call.get("account", str)
        items: list[JsonDict] = []
        for inst_id in call.query.get("instId", "").split(","):
            found = self._swap_inst(inst_id)
            if isinstance(found, Response):
                return found
            lever = self.orders.leverage(account, inst_id)
            items.append(
                {"instId": inst_id, "lever": str(lever), "mgnMode": mgn_mode, "posSide": "net"}
            )
        return _ok(items)

    async def set_leverage(self, call: RestCall) -> Response:
        """``POST /api/v5/account/set-leverage`` (``instId``, ``lever``, ``mgnMode``)."""
        try:
            body = _dec.decode(call.request.body or b"{}")
        except msgspec.DecodeError:
            return _fail("50002", "JSON syntax error", 400)
        if not isinstance(body, dict):
            return _fail("50002", "JSON syntax error", 400)
        inst_id = str(body.get("instId", ""))
        found = self._swap_inst(inst_id)
        if isinstance(found, Response):
            return found
        try:
            lever = Decimal(str(body.get("lever", "")))
        except ArithmeticError:
            return _fail("51000", "Parameter lever error", 400)
        if not lever.is_finite() or lever != lever.to_integral() or not 1 <= lever <= _MAX_LEVER:
            return _fail("51000", "Parameter lever error", 400)
        mgn_mode = str(body.get("mgnMode", ""))
        if mgn_mode not in ("cross", "isolated"):
            return _fail("51000", "Parameter mgnMode error", 400)
        account = call.get("account", str)
        self.venue.desk.set_leverage(account, inst_id, int(lever))
        return _ok(
            [{"instId": inst_id, "lever": str(int(lever)), "mgnMode": mgn_mode, "posSide": "net"}]
        )

    async def trade_fee(self, call: RestCall) -> Response:
        """``GET /api/v5/account/trade-fee`` (``instType``): rates negative when charged."""
        inst_type = call.query.get("instType", "")
        market = MARKETS.get(inst_type)
        if market is None:
            if not inst_type:
                return _fail("50014", "Parameter instType can not be empty.", 400)
            return _fail("51000", "Parameter instType error", 400)
        rates = self.venue.desk.fee_rates(call.get("account", str), market)
        f = format_number
        maker, taker = f(-rates.maker), f(-rates.taker)
        swap = market == "swap"
        return _ok(
            [
                {
                    "category": "1",
                    "delivery": "",
                    "exercise": "",
                    "fiat": [],
                    "instType": inst_type,
                    "level": "Lv1",
                    "maker": "" if swap else maker,
                    "makerU": maker if swap else "",
                    "makerUSDC": "",
                    "ruleType": "normal",
                    "taker": "" if swap else taker,
                    "takerU": taker if swap else "",
                    "takerUSDC": "",
                    "ts": str(self.venue.now_ms()),
                    "uly": "",
                }
            ]
        )

    async def max_size(self, call: RestCall) -> Response:
        """``GET /api/v5/account/max-size`` (``instId``, ``tdMode``, ``px``)."""
        found = self._swap_inst(call.query.get("instId", ""))
        if isinstance(found, Response):
            return found
        inst = self.orders.instruments[found]
        account = call.get("account", str)
        desk = self.venue.desk
        book = self.venue.book(inst.market, inst.native_id)
        px_raw = call.query.get("px", "")
        try:
            price = Decimal(px_raw) if px_raw else book.ticker().last
        except ArithmeticError:
            return _fail("51000", "Parameter px error", 400)
        f = format_number
        quote = desk.balance(account, inst.quote).free
        if inst.market == "spot":
            base = desk.balance(account, inst.base).free
            max_buy, max_sell, ccy = quote / price, base, inst.base
        else:
            lever = Decimal(self.orders.leverage(account, inst.native_id))
            contracts = quote * lever / (price * inst.contract_size)
            max_buy = max_sell = contracts
            ccy = inst.quote
        step = inst.lot_step
        return _ok(
            [
                {
                    "ccy": ccy,
                    "instId": inst.native_id,
                    "maxBuy": f((max_buy / step).to_integral_value(rounding="ROUND_DOWN") * step),
                    "maxSell": f((max_sell / step).to_integral_value(rounding="ROUND_DOWN") * step),
                }
            ]
        )

    async def currencies(self, call: RestCall) -> Response:
        """``GET /api/v5/asset/currencies``: one chain per asset, deposits and withdrawals on."""
        assets: list[str] = []
        for inst in self.orders.instruments.values():
            for ccy in (inst.base, inst.quote):
                if ccy not in assets:
                    assets.append(ccy)
        wanted = {c for c in call.query.get("ccy", "").split(",") if c}
        return _ok([_currency(c) for c in assets if not wanted or c in wanted])

    async def funding_balances(self, call: RestCall) -> Response:
        """``GET /api/v5/asset/balances``: the funding account holds nothing (all is trading)."""
        return _ok([])


def _currency(ccy: str) -> JsonDict:
    return {
        "burningFeeRate": "",
        "canDep": True,
        "canInternal": True,
        "canWd": True,
        "ccy": ccy,
        "chain": f"{ccy}-{ccy}",
        "ctAddr": "",
        "depEstOpenTime": "",
        "depQuotaFixed": "",
        "depQuoteDailyLayer2": "",
        "fee": "0",
        "logoLink": "",
        "mainNet": True,
        "maxFee": "0",
        "maxFeeForCtAddr": "",
        "maxWd": "1000000",
        "minDep": "0.00000001",
        "minDepArrivalConfirm": "1",
        "minFee": "0",
        "minFeeForCtAddr": "",
        "minInternal": "0.0001",
        "minWd": "0.0001",
        "minWdUnlockConfirm": "1",
        "name": ccy,
        "needTag": False,
        "usedDepQuotaFixed": "",
        "usedWdQuota": "0",
        "wdEstOpenTime": "",
        "wdQuota": "10000000",
        "wdTickSz": "8",
    }
