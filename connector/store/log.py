"""The event log: an append-only, durable sequence of model values (protocol + in-memory log).

What must survive a crash (order events, venue reports, fills, positions,
balances) is appended here on the command path *before* it is published
(design.md section 7). The protocol is shaped for the stores that come next
(``sql.py``: SQLite with WAL and group commit, PostgreSQL), which run their
calls through ``trio.to_thread``:

- :meth:`EventLog.append` takes a *batch* and returns only once the whole batch
  is durable, with the sequence number given to its last entry. Sequence
  numbers start at 1, increase by one per entry, never repeat and have no
  gaps; a batch is all-or-nothing.
- :meth:`EventLog.read` pages forward from a position: every entry with
  ``seq > after``, oldest first, at most ``limit`` of them. Replay after a
  restart reads from 0 until a page comes back short.
- :meth:`EventLog.close` releases the store; appending after it raises
  :class:`~connector.errors.StoreError`.

Values are stored as ``{"type": <class name>, "data": <cattrs unstructured>}``
JSON text (:func:`encode` / :func:`decode`): Decimal as its exact text, time as
int ns, enums as their values, so every store keeps the same bytes. Only the
types in :data:`LOGGED_TYPES` are accepted.

This module does no I/O of its own: :class:`MemoryEventLog` (for tests and
runs without a store) keeps the values in a list and converts them on reading;
its methods are ``async`` to honour the protocol but never block or yield.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import attrs
import msgspec

from connector.errors import StoreError
from connector.model.convert import converter
from connector.model.trading import (
    Balance,
    Fill,
    OrderAccepted,
    OrderAmended,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderReport,
    OrderStatusUnknown,
    OrderSubmitted,
    Position,
)

__all__ = [
    "LOGGED_TYPES",
    "EventLog",
    "LogEntry",
    "Logged",
    "MemoryEventLog",
    "decode",
    "dump_json",
    "encode",
    "load_json",
]

Logged = (
    OrderSubmitted
    | OrderAccepted
    | OrderRejected
    | OrderFilled
    | OrderCanceled
    | OrderAmended
    | OrderExpired
    | OrderStatusUnknown
    | OrderReport
    | Fill
    | Position
    | Balance
)
"""What the log stores."""

LOGGED_TYPES: Mapping[str, type[Logged]] = {
    cls.__name__: cls
    for cls in (
        OrderSubmitted,
        OrderAccepted,
        OrderRejected,
        OrderFilled,
        OrderCanceled,
        OrderAmended,
        OrderExpired,
        OrderStatusUnknown,
        OrderReport,
        Fill,
        Position,
        Balance,
    )
}
"""Stored type name -> class. Names are part of the stored format: never rename one."""


@attrs.frozen(kw_only=True)
class LogEntry:
    """One stored value with its place in the log.

    Attributes:
        seq: Position in the log, from 1, without gaps.
        ts_ns: When it was appended (the appender's clock, ns since the epoch).
        event: The value.
    """

    seq: int
    ts_ns: int
    event: Logged


def encode(event: Logged) -> str:
    """``event`` as the log's JSON text.

    Raises:
        TypeError: a type the log does not store.
    """
    return dump_json({"type": _stored_name(event), "data": converter.unstructure(event)})


def _stored_name(event: Logged) -> str:
    name = type(event).__name__
    if LOGGED_TYPES.get(name) is not type(event):
        raise TypeError(f"the event log does not store {name}")
    return name


_SORTED = msgspec.json.Encoder(order="sorted")
_JSON = msgspec.json.Decoder()
_NOT_ASCII = re.compile(rb"[\x7f-\xff]")


def dump_json(record: dict[str, Any]) -> str:
    """``json.dumps(record, separators=(",", ":"), sort_keys=True)``, the stored format
    (of the log and of the projection rows), made by msgspec (several times faster:
    this runs for every order event on the command path) whenever that gives the same
    text: pure ASCII output (``json`` escapes DEL and every non-ASCII character,
    msgspec writes them as UTF-8)."""
    try:
        data = _SORTED.encode(record)
    except (TypeError, ValueError, OverflowError):
        data = b"\x80"  # what msgspec cannot encode: json.dumps says what is wrong
    if _NOT_ASCII.search(data) is None:
        return data.decode("ascii")
    return json.dumps(record, separators=(",", ":"), sort_keys=True)


def load_json(text: str) -> Any:
    """What :func:`dump_json` wrote, read as ``json.loads`` reads it, by msgspec (about
    three times faster: a start-up reads the whole log).

    Raises:
        ValueError: text that is not JSON.
    """
    return _JSON.decode(text)


def decode(text: str) -> Logged:
    """The value :func:`encode` made ``text`` from.

    Raises:
        ValueError: text that is not a stored value of a known type.
    """
    record = load_json(text)
    name = record.get("type") if isinstance(record, dict) else None
    cls = LOGGED_TYPES.get(name) if isinstance(name, str) else None
    if cls is None or "data" not in record:
        raise ValueError(f"not a stored event: {text[:200]!r}")
    try:
        return converter.structure(record["data"], cls)
    except Exception as exc:  # cattrs' errors: a group, or what a converter raised
        raise ValueError(f"not a stored {name} ({exc}): {text[:200]!r}") from exc


class EventLog(Protocol):
    """An append-only durable log of model values (see the module docstring)."""

    async def append(self, events: Sequence[Logged], *, ts_ns: int) -> int:
        """Store ``events`` as one batch; return once durable.

        Args:
            events: The batch, in order; may be empty.
            ts_ns: The append time recorded on each entry.

        Returns:
            The sequence number of the batch's last entry (the current last
            one when the batch is empty).
        """
        ...

    async def read(self, after: int = 0, *, limit: int = 1000) -> Sequence[LogEntry]:
        """Entries with ``seq > after``, oldest first, at most ``limit``."""
        ...

    async def last_seq(self) -> int:
        """The sequence number of the last entry; 0 for an empty log."""
        ...

    async def close(self) -> None:
        """Release the store; later appends raise ``StoreError``. Idempotent."""
        ...


class MemoryEventLog:
    """An :class:`EventLog` in a list: durable for the life of the process only.

    Unbounded on purpose: a log that dropped entries would break its one
    promise. Appending checks each value's type (what :func:`encode` refuses)
    and keeps the value itself; the JSON conversion is left to :meth:`read`,
    which returns what a real store would (each value through :func:`encode`
    and :func:`decode`). Appends are on the command path (every order event),
    reads are not; values are frozen, and one of a stored type whose fields
    hold what their annotations say (mypy checks the code that builds them)
    always converts, so the type is all an append has to check.
    """

    def __init__(self) -> None:
        self._entries: list[tuple[int, Logged]] = []
        self._closed = False

    async def append(self, events: Sequence[Logged], *, ts_ns: int) -> int:
        if self._closed:
            raise StoreError("the in-memory event log is closed")
        for event in events:  # all-or-nothing: check the whole batch first
            _stored_name(event)
        self._entries.extend((ts_ns, event) for event in events)
        return len(self._entries)

    async def read(self, after: int = 0, *, limit: int = 1000) -> Sequence[LogEntry]:
        if limit < 1:
            raise ValueError(f"limit must be >= 1, got {limit}")
        start = max(after, 0)
        return [
            LogEntry(seq=start + i + 1, ts_ns=ts_ns, event=decode(encode(event)))
            for i, (ts_ns, event) in enumerate(self._entries[start : start + limit])
        ]

    async def last_seq(self) -> int:
        return len(self._entries)

    async def close(self) -> None:
        self._closed = True

    def __len__(self) -> int:
        return len(self._entries)
