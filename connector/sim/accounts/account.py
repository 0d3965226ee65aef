"""A simulated account: balances with order holds, fees, one-way linear positions, margin.

One :class:`SimAccount` per account and venue, owned by that venue's trading
code, which calls it in the order things happen on the venue:

* :meth:`SimAccount.place_spot` / :meth:`SimAccount.place_linear` when an
  order is accepted: the order's hold is locked, or the order is refused with
  the venue's insufficient-funds code (:class:`Refused`);
* :meth:`SimAccount.fill` for each fill (the hold is settled, the fee charged,
  the position moved);
* :meth:`SimAccount.cancel` when the rest of an order ends unfilled (cancel,
  expiry, IOC remainder): what is left of its hold is released.

Spot: a buy holds ``qty × price`` of the quote asset, a sell ``qty`` of the
base asset. A fill costs ``qty × fill price`` (a buy never fills above its
limit, so the hold covers it) and the fee is taken from the asset received, as
the three venues do by default (Binance spot without BNB, Bybit spot, OKX
spot).

Linear (USDT-margined perpetuals, one-way mode, cross margin): an order holds
its initial margin (``opening qty × price / leverage``, where the opening
quantity is what exceeds the part of the opposite position that other open
orders on the same side do not already close) plus a taker fee on
its whole notional; the order is refused when that is more than the available
balance: free balance plus unrealised losses at the marks given (unrealised
profits do not fund new margin). A fill moves the opening part's margin into
the position, charges the fee (maker or taker) in the settle asset and books
the realised P&L into the wallet. Liquidation is not modelled: a loss past the
margin shows as a wallet below the margin it holds.

Every amount is rounded once where it is computed (fees to 1e-8, the rest to 1e-10;
:mod:`~connector.sim.accounts.money`), so balances reconcile exactly with the
fills.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Literal

import attrs

from connector.sim.accounts.money import ZERO, fee_amount, money
from connector.sim.accounts.positions import Position, apply_fill, unrealised_pnl

__all__ = [
    "Balance",
    "FeeRates",
    "FillSettled",
    "Held",
    "Liquidity",
    "Market",
    "Refused",
    "Side",
    "SimAccount",
    "insufficient_funds",
]

Market = Literal["spot", "linear"]
"""Spot, or USDT-margined perpetuals (Binance USDⓈ-M, Bybit linear, OKX SWAP)."""
Side = Literal["buy", "sell"]
Liquidity = Literal["maker", "taker"]


@attrs.frozen(kw_only=True)
class FeeRates:
    """Fee rates of one market, as fractions of the notional (0.001 = 0.1 %).

    A negative rate is a rebate.
    """

    maker: Decimal
    taker: Decimal

    def __attrs_post_init__(self) -> None:
        for name, rate in (("maker", self.maker), ("taker", self.taker)):
            if not Decimal(-1) < rate < Decimal(1):
                raise ValueError(f"{name} fee rate {rate} is not a fraction between -1 and 1")

    def rate(self, liquidity: Liquidity) -> Decimal:
        """The rate for a maker or a taker fill."""
        return self.maker if liquidity == "maker" else self.taker


@attrs.frozen(kw_only=True)
class Balance:
    """One asset of an account.

    Attributes:
        asset: The asset (``USDT``, ``BTC``).
        total: Wallet balance.
        held: Locked by open orders.
        margin: Initial margin of open positions settled in this asset.
    """

    asset: str
    total: Decimal
    held: Decimal = ZERO
    margin: Decimal = ZERO

    @property
    def locked(self) -> Decimal:
        """Held by orders plus position margin."""
        return self.held + self.margin

    @property
    def free(self) -> Decimal:
        """What new orders may use: total minus locked."""
        return self.total - self.locked


@attrs.frozen(kw_only=True)
class Held:
    """The order is accepted and ``amount`` of ``asset`` is locked for it."""

    order_id: str
    asset: str
    amount: Decimal


@attrs.frozen(kw_only=True)
class Refused:
    """Not enough funds: the venue's code, message and HTTP status."""

    code: int
    message: str
    http_status: int
    asset: str
    needed: Decimal
    available: Decimal


@attrs.frozen(kw_only=True)
class FillSettled:
    """What one fill did to the account.

    Attributes:
        order_id: The order.
        fee: Fee charged (negative: rebate).
        fee_asset: The asset the fee was taken in.
        realised_pnl: Gross P&L the fill realised (linear; 0 for spot).
        position: The position after the fill (linear), else None.
        done: The order is completely filled and its hold is gone.
    """

    order_id: str
    fee: Decimal
    fee_asset: str
    realised_pnl: Decimal = ZERO
    position: Position | None = None
    done: bool = False


