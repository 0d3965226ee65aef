"""``Connector.statistics()`` as Prometheus text exposition (format 0.0.4); pure.

Every family is declared in one table, :data:`FAMILIES`: its name, whether it is
a counter, a gauge or a histogram, its help text, and the path in the statistics
tree it reads. Counters are what only ever grows (frames, gaps, orders sent);
gauges are states and levels that may go down (book state, breaker state, kill
switch, connected sockets, queue depths, clock offset). Nothing guesses a type
from a name: the table says it, and :data:`SKIPPED` names (with the reason) the
numeric fields of the tree that are deliberately not exported; a test checks that
the two together cover every numeric field of the tree.

A path is dotted; ``{label}`` walks a mapping (its keys become that label's
values), ``[label=field]`` walks a tuple (each element's ``field`` becomes the
label's value). A ``None`` on the way (no clock estimate yet, no risk service)
yields no sample.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

import attrs

from connector.metrics.histogram import HistogramSnapshot

if TYPE_CHECKING:
    from connector.connector import ConnectorStatistics

__all__ = [
    "CONTENT_TYPE",
    "FAMILIES",
    "SKIPPED",
    "Family",
    "Kind",
    "Transform",
    "covered_paths",
    "escape_label",
    "render",
]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Kind(enum.Enum):
    COUNTER = "counter"
    GAUGE = "gauge"
    HISTOGRAM = "histogram"


class Transform(enum.Enum):
    """How a leaf becomes a sample value."""

    NUMBER = "number"
    """An int, float or bool, as it is (a bool is 1 or 0)."""
    NS_TO_SECONDS = "ns_to_seconds"
    """Nanoseconds, exported in seconds."""
    PRESENT = "present"
    """1 when the field holds a value, 0 when it is ``None``."""
    STATE = "state"
    """An enum: one sample per member, labelled with its value, 1 for the current one."""


@attrs.frozen
class Family:
    """One metric family of the exposition.

    Attributes:
        name: The family's name; a counter's ends in ``_total``.
        kind: Counter, gauge or histogram.
        help: The ``# HELP`` text.
        path: Where in the statistics tree its values are (see the module docstring).
        transform: How a leaf becomes a value.
        state_label: The label that carries an enum member (``Transform.STATE``).
    """

    name: str
    kind: Kind
    help: str
    path: str
    transform: Transform = Transform.NUMBER
    state_label: str = "state"

    def __attrs_post_init__(self) -> None:
        if (self.kind is Kind.COUNTER) != self.name.endswith("_total"):
            raise ValueError(f"{self.name}: only a counter's name ends in _total")


C, G, H = Kind.COUNTER, Kind.GAUGE, Kind.HISTOGRAM
_NS, _PRESENT, _STATE = Transform.NS_TO_SECONDS, Transform.PRESENT, Transform.STATE
_V = "venues.{venue}"
_BOOK = "venues.{venue}.books.{symbol}"
_WS = "venues.{venue}.connections.[connection=conn_id]"
_LIM = "venues.{venue}.limiters.{host}"
_HEALTH = "health.venues.[venue=venue]"
_ORD = "orders.{venue}"
_SOCK = "orders.{venue}.order_sockets.{socket}"
_ACC = "accounts.{venue}"
_STREAM = "accounts.{venue}.streams.[stream=key]"

FAMILIES: tuple[Family, ...] = (
    # the bus
    Family("connector_bus_subscriptions", G, "Live bus subscriptions.", "bus.subscriptions"),
    Family("connector_bus_published_total", C, "Events published on the bus.", "bus.published"),
    Family(
        "connector_bus_cached_topics", G, "Topics whose matches are cached.", "bus.cached_topics"
    ),
    Family("connector_bus_listeners", G, "Live bus listeners.", "bus.listeners"),
    # market data feed, per venue
    Family("connector_feed_frames_total", C, "Market-data frames received.", f"{_V}.feed.frames"),
    Family("connector_feed_events_total", C, "Market-data events decoded.", f"{_V}.feed.events"),
    Family(
        "connector_feed_malformed_total", C, "Frames that did not decode.", f"{_V}.feed.malformed"
    ),
    Family(
        "connector_feed_unknown_symbols_total",
        C,
        "Frames for instruments not followed.",
        f"{_V}.feed.unknown_symbols",
    ),
    Family(
        "connector_feed_control_errors_total",
        C,
        "Venue control messages reporting errors.",
        f"{_V}.feed.control_errors",
    ),
    # order books, per venue and symbol
    Family(
        "connector_book_state",
        G,
        "Book state: 1 for the current state, 0 for the others.",
        f"{_BOOK}.state.status",
        _STATE,
    ),
    Family(
        "connector_book_messages_total",
        C,
        "Book snapshots and deltas received.",
        f"{_BOOK}.messages",
    ),
    Family(
        "connector_book_deltas_applied_total", C, "Book deltas applied.", f"{_BOOK}.deltas_applied"
    ),
    Family(
        "connector_book_snapshots_applied_total",
        C,
        "Book snapshots loaded.",
        f"{_BOOK}.snapshots_applied",
    ),
    Family(
        "connector_book_dropped_total",
        C,
        "Old or duplicate book updates dropped.",
        f"{_BOOK}.dropped",
    ),
    Family("connector_book_gaps_total", C, "Sequence gaps that resynced.", f"{_BOOK}.gaps"),
    Family(
        "connector_book_held_total",
        C,
        "Book deltas held ahead of a missing one.",
        f"{_BOOK}.held",
    ),
    Family(
        "connector_book_gaps_filled_total",
        C,
        "Gaps filled within the reorder window (no resync).",
        f"{_BOOK}.gaps_filled",
    ),
    Family("connector_book_resyncs_total", C, "Fresh snapshots asked for.", f"{_BOOK}.resyncs"),
    Family(
        "connector_book_checksums_checked_total",
        C,
        "Book checksums checked.",
        f"{_BOOK}.checksums_checked",
    ),
    Family(
        "connector_book_checksums_failed_total",
        C,
        "Book checksum failures.",
        f"{_BOOK}.checksums_failed",
    ),
    Family(
        "connector_book_crossed_total", C, "Times the book was found crossed.", f"{_BOOK}.crossed"
    ),
    Family(
        "connector_book_malformed_total",
        C,
        "Book updates with levels the book refused.",
        f"{_BOOK}.malformed",
    ),
    Family(
        "connector_book_depth_exhausted_total",
        C,
        "Times a book side ran out of levels.",
        f"{_BOOK}.depth_exhausted",
    ),
    # market-data websockets
    Family(
        "connector_ws_connected", G, "1 while the websocket has an open socket.", f"{_WS}.connected"
    ),
    Family(
        "connector_ws_phase",
        G,
        "Websocket phase: 1 for the current one, 0 for the others.",
        f"{_WS}.phase",
        _STATE,
        "phase",
    ),
    Family("connector_ws_connects_total", C, "Websocket sockets opened.", f"{_WS}.connects"),
    Family(
        "connector_ws_frames_received_total",
        C,
        "Websocket frames received.",
        f"{_WS}.frames_received",
    ),
    Family("connector_ws_frames_sent_total", C, "Websocket frames sent.", f"{_WS}.frames_sent"),
    Family(
        "connector_ws_ack_timeouts_total",
        C,
        "Connection attempts without acknowledgement.",
        f"{_WS}.ack_timeouts",
    ),
    Family(
        "connector_ws_refusals_total",
        C,
        "Connection attempts the handler refused.",
        f"{_WS}.refusals",
    ),
    # REST rate limiters, per venue and host
    Family("connector_rest_acquired_total", C, "Rate-limiter permits taken.", f"{_LIM}.acquired"),
    Family(
        "connector_rest_wait_seconds_total",
        C,
        "Seconds spent waiting for the rate limiter.",
        f"{_LIM}.waited_seconds",
    ),
    Family(
        "connector_rest_rate_limited_total",
        C,
        "Rate-limit answers (429, 418...) received.",
        f"{_LIM}.rate_limited",
    ),
    Family(
        "connector_rest_banned",
        G,
        "1 while the host has banned this IP, else 0.",
        f"{_LIM}.banned_until",
        _PRESENT,
    ),
    Family(
        "connector_rest_paused",
        G,
        "1 while requests pause for a Retry-After, else 0.",
        f"{_LIM}.paused_until",
        _PRESENT,
    ),
    Family("connector_rest_waiting", G, "Requests waiting in the rate limiter.", f"{_LIM}.waiting"),
    Family(
        "connector_rest_tokens",
        G,
        "Tokens left per rate-limit bucket.",
        f"{_LIM}.tokens.{{bucket}}",
    ),
    # venue clock
    Family(
        "connector_clock_offset_seconds",
        G,
        "Offset to add to local time to get venue time.",
        f"{_V}.clock.offset_ns",
        _NS,
    ),
    Family(
        "connector_clock_rtt_seconds",
        G,
        "Round trip of the clock estimate's samples.",
        f"{_V}.clock.rtt_ns",
        _NS,
    ),
    Family(
        "connector_clock_samples", G, "Samples behind the clock estimate.", f"{_V}.clock.samples"
    ),
    # health breakers
    Family(
        "connector_health_breaker_state",
        G,
        "Circuit breaker state: 1 for the current state, 0 for the others.",
        f"{_HEALTH}.state",
        _STATE,
    ),
    Family(
        "connector_health_connected_sockets",
        G,
        "Connected websockets.",
        f"{_HEALTH}.connected",
    ),
    Family(
        "connector_health_consecutive_failures",
        G,
        "Failures since the last success.",
        f"{_HEALTH}.consecutive_failures",
    ),
    Family(
        "connector_health_breaker_opened_total", C, "Times the breaker opened.", f"{_HEALTH}.opened"
    ),
    Family(
        "connector_health_rest_successes_total",
        C,
        "REST outcomes counted as successes.",
        f"{_HEALTH}.rest_successes",
    ),
    Family(
        "connector_health_rest_failures_total",
        C,
        "REST outcomes counted as failures.",
        f"{_HEALTH}.rest_failures",
    ),
    Family(
        "connector_health_connection_events_total",
        C,
        "Connection events read.",
        "health.connection_events",
    ),
    Family(
        "connector_health_rest_outcomes_total", C, "REST outcomes recorded.", "health.rest_outcomes"
    ),
    Family(
        "connector_health_transitions_total",
        C,
        "Breaker state changes published.",
        "health.transitions",
    ),
    Family(
        "connector_health_status",
        G,
        "Venue health status (healthy, degraded, down): 1 for the current one.",
        f"{_HEALTH}.status",
        _STATE,
        state_label="status",
    ),
    Family(
        "connector_health_sockets", G, "Websockets known, connected or not.", f"{_HEALTH}.sockets"
    ),
    Family(
        "connector_health_status_changes_total",
        C,
        "Venue status changes published.",
        "health.status_changes",
    ),
    # order state, per trading venue
    Family("connector_order_queries_total", C, "Order queries sent.", f"{_ORD}.queries"),
    Family("connector_order_resolved_total", C, "Orders a query resolved.", f"{_ORD}.resolved"),
    Family(
        "connector_order_not_found_total",
        C,
        "Orders ended as unknown to the venue.",
        f"{_ORD}.not_found",
    ),
    Family(
        "connector_order_unresolved_total",
        C,
        "Orders whose queries all failed.",
        f"{_ORD}.unresolved",
    ),
    Family(
        "connector_order_rate_limit_retries_total",
        C,
        "Order requests sent again after the venue's rate limit refused them.",
        f"{_ORD}.rate_limit_retries",
    ),
    Family(
        "connector_order_discrepancies_total",
        C,
        "Order differences found, per kind.",
        f"{_ORD}.discrepancies.{{kind}}",
    ),
    Family("connector_orders", G, "Orders held in the order state.", f"{_ORD}.book.orders"),
    Family("connector_orders_open", G, "Open orders.", f"{_ORD}.book.open"),
    Family(
        "connector_orders_unknown", G, "Orders whose outcome is unknown.", f"{_ORD}.book.unknown"
    ),
    Family("connector_fills_total", C, "Distinct fills seen.", f"{_ORD}.book.fills"),
    Family(
        "connector_fills_duplicate_total",
        C,
        "Fills dropped as already seen.",
        f"{_ORD}.book.duplicate_fills",
    ),
    Family(
        "connector_fills_orphan_total",
        C,
        "Fills for an order not known yet.",
        f"{_ORD}.book.orphan_fills",
    ),
    Family(
        "connector_order_inputs_ignored_total",
        C,
        "Order inputs that changed nothing.",
        f"{_ORD}.book.ignored",
    ),
    Family(
        "connector_orders_forgotten_total",
        C,
        "Finished orders dropped from memory.",
        f"{_ORD}.book.forgotten",
    ),
    # order-entry websockets
    Family(
        "connector_order_socket_ready",
        G,
        "1 while the order socket carries orders.",
        f"{_SOCK}.ready",
    ),
    Family("connector_order_socket_logins_total", C, "Order socket logins.", f"{_SOCK}.logins"),
    Family(
        "connector_order_socket_sent_total",
        C,
        "Requests sent on the order socket.",
        f"{_SOCK}.sent",
    ),
    Family(
        "connector_order_socket_fallbacks_total",
        C,
        "Requests sent over REST instead.",
        f"{_SOCK}.fallbacks",
    ),
    Family(
        "connector_order_socket_refusals_total",
        C,
        "Order socket logins refused.",
        f"{_SOCK}.refusals",
    ),
    Family(
        "connector_order_socket_in_flight",
        G,
        "Requests awaiting their reply.",
        f"{_SOCK}.rpc.in_flight",
    ),
    Family(
        "connector_order_socket_max_in_flight",
        G,
        "Most requests ever awaiting a reply.",
        f"{_SOCK}.rpc.max_in_flight",
    ),
    Family("connector_order_socket_calls_total", C, "Requests made.", f"{_SOCK}.rpc.calls"),
    Family("connector_order_socket_replies_total", C, "Replies matched.", f"{_SOCK}.rpc.replies"),
    Family(
        "connector_order_socket_timeouts_total", C, "Requests timed out.", f"{_SOCK}.rpc.timeouts"
    ),
    Family(
        "connector_order_socket_lost_total",
        C,
        "Requests lost with their socket.",
        f"{_SOCK}.rpc.lost",
    ),
    Family(
        "connector_order_socket_not_sent_total",
        C,
        "Requests that could not be sent.",
        f"{_SOCK}.rpc.not_sent",
    ),
    Family(
        "connector_order_socket_late_replies_total",
        C,
        "Replies after their timeout.",
        f"{_SOCK}.rpc.late_replies",
    ),
    # risk
    Family("connector_risk_killed", G, "1 while the kill switch is thrown.", "risk.killed"),
    Family(
        "connector_risk_killed_since_seconds",
        G,
        "Unix time the kill switch was thrown (absent when it is not).",
        "risk.since_ns",
        _NS,
    ),
    Family(
        "connector_risk_allowed_total", C, "Orders the risk checks let through.", "risk.allowed"
    ),
    Family(
        "connector_risk_rejected_total",
        C,
        "Orders the risk checks refused, per limit.",
        "risk.rejected.{limit}",
    ),
    # accounts
    Family(
        "connector_account_stream_phase",
        G,
        "Private stream handshake phase: 1 for the current one, 0 for the others.",
        f"{_STREAM}.phase",
        _STATE,
        "phase",
    ),
    Family(
        "connector_account_stream_logins_total",
        C,
        "Private stream handshakes completed.",
        f"{_STREAM}.logins",
    ),
    Family(
        "connector_account_stream_events_total",
        C,
        "Private stream events decoded.",
        f"{_STREAM}.events",
    ),
    Family(
        "connector_account_stream_malformed_total",
        C,
        "Private frames that did not decode.",
        f"{_STREAM}.malformed",
    ),
    Family(
        "connector_account_stream_refusals_total",
        C,
        "Private handshakes refused.",
        f"{_STREAM}.refusals",
    ),
    Family(
        "connector_account_stream_expiries_total",
        C,
        "Private streams the venue ended.",
        f"{_STREAM}.expiries",
    ),
    Family(
        "connector_account_reconciliations_total",
        C,
        "Reconciliations completed.",
        f"{_ACC}.reconciliations",
    ),
    Family(
        "connector_account_reconciling",
        G,
        "1 while a reconciliation runs.",
        f"{_ACC}.reconciling",
        _PRESENT,
    ),
    Family(
        "connector_account_reconcile_failures_total",
        C,
        "Reconciliations cut short.",
        f"{_ACC}.reconcile_failures",
    ),
    Family(
        "connector_account_discrepancies_total",
        C,
        "Account differences found, per kind.",
        f"{_ACC}.discrepancies.{{kind}}",
    ),
    Family("connector_account_listen_keys_total", C, "listenKeys created.", f"{_ACC}.listen_keys"),
    Family(
        "connector_account_keepalives_total",
        C,
        "listenKey keepalives answered.",
        f"{_ACC}.keepalives",
    ),
    # latency
    Family(
        "connector_order_round_trip_seconds",
        H,
        "From an order call entering the order service to the venue's answer.",
        "latency.orders.{venue}.{action}",
    ),
    Family(
        "connector_book_update_age_seconds",
        H,
        "From a frame's receipt to the publication of the book updates it carried.",
        "latency.book_age.{venue}",
    ),
)
"""Every exported family, in exposition order."""

SKIPPED: Mapping[str, str] = {
    "venues.*.books.*.sequencer": (
        "each venue rule's own counters, of a type per venue; gaps, resyncs and checksums "
        "are exported for every book"
    ),
    "orders.*.order_sockets.*.markets.*": "which markets a socket carries: a description",
}
"""Numeric fields of the statistics tree deliberately not exported, with why (as
the paths :func:`covered_paths` gives: ``*`` for every key or element)."""


def covered_paths() -> frozenset[str]:
    """The tree paths :data:`FAMILIES` export, every label segment as ``*``."""
    return frozenset(_normalized(family.path) for family in FAMILIES)


def _normalized(path: str) -> str:
    return ".".join("*" if s[0] in "{[" else s for s in path.split("."))


def escape_label(value: str) -> str:
    """A label value as the text format needs it: backslash, quote and newline escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render(statistics: ConnectorStatistics) -> str:
    """The whole exposition of ``statistics``, in the text format 0.0.4."""
    lines: list[str] = []
    for family in FAMILIES:
        lines.append(f"# HELP {family.name} {_escape_help(family.help)}")
        lines.append(f"# TYPE {family.name} {family.kind.value}")
        for labels, leaf in _walk(statistics, family.path.split("."), ()):
            _samples(family, labels, leaf, lines)
    lines.append("")
    return "\n".join(lines)


