"""OKX v5 fill listings ``/api/v5/trade/fills`` and ``/fills-history``: which fills. Pure.

OKX docs ``order-book-trading-trade-get-transaction-details-last-3-days`` and
``-last-3-months`` (checked 2026-12-03):

* ``fills`` holds the last **3 days**, ``fills-history`` the last **3 months**
  (90 days here) and needs ``instType`` (50014 without it).
* Filters ``instType``, ``instId``, ``ordId``; ``begin`` / ``end`` in ms on the
  fill time ``ts`` (both ends taken inclusive: the docs do not say).
* Pages by ``billId``, newest first (``after`` earlier, ``before`` newer,
  ``limit`` at most 100, default 100): :mod:`connector.sim.okx.paging`.
* A malformed number answers 51000 ``Parameter {param} error`` (HTTP 400).

A fill's ``billId`` is the account's fill count when it happened plus
:data:`FIRST_BILL_ID`: it grows with every fill of the account, so it orders
the fills as OKX's bill ids do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from connector.sim.desk import UserFill
from connector.sim.okx.paging import IdPage, id_page, query_int

__all__ = ["FILL_WINDOW_MS", "FIRST_BILL_ID", "FillQuery", "billed", "fill_page"]

FIRST_BILL_ID = 600_000_000_000_000_000
"""The bill id of an account's first fill (OKX bill ids are 18-19 digit numbers)."""

_DAY_MS = 86_400_000
#: How far back each route reaches.
FILL_WINDOW_MS = {"fills": 3 * _DAY_MS, "fills-history": 90 * _DAY_MS}


@attrs.frozen(kw_only=True)
class FillQuery:
    """The paging and time parameters of one listing.

    Attributes:
        page: ``after`` / ``before`` (bill ids) and ``limit``.
        begin: Fills at or after this time (ms).
        end: Fills at or before this time (ms).
    """

    page: IdPage = attrs.field(factory=IdPage)
    begin: int | None = None
    end: int | None = None

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> FillQuery:
        """The query's values.

        Raises:
            BadRequest: 51000 for a parameter that is not an integer, or a
                ``limit`` below 1.
        """
        return cls(
            page=IdPage.parse(query), begin=query_int(query, "begin"), end=query_int(query, "end")
        )


def billed(fills: Sequence[UserFill]) -> list[tuple[int, UserFill]]:
    """Every fill of one account (oldest first, unfiltered) with its ``billId``."""
    return [(FIRST_BILL_ID + i, f) for i, f in enumerate(fills)]


def fill_page(
    bills: Sequence[tuple[int, UserFill]], query: FillQuery, *, now_ms: int, window_ms: int
) -> list[tuple[int, UserFill]]:
    """The page ``query`` asks for, newest first, out of ``bills`` (already filtered
    by instrument type, instrument and order; oldest first)."""
    oldest = now_ms - window_ms
    timely = [
        (bill, f)
        for bill, f in bills
        if f.ts_ms >= oldest
        and (query.begin is None or f.ts_ms >= query.begin)
        and (query.end is None or f.ts_ms <= query.end)
    ]
    return id_page(timely, query.page)
