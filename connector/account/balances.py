"""Balances from venue updates and REST snapshots, with fills in between (sans-I/O).

The venue is the source of truth for balances: private-stream updates
(Binance ``outboundAccountPosition``, Bybit ``wallet``, OKX ``account``) and
REST snapshots carry absolute free/locked amounts per asset and replace ours.
Between two of them, spot fills the venue has not yet folded in are added on
top, so the balance a strategy reads is current:

    balance = the latest venue value + every spot fill later than it

A fill counts against a venue value when its ``ts_event_ns`` is after the
value's; a later venue value absorbs it. So a fill and the update that
includes it are never counted twice, whichever arrives first (as long as the
venue stamps both from one clock, which all three do). Fills are deduplicated
by ``Fill.key``.

- :meth:`BalanceBook.apply` takes one stream update; an update older than the
  one we hold is stale and ignored.
- :meth:`BalanceBook.apply_snapshot` takes a full snapshot of a venue's
  balances: assets it does not list are zero. Where the snapshot differs from
  what we held, a :class:`BalanceDiscrepancy` says so.
- :meth:`BalanceBook.apply_delta` takes a change without a total (Binance
  ``balanceUpdate``: deposits, withdrawals, transfers).

A spot buy adds its quantity to the base asset's ``free`` and takes price x qty
from the quote asset's ``free``; a sell the reverse; the fee comes off the fee
asset. Which part was ``locked`` by a resting order is the venue's to say: the
next update sets the split right; totals are right meanwhile.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

import attrs

from connector.model.symbols import SymbolKind
from connector.model.trading import Balance, Fill, FillKey, Side

__all__ = ["BalanceBook", "BalanceDiscrepancy", "BalanceStatistics"]

_ZERO = Decimal(0)


@attrs.frozen(kw_only=True)
class BalanceDiscrepancy:
    """A snapshot disagreed with the balance we held; the snapshot's won."""

    venue: str
    asset: str
    local_total: Decimal
    venue_total: Decimal
    ts_event_ns: int


@attrs.frozen(kw_only=True)
class BalanceStatistics:
    assets: int
    updates: int
    stale_updates: int
    fills: int
    duplicate_fills: int
    discrepancies: int


@attrs.define
class _Asset:
    free: Decimal = _ZERO
    locked: Decimal = _ZERO
    ts_event_ns: int = -1
    pending: list[tuple[int, Decimal]] = attrs.field(factory=list)
    """(ts, change of free) of fills later than the venue value."""


