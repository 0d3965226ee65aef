"""Simulated Binance, Bybit and OKX on loopback, over a matching engine.

Start it with ``async with connector.sim.run(...) as s:`` (see
:func:`connector.sim.standalone.run`) or ``connector sim`` on the command line
(:func:`serve_standalone`). Faults come from a :class:`FaultPlan`.

Trading: every venue has a :class:`~connector.sim.desk.Desk` (``s.venue(v).desk``)
over its accounts (:class:`AccountBook`, default demo accounts); tests read what
a venue knows through :class:`Truth` (``s.truth(v)``); the truth of a standalone
simulator comes over the wire (``GET /_sim/truth``, :func:`fetch_truth`) as a
:class:`TruthSnapshot` that answers the same queries. :func:`line_environment` turns
``connector sim``'s first line into the ``CONNECTOR_*`` variables of a client.
"""

from __future__ import annotations

from connector.sim.accounts import AccountBook, AccountSpec, load_accounts
from connector.sim.desk import Desk
from connector.sim.faults import FaultInjector, FaultKind, FaultPlan, FaultRule, InjectedFault
from connector.sim.hub import BookBatch, SimBook, SimTrade, SimVenue, TickerStats
from connector.sim.server import Frontend, FrontendFactory, FrontendOptions
from connector.sim.standalone import (
    FRONTENDS,
    Accounts,
    SimRun,
    line_environment,
    register_frontend,
    run,
    serve_standalone,
)
from connector.sim.truth import Truth, TruthSnapshot, fetch_truth

__all__ = [
    "FRONTENDS",
    "AccountBook",
    "AccountSpec",
    "Accounts",
    "BookBatch",
    "Desk",
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
    "Truth",
    "TruthSnapshot",
    "fetch_truth",
    "line_environment",
    "load_accounts",
    "register_frontend",
    "run",
    "serve_standalone",
]
