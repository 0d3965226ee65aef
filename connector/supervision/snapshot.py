"""Frozen views of a supervision tree and their plain-text rendering.

``health``, ``metrics`` and ``connector status`` read these; nothing here
touches trio, so a snapshot can be kept, compared and rendered anywhere.
"""

from __future__ import annotations

import enum

import attrs

from connector._groups import leaves as all_leaves

__all__ = [
    "ChildSnapshot",
    "ChildState",
    "Restart",
    "Strategy",
    "SupervisorSnapshot",
    "describe_error",
    "render_tree",
]

_MAX_ERROR_CHARS = 200


class Restart(enum.StrEnum):
    """When a supervisor restarts a child that ended."""

    PERMANENT = "permanent"
    """Always restarted, even after a clean return."""
    TRANSIENT = "transient"
    """Restarted only after an exception."""
    TEMPORARY = "temporary"
    """Never restarted, not even as a sibling in a group restart."""


class Strategy(enum.StrEnum):
    """Which children a supervisor restarts when one of them ends."""

    ONE_FOR_ONE = "one_for_one"
    """Restart only the child that ended."""
    ALL_FOR_ONE = "all_for_one"
    """Stop every sibling (in reverse start order) and restart all in start order."""
    REST_FOR_ONE = "rest_for_one"
    """Stop and restart the child that ended and those started after it, in order."""


class ChildState(enum.StrEnum):
    """Where a child (or a supervisor) is in its life."""

    STARTING = "starting"
    """Running, but has not reported ready yet."""
    RUNNING = "running"
    """Reported ready with ``task_status.started()``."""
    RESTARTING = "restarting"
    """Ended or stopped for a restart, waiting for its backoff or its turn."""
    STOPPED = "stopped"
    """Not running and not going to be restarted (clean end, or cancelled)."""
    FAILED = "failed"
    """Ended with an exception and its restart type forbids a restart."""
    GAVE_UP = "gave_up"
    """A supervisor that exceeded its restart intensity."""


@attrs.frozen(kw_only=True)
class ChildSnapshot:
    """One plain child of a supervisor, as it was when the snapshot was taken."""

    name: str
    state: ChildState
    restarts: int
    last_error: str | None
    restart: Restart


@attrs.frozen(kw_only=True)
class SupervisorSnapshot:
    """A supervisor and its whole subtree.

    ``restarts`` and ``last_error`` describe this supervisor as a node: how
    often its parent restarted it and why it last ended (for a root, how often
    it was re-run and why it last gave up). Its children carry their own.
    """

    name: str
    strategy: Strategy
    state: ChildState
    restarts: int
    last_error: str | None
    children: tuple[ChildSnapshot | SupervisorSnapshot, ...]

    def find(self, path: str) -> ChildSnapshot | SupervisorSnapshot | None:
        """The node at a ``/``-separated path of child names below this one.

        Args:
            path: For example ``"venue:binance/market_data"``.

        Returns:
            The snapshot of that node, or ``None`` when there is no such node.
        """
        node: ChildSnapshot | SupervisorSnapshot = self
        for part in path.split("/"):
            if not isinstance(node, SupervisorSnapshot):
                return None
            found = next((c for c in node.children if c.name == part), None)
            if found is None:
                return None
            node = found
        return node


def describe_error(exc: BaseException) -> str:
    """A short one-line description such as ``"ValueError: boom"``.

    An exception group with a single leaf is described by that leaf, so a
    failure inside a service's own nursery reads like the error itself.
    """
    leaves = all_leaves(exc)
    if len(leaves) == 1:
        text = _one_line(leaves[0])
    else:
        text = f"{type(exc).__name__}: " + "; ".join(_one_line(leaf) for leaf in leaves)
    if len(text) > _MAX_ERROR_CHARS:
        text = text[: _MAX_ERROR_CHARS - 1] + "…"
    return text


def _one_line(exc: BaseException) -> str:
    message = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def render_tree(snapshot: SupervisorSnapshot) -> str:
    """Render a snapshot as a plain-text tree, one line per node.

    Each line holds the name, the state, the restart count, then the strategy
    (supervisors) or restart type (children), then the last error if any::

        root  running  restarts=0  one_for_one
        ├── health  running  restarts=0  permanent
        └── venue:okx  running  restarts=1  one_for_one  last error: SupervisorGaveUp: …
            └── clock  running  restarts=0  transient
    """
    lines = [_line(snapshot)]
    _render_children(snapshot, "", lines)
    return "\n".join(lines)


def _render_children(node: SupervisorSnapshot, prefix: str, lines: list[str]) -> None:
    for i, child in enumerate(node.children):
        last = i == len(node.children) - 1
        lines.append(prefix + ("└── " if last else "├── ") + _line(child))
        if isinstance(child, SupervisorSnapshot):
            _render_children(child, prefix + ("    " if last else "│   "), lines)


def _line(node: ChildSnapshot | SupervisorSnapshot) -> str:
    kind = node.strategy.value if isinstance(node, SupervisorSnapshot) else node.restart.value
    text = f"{node.name}  {node.state.value}  restarts={node.restarts}  {kind}"
    if node.last_error:
        text += f"  last error: {node.last_error}"
    return text
