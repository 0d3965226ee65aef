"""The machinery of the simulator's trading desk: holds, settlement, events (pure).

:class:`DeskCore` holds the state of a :class:`connector.sim.desk.Desk` and
does the work behind its public methods: funds holds through the accounts,
settling engine trades into fills, ending orders, cutting reduce-only orders
down to the position, and emitting events to listeners. See
:mod:`connector.sim.desk` for the rules.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from decimal import Decimal
from typing import Literal, Protocol

from connector.model import Liquidity, OrderType, Side, TimeInForce
from connector.sim.accounts import AccountBook, Refused, SimAccount
from connector.sim.accounts.money import ZERO, money
from connector.sim.desk_book import OrderBookKeeper, OrderRecord
from connector.sim.desk_types import (
    BalancesUpdated,
    CancelCause,
    DeskEvent,
    OrderState,
    OrderUpdated,
    PositionUpdated,
    Refusal,
    RefusalReason,
    UserFill,
)
from connector.sim.engine import EngineResult, EngineTrade, MatchingEngine
from connector.sim.instruments import SimInstrument
from connector.sim.reference import ReferenceMarket

__all__ = ["PERPETUAL", "DeskBook", "DeskCore", "Listener", "Publish", "venue_market"]

PERPETUAL = ("linear", "swap")
"""Markets of perpetual contracts (the hubs' keys: Binance and Bybit ``linear``, OKX ``swap``)."""


def venue_market(market: str | None, markets: Collection[str]) -> str | None:
    """The venue's own name of ``market`` among ``markets``: ``swap`` and ``linear``
    stand for each other (the perpetual market), anything else is itself."""
    if market is None or market == "spot" or market in markets:
        return market
    for alias in PERPETUAL:
        if alias in markets:
            return alias
    return market


class DeskBook(Protocol):
    """What the desk needs of one instrument (a ``SimBook`` is one)."""

    @property
    def instrument(self) -> SimInstrument: ...

    @property
    def engine(self) -> MatchingEngine: ...


Publish = Callable[[str, str, Sequence[EngineResult]], object]
Listener = Callable[[DeskEvent], None]


class DeskCore:
    """State and machinery of one venue's desk (public API: :class:`~connector.sim.desk.Desk`).

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

    def __init__(
        self,
        venue: str,
        books: Mapping[tuple[str, str], DeskBook],
        accounts: AccountBook,
        *,
        reference: ReferenceMarket,
        ref_time: Callable[[], float] = lambda: 0.0,
        publish: Publish | None = None,
        first_order_id: int = 1_000_001,
    ) -> None:
        self.venue = venue
        self._books = books
        self._book = accounts
        self.keyring = accounts.keyring
        self._accounts = {a.account_id: a for a in accounts.accounts()}
        self._reference = reference
        self._ref_time = ref_time
        self._publish = publish
        self._orders = OrderBookKeeper(first_order_id)
        self._listeners: list[tuple[Listener, str | None]] = []
        self._refusals: dict[str, int] = {}
        self._events = 0

    def on_published(
        self, market: str, native_id: str, results: Sequence[EngineResult], ts_ms: int
    ) -> None:
        """Settle trades of other owners (the flow, hooks) against resting user orders.

        Called by ``SimVenue.publish`` for every batch; trades whose taker is a
        user order were settled by the desk call that made them and are skipped.
        """
        accounts = self._accounts
        for result in results:
            for trade in result.trades:
                if trade.taker_owner in accounts or trade.maker_owner not in accounts:
                    continue
                record = self._orders.by_id(trade.maker_order_id)
                if record is None:
                    continue
                self._fill(record, trade, Liquidity.MAKER, ts_ms)
                if record.filled_qty == record.engine_qty and record.state.is_open:
                    self._end(record, CancelCause.REDUCE_ONLY, ts_ms)
                self._trim_reduce_only(record.account, (market, native_id), ts_ms)

    # ---------------------------------------------------------------- inside

    def mark_price(self, market: str, native_id: str) -> Decimal:
        """The mark price: the instrument's reference price now, on the tick grid.

        Raises:
            KeyError: unknown instrument.
        """
        key = self._key(market, native_id)
        if key is None:
            raise KeyError(f"unknown instrument {market} {native_id}")
        inst = self._books[key].instrument
        anchor = Decimal(repr(self._reference.anchor(inst, self._ref_time())))
        return (anchor / inst.tick_size).to_integral_value() * inst.tick_size

    def _account(self, account: str) -> SimAccount:
        try:
            return self._accounts[account]
        except KeyError:
            raise KeyError(f"no account {account!r} on {self.venue}") from None

    def _market(self, market: str | None) -> str | None:
        if market is None or market == "spot":
            return market
        return venue_market(market, {k[0] for k in self._books})

    def _key(self, market: str, native_id: str) -> tuple[str, str] | None:
        key = (self._market(market) or market, native_id)
        return key if key in self._books else None

    def _top(self, engine: MatchingEngine, side: Side) -> Decimal | None:
        level = engine.best_ask() if side is Side.BUY else engine.best_bid()
        return None if level is None else level.price

    def _crosses(self, engine: MatchingEngine, side: Side, price: Decimal) -> bool:
        top = self._top(engine, side)
        return top is not None and (price >= top if side is Side.BUY else price <= top)

    def _hold(
        self,
        account: SimAccount,
        inst: SimInstrument,
        order_id: str,
        side: Side,
        qty: Decimal,
        price: Decimal,
        worst: Decimal | None,
    ) -> Refusal | None:
        base_qty = qty * inst.contract_size
        if inst.market in PERPETUAL:
            held = account.place_linear(
                order_id,
                symbol=inst.native_id,
                settle=inst.quote,
                side=_side(side),
                qty=base_qty,
                price=price,
                marks=self._marks(),
            )
        else:
            held = account.place_spot(
                order_id,
                side=_side(side),
                base=inst.base,
                quote=inst.quote,
                qty=base_qty,
                price=price,
            )
            if isinstance(held, Refused) and worst is not None and side is Side.BUY:
                # The hold margin must not refuse what the book itself would fill.
                held = account.place_spot(
                    order_id,
                    side="buy",
                    base=inst.base,
                    quote=inst.quote,
                    qty=base_qty,
                    price=worst,
                )
        if isinstance(held, Refused):
            reason = (
                RefusalReason.INSUFFICIENT_MARGIN
                if inst.market in PERPETUAL
                else RefusalReason.INSUFFICIENT_BALANCE
            )
            return Refusal(
                reason=reason,
                detail=f"{held.asset}: needs {held.needed}, available {held.available}",
            )
        return None

    def _marks(self) -> dict[str, Decimal]:
        return {
            b.instrument.native_id: self.mark_price(b.instrument.market, b.instrument.native_id)
            for b in self._books.values()
            if b.instrument.market in PERPETUAL
        }

    def _find(
        self,
        account: str,
        market: str,
        native_id: str | None,
        order_id: str | None,
        client_order_id: str | None,
    ) -> OrderRecord | None:
        if order_id is not None:
            record = self._orders.by_id(order_id)
        elif client_order_id is not None:
            record = self._orders.by_cid(account, client_order_id)
        else:
            return None
        if (
            record is None
            or record.account != account
            or record.market != self._market(market)
            or (native_id is not None and record.native_id != native_id)
            or (client_order_id is not None and record.client_order_id != client_order_id)
        ):
            return None
        return record

    def _open_record(
        self,
        account: str,
        market: str,
        native_id: str,
        order_id: str | None,
        client_order_id: str | None,
    ) -> OrderRecord | Refusal:
        if order_id is None and client_order_id is None:
            return Refusal(
                reason=RefusalReason.BAD_PARAMETER,
                detail="an order id or client order id is needed",
            )
        record = self._find(account, market, native_id, order_id, client_order_id)
        if record is None:
            return Refusal(reason=RefusalReason.UNKNOWN_ORDER, detail="no such order")
        if not record.state.is_open:
            return Refusal(
                reason=RefusalReason.ORDER_NOT_OPEN, detail=f"the order is {record.state}"
            )
        return record

    def _cancel_record(self, record: OrderRecord, cause: CancelCause | None, now_ms: int) -> None:
        """Take an open order off the book and end it (see :meth:`_end`)."""
        key = (record.market, record.native_id)
        result = self._books[key].engine.cancel(record.order_id)
        self._published(key, (result,))
        self._end(record, cause, now_ms)

    def _settle_own(self, key: tuple[str, str], result: EngineResult, ts_ms: int) -> None:
        """Settle the trades of a desk operation: the user taker and any user makers."""
        for trade in result.trades:
            taker = self._orders.by_id(trade.taker_order_id)
            if taker is not None:
                self._fill(taker, trade, Liquidity.TAKER, ts_ms)
            if trade.maker_owner in self._accounts:
                maker = self._orders.by_id(trade.maker_order_id)
                if maker is not None:
                    self._fill(maker, trade, Liquidity.MAKER, ts_ms)
                    if maker.filled_qty == maker.engine_qty and maker.state.is_open:
                        self._end(maker, CancelCause.REDUCE_ONLY, ts_ms)
                    self._trim_reduce_only(maker.account, key, ts_ms)

    def _after_operation(self, record: OrderRecord, result: EngineResult, ts_ms: int) -> None:
        """End what the engine ended of the operated order (IOC, market remainder, ...)."""
        key = (record.market, record.native_id)
        if record.state.is_open and result.remaining_qty == 0:
            self._end(record, self._end_cause(record), ts_ms)
        self._trim_reduce_only(record.account, key, ts_ms)

    def _end_cause(self, record: OrderRecord) -> CancelCause:
        if record.filled_qty == record.engine_qty:
            cause = CancelCause.REDUCE_ONLY
        elif record.type is OrderType.MARKET:
            cause = CancelCause.MARKET_REMAINDER
        elif record.time_in_force is TimeInForce.FOK:
            cause = CancelCause.FOK
        else:
            cause = CancelCause.IOC
        return cause

    def _trim_reduce_only(self, account: str, key: tuple[str, str], ts_ms: int) -> None:
        """Cut resting reduce-only orders down to the position, or cancel them."""
        inst = self._books[key].instrument
        if inst.market not in PERPETUAL:
            return
        engine = self._books[key].engine
        account_obj = self._accounts[account]
        for record in self._orders.open_of(account, key[0], key[1]):
            if not (record.reduce_only and record.state.is_open):
                continue
            pos = account_obj.position(inst.native_id)
            size = ZERO if pos is None else pos.size / inst.contract_size
            if size == 0 or (size > 0) == (record.side is Side.BUY):
                self._cancel_record(record, CancelCause.REDUCE_ONLY, ts_ms)
                continue
            remaining = record.engine_qty - record.filled_qty
            if remaining > abs(size):
                assert record.price is not None
                record.engine_qty = record.filled_qty + abs(size)
                account_obj.cancel(record.order_id)
                self._hold(
                    account_obj, inst, record.order_id, record.side, abs(size), record.price, None
                )
                result = engine.amend(record.order_id, qty=record.engine_qty)
                self._published(key, (result,))

    def _fill(
        self, record: OrderRecord, trade: EngineTrade, liquidity: Liquidity, ts_ms: int
    ) -> None:
        account = self._accounts[record.account]
        inst = self._books[(record.market, record.native_id)].instrument
        settled = account.fill(
            record.order_id,
            qty=trade.qty * inst.contract_size,
            price=trade.price,
            liquidity="maker" if liquidity is Liquidity.MAKER else "taker",
        )
        fill = UserFill(
            trade_id=str(trade.trade_id),
            order_id=record.order_id,
            client_order_id=record.client_order_id,
            account=record.account,
            market=record.market,
            native_id=record.native_id,
            side=record.side,
            price=trade.price,
            qty=trade.qty,
            quote_qty=money(trade.price * trade.qty * inst.contract_size),
            fee=settled.fee,
            fee_asset=settled.fee_asset,
            liquidity=liquidity,
            realized_pnl=settled.realised_pnl,
            ts_ms=ts_ms,
        )
        record.apply_fill(fill)
        record.touch(ts_ms)
        self._orders.add_fill(fill)
        self._emit(OrderUpdated(order=record.snapshot(), fill=fill, ts_ms=ts_ms))
        self._emit_balances(account, inst, ts_ms, "fill")
        if settled.position is not None:
            self._emit(
                PositionUpdated(account=record.account, position=settled.position, ts_ms=ts_ms)
            )

    def _end(self, record: OrderRecord, cause: CancelCause | None, ts_ms: int) -> None:
        """End an open order: CANCELED or EXPIRED by ``cause``; without one FILLED,
        its total cut to what it has filled (an OKX amend down to that)."""
        account = self._accounts[record.account]
        released = account.cancel(record.order_id)
        if cause is None:
            record.qty = record.engine_qty = record.filled_qty
            record.state = OrderState.FILLED
        else:
            expired = cause in (
                CancelCause.IOC,
                CancelCause.FOK,
                CancelCause.MARKET_REMAINDER,
                CancelCause.SELF_TRADE,
            )
            record.state = OrderState.EXPIRED if expired else OrderState.CANCELED
        record.cancel_cause = cause
        record.touch(ts_ms)
        self._orders.closed(record)
        self._emit(OrderUpdated(order=record.snapshot(), fill=None, ts_ms=ts_ms))
        if released:
            inst = self._books[(record.market, record.native_id)].instrument
            self._emit_balances(account, inst, ts_ms, "cancel")

    def _emit_balances(
        self, account: SimAccount, inst: SimInstrument, ts_ms: int, reason: str
    ) -> None:
        assets = (inst.quote,) if inst.market in PERPETUAL else (inst.base, inst.quote)
        balances = tuple(account.balance(a) for a in assets)
        self._emit(
            BalancesUpdated(
                account=account.account_id, balances=balances, ts_ms=ts_ms, reason=reason
            )
        )

    def _emit(self, event: DeskEvent) -> None:
        self._events += 1
        account = event.order.account if isinstance(event, OrderUpdated) else event.account
        for fn, only in list(self._listeners):
            if only is None or only == account:
                fn(event)

    def _published(self, key: tuple[str, str], results: Sequence[EngineResult]) -> None:
        if self._publish is not None:
            self._publish(key[0], key[1], results)

    def _refuse(self, reason: RefusalReason, detail: str) -> Refusal:
        return self._count(Refusal(reason=reason, detail=detail))

    def _count(self, refusal: Refusal) -> Refusal:
        self._refusals[refusal.reason.value] = self._refusals.get(refusal.reason.value, 0) + 1
        return refusal


def _side(side: Side) -> Literal["buy", "sell"]:
    return "buy" if side is Side.BUY else "sell"
