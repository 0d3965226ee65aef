"""Fault plans for the simulator: what goes wrong, where, and how often.

A :class:`FaultPlan` is a frozen, seeded list of :class:`FaultRule` values built
with a small fluent API; every builder returns a new plan::

    plan = (
        FaultPlan(seed=7)
        .drop(0.01, venue="binance", stream="depth")
        .disconnect(after_frames=500, venue="okx")
        .rest_error(0.1, status=503, venue="bybit", path="/v5/market")
        .clock_skew(1500, venue="binance")
    )

The same plan can live in a TOML file (``connector sim --faults FILE``,
:meth:`FaultPlan.from_toml`; format in ``loading.py``)::

    seed = 7

    [[fault]]
    kind = "drop"
    fraction = 0.01
    venue = "binance"
    stream = "depth"

At run time one :class:`FaultInjector` per simulator run carries out the plan.
Front-ends (``binance/``, ``bybit/``, ``okx/``) and the generic server
(``server.py``, ``ws.py``) consult it:

* websocket frames: ``injector.connection(venue, conn_id, market)`` returns a
  :class:`ConnectionFaults`; its :meth:`ConnectionFaults.on_frame` is called for
  every outgoing data frame and returns a :class:`FrameVerdict` (frames to send
  now, a delay before them, a stall, or a disconnect). ``ws.WsConnection``
  does this for you when you call ``conn.send(text, stream=...)``.
* venue-specific rule kinds (OKX checksum corruption, Bybit ``u=1`` restart
  snapshot): ``ConnectionFaults.should(FaultKind.CORRUPT_CHECKSUM, stream)``.
* new websocket connections: :meth:`FaultInjector.on_connect` (refusal windows).
* REST: :meth:`FaultInjector.on_request` (5xx, 429, slow responses),
  :meth:`FaultInjector.stale_updates` (serve a depth snapshot N updates old),
  :meth:`FaultInjector.clock_skew_ms` (server clock offset).

Every injection is appended to the log (:meth:`FaultInjector.log`) as an
:class:`InjectedFault`, so a test can compare what its client saw with what was
injected. Randomness is drawn from ``random.Random`` instances seeded from
``(plan.seed, venue, connection id)``, so a run with the same plan, seed and
connection order injects the same faults.

Modules: ``plan.py`` (the plan and its builders), ``loading.py`` (plans from
TOML files and mappings), ``injector.py`` (carrying it out, counting and
logging), ``corruption.py`` (malformed-frame helpers).
"""

from __future__ import annotations

from connector.sim.faults.corruption import corrupt_frame
from connector.sim.faults.injector import (
    ConnectionFaults,
    FaultInjector,
    FaultStatistics,
    FrameVerdict,
    InjectedFault,
    RestVerdict,
)
from connector.sim.faults.plan import (
    SESSION_KINDS,
    FaultKind,
    FaultPlan,
    FaultRule,
    MalformedVariant,
    stream_matches,
)

__all__ = [
    "SESSION_KINDS",
    "ConnectionFaults",
    "FaultInjector",
    "FaultKind",
    "FaultPlan",
    "FaultRule",
    "FaultStatistics",
    "FrameVerdict",
    "InjectedFault",
    "MalformedVariant",
    "RestVerdict",
    "corrupt_frame",
    "stream_matches",
]