class BalanceBook:
    """Every asset's balance on every venue."""

    def __init__(self) -> None:
        self._assets: dict[tuple[str, str], _Asset] = {}
        self._trade_ids: set[FillKey] = set()
        self._updates = 0
        self._stale = 0
        self._fills = 0
        self._duplicates = 0
        self._discrepancies = 0

    def adopt(self, other: BalanceBook) -> None:
        """Take ``other``'s balances (a book replayed from the event log) in place."""
        self._assets = other._assets
        self._trade_ids = other._trade_ids

    # -- inputs ----------------------------------------------------------------

    def apply(self, update: Balance) -> Balance | None:
        """One asset's absolute balance from the venue; the result, or ``None`` when stale."""
        asset = self._asset(update.venue, update.asset)
        if update.ts_event_ns < asset.ts_event_ns:
            self._stale += 1
            return None
        self._updates += 1
        self._set(asset, update.free, update.locked, update.ts_event_ns)
        return self._balance(update.venue, update.asset, asset)

    def apply_snapshot(
        self, venue: str, balances: Iterable[Balance], *, ts_event_ns: int
    ) -> tuple[BalanceDiscrepancy, ...]:
        """A venue's full balance list at ``ts_event_ns``; assets not listed are zero.

        Returns:
            One discrepancy per asset whose total we held differently.
        """
        listed = {b.asset: b for b in balances if b.venue == venue}
        names = set(listed) | {a for v, a in self._assets if v == venue}
        found: list[BalanceDiscrepancy] = []
        for name in sorted(names):
            asset = self._asset(venue, name)
            if ts_event_ns < asset.ts_event_ns:
                self._stale += 1
                continue
            before = self._total(asset)
            value = listed.get(name)
            free = _ZERO if value is None else value.free
            locked = _ZERO if value is None else value.locked
            self._set(asset, free, locked, ts_event_ns)
            after = self._total(asset)
            if before != after:
                self._discrepancies += 1
                found.append(
                    BalanceDiscrepancy(
                        venue=venue,
                        asset=name,
                        local_total=before,
                        venue_total=after,
                        ts_event_ns=ts_event_ns,
                    )
                )
        return tuple(found)

    def apply_delta(self, venue: str, asset: str, delta: Decimal, *, ts_event_ns: int) -> Balance:
        """A change of ``free`` without a total (a deposit, withdrawal or transfer)."""
        record = self._asset(venue, asset)
        if ts_event_ns > record.ts_event_ns:
            record.pending.append((ts_event_ns, delta))
        # else: the venue value we hold is later and already includes it.
        return self._balance(venue, asset, record)

    def apply_fill(self, fill: Fill) -> tuple[Balance, ...]:
        """A spot fill's effect on its assets; empty for a repeat or a derivative fill."""
        symbol = fill.symbol
        if symbol.kind is not SymbolKind.SPOT or fill.qty <= _ZERO:
            return ()
        trade = fill.key
        if trade in self._trade_ids:
            self._duplicates += 1
            return ()
        self._trade_ids.add(trade)
        self._fills += 1
        sign = 1 if fill.side is Side.BUY else -1
        changes = [(symbol.base, sign * fill.qty), (symbol.quote, -sign * fill.qty * fill.price)]
        if fill.fee:
            changes.append((fill.fee_asset or symbol.quote, -fill.fee))
        touched: dict[str, _Asset] = {}
        for name, change in changes:
            record = self._asset(fill.venue, name)
            if fill.ts_event_ns > record.ts_event_ns:
                record.pending.append((fill.ts_event_ns, change))
            touched[name] = record
        return tuple(self._balance(fill.venue, name, r) for name, r in touched.items())

    # -- queries ---------------------------------------------------------------

    def get(self, venue: str, asset: str) -> Balance | None:
        """The asset's balance (venue value plus later fills), or ``None`` if never seen."""
        record = self._assets.get((venue, asset))
        return None if record is None else self._balance(venue, asset, record)

    def all(self, venue: str | None = None) -> list[Balance]:
        return [
            self._balance(v, a, r)
            for (v, a), r in self._assets.items()
            if venue is None or v == venue
        ]

    def statistics(self) -> BalanceStatistics:
        return BalanceStatistics(
            assets=len(self._assets),
            updates=self._updates,
            stale_updates=self._stale,
            fills=self._fills,
            duplicate_fills=self._duplicates,
            discrepancies=self._discrepancies,
        )

    # -- helpers ---------------------------------------------------------------

    def _asset(self, venue: str, asset: str) -> _Asset:
        record = self._assets.get((venue, asset))
        if record is None:
            record = self._assets[(venue, asset)] = _Asset()
        return record

    @staticmethod
    def _set(asset: _Asset, free: Decimal, locked: Decimal, ts_event_ns: int) -> None:
        asset.free, asset.locked, asset.ts_event_ns = free, locked, ts_event_ns
        asset.pending = [(ts, change) for ts, change in asset.pending if ts > ts_event_ns]

    @staticmethod
    def _total(asset: _Asset) -> Decimal:
        return asset.free + asset.locked + sum((c for _, c in asset.pending), _ZERO)

    @staticmethod
    def _balance(venue: str, name: str, asset: _Asset) -> Balance:
        free = asset.free + sum((c for _, c in asset.pending), _ZERO)
        ts = max([asset.ts_event_ns, 0, *(ts for ts, _ in asset.pending)])
        return Balance(venue=venue, asset=name, free=free, locked=asset.locked, ts_event_ns=ts)