Labels = tuple[tuple[str, str], ...]


def _walk(node: object, segments: list[str], labels: Labels) -> Iterator[tuple[Labels, object]]:
    if not segments:
        yield labels, node  # a None leaf is the family's to judge (PRESENT says 0)
        return
    if node is None:
        return
    head, rest = segments[0], segments[1:]
    if head.startswith("{"):
        name = head[1:-1]
        assert isinstance(node, Mapping), f"{head}: not a mapping but {type(node).__name__}"
        for key in sorted(node, key=str):
            yield from _walk(node[key], rest, (*labels, (name, str(key))))
    elif head.startswith("["):
        name, field = head[1:-1].split("=")
        assert isinstance(node, tuple), f"{head}: not a tuple but {type(node).__name__}"
        for element in node:
            yield from _walk(element, rest, (*labels, (name, str(getattr(element, field)))))
    else:
        yield from _walk(getattr(node, head), rest, labels)


def _samples(family: Family, labels: Labels, leaf: object, lines: list[str]) -> None:
    name = family.name
    if leaf is None and family.transform is not Transform.PRESENT:
        return  # not known yet (no kill switch time, no clock estimate)
    if family.kind is Kind.HISTOGRAM:
        assert isinstance(leaf, HistogramSnapshot), f"{name}: {leaf!r} is no histogram"
        for bound, n in zip(leaf.bounds_ns, leaf.cumulative, strict=True):
            le = (("le", _number(bound / 1e9)),)
            lines.append(f"{name}_bucket{_labels((*labels, *le))} {n}")
        lines.append(f"{name}_bucket{_labels((*labels, ('le', '+Inf')))} {leaf.count}")
        lines.append(f"{name}_sum{_labels(labels)} {_number(leaf.sum_ns / 1e9)}")
        lines.append(f"{name}_count{_labels(labels)} {leaf.count}")
    elif family.transform is Transform.STATE:
        assert isinstance(leaf, enum.Enum), f"{name}: {leaf!r} is no enum"
        for member in type(leaf):
            state = (*labels, (family.state_label, str(member.value)))
            lines.append(f"{name}{_labels(state)} {1 if member is leaf else 0}")
    elif family.transform is Transform.PRESENT:
        lines.append(f"{name}{_labels(labels)} {0 if leaf is None else 1}")
    else:
        assert isinstance(leaf, int | float), f"{name}: {leaf!r} is not a number"
        value = leaf / 1e9 if family.transform is Transform.NS_TO_SECONDS else leaf
        lines.append(f"{name}{_labels(labels)} {_number(value)}")


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{escape_label(v)}"' for k, v in labels) + "}"


def _number(value: float) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")
