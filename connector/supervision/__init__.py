"""Supervision trees: services restarted by policy, in nurseries (design.md section 3).

``Supervisor`` runs ``ChildSpec``s (each a ``Service``) and is itself a
service, so subtrees nest; ``snapshot()`` and ``render_tree`` show the tree for
``health``, ``metrics`` and ``connector status``.
"""

from __future__ import annotations

from connector.supervision.backoff import Backoff
from connector.supervision.snapshot import (
    ChildSnapshot,
    ChildState,
    Restart,
    Strategy,
    SupervisorSnapshot,
    describe_error,
    render_tree,
)
from connector.supervision.supervisor import ChildSpec, Service, Supervisor

__all__ = [
    "Backoff",
    "ChildSnapshot",
    "ChildSpec",
    "ChildState",
    "Restart",
    "Service",
    "Strategy",
    "Supervisor",
    "SupervisorSnapshot",
    "describe_error",
    "render_tree",
]
