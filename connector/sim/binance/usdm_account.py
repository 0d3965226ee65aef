"""Binance USDⓈ-M accounts and positions over REST, and the listenKeys. Sans-I/O.

Endpoints (USDⓈ-M account/rest-api and trade/rest-api, checked 2026-12-03):
``GET /fapi/v3/balance`` (and v2), ``GET /fapi/v3/account`` (and v2),
``GET /fapi/v3/positionRisk`` (only symbols with a position or open orders;
v2: every symbol), ``GET/POST /fapi/v1/positionSide/dual`` (one-way mode
only: switching to hedge mode is refused), ``POST /fapi/v1/leverage`` (1 to
125, else -4028), ``GET /fapi/v1/leverageBracket``, ``GET
/fapi/v1/commissionRate``, ``GET/POST /fapi/v1/multiAssetsMargin``
(single-asset mode only).

listenKeys (user-data-streams): ``POST`` gives the account's active key, or a
new one, and extends it to 60 minutes; ``PUT`` extends it (-1125 when gone);
``DELETE`` closes it. A key not kept alive expires 60 minutes after its last
extension.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from decimal import Decimal

import attrs

from connector.sim.accounts import Balance, Position
from connector.sim.binance import usdm_codes as codes
from connector.sim.binance.usdm_codes import UsdmError, mandatory
from connector.sim.binance.usdm_trading import MARKET, Result
from connector.sim.binance.usdm_wire import _num, balance_obj, position_obj
from connector.sim.binance.wire import Listing
from connector.sim.desk import Desk

__all__ = ["LISTEN_KEY_MS", "ListenKeys", "UsdmAccounts"]

LISTEN_KEY_MS = 60 * 60 * 1000
#: Maintenance margin rate of the first bracket (notional up to 50 000 USDT).
MAINT_RATE = Decimal("0.004")
_BRACKETS = (  # notional cap, initial leverage, maintenance margin ratio, cum
    (50_000, 125, "0.004", "0"),
    (600_000, 100, "0.005", "50"),
    (3_000_000, 75, "0.0065", "950"),
    (12_000_000, 50, "0.01", "11450"),
    (70_000_000, 25, "0.02", "131450"),
)


@attrs.define
class _Key:
    account: str
    expires_ms: int


class ListenKeys:
    """The USDⓈ-M listenKeys of every account (one active key per account).

    Args:
        clock: The venue clock in ms.
        lifetime_ms: How long a key lives without a keepalive (60 minutes).
    """

    def __init__(self, clock: Callable[[], int], lifetime_ms: int = LISTEN_KEY_MS) -> None:
        self.clock = clock
        self.lifetime_ms = lifetime_ms
        self._keys: dict[str, _Key] = {}

    def _alive(self, key: str) -> _Key | None:
        entry = self._keys.get(key)
        if entry is None or entry.expires_ms <= self.clock():
            return None
        return entry

    def create(self, account: str) -> str:
        """``POST``: the account's active key (extended), else a new one."""
        now = self.clock()
        for key, entry in self._keys.items():
            if entry.account == account and entry.expires_ms > now:
                entry.expires_ms = now + self.lifetime_ms
                return key
        key = secrets.token_urlsafe(48)[:64]
        self._keys[key] = _Key(account=account, expires_ms=now + self.lifetime_ms)
        return key

    def keepalive(self, account: str, key: str | None = None) -> str | None:
        """``PUT``: extend the account's key (or ``key``); None when it does not exist."""
        now = self.clock()
        for k, entry in self._keys.items():
            if entry.account == account and (key is None or key == k) and entry.expires_ms > now:
                entry.expires_ms = now + self.lifetime_ms
                return k
        return None

    def close(self, account: str, key: str | None = None) -> bool:
        """``DELETE``: end the account's key (or ``key``)."""
        gone = [k for k, e in self._keys.items() if e.account == account and (key in (None, k))]
        for k in gone:
            del self._keys[k]
        return bool(gone)

    def expire_all(self) -> int:
        """End every key now (a fault: as if none had been kept alive); returns how many."""
        now = self.clock()
        alive = [entry for entry in self._keys.values() if entry.expires_ms > now]
        for entry in alive:
            entry.expires_ms = now
        return len(alive)

    def account_of(self, key: str) -> str | None:
        """The account of a live key, or None."""
        entry = self._alive(key)
        return None if entry is None else entry.account

    def expires_ms(self, key: str) -> int | None:
        """When ``key`` expires (None: unknown or already closed)."""
        entry = self._keys.get(key)
        return None if entry is None else entry.expires_ms


