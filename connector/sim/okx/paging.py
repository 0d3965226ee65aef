"""OKX v5 id pages: the selection ``after`` / ``before`` / ``limit`` make. Pure.

OKX lists fills by ``billId`` and orders by ``ordId`` the same way (OKX docs
``order-book-trading-trade-get-order-list``, ``-get-order-history-last-7-days``,
``-get-transaction-details-last-3-days``, checked 2026-12-03):

* newest first (the highest id first);
* ``after``: records **earlier** than that id; ``before``: records **newer**;
  with ``before`` alone the page is the one next to it (the ``limit`` oldest
  newer records), still newest first;
* ``limit`` at most 100, default 100 (a larger value is cut to 100);
* a malformed number answers 51000 ``Parameter {param} error`` (HTTP 400).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

import attrs

from connector.sim.okx.ops import BadRequest

__all__ = ["MAX_LIMIT", "IdPage", "id_page", "query_int"]

MAX_LIMIT = 100
"""The largest (and the default) page size."""

T = TypeVar("T")


def query_int(query: Mapping[str, str], name: str) -> int | None:
    """The integer parameter ``name`` (``None`` when absent or empty).

    Raises:
        BadRequest: 51000 ``Parameter {name} error`` when it is not an integer.
    """
    raw = query.get(name, "")
    if raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise BadRequest("51000", f"Parameter {name} error") from None


@attrs.frozen(kw_only=True)
class IdPage:
    """Which page of an id listing.

    Attributes:
        after: Records earlier than this id.
        before: Records newer than this id.
        limit: Page size, 1-100.
    """

    after: int | None = None
    before: int | None = None
    limit: int = MAX_LIMIT

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> IdPage:
        """The query's ``after``, ``before`` and ``limit``.

        Raises:
            BadRequest: 51000 for a parameter that is not an integer, or a
                ``limit`` below 1.
        """
        limit = query_int(query, "limit")
        if limit is not None and limit < 1:
            raise BadRequest("51000", "Parameter limit error")
        return cls(
            after=query_int(query, "after"),
            before=query_int(query, "before"),
            limit=MAX_LIMIT if limit is None else min(limit, MAX_LIMIT),
        )


def id_page(items: Sequence[tuple[int, T]], page: IdPage) -> list[tuple[int, T]]:
    """The page of ``items`` (``(id, item)``, already filtered, oldest first) that
    ``page`` asks for, newest first."""
    chosen = [
        (key, item)
        for key, item in items
        if (page.after is None or key < page.after) and (page.before is None or key > page.before)
    ]
    if page.before is not None and page.after is None:
        chosen = chosen[: page.limit]
    else:
        chosen = chosen[-page.limit :]
    return chosen[::-1]
