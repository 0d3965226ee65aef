"""Risk alerts: what the risk service publishes on ``risk.alert``."""

from __future__ import annotations

import enum

import attrs

from connector.model.symbols import Symbol

__all__ = ["RiskAlert", "RiskAlertKind"]


class RiskAlertKind(enum.StrEnum):
    BREACH = "breach"
    """A pre-trade check refused an order (``limit`` names it)."""
    KILL = "kill"
    """The kill switch was thrown: new orders are refused, open ones are being canceled."""
    KILL_DONE = "kill_done"
    """The kill switch's cancellations finished (``canceled``/``failed`` say how)."""
    RESUME = "resume"
    """Trading was allowed again."""
    EXPOSURE = "exposure"
    """A position went beyond ``max_position_qty`` with no order of ours refused for it
    (filled by orders placed elsewhere, held at the start, or filled beyond its order)."""
    EXPOSURE_CLEARED = "exposure_cleared"
    """A position alerted as ``exposure`` is back within ``max_position_qty``."""


@attrs.frozen(kw_only=True)
class RiskAlert:
    """One breach or action of the risk service.

    Attributes:
        kind: What happened.
        message: What, in words.
        limit: The limit breached (``kill_switch``, ``max_order_notional``...).
        venue: The venue concerned, when one is.
        symbol: The symbol concerned, when one is.
        client_order_id: The refused order's id, for a breach.
        canceled: Orders canceled by the kill switch (``kill_done``).
        failed: Orders whose cancel failed (``kill_done``); they are named in ``message``.
        ts_ns: Wall-clock time of the alert.
    """

    kind: RiskAlertKind
    message: str
    limit: str | None = None
    venue: str | None = None
    symbol: Symbol | None = None
    client_order_id: str | None = None
    canceled: int = 0
    failed: int = 0
    ts_ns: int = 0