class UsdmAccounts:
    """USDⓈ-M account reads and settings over the desk.

    Args:
        desk: The venue's desk.
        symbols: The USDⓈ-M listings by symbol.
        clock: The venue clock in ms.
    """

    def __init__(self, desk: Desk, symbols: Mapping[str, Listing], clock: Callable[[], int]):
        self.desk = desk
        self.symbols = symbols
        self.clock = clock
        #: Called as ``(account, symbol, leverage)`` after a leverage change (user data).
        self.on_leverage: Callable[[str, str, int], None] | None = None

    def _marks(self) -> dict[str, Decimal]:
        return {s: self.desk.mark_price(MARKET, s) for s in self.symbols}

    def _positions(self, account: str) -> list[tuple[Position, Decimal]]:
        marks = self._marks()
        return [
            (p, marks[p.symbol])
            for p in self.desk.positions(account)
            if p.symbol in self.symbols and p.size != 0
        ]

    def _assets(self, account: str) -> list[tuple[Balance, Decimal, Decimal]]:
        """(balance, unrealised P&L, available) of each asset."""
        positions = self._positions(account)
        out = []
        for b in self.desk.balances(account):
            unpnl = sum(
                (p.size * (mark - p.entry_price) for p, mark in positions if p.settle == b.asset),
                Decimal(0),
            )
            available = b.free + min(unpnl, Decimal(0))
            out.append((b, unpnl, available))
        return out

    def balances(self, account: str, params: Mapping[str, str]) -> Result:
        """``GET /fapi/v3/balance`` and v2."""
        now = self.clock()
        return [balance_obj(b, u, a, now) for b, u, a in self._assets(account)]

    def account(self, account: str, params: Mapping[str, str], *, v2: bool = False) -> Result:
        """``GET /fapi/v3/account`` (v2: with the account flags and every symbol)."""
        now = self.clock()
        assets = self._assets(account)
        positions = self._positions(account)
        margin = {b.asset: b.margin for b, _u, _a in assets}
        total = {
            "wallet": sum((b.total for b, _u, _a in assets if b.asset == "USDT"), Decimal(0)),
            "unpnl": sum((u for b, u, _a in assets if b.asset == "USDT"), Decimal(0)),
        }
        usdt_available = sum((a for b, _u, a in assets if b.asset == "USDT"), Decimal(0))
        usdt_held = sum((b.held for b, _u, _a in assets if b.asset == "USDT"), Decimal(0))
        position_im = margin.get("USDT", Decimal(0))
        maint = {
            b.asset: sum(
                (abs(p.size * mark) * MAINT_RATE for p, mark in positions if p.settle == b.asset),
                Decimal(0),
            )
            for b, _u, _a in assets
        }
        out: dict[str, object] = {}
        if v2:
            out.update(
                {
                    "feeTier": 0,
                    "feeBurn": False,
                    "canTrade": True,
                    "canDeposit": True,
                    "canWithdraw": True,
                    "updateTime": 0,
                    "multiAssetsMargin": False,
                    "tradeGroupId": -1,
                }
            )
        out.update(
            {
                "totalInitialMargin": _num(position_im + usdt_held),
                "totalMaintMargin": _num(maint.get("USDT", Decimal(0))),
                "totalWalletBalance": _num(total["wallet"]),
                "totalUnrealizedProfit": _num(total["unpnl"]),
                "totalMarginBalance": _num(total["wallet"] + total["unpnl"]),
                "totalPositionInitialMargin": _num(position_im),
                "totalOpenOrderInitialMargin": _num(usdt_held),
                "totalCrossWalletBalance": _num(total["wallet"]),
                "totalCrossUnPnl": _num(total["unpnl"]),
                "availableBalance": _num(usdt_available),
                "maxWithdrawAmount": _num(max(usdt_available, Decimal(0))),
            }
        )
        out["assets"] = [
            {
                "asset": b.asset,
                "walletBalance": _num(b.total),
                "unrealizedProfit": _num(u),
                "marginBalance": _num(b.total + u),
                "maintMargin": _num(maint[b.asset]),
                "initialMargin": _num(b.margin + b.held),
                "positionInitialMargin": _num(b.margin),
                "openOrderInitialMargin": _num(b.held),
                "crossWalletBalance": _num(b.total),
                "crossUnPnl": _num(u),
                "availableBalance": _num(a),
                "maxWithdrawAmount": _num(max(a, Decimal(0))),
                **({"marginAvailable": True} if v2 else {}),
                "updateTime": now,
            }
            for b, u, a in assets
        ]
        out["positions"] = [
            self._account_position(account, p, mark, now, v2) for p, mark in positions
        ]
        return out

    def _account_position(
        self, account: str, p: Position, mark: Decimal, now: int, v2: bool
    ) -> dict[str, object]:
        full = position_obj(
            self.symbols[p.symbol], p, mark, self.desk.leverage(account, p.symbol), now
        )
        keys = ["symbol", "positionSide", "positionAmt", "unRealizedProfit", "isolatedMargin"]
        keys += ["notional", "isolatedWallet", "initialMargin", "maintMargin", "updateTime"]
        entry = {k: full[k] for k in keys}
        entry["unrealizedProfit"] = entry.pop("unRealizedProfit")
        if v2:
            entry.update(
                {
                    "leverage": str(self.desk.leverage(account, p.symbol)),
                    "entryPrice": full["entryPrice"],
                    "breakEvenPrice": full["breakEvenPrice"],
                    "maxNotional": "1000000",
                    "isolated": False,
                    "positionInitialMargin": full["positionInitialMargin"],
                    "openOrderInitialMargin": "0",
                    "bidNotional": "0",
                    "askNotional": "0",
                }
            )
        return entry

    def position_risk(self, account: str, params: Mapping[str, str], *, v2: bool = False) -> Result:
        """``GET /fapi/v3/positionRisk`` (v2: every symbol, with leverage)."""
        symbol = params.get("symbol") or None
        if symbol is not None and symbol not in self.symbols:
            return codes.INVALID_SYMBOL
        now = self.clock()
        open_symbols = {o.native_id for o in self.desk.open_orders(account, MARKET)}
        out: list[object] = []
        for name, sym in self.symbols.items():
            if symbol is not None and name != symbol:
                continue
            pos = self.desk.position(account, name)
            if pos is None:
                pos = Position(symbol=name, settle=sym.book.instrument.quote)
            if not v2 and pos.size == 0 and name not in open_symbols:
                continue
            mark = self.desk.mark_price(MARKET, name)
            leverage = self.desk.leverage(account, name)
            entry = position_obj(sym, pos, mark, leverage, now)
            if v2:
                entry["leverage"] = str(leverage)
                entry["maxNotionalValue"] = "1000000"
                entry["marginType"] = "cross"
                entry["isAutoAddMargin"] = "false"
            out.append(entry)
        return out

    # -------------------------------------------------------------- settings

    def position_mode(self, account: str, params: Mapping[str, str]) -> Result:
        """``GET /fapi/v1/positionSide/dual``: always one-way."""
        return {"dualSidePosition": False}

    def set_position_mode(self, account: str, params: Mapping[str, str]) -> Result:
        """``POST /fapi/v1/positionSide/dual``: one-way only."""
        raw = params.get("dualSidePosition", "")
        if not raw:
            return mandatory("dualSidePosition")
        if raw.lower() == "false":
            return UsdmError(status=400, code=-4059, msg="No need to change position side.")
        # The simulator keeps one-way positions only.
        return codes.bad_value("dualSidePosition")

    def set_leverage(self, account: str, params: Mapping[str, str]) -> Result:
        """``POST /fapi/v1/leverage``."""
        symbol = params.get("symbol", "")
        if not symbol:
            return mandatory("symbol")
        if symbol not in self.symbols:
            return codes.INVALID_SYMBOL
        raw = params.get("leverage", "")
        if not raw:
            return mandatory("leverage")
        if not raw.isdigit() or not 1 <= int(raw) <= 125:
            return UsdmError(status=400, code=-4028, msg=f"Leverage {raw} is not valid")
        self.desk.set_leverage(account, symbol, int(raw))
        if self.on_leverage is not None:
            self.on_leverage(account, symbol, int(raw))
        cap = next(c for c, lev, _m, _c in reversed(_BRACKETS) if lev >= int(raw))
        return {"leverage": int(raw), "maxNotionalValue": str(cap), "symbol": symbol}

    def leverage_bracket(self, account: str, params: Mapping[str, str]) -> Result:
        """``GET /fapi/v1/leverageBracket``: a list, or one object when ``symbol`` is sent."""
        symbol = params.get("symbol") or None
        if symbol is not None and symbol not in self.symbols:
            return codes.INVALID_SYMBOL
        entries: list[dict[str, object]] = []
        for name in self.symbols:
            if symbol is not None and name != symbol:
                continue
            floor = 0
            brackets = []
            for i, (cap, lev, mmr, cum) in enumerate(_BRACKETS, start=1):
                brackets.append(
                    {
                        "bracket": i,
                        "initialLeverage": lev,
                        "notionalCap": cap,
                        "notionalFloor": floor,
                        "maintMarginRatio": float(mmr),
                        "cum": float(cum),
                    }
                )
                floor = cap
            entries.append({"symbol": name, "notionalCoef": 1.0, "brackets": brackets})
        if symbol is not None:
            return entries[0]  # documented: one object when ``symbol`` is sent
        return list(entries)

    def commission_rate(self, account: str, params: Mapping[str, str]) -> Result:
        """``GET /fapi/v1/commissionRate``."""
        symbol = params.get("symbol", "")
        if not symbol:
            return mandatory("symbol")
        if symbol not in self.symbols:
            return codes.INVALID_SYMBOL
        rates = self.desk.fee_rates(account, MARKET)
        return {
            "symbol": symbol,
            "makerCommissionRate": _num(rates.maker),
            "takerCommissionRate": _num(rates.taker),
            "rpiCommissionRate": "0",
        }

    def multi_assets(self, account: str, params: Mapping[str, str]) -> Result:
        """``GET /fapi/v1/multiAssetsMargin``: single-asset mode."""
        return {"multiAssetsMargin": False}

    def set_multi_assets(self, account: str, params: Mapping[str, str]) -> Result:
        """``POST /fapi/v1/multiAssetsMargin``: single-asset mode only."""
        raw = params.get("multiAssetsMargin", "")
        if not raw:
            return mandatory("multiAssetsMargin")
        if raw.lower() == "false":
            return UsdmError(status=400, code=-4171, msg="Adjusted asset mode is currently set.")
        return codes.bad_value("multiAssetsMargin")
