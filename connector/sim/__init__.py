"""Simulated Binance, Bybit and OKX on loopback, over a matching engine.

Start it with ``async with connector.sim.run(...) as s:`` (see
:func:`connector.sim.standalone.run`) or ``connector sim`` on the command line
(:func:`serve_standalone`). Faults come from a :class:`FaultPlan`.
"""

from __future__ import annotations

from connector.sim.faults import FaultInjector, FaultKind, FaultPlan, FaultRule, InjectedFault
from connector.sim.hub import BookBatch, SimBook, SimTrade, SimVenue, TickerStats
from connector.sim.server import Frontend, FrontendFactory, FrontendOptions
from connector.sim.standalone import FRONTENDS, SimRun, register_frontend, run, serve_standalone

__all__ = [
    "FRONTENDS",
    "BookBatch",
    "FaultInjector",
    "FaultKind",
    "FaultPlan",
    "FaultRule",
    "Frontend",
    "FrontendFactory",
    "FrontendOptions",
    "InjectedFault",
    "SimBook",
    "SimRun",
    "SimTrade",
    "SimVenue",
    "TickerStats",
    "register_frontend",
    "run",
    "serve_standalone",
]
