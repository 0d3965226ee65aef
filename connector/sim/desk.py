"""The simulator's venue-neutral trading desk: user orders, fills, balances, positions.

One :class:`Desk` per :class:`~connector.sim.hub.SimVenue` (``venue.desk``),
over the venue's matching engines and its accounts
(:class:`~connector.sim.accounts.AccountBook`). The venue front-ends
(``sim/binance``, ``sim/bybit``, ``sim/okx``) translate the venues' requests
into desk calls and the desk's values and events into the venues' wire shapes.
Pure: no trio, no clock; time is passed in as venue ms (``now_ms``).

Notes on the API:

* ``market`` is the hub's market key: ``spot``, ``linear`` (Binance, Bybit) or
  ``swap`` (OKX); ``linear`` and ``swap`` are accepted for each other, and
  :attr:`UserOrder.market` is the hub's key (OKX swap orders say ``swap``).
* Quantities of orders and fills are in the engine's units (contracts on OKX
  swap, ``ctVal`` base each); :class:`~connector.sim.accounts.Position` sizes
  are in base units (front-ends divide by ``contract_size`` for OKX ``pos``).
* ``place(..., quote_qty=...)`` for market orders sized in the quote asset
  (Binance ``quoteOrderQty``, Bybit spot ``marketUnit=quoteCoin``, OKX spot
  ``tgtCcy=quote_ccy``): the desk turns it into a base quantity against the
  book (rounded down to the lot step); ``qty`` is then ignored (pass 0).
* ``place(..., self_trade="none" | "expire_maker")`` and
  :attr:`CancelCause.SELF_TRADE` (state EXPIRED): self-trade prevention, off by
  default (two orders of one account otherwise trade with each other).
* ``place(..., reduce_only_excess="clip" | "reject")``: OKX refuses a
  reduce-only order larger than the position (no auto-trim); Binance and
  Bybit cut it down (the default).
* ``amend(..., to_filled="cancel" | "fill")``: an amend to a total at or below
  the filled quantity cancels the order (``AMEND_TO_FILLED``, the default, as
  Binance USDⓈ-M) or ends it FILLED at the filled quantity (OKX).
* A FOK order that cannot fill completely is accepted and ends EXPIRED with
  :attr:`CancelCause.FOK` (as on all three venues);
  :attr:`RefusalReason.FOK_NOT_FILLABLE` is never returned. IOC and market
  remainders also end EXPIRED (``IOC`` / ``MARKET_REMAINDER``); front-ends map
  EXPIRED to the venue's status (Bybit and OKX say cancelled).
* :meth:`Desk.default_account` names the venue's default account;
  :meth:`Desk.transfer` moves funds in or out (BalancesUpdated "transfer").

Rules:

* Checks, in order: instrument, parameters, client id (among the account's
  OPEN orders), filters (tick, min qty, lot, max qty, min notional), reduce-only,
  funds or margin; the first failure is the :class:`Refusal`.
* Holds: a spot buy holds ``qty × price`` quote, a sell ``qty`` base; a market
  buy holds against the book's sweep estimate plus
  :data:`~connector.sim.desk_checks.MARKET_HOLD_MARGIN` and releases the rest
  when it ends. Linear orders hold initial margin plus a taker fee reserve
  (cross margin, one-way positions, :class:`~connector.sim.accounts.SimAccount`).
* A reduce-only order rests at most the position's size (more is cancelled
  with ``REDUCE_ONLY`` when it ends); when fills shrink or flip the position,
  resting reduce-only orders are cut down or cancelled (``REDUCE_ONLY``).
* Every engine operation is published through the venue (public book and
  trades); trades whose taker is a user order are settled by the desk call that
  made them, trades of the synthetic flow against resting user orders by
  :meth:`Desk.on_published` (called by ``SimVenue.publish``).
* Events go to listeners synchronously, in the order things happened: an
  accepted order gives OrderUpdated(NEW) then BalancesUpdated("order"); each
  fill OrderUpdated(fill), BalancesUpdated("fill") and, linear,
  PositionUpdated; an end OrderUpdated then BalancesUpdated("cancel"); an amend
  OrderUpdated (no fill, still open, revision > 1: only amends give that) then
  BalancesUpdated("order"). Listeners run inside the venue's driver task (flow
  fills) or the front-end's request (desk calls): keep them cheap, queue the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Literal

from connector.model import OrderStatus, OrderType, Side, TimeInForce
from connector.sim.accounts import Balance, FeeRates, Position
from connector.sim.accounts.money import ZERO
from connector.sim.desk_book import OrderRecord
from connector.sim.desk_checks import (
    apply_price_limit,
    base_for_quote,
    check_filters,
    hold_price,
    sweep_price,
)
from connector.sim.desk_core import PERPETUAL, DeskBook, DeskCore, Listener, Publish
from connector.sim.desk_types import (
    BalancesUpdated,
    CancelCause,
    DeskEvent,
    DeskStatistics,
    OrderState,
    OrderUpdated,
    PositionUpdated,
    Refusal,
    RefusalReason,
    UserFill,
    UserOrder,
)
from connector.sim.engine import EngineOrder

__all__ = [
    "BalancesUpdated",
    "CancelCause",
    "Desk",
    "DeskBook",
    "DeskEvent",
    "DeskStatistics",
    "OrderState",
    "OrderUpdated",
    "PositionUpdated",
    "Publish",
    "Refusal",
    "RefusalReason",
    "UserFill",
    "UserOrder",
]


class Desk(DeskCore):
    """One venue's trading desk (see the module docstring).

    Args:
        venue: ``binance``, ``bybit`` or ``okx``.
        books: The venue's instruments by ``(market, native_id)``.
        accounts: The venue's accounts.
        reference: The run's reference prices (mark prices).
        ref_time: Seconds on the reference clock the venue has reached.
        publish: Hands engine results of desk operations to the venue's
            listeners (``None``: nobody publishes, for tests of the desk alone).
        first_order_id: The first order id the desk gives.
    """

    # ------------------------------------------------------------- accounts

    def accounts(self) -> tuple[str, ...]:
        """Every account of the venue, in the order they were configured."""
        return tuple(self._accounts)

    def default_account(self) -> str | None:
        """``<venue>-demo`` when configured, else the first account, else ``None``."""
        demo = f"{self.venue}-demo"
        if demo in self._accounts:
            return demo
        return next(iter(self._accounts), None)

    def account_for_key(self, api_key: str) -> str | None:
        """The account owning ``api_key``, or ``None``."""
        entry = self.keyring.find(api_key)
        return None if entry is None else entry.account_id

    def balances(self, account: str) -> tuple[Balance, ...]:
        """Every asset of ``account``, sorted by name."""
        return self._account(account).balances()

    def balance(self, account: str, asset: str) -> Balance:
        """One asset of ``account`` (zero when never held)."""
        return self._account(account).balance(asset)

    def order_hold(self, account: str, order_id: str) -> Decimal:
        """What an open order of ``account`` still holds (its funds, or a linear order's
        margin and fee reserve; 0 for an order that holds nothing)."""
        return self._account(account).order_hold(order_id)

    def positions(self, account: str) -> tuple[Position, ...]:
        """Open (non-flat) linear positions, sizes in base units."""
        return self._account(account).positions()

    def position(self, account: str, native_id: str) -> Position | None:
        """The position on ``native_id`` (flat ones included), or ``None`` if never traded."""
        return self._account(account).position(native_id)

    def leverage(self, account: str, native_id: str) -> int:
        """The leverage of ``native_id`` for ``account``."""
        return self._account(account).leverage_of(native_id)

    def set_leverage(self, account: str, native_id: str, leverage: int) -> None:
        """Set the leverage of ``native_id`` (margin reserved from now on).

        Raises:
            ValueError: leverage outside 1-125.
        """
        if not 1 <= leverage <= 125:
            raise ValueError(f"leverage {leverage} is outside 1-125")
        self._account(account).set_leverage(native_id, leverage)

    def fee_rates(self, account: str, market: str) -> FeeRates:
        """The account's fee rates on ``market`` (``swap`` counts as ``linear``)."""
        return self._account(account).fee_rates("spot" if market == "spot" else "linear")

    # --------------------------------------------------------------- reading

    def instruments(self) -> tuple[tuple[str, str], ...]:
        """Every instrument the desk trades, as ``(market, native_id)``, sorted."""
        return tuple(sorted(self._books))

    def order(
        self,
        account: str,
        market: str,
        native_id: str | None = None,
        *,
        order_id: str | None = None,
        client_order_id: str | None = None,
    ) -> UserOrder | None:
        """One order by venue id or client id (the latest with that client id)."""
        record = self._find(account, market, native_id, order_id, client_order_id)
        return None if record is None else record.snapshot()

    def open_orders(
        self, account: str, market: str | None = None, native_id: str | None = None
    ) -> list[UserOrder]:
        """The account's resting orders, oldest first."""
        records = self._orders.open_of(account, self._market(market), native_id)
        return [r.snapshot() for r in records]

    def orders(
        self, account: str, market: str | None = None, native_id: str | None = None
    ) -> list[UserOrder]:
        """Every order of the account (open and closed), oldest first."""
        return [r.snapshot() for r in self._orders.of(account, self._market(market), native_id)]

    def fills(
        self,
        account: str,
        market: str | None = None,
        native_id: str | None = None,
        *,
        since_ms: int | None = None,
        order_id: str | None = None,
    ) -> list[UserFill]:
        """The account's fills, oldest first."""
        return self._orders.fills_of(
            account, self._market(market), native_id, since_ms=since_ms, order_id=order_id
        )

    def transfer(self, account: str, asset: str, amount: Decimal, *, now_ms: int) -> Balance:
        """Move ``amount`` of ``asset`` into ``account`` (negative: out), as a deposit or a
        transfer between wallets would; emits BalancesUpdated("transfer").

        Raises:
            KeyError: unknown account.
            ValueError: more out than the free balance.
        """
        after = self._account(account).transfer(asset, amount)
        self._emit(
            BalancesUpdated(account=account, balances=(after,), ts_ms=now_ms, reason="transfer")
        )
        return after

    # ------------------------------------------------------------- listeners

    def listen(self, fn: Listener, account: str | None = None) -> Callable[[], None]:
        """Call ``fn(event)`` for every event (of ``account`` only, when given).

        Returns:
            A function that unsubscribes.
        """
        entry = (fn, account)
        self._listeners.append(entry)

        def unsubscribe() -> None:
            if entry in self._listeners:
                self._listeners.remove(entry)

        return unsubscribe

    def statistics(self) -> DeskStatistics:
        """A frozen snapshot of the desk's counters."""
        return DeskStatistics(
            venue=self.venue,
            accounts=len(self._accounts),
            orders=self._orders.count,
            open_orders=self._orders.open_count(),
            fills=self._orders.fill_count,
            refusals=dict(self._refusals),
            events=self._events,
            listeners=len(self._listeners),
        )

    # ---------------------------------------------------------------- orders

    def place(
        self,
        account: str,
        market: str,
        native_id: str,
        *,
        side: Side,
        type: OrderType,
        qty: Decimal,
        price: Decimal | None = None,
        time_in_force: TimeInForce = TimeInForce.GTC,
        client_order_id: str | None = None,
        reduce_only: bool = False,
        post_only_cross: Literal["reject", "cancel"] = "reject",
        quote_qty: Decimal | None = None,
        reduce_only_excess: Literal["clip", "reject"] = "clip",
        self_trade: Literal["none", "expire_maker"] = "none",
        now_ms: int,
    ) -> UserOrder | Refusal:
        """Accept (and match) a new order, or refuse it; see the module docstring.

        ``post_only_cross``: a post-only order that would take is refused
        (Binance) or accepted and cancelled (Bybit, OKX). ``reduce_only_excess``:
        a reduce-only order larger than the position is cut down to it (Binance,
        Bybit) or refused (OKX, no auto-trim). ``quote_qty``: a market order
        sized in the quote asset. ``self_trade="expire_maker"``: the account's own
        resting orders the new order would trade with end first (EXPIRED,
        ``SELF_TRADE``), as Binance's default STP mode and OKX's ``cancel_maker``.
        """
        key = self._key(market, native_id)
        if key is None:
            return self._refuse(
                RefusalReason.UNKNOWN_INSTRUMENT, f"unknown instrument {market} {native_id}"
            )
        if account not in self._accounts:
            return self._refuse(RefusalReason.BAD_PARAMETER, f"unknown account {account!r}")
        book = self._books[key]
        inst, engine = book.instrument, book.engine
        perpetual = inst.market in PERPETUAL
        is_market = type is OrderType.MARKET
        if is_market:
            price = None
            if time_in_force is TimeInForce.POST_ONLY:
                return self._refuse(
                    RefusalReason.BAD_PARAMETER, "a market order cannot be post-only"
                )
            if quote_qty is not None:
                converted = base_for_quote(engine, inst, side, quote_qty)
                if isinstance(converted, Refusal):
                    return self._count(converted)
                qty = converted
        elif price is None:
            return self._refuse(RefusalReason.BAD_PARAMETER, "a limit order needs a price")
        if reduce_only and not perpetual:
            return self._refuse(RefusalReason.BAD_PARAMETER, "reduce-only is for derivatives")
        if client_order_id is not None and self._orders.open_cid(account, client_order_id):
            return self._refuse(
                RefusalReason.DUPLICATE_CLIENT_ID,
                f"client order id {client_order_id!r} is already used by an open order",
            )
        top = self._top(engine, side)
        refusal = check_filters(
            inst,
            qty,
            price,
            price if price is not None else top,
            market=is_market,
            post_only=time_in_force is TimeInForce.POST_ONLY,
            reduce_only=reduce_only,
        )
        if refusal is not None:
            return self._count(refusal)
        if price is not None:
            limited = apply_price_limit(inst, side, price, self.mark_price(market, native_id))
            if isinstance(limited, Refusal):
                return self._count(limited)
            price = limited
        worst = sweep_price(engine, side, qty) if is_market else None
        if is_market and worst is None:
            return self._refuse(
                RefusalReason.NO_LIQUIDITY, "the opposite side of the book is empty"
            )
        account_obj = self._accounts[account]
        engine_qty = qty
        if reduce_only:
            pos = account_obj.position(inst.native_id)
            size = ZERO if pos is None else pos.size / inst.contract_size
            if size == 0 or (size > 0) == (side is Side.BUY):
                return self._refuse(
                    RefusalReason.REDUCE_ONLY_WOULD_INCREASE,
                    f"reduce-only {side} would increase the position of {size}",
                )
            if qty > abs(size) and reduce_only_excess == "reject":
                return self._refuse(
                    RefusalReason.REDUCE_ONLY_WOULD_INCREASE,
                    f"reduce-only quantity {qty} exceeds the position of {abs(size)}",
                )
            engine_qty = min(qty, abs(size))
        # The price funds are held at: the limit, or the book's estimate for a market
        # order (a spot buy adds the hold margin; margin is reserved at the highest
        # price a linear order may fill at: the sweep's worst ask, or the best bid).
        if price is not None:
            at = price
        else:
            assert worst is not None and top is not None
            if perpetual:
                at = worst if side is Side.BUY else top
            else:
                at = hold_price(worst if side is Side.BUY else top, inst.tick_size, side)
        order_id = self._orders.next_id()
        held = self._hold(account_obj, inst, order_id, side, engine_qty, at, worst)
        if isinstance(held, Refusal):
            self._orders.give_back(order_id)
            return self._count(held)
        record = OrderRecord(
            order_id=order_id,
            client_order_id=client_order_id or f"sim-{order_id}",
            account=account,
            market=inst.market,
            native_id=inst.native_id,
            side=side,
            type=type,
            time_in_force=time_in_force,
            qty=qty,
            price=price,
            reduce_only=reduce_only,
            contract_size=inst.contract_size,
            engine_qty=engine_qty,
            created_ms=now_ms,
            updated_ms=now_ms,
        )
        if self_trade == "expire_maker" and time_in_force is not TimeInForce.POST_ONLY:
            reach = price if price is not None else worst
            for own in self._orders.open_of(account, inst.market, inst.native_id):
                if own.side is not side and _reaches(side, reach, own.price):
                    self._cancel_record(own, CancelCause.SELF_TRADE, now_ms)
        result = engine.submit(
            EngineOrder(
                order_id=order_id,
                side=side,
                type=type,
                qty=engine_qty,
                price=price,
                time_in_force=time_in_force,
                owner=account,
            )
        )
        reason = result.reject_reason or ""
        if result.status is OrderStatus.REJECTED:
            if reason.startswith("post-only") and post_only_cross == "reject":
                account_obj.cancel(order_id)
                self._orders.give_back(order_id)
                return self._refuse(
                    RefusalReason.POST_ONLY_WOULD_TAKE, "the post-only order would take liquidity"
                )
            if not reason.startswith(("post-only", "fill-or-kill")):
                account_obj.cancel(order_id)
                self._orders.give_back(order_id)
                return self._refuse(RefusalReason.BAD_PARAMETER, reason)
        self._orders.add(record)
        self._emit(OrderUpdated(order=record.snapshot(), fill=None, ts_ms=now_ms))
        self._emit_balances(account_obj, inst, now_ms, "order")
        if result.status is OrderStatus.REJECTED:
            cause = CancelCause.POST_ONLY if "post-only" in reason else CancelCause.FOK
            self._end(record, cause, now_ms)
            return record.snapshot()
        # Public first (book and trades in update-id order), then the private side.
        self._published(key, (result,))
        self._settle_own(key, result, now_ms)
        self._after_operation(record, result, now_ms)
        return record.snapshot()

    def cancel(
        self,
        account: str,
        market: str,
        native_id: str,
        *,
        order_id: str | None = None,
        client_order_id: str | None = None,
        now_ms: int,
    ) -> UserOrder | Refusal:
        """Cancel a resting order (``CancelCause.USER``)."""
        found = self._open_record(account, market, native_id, order_id, client_order_id)
        if isinstance(found, Refusal):
            return self._count(found)
        self._cancel_record(found, CancelCause.USER, now_ms)
        return found.snapshot()

    def cancel_all(
        self, account: str, market: str, native_id: str | None = None, *, now_ms: int
    ) -> list[UserOrder]:
        """Cancel every resting order of the account in ``market`` (one instrument when given)."""
        out: list[UserOrder] = []
        for record in self._orders.open_of(account, self._market(market), native_id):
            if record.state.is_open:
                self._cancel_record(record, CancelCause.KILL, now_ms)
                out.append(record.snapshot())
        return out

    def amend(
        self,
        account: str,
        market: str,
        native_id: str,
        *,
        order_id: str | None = None,
        client_order_id: str | None = None,
        qty: Decimal | None = None,
        price: Decimal | None = None,
        new_client_order_id: str | None = None,
        to_filled: Literal["cancel", "fill"] = "cancel",
        now_ms: int,
    ) -> UserOrder | Refusal:
        """Change a resting order's total quantity and/or price.

        ``qty`` is the new TOTAL quantity; at or below the filled quantity the
        order ends: with ``to_filled="cancel"`` it is cancelled
        (``AMEND_TO_FILLED``; Binance USDⓈ-M), with ``"fill"`` it is FILLED, its
        total cut to the filled quantity (OKX "POST / Amend order", ``newSz``).
        A new price or a larger quantity loses the queue place (and a new price
        may trade).
        ``new_client_order_id``: the order's client id from this amendment on
        (Binance spot keep-priority amends); refused when another open order of
        the account has it.
        """
        found = self._open_record(account, market, native_id, order_id, client_order_id)
        if isinstance(found, Refusal):
            return self._count(found)
        record = found
        if (
            new_client_order_id is not None
            and new_client_order_id != record.client_order_id
            and self._orders.open_cid(account, new_client_order_id)
        ):
            return self._refuse(
                RefusalReason.DUPLICATE_CLIENT_ID,
                f"client order id {new_client_order_id!r} is already used by an open order",
            )
        key = (record.market, record.native_id)
        book = self._books[key]
        inst, engine = book.instrument, book.engine
        if record.type is OrderType.MARKET or record.price is None:
            return self._refuse(RefusalReason.BAD_PARAMETER, "a market order cannot be amended")
        new_qty = record.qty if qty is None else qty
        new_price = record.price if price is None else price
        if new_qty <= record.filled_qty:
            self._orders.rename(record, new_client_order_id)
            # No cause: the order ends FILLED at what it has filled.
            cause = CancelCause.AMEND_TO_FILLED if to_filled == "cancel" else None
            self._cancel_record(record, cause, now_ms)
            return record.snapshot()
        post_only = record.time_in_force is TimeInForce.POST_ONLY
        refusal = check_filters(
            inst, new_qty, new_price, new_price, post_only=post_only, reduce_only=record.reduce_only
        )
        if refusal is not None:
            return self._count(refusal)
        if price is not None:
            mark = self.mark_price(record.market, record.native_id)
            limited = apply_price_limit(inst, record.side, new_price, mark)
            if isinstance(limited, Refusal):
                return self._count(limited)
            new_price = limited
        if (
            record.time_in_force is TimeInForce.POST_ONLY
            and new_price != record.price
            and self._crosses(engine, record.side, new_price)
        ):
            return self._refuse(
                RefusalReason.POST_ONLY_WOULD_TAKE, "the post-only order would take liquidity"
            )
        account_obj = self._accounts[account]
        new_engine_qty = new_qty - (record.qty - record.engine_qty)
        remaining = new_engine_qty - record.filled_qty
        if remaining <= 0:
            self._orders.rename(record, new_client_order_id)
            self._cancel_record(record, CancelCause.REDUCE_ONLY, now_ms)
            return record.snapshot()
        old = (record.engine_qty - record.filled_qty, record.price)
        account_obj.cancel(record.order_id)
        held = self._hold(
            account_obj, inst, record.order_id, record.side, remaining, new_price, None
        )
        if isinstance(held, Refusal):
            restored = self._hold(account_obj, inst, record.order_id, record.side, *old, None)
            assert not isinstance(restored, Refusal), "re-holding a released hold cannot fail"
            return self._count(held)
        result = engine.amend(record.order_id, qty=new_engine_qty, price=new_price)
        assert result.status is not OrderStatus.REJECTED, result.reject_reason
        record.qty, record.engine_qty, record.price = new_qty, new_engine_qty, new_price
        self._orders.rename(record, new_client_order_id)
        record.touch(now_ms)
        self._published(key, (result,))
        self._emit(OrderUpdated(order=record.snapshot(), fill=None, ts_ms=now_ms))
        self._emit_balances(account_obj, inst, now_ms, "order")
        self._settle_own(key, result, now_ms)
        self._after_operation(record, result, now_ms)
        return record.snapshot()

    # ------------------------------------------------------- flow settlement


def _reaches(side: Side, limit: Decimal | None, price: Decimal | None) -> bool:
    """Whether a ``side`` order up to ``limit`` reaches a resting order at ``price``."""
    if limit is None or price is None:
        return False
    return price <= limit if side is Side.BUY else price >= limit