_INSUFFICIENT: dict[tuple[str, Market], tuple[int, str, int]] = {
    # (venue, market): (code, message, HTTP status); venues-trading.md sections 6 and 2.
    ("binance", "spot"): (-2010, "Account has insufficient balance for requested action.", 400),
    ("binance", "linear"): (-2019, "Margin is insufficient.", 400),
    ("bybit", "spot"): (170131, "Balance insufficient", 200),
    ("bybit", "linear"): (110007, "Available balance is insufficient", 200),
    ("okx", "spot"): (51008, "Order failed. Insufficient {asset} balance in account.", 200),
    ("okx", "linear"): (51008, "Order failed. Insufficient {asset} margin in account.", 200),
}


def insufficient_funds(
    venue: str, market: Market, asset: str, needed: Decimal, available: Decimal
) -> Refused:
    """The venue's refusal of an order the account cannot fund."""
    code, message, status = _INSUFFICIENT.get((venue, market), (0, "Insufficient balance", 400))
    return Refused(
        code=code,
        message=message.format(asset=asset),
        http_status=status,
        asset=asset,
        needed=needed,
        available=available,
    )


@attrs.define
class _Hold:
    """One open order's reservation (mutable, owned by the account)."""

    market: Market
    side: Side
    symbol: str
    base: str
    quote: str
    price: Decimal
    qty_left: Decimal
    asset: str
    left: Decimal
    margin_left: Decimal = ZERO
    margin_unit: Decimal = ZERO


