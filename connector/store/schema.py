"""The store's schema and its versioned migrations (one schema for SQLite and PostgreSQL).

Tables:

* ``connector_meta``: ``schema_version`` and the writer's bookkeeping.
* ``events``: the append-only log, ``seq`` from 1 without gaps, ``type`` and
  ``data`` as :func:`connector.store.log.encode` writes them.
* ``orders``, ``fills``, ``positions``, ``balances``: projections of the log,
  written in the same transaction as the events they come from, so they are
  never ahead of or behind the log.

Migrations run in order at start, each in its own transaction; a database whose
version is newer than :data:`SCHEMA_VERSION` is refused (an older program must
not write a newer layout). Statements use ``{bigint}`` for the 64-bit integer
type, which the dialect fills in.
"""

from __future__ import annotations

import attrs

__all__ = ["FILLS_BY_SIDE", "MIGRATIONS", "SCHEMA_VERSION", "Migration"]

FILLS_BY_SIDE = 3
"""The version whose ``fills`` table is keyed by side too: a store migrated to it has
the table filled again from its log."""


@attrs.frozen(kw_only=True)
class Migration:
    """One step of the schema: ``version`` is what the database is at after it."""

    version: int
    description: str
    statements: tuple[str, ...]

    def sql(self, bigint: str) -> tuple[str, ...]:
        """The statements with the dialect's 64-bit integer type."""
        return tuple(statement.format(bigint=bigint) for statement in self.statements)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        version=1,
        description="the event log and its projections",
        statements=(
            "CREATE TABLE connector_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
            "CREATE TABLE events (seq {bigint} PRIMARY KEY, ts_ns {bigint} NOT NULL,"
            " type TEXT NOT NULL, data TEXT NOT NULL)",
            "CREATE TABLE orders (venue TEXT NOT NULL, order_key TEXT NOT NULL,"
            " client_order_id TEXT NOT NULL, venue_order_id TEXT, symbol TEXT NOT NULL,"
            " status TEXT NOT NULL, ts_updated_ns {bigint} NOT NULL, seq {bigint} NOT NULL,"
            " data TEXT NOT NULL, PRIMARY KEY (venue, order_key))",
            "CREATE TABLE fills (venue TEXT NOT NULL, symbol TEXT NOT NULL,"
            " trade_id TEXT NOT NULL, client_order_id TEXT NOT NULL,"
            " ts_event_ns {bigint} NOT NULL, seq {bigint} NOT NULL, data TEXT NOT NULL,"
            " PRIMARY KEY (venue, symbol, trade_id))",
            "CREATE TABLE positions (venue TEXT NOT NULL, symbol TEXT NOT NULL,"
            " seq {bigint} NOT NULL, data TEXT NOT NULL, PRIMARY KEY (venue, symbol))",
            "CREATE TABLE balances (venue TEXT NOT NULL, asset TEXT NOT NULL,"
            " seq {bigint} NOT NULL, data TEXT NOT NULL, PRIMARY KEY (venue, asset))",
        ),
    ),
    Migration(
        version=2,
        description="indexes for history reads (orders by update time, fills by time)",
        statements=(
            "CREATE INDEX orders_by_update ON orders (ts_updated_ns)",
            "CREATE INDEX fills_by_time ON fills (ts_event_ns)",
        ),
    ),
    Migration(
        version=FILLS_BY_SIDE,
        description="fills keyed by their side too (a trade of the account with itself is"
        " two fills under one trade id); the table is filled again from the log",
        statements=(
            "DROP TABLE fills",
            "CREATE TABLE fills (venue TEXT NOT NULL, symbol TEXT NOT NULL,"
            " trade_id TEXT NOT NULL, side TEXT NOT NULL, client_order_id TEXT NOT NULL,"
            " ts_event_ns {bigint} NOT NULL, seq {bigint} NOT NULL, data TEXT NOT NULL,"
            " PRIMARY KEY (venue, symbol, trade_id, side))",
            "CREATE INDEX fills_by_time ON fills (ts_event_ns)",
        ),
    ),
)
"""Every migration, oldest first; versions are 1, 2, ... without gaps."""

SCHEMA_VERSION = MIGRATIONS[-1].version
"""The version this code writes."""
