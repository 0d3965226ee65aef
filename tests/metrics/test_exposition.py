"""The exposition: every numeric field of the statistics tree exported (or skipped on
purpose), counters and gauges as the table says, labels escaped, histograms cumulative."""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Mapping
from pathlib import Path

import attrs
import pytest
from prometheus_client.parser import text_string_to_metric_families

from connector.bus import BusStatistics
from connector.connector import ConnectorStatistics
from connector.health import HealthStatistics
from connector.metrics.exposition import (
    FAMILIES,
    SKIPPED,
    Family,
    Kind,
    covered_paths,
    escape_label,
    render,
)
from connector.metrics.histogram import BUCKETS_NS, Histogram, HistogramSnapshot, LatencyStatistics
from connector.risk.service import RiskState

_NUMBERS = (int, float, bool)


def numeric_leaf_paths(cls: type, prefix: str = "") -> set[str]:
    """Every numeric leaf of the attrs tree ``cls``, walked by its type hints: a mapping's
    values and a tuple's elements as ``*``; enums and histograms are leaves; ``object`` (a
    field whose type the tree does not say) counts as a leaf, so that it must be skipped
    on purpose."""
    hints = typing.get_type_hints(cls)
    out: set[str] = set()
    for field in attrs.fields(cls):
        out |= _leaves(hints[field.name], f"{prefix}{field.name}")
    return out


def _leaves(hint: object, path: str) -> set[str]:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return set().union(*(_leaves(a, path) for a in args if a is not type(None)))
    if origin is not None and isinstance(origin, type) and issubclass(origin, Mapping):
        return _leaves(args[1], f"{path}.*")
    if origin is tuple:
        return _leaves(args[0], f"{path}.*")
    if hint is object or hint is HistogramSnapshot:
        return {path}
    if isinstance(hint, type) and (issubclass(hint, _NUMBERS) or issubclass(hint, enum.Enum)):
        return {path}
    if isinstance(hint, type) and attrs.has(hint):
        return numeric_leaf_paths(hint, f"{path}.")
    return set()  # text (names, reasons, urls) and dates: not measurements


def test_every_numeric_field_of_the_statistics_tree_is_exported_or_skipped_on_purpose() -> None:
    leaves = numeric_leaf_paths(ConnectorStatistics)

    assert leaves == covered_paths() | set(SKIPPED)
    assert not covered_paths() & set(SKIPPED)


def test_the_walker_sees_the_trees_fields_deep_down() -> None:
    leaves = numeric_leaf_paths(ConnectorStatistics)

    assert {
        "venues.*.books.*.gaps",
        "venues.*.books.*.state.status",
        "venues.*.limiters.*.tokens.*",
        "orders.*.order_sockets.*.rpc.in_flight",
        "accounts.*.streams.*.phase",
        "risk.rejected.*",
        "latency.orders.*.*",
        "latency.book_age.*",
    } <= leaves


def test_family_names_are_unique_and_only_counters_end_in_total() -> None:
    names = [f.name for f in FAMILIES]
    assert len(names) == len(set(names))
    assert all(n.startswith("connector_") and n == n.lower() for n in names)
    with pytest.raises(ValueError, match="_total"):
        Family("connector_x", Kind.COUNTER, "x", "bus.published")
    with pytest.raises(ValueError, match="_total"):
        Family("connector_x_total", Kind.GAUGE, "x", "bus.subscriptions")


def _minimal(**fields: object) -> ConnectorStatistics:
    values: dict[str, object] = {
        "bus": BusStatistics(subscriptions=2, published=10, cached_topics=1, listeners=0),
        "venues": {},
        "health": HealthStatistics(venues=(), connection_events=0, rest_outcomes=0, transitions=0),
    }
    values.update(fields)
    return ConnectorStatistics(**values)  # type: ignore[arg-type]


def test_label_values_are_escaped_and_read_back_exactly_by_a_prometheus_parser() -> None:
    weird = 'back\\slash "quoted"\nnew line'
    risk = RiskState(
        killed=True, reason="x", since_ns=1_500_000_000, allowed=3, rejected={weird: 2}
    )

    text = render(_minimal(risk=risk))
    families = {f.name: f for f in text_string_to_metric_families(text)}

    [rejected] = families["connector_risk_rejected"].samples
    assert ({"limit": weird}, 2.0) == (rejected.labels, rejected.value)
    assert "counter" == families["connector_risk_rejected"].type
    assert 'back\\\\slash \\"quoted\\"\\nnew line' == escape_label(weird)
    assert 1.5 == families["connector_risk_killed_since_seconds"].samples[0].value
    assert "gauge" == families["connector_risk_killed"].type


def test_a_tree_without_risk_service_or_venues_still_renders_every_family_header() -> None:
    text = render(_minimal())

    families = {f.name: f for f in text_string_to_metric_families(text)}
    # prometheus_client names a counter family without its _total suffix.
    assert {f.name.removesuffix("_total") for f in FAMILIES} == set(families)
    assert [] == families["connector_risk_killed"].samples
    assert 10.0 == families["connector_bus_published"].samples[0].value


def test_histogram_buckets_are_cumulative_with_sum_and_count_in_seconds() -> None:
    h = Histogram()
    for ns in (10_000, 50_000, 60_000, 2_000_000, 9_000_000_000, -5):
        h.observe(ns)
    snap = h.snapshot()
    latency = LatencyStatistics(book_age={"okx": snap})

    text = render(_minimal(latency=latency))
    family = next(
        f
        for f in text_string_to_metric_families(text)
        if f.name == "connector_book_update_age_seconds"
    )

    assert "histogram" == family.type
    buckets = {s.labels["le"]: s.value for s in family.samples if s.name.endswith("_bucket")}
    assert len(BUCKETS_NS) + 1 == len(buckets)
    assert 3.0 == buckets["5e-05"]  # -5 (as 0), 10 µs and 50 µs: the bound is inclusive
    assert 4.0 == buckets["0.0001"]
    assert 5.0 == buckets["0.0025"]
    assert 5.0 == buckets["5.0"]
    assert 6.0 == buckets["+Inf"]
    by_name = {s.name: s.value for s in family.samples if not s.name.endswith("_bucket")}
    assert 6.0 == by_name["connector_book_update_age_seconds_count"]
    assert pytest.approx(9.00212) == by_name["connector_book_update_age_seconds_sum"]
    assert {"venue": "okx"} == family.samples[-1].labels


def test_histogram_refuses_bounds_that_do_not_increase() -> None:
    with pytest.raises(ValueError, match="increase"):
        Histogram((5, 5))
    with pytest.raises(ValueError, match="increase"):
        Histogram(())


def test_the_metrics_doc_lists_every_family_with_its_type() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "metrics.md").read_text("utf-8")

    for family in FAMILIES:
        assert f"| `{family.name}` | {family.kind.value} |" in doc, family.name