@attrs.define
class SimAccount:
    """Balances, holds and positions of one simulated account on one venue.

    Build one with :meth:`open` (starting balances).

    Args:
        account_id: The account's name.
        venue: ``binance``, ``bybit`` or ``okx`` (picks the refusal codes).
        fees: Fee rates by market.
        leverage: Leverage of linear symbols without their own setting.
    """

    account_id: str
    venue: str
    fees: Mapping[Market, FeeRates] = attrs.field(factory=dict)
    leverage: int = 10
    _totals: dict[str, Decimal] = attrs.field(factory=dict, init=False)
    _held: dict[str, Decimal] = attrs.field(factory=dict, init=False)
    _orders: dict[str, _Hold] = attrs.field(factory=dict, init=False)
    _positions: dict[str, Position] = attrs.field(factory=dict, init=False)
    _leverages: dict[str, int] = attrs.field(factory=dict, init=False)

    @classmethod
    def open(
        cls,
        account_id: str,
        venue: str,
        *,
        balances: Mapping[str, Decimal],
        fees: Mapping[Market, FeeRates],
        leverage: int = 10,
    ) -> SimAccount:
        """An account with its starting balances."""
        if leverage < 1:
            raise ValueError(f"leverage {leverage} is below 1")
        account = cls(account_id=account_id, venue=venue, fees=dict(fees), leverage=leverage)
        for asset, amount in balances.items():
            if amount < 0:
                raise ValueError(f"starting balance of {asset} is negative")
            account._totals[asset] = money(amount)
        return account

    # ---------------------------------------------------------------- reading

    def balance(self, asset: str) -> Balance:
        """One asset (zero when the account never held it)."""
        margin = sum(
            (p.margin for p in self._positions.values() if p.settle == asset and p.size != 0),
            ZERO,
        )
        return Balance(
            asset=asset,
            total=self._totals.get(asset, ZERO),
            held=self._held.get(asset, ZERO),
            margin=margin,
        )

    def balances(self) -> tuple[Balance, ...]:
        """Every asset the account has or had, sorted by name."""
        return tuple(self.balance(a) for a in sorted(self._totals))

    def position(self, symbol: str) -> Position | None:
        """The position on ``symbol`` (flat ones included), or None if never traded."""
        return self._positions.get(symbol)

    def positions(self) -> tuple[Position, ...]:
        """Every open (non-flat) position, sorted by symbol."""
        return tuple(p for _, p in sorted(self._positions.items()) if p.size != 0)

    def open_orders(self) -> tuple[str, ...]:
        """Ids of the orders that hold funds."""
        return tuple(self._orders)

    def order_hold(self, order_id: str) -> Decimal:
        """What an open order still holds (0 for an unknown order)."""
        hold = self._orders.get(order_id)
        return ZERO if hold is None else hold.left + hold.margin_left

    def leverage_of(self, symbol: str) -> int:
        """The leverage used for ``symbol``'s margin."""
        return self._leverages.get(symbol, self.leverage)

    def set_leverage(self, symbol: str, leverage: int) -> None:
        """Set ``symbol``'s leverage (applies to margin reserved from now on)."""
        if leverage < 1:
            raise ValueError(f"leverage {leverage} is below 1")
        self._leverages[symbol] = leverage

    def unrealised_pnl(self, marks: Mapping[str, Decimal], settle: str | None = None) -> Decimal:
        """Unrealised P&L of the open positions with a mark price in ``marks``."""
        return sum(
            (
                unrealised_pnl(p, marks[p.symbol])
                for p in self._positions.values()
                if p.symbol in marks and (settle is None or p.settle == settle)
            ),
            ZERO,
        )

    def available(self, asset: str, marks: Mapping[str, Decimal] | None = None) -> Decimal:
        """Free balance plus unrealised losses (at ``marks``) of positions settled in it."""
        loss = min(ZERO, self.unrealised_pnl(marks or {}, asset))
        return self.balance(asset).free + loss

    def fee_rates(self, market: Market) -> FeeRates:
        """The account's fee rates on ``market``."""
        return self.fees.get(market, FeeRates(maker=ZERO, taker=ZERO))

    def transfer(self, asset: str, amount: Decimal) -> Balance:
        """Move ``amount`` of ``asset`` into the wallet (negative: out); the balance after.

        Raises:
            ValueError: more out than the free balance.
        """
        amount = money(amount)
        free = self.balance(asset).free
        if amount < 0 and -amount > free:
            raise ValueError(f"cannot transfer {-amount} {asset} out: only {free} free")
        self._add(asset, amount)
        return self.balance(asset)

    # ---------------------------------------------------------------- orders

    def place_spot(
        self, order_id: str, *, side: Side, base: str, quote: str, qty: Decimal, price: Decimal
    ) -> Held | Refused:
        """Lock a spot order's funds, or refuse it.

        Args:
            order_id: The venue's order id (unique per account).
            side: ``buy`` holds ``qty × price`` of ``quote``; ``sell`` holds ``qty`` of ``base``.
            base: Base asset.
            quote: Quote asset.
            qty: Base quantity.
            price: Limit price (for a market buy: the worst price it may pay).
        """
        self._check_new(order_id, qty, price)
        asset, amount = (quote, money(qty * price)) if side == "buy" else (base, money(qty))
        free = self.balance(asset).free
        if amount > free:
            return insufficient_funds(self.venue, "spot", asset, amount, free)
        self._lock(asset, amount)
        self._orders[order_id] = _Hold(
            market="spot",
            side=side,
            symbol=base + quote,
            base=base,
            quote=quote,
            price=price,
            qty_left=qty,
            asset=asset,
            left=amount,
        )
        return Held(order_id=order_id, asset=asset, amount=amount)

    def place_linear(
        self,
        order_id: str,
        *,
        symbol: str,
        settle: str,
        side: Side,
        qty: Decimal,
        price: Decimal,
        marks: Mapping[str, Decimal] | None = None,
    ) -> Held | Refused:
        """Reserve a linear order's initial margin and taker fee, or refuse it.

        Args:
            order_id: The venue's order id.
            symbol: The venue's symbol.
            settle: The settle (margin) asset.
            side: ``buy`` or ``sell``.
            qty: Base quantity.
            price: Limit price (for a market order: the worst price it may pay).
            marks: Mark prices for the unrealised P&L of open positions.
        """
        self._check_new(order_id, qty, price)
        position = self._positions.get(symbol)
        size = position.size if position is not None else ZERO
        against = size != 0 and (size > 0) != (side == "buy")
        # Open orders on the same side already count on closing part of the position.
        closing_already = sum(
            (h.qty_left for h in self._orders.values() if h.symbol == symbol and h.side == side),
            ZERO,
        )
        closable = max(ZERO, abs(size) - closing_already) if against else ZERO
        opening = qty - min(qty, closable)
        margin_unit = money(price / self.leverage_of(symbol))
        margin = money(opening * margin_unit)
        fee_reserve = money(qty * price * max(ZERO, self.fee_rates("linear").taker))
        needed = margin + fee_reserve
        available = self.available(settle, marks)
        if needed > available:
            return insufficient_funds(self.venue, "linear", settle, needed, available)
        self._lock(settle, needed)
        self._orders[order_id] = _Hold(
            market="linear",
            side=side,
            symbol=symbol,
            base="",
            quote=settle,
            price=price,
            qty_left=qty,
            asset=settle,
            left=fee_reserve,
            margin_left=margin,
            margin_unit=margin_unit,
        )
        return Held(order_id=order_id, asset=settle, amount=needed)

    def cancel(self, order_id: str) -> Decimal:
        """Release what is left of an order's hold; returns it (0 for an unknown order)."""
        hold = self._orders.pop(order_id, None)
        if hold is None:
            return ZERO
        released = hold.left + hold.margin_left
        self._unlock(hold.asset, released)
        return released

    def fill(
        self, order_id: str, *, qty: Decimal, price: Decimal, liquidity: Liquidity
    ) -> FillSettled:
        """Settle one fill of an open order.

        Raises:
            KeyError: no such open order.
            ValueError: more than the order's open quantity, a non-positive
                quantity or price, or a spot buy above its limit.
        """
        hold = self._orders[order_id]
        if qty <= 0 or price <= 0:
            raise ValueError("a fill has a positive quantity and price")
        if qty > hold.qty_left:
            raise ValueError(f"fill of {qty} exceeds the open {hold.qty_left} of {order_id}")
        hold.qty_left -= qty
        done = hold.qty_left == 0
        if hold.market == "spot":
            settled = self._fill_spot(order_id, hold, qty, price, liquidity, done)
        else:
            settled = self._fill_linear(order_id, hold, qty, price, liquidity, done)
        if done:
            del self._orders[order_id]
        return settled

    # ---------------------------------------------------------------- inside

    def _check_new(self, order_id: str, qty: Decimal, price: Decimal) -> None:
        if order_id in self._orders:
            raise ValueError(f"order {order_id} already holds funds")
        if qty <= 0 or price <= 0:
            raise ValueError("an order has a positive quantity and price")

    def _lock(self, asset: str, amount: Decimal) -> None:
        self._held[asset] = self._held.get(asset, ZERO) + amount

    def _unlock(self, asset: str, amount: Decimal) -> None:
        self._held[asset] = self._held.get(asset, ZERO) - amount

    def _add(self, asset: str, amount: Decimal) -> None:
        self._totals[asset] = self._totals.get(asset, ZERO) + amount

    def _release(self, hold: _Hold, amount: Decimal, done: bool) -> Decimal:
        """Take ``amount`` (all that is left on the last fill) off the order's plain hold."""
        part = hold.left if done else min(hold.left, amount)
        hold.left -= part
        self._unlock(hold.asset, part)
        return part

    def _fill_spot(
        self, order_id: str, hold: _Hold, qty: Decimal, price: Decimal, liq: Liquidity, done: bool
    ) -> FillSettled:
        rate = self.fee_rates("spot").rate(liq)
        if hold.side == "buy":
            if price > hold.price:
                raise ValueError(f"buy {order_id} filled at {price}, above its limit {hold.price}")
            cost = money(qty * price)
            self._release(hold, money(qty * hold.price), done)
            self._add(hold.quote, -cost)
            fee = fee_amount(qty * rate)
            self._add(hold.base, qty - fee)
            return FillSettled(order_id=order_id, fee=fee, fee_asset=hold.base, done=done)
        self._release(hold, qty, done)
        self._add(hold.base, -qty)
        proceeds = money(qty * price)
        fee = fee_amount(proceeds * rate)
        self._add(hold.quote, proceeds - fee)
        return FillSettled(order_id=order_id, fee=fee, fee_asset=hold.quote, done=done)

    def _fill_linear(
        self, order_id: str, hold: _Hold, qty: Decimal, price: Decimal, liq: Liquidity, done: bool
    ) -> FillSettled:
        rates = self.fee_rates("linear")
        settle = hold.quote
        position = self._positions.get(hold.symbol) or Position(symbol=hold.symbol, settle=settle)
        signed = qty if hold.side == "buy" else -qty
        size = position.size
        against = size != 0 and (size > 0) != (signed > 0)
        opening = max(ZERO, qty - abs(size)) if against else qty
        wanted = money(opening * hold.margin_unit)
        margin_in = min(hold.margin_left, wanted)
        hold.margin_left -= margin_in
        # The margin moves from the order's hold into the position: still locked.
        self._unlock(settle, margin_in)
        if wanted > margin_in:
            # The order reserved less (the position changed since it was placed): the
            # rest comes from the free balance, as far as it goes.
            margin_in += max(ZERO, min(wanted - margin_in, self.balance(settle).free))
        if done:
            self._unlock(settle, hold.margin_left)
            hold.margin_left = ZERO
        self._release(hold, money(qty * hold.price * max(ZERO, rates.taker)), done)
        fee = fee_amount(qty * price * rates.rate(liq))
        change = apply_fill(position, signed_qty=signed, price=price, fee=fee, margin_in=margin_in)
        self._positions[hold.symbol] = change.position
        self._add(settle, change.gross_pnl - fee)
        return FillSettled(
            order_id=order_id,
            fee=fee,
            fee_asset=settle,
            realised_pnl=change.gross_pnl,
            position=change.position,
            done=done,
        )
