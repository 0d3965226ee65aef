"""Supervisor behaviour under the autojump clock: strategies, restart types, intensity."""

from __future__ import annotations

import itertools
import random

import pytest
import trio
from structlog.testing import capture_logs

from connector.errors import SupervisorGaveUp
from connector.supervision import (
    Backoff,
    ChildSpec,
    ChildState,
    Restart,
    Strategy,
    Supervisor,
)
from tests.supervision.services import Journal, Scripted, Step, running


def _three(journal: Journal, b_script: list[Step], strategy: Strategy) -> Supervisor:
    return Supervisor(
        "s",
        [
            ChildSpec("a", Scripted("a", journal)),
            ChildSpec("b", Scripted("b", journal, b_script)),
            ChildSpec("c", Scripted("c", journal)),
        ],
        strategy=strategy,
    )


async def test_one_for_one_restarts_only_the_failed_child(autojump_clock: trio.abc.Clock) -> None:
    journal = Journal()
    sup = _three(journal, [Step(lifetime=1)], Strategy.ONE_FOR_ONE)
    async with running(sup, for_seconds=5):
        expected = [
            "a:start", "a:ready", "b:start", "b:ready", "c:start", "c:ready",
            "b:fail", "b:start", "b:ready",
        ]  # fmt: skip
        assert expected == journal.events()


async def test_all_for_one_stops_siblings_in_reverse_and_restarts_all_in_order(
    autojump_clock: trio.abc.Clock,
) -> None:
    journal = Journal()
    sup = _three(journal, [Step(lifetime=1)], Strategy.ALL_FOR_ONE)
    async with running(sup, for_seconds=5):
        expected = [
            "a:start", "a:ready", "b:start", "b:ready", "c:start", "c:ready",
            "b:fail", "c:cancelled", "a:cancelled",
            "a:start", "a:ready", "b:start", "b:ready", "c:start", "c:ready",
        ]  # fmt: skip
        assert expected == journal.events()
        restarts = {c.name: c.restarts for c in sup.snapshot().children}
        assert {"a": 1, "b": 1, "c": 1} == restarts


async def test_rest_for_one_restarts_the_failed_child_and_those_after_it(
    autojump_clock: trio.abc.Clock,
) -> None:
    journal = Journal()
    sup = _three(journal, [Step(lifetime=1)], Strategy.REST_FOR_ONE)
    async with running(sup, for_seconds=5):
        expected = [
            "a:start", "a:ready", "b:start", "b:ready", "c:start", "c:ready",
            "b:fail", "c:cancelled", "b:start", "b:ready", "c:start", "c:ready",
        ]  # fmt: skip
        assert expected == journal.events()


async def test_permanent_child_is_restarted_after_a_clean_return(
    autojump_clock: trio.abc.Clock,
) -> None:
    journal = Journal()
    child = Scripted("p", journal, [Step(lifetime=1, fail=False)])
    sup = Supervisor("s", [ChildSpec("p", child, restart=Restart.PERMANENT)])
    async with running(sup, for_seconds=5):
        assert 2 == child.runs
        (node,) = sup.snapshot().children
        assert (ChildState.RUNNING, 1, None) == (node.state, node.restarts, node.last_error)


async def test_transient_child_is_not_restarted_after_a_clean_return(
    autojump_clock: trio.abc.Clock,
) -> None:
    journal = Journal()
    child = Scripted("t", journal, [Step(lifetime=1, fail=False)])
    sup = Supervisor("s", [ChildSpec("t", child, restart=Restart.TRANSIENT)])
    async with running(sup, for_seconds=5):
        assert 1 == child.runs
        (node,) = sup.snapshot().children
        assert (ChildState.STOPPED, 0) == (node.state, node.restarts)
        assert ChildState.RUNNING == sup.state


async def test_transient_child_is_restarted_after_an_exception(
    autojump_clock: trio.abc.Clock,
) -> None:
    journal = Journal()
    child = Scripted("t", journal, [Step(lifetime=1)])
    sup = Supervisor("s", [ChildSpec("t", child, restart=Restart.TRANSIENT)])
    async with running(sup, for_seconds=5):
        assert 2 == child.runs
        (node,) = sup.snapshot().children
        assert (ChildState.RUNNING, 1, "ValueError: boom") == (
            node.state,
            node.restarts,
            node.last_error,
        )


async def test_temporary_child_is_never_restarted(autojump_clock: trio.abc.Clock) -> None:
    journal = Journal()
    failing = Scripted("f", journal, [Step(lifetime=1)])
    returning = Scripted("r", journal, [Step(lifetime=1, fail=False)])
    sup = Supervisor(
        "s",
        [
            ChildSpec("f", failing, restart=Restart.TEMPORARY),
            ChildSpec("r", returning, restart=Restart.TEMPORARY),
        ],
    )
    async with running(sup, for_seconds=5):
        assert (1, 1) == (failing.runs, returning.runs)
        states = [(c.name, c.state, c.restarts) for c in sup.snapshot().children]
        assert [("f", ChildState.FAILED, 0), ("r", ChildState.STOPPED, 0)] == states


async def test_temporary_sibling_stopped_by_all_for_one_is_not_restarted(
    autojump_clock: trio.abc.Clock,
) -> None:
    journal = Journal()
    temp = Scripted("temp", journal)
    failing = Scripted("f", journal, [Step(lifetime=1)])
    sup = Supervisor(
        "s",
        [ChildSpec("temp", temp, restart=Restart.TEMPORARY), ChildSpec("f", failing)],
        strategy=Strategy.ALL_FOR_ONE,
    )
    async with running(sup, for_seconds=5):
        assert (1, 2) == (temp.runs, failing.runs)
        states = [c.state for c in sup.snapshot().children]
        assert [ChildState.STOPPED, ChildState.RUNNING] == states


async def test_intensity_restarts_within_period_are_allowed(
    autojump_clock: trio.abc.Clock,
) -> None:
    journal = Journal()
    child = Scripted("c", journal, [Step(lifetime=1)] * 3)
    sup = Supervisor("s", [ChildSpec("c", child)], intensity=3, period=10)
    async with running(sup, for_seconds=20):
        assert ChildState.RUNNING == sup.state
        assert 3 == sup.snapshot().children[0].restarts


async def test_intensity_one_more_restart_within_period_gives_up(
    autojump_clock: trio.abc.Clock,
) -> None:
    journal = Journal()
    sibling = Scripted("sibling", journal)
    child = Scripted("c", journal, [Step(lifetime=1)] * 4)
    sup = Supervisor(
        "s", [ChildSpec("sibling", sibling), ChildSpec("c", child)], intensity=3, period=10
    )
    with trio.fail_after(60), capture_logs() as logs, pytest.raises(SupervisorGaveUp) as info:
        await sup.run()
    assert 4.0 == trio.current_time()
    assert ("s", 3, 10.0, "ValueError: boom") == (
        info.value.supervisor,
        info.value.restarts,
        info.value.period,
        info.value.last_error,
    )
    assert ["sibling:cancelled"] == [e for e in journal.events() if e.endswith("cancelled")]
    snap = sup.snapshot()
    assert ChildState.GAVE_UP == snap.state
    assert [ChildState.STOPPED, ChildState.STOPPED] == [c.state for c in snap.children]
    gave_up = [e for e in logs if e["event"] == "supervisor.gave_up"]
    assert [("s", "c", "ValueError: boom")] == [
        (e["name"], e["child"], e["error"]) for e in gave_up
    ]


async def test_intensity_restarts_spread_wider_than_period_never_give_up(
    autojump_clock: trio.abc.Clock,
) -> None:
    journal = Journal()
    child = Scripted("c", journal, [Step(lifetime=6)] * 10)
    sup = Supervisor("s", [ChildSpec("c", child)], intensity=2, period=10)
    async with running(sup, for_seconds=100):
        assert ChildState.RUNNING == sup.state
        assert 10 == sup.snapshot().children[0].restarts


async def test_intensity_restart_exactly_one_period_later_is_outside_the_window(
    autojump_clock: trio.abc.Clock,
) -> None:
    journal = Journal()
    child = Scripted("c", journal, [Step(lifetime=5)] * 4)
    sup = Supervisor("s", [ChildSpec("c", child)], intensity=1, period=5)
    async with running(sup, for_seconds=30):
        assert [0.0, 5.0, 10.0, 15.0, 20.0] == journal.times("c", "start")


def _escalating(journal: Journal, failures: int, outer_intensity: int) -> Supervisor:
    worker = Scripted("worker", journal, [Step(lifetime=1)] * failures)
    inner = Supervisor("inner", [ChildSpec("worker", worker)], intensity=1, period=100)
    other = Scripted("other", journal)
    return Supervisor(
        "outer",
        [ChildSpec("inner", inner), ChildSpec("other", other)],
        intensity=outer_intensity,
        period=100,
    )


async def test_inner_supervisor_giving_up_is_restarted_by_its_parent(
    autojump_clock: trio.abc.Clock,
) -> None:
    journal = Journal()
    outer = _escalating(journal, failures=2, outer_intensity=5)
    async with running(outer, for_seconds=10):
        snap = outer.snapshot()
        inner = snap.find("inner")
        assert inner is not None
        expected_error = (
            "SupervisorGaveUp: supervisor 'inner' gave up after 1 restarts in 100 s; "
            "last error: ValueError: boom"
        )
        assert (ChildState.RUNNING, 1, expected_error) == (
            inner.state,
            inner.restarts,
            inner.last_error,
        )
        assert ChildState.RUNNING == snap.state
        assert 1 == journal.events().count("other:start")


async def test_escalation_through_two_levels_gives_up_at_the_top(
    autojump_clock: trio.abc.Clock,
) -> None:
    journal = Journal()
    outer = _escalating(journal, failures=10, outer_intensity=1)
    with trio.fail_after(60), pytest.raises(SupervisorGaveUp) as info:
        await outer.run()
    assert 4.0 == trio.current_time()
    assert "outer" == info.value.supervisor
    assert info.value.last_error.startswith("SupervisorGaveUp: supervisor 'inner' gave up")
    snap = outer.snapshot()
    inner = snap.find("inner")
    worker = snap.find("inner/worker")
    assert inner is not None and worker is not None
    assert (ChildState.GAVE_UP, 1) == (inner.state, inner.restarts)
    assert 2 == worker.restarts
    assert ChildState.GAVE_UP == snap.state
    assert ChildState.STOPPED == snap.children[1].state


async def test_backoff_delays_grow_exponentially_up_to_the_maximum(
    autojump_clock: trio.abc.Clock,
) -> None:
    journal = Journal()
    child = Scripted("c", journal, [Step(lifetime=0)] * 6)
    backoff = Backoff(initial=1, maximum=5, multiplier=2, jitter=0)
    sup = Supervisor("s", [ChildSpec("c", child)], intensity=100, backoff=backoff)
    async with running(sup, for_seconds=60):
        assert [0.0, 1.0, 3.0, 7.0, 12.0, 17.0, 22.0] == journal.times("c", "start")


async def test_backoff_resets_after_the_child_ran_for_reset_uptime(
    autojump_clock: trio.abc.Clock,
) -> None:
    journal = Journal()
    script = [Step(lifetime=0), Step(lifetime=0), Step(lifetime=5), Step(lifetime=0)]
    child = Scripted("c", journal, script)
    backoff = Backoff(initial=1, maximum=5, multiplier=2, jitter=0)
    sup = Supervisor("s", [ChildSpec("c", child)], intensity=100, backoff=backoff)
    async with running(sup, for_seconds=60):
        # fails at 0 (wait 1), 1 (wait 2), 8 after 5 s up (reset: wait 1), 9 (wait 2)
        assert [0.0, 1.0, 3.0, 9.0, 11.0] == journal.times("c", "start")


async def _start_times_with_jitter(seed: int) -> list[float]:
    journal = Journal()
    child = Scripted("c", journal, [Step(lifetime=0)] * 4)
    backoff = Backoff(initial=1, maximum=100, multiplier=2, jitter=0.5)
    sup = Supervisor(
        "s", [ChildSpec("c", child)], intensity=100, backoff=backoff, rng=random.Random(seed)
    )
    async with running(sup, for_seconds=100):
        pass
    starts = journal.times("c", "start")
    return [b - a for a, b in itertools.pairwise(starts)]


async def test_backoff_jitter_is_bounded_and_reproducible_with_a_seeded_rng(
    autojump_clock: trio.abc.Clock,
) -> None:
    first = await _start_times_with_jitter(7)
    second = await _start_times_with_jitter(7)
    assert pytest.approx(first) == second
    assert 4 == len(first)
    for n, delay in enumerate(first):
        assert 0.5 * 2**n <= delay <= 1.5 * 2**n
    assert [1.0, 2.0, 4.0, 8.0] != first


async def test_child_backoff_overrides_the_supervisor_backoff(
    autojump_clock: trio.abc.Clock,
) -> None:
    journal = Journal()
    child = Scripted("c", journal, [Step(lifetime=0)] * 2)
    own = Backoff(initial=3, maximum=3, jitter=0)
    sup = Supervisor(
        "s",
        [ChildSpec("c", child, backoff=own)],
        backoff=Backoff(initial=1, maximum=1, jitter=0),
    )
    async with running(sup, for_seconds=20):
        assert [0.0, 3.0, 6.0] == journal.times("c", "start")


async def test_failure_before_ready_during_initial_start_is_restarted(
    autojump_clock: trio.abc.Clock,
) -> None:
    journal = Journal()
    child = Scripted("c", journal, [Step(before_start=True)])
    after = Scripted("after", journal)
    sup = Supervisor("s", [ChildSpec("c", child), ChildSpec("after", after)])
    async with running(sup):
        assert ["c:start", "c:fail", "c:start", "c:ready", "after:start", "after:ready"] == (
            journal.events()
        )
        node = sup.snapshot().children[0]
        assert (ChildState.RUNNING, 1, "ValueError: boom") == (
            node.state,
            node.restarts,
            node.last_error,
        )


async def test_all_for_one_failure_during_initial_start_restarts_started_siblings(
    autojump_clock: trio.abc.Clock,
) -> None:
    journal = Journal()
    sup = Supervisor(
        "s",
        [
            ChildSpec("a", Scripted("a", journal)),
            ChildSpec("b", Scripted("b", journal, [Step(before_start=True)])),
            ChildSpec("c", Scripted("c", journal)),
        ],
        strategy=Strategy.ALL_FOR_ONE,
    )
    async with running(sup):
        expected = [
            "a:start", "a:ready", "b:start", "b:fail", "a:cancelled",
            "a:start", "a:ready", "b:start", "b:ready", "c:start", "c:ready",
        ]  # fmt: skip
        assert expected == journal.events()


async def test_transient_child_returning_before_ready_does_not_block_the_start(
    autojump_clock: trio.abc.Clock,
) -> None:
    journal = Journal()
    once = Scripted("once", journal, [Step(before_start=True, fail=False)])
    sup = Supervisor(
        "s",
        [
            ChildSpec("once", once, restart=Restart.TRANSIENT),
            ChildSpec("x", Scripted("x", journal)),
        ],
    )
    async with running(sup):
        assert [ChildState.STOPPED, ChildState.RUNNING] == [
            c.state for c in sup.snapshot().children
        ]


async def test_root_that_gives_up_during_initial_start_raises_out_of_nursery_start(
    autojump_clock: trio.abc.Clock,
) -> None:
    journal = Journal()
    child = Scripted("c", journal, [Step(before_start=True)] * 10)
    sup = Supervisor("root", [ChildSpec("c", child)], intensity=2, period=10)
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            with pytest.raises(SupervisorGaveUp) as info:
                await nursery.start(sup.run)
            nursery.cancel_scope.cancel()
    assert "root" == info.value.supervisor
    assert 3 == child.runs


async def test_supervisor_reports_started_only_when_every_child_is_ready(
    autojump_clock: trio.abc.Clock,
) -> None:
    journal = Journal()
    sup = Supervisor(
        "s",
        [
            ChildSpec("a", Scripted("a", journal, [Step(lifetime=None, start_delay=2)])),
            ChildSpec("b", Scripted("b", journal, [Step(lifetime=None, start_delay=3)])),
        ],
    )
    async with trio.open_nursery() as nursery:
        assert ChildState.STOPPED == sup.snapshot().state
        await nursery.start(sup.run)
        assert 5.0 == trio.current_time()
        assert ChildState.RUNNING == sup.snapshot().state
        nursery.cancel_scope.cancel()


async def test_cancelling_the_supervisor_stops_every_child(autojump_clock: trio.abc.Clock) -> None:
    journal = Journal()
    leaf = Scripted("leaf", journal)
    inner = Supervisor("inner", [ChildSpec("leaf", leaf)])
    sup = Supervisor(
        "s",
        [
            ChildSpec("a", Scripted("a", journal)),
            ChildSpec("inner", inner),
            ChildSpec(
                "slow",
                Scripted("slow", journal, [Step(lifetime=0)]),
                backoff=Backoff(initial=50, maximum=50),
            ),
        ],
    )
    with trio.move_on_after(10):
        await sup.run()
    assert 10.0 == trio.current_time()
    assert ["a:cancelled", "leaf:cancelled"] == sorted(
        e for e in journal.events() if e.endswith("cancelled")
    )
    snap = sup.snapshot()
    assert ChildState.STOPPED == snap.state
    inner_snap = snap.find("inner")
    assert inner_snap is not None and ChildState.STOPPED == inner_snap.state
    assert [ChildState.STOPPED] * 3 == [c.state for c in snap.children]
    assert [ChildState.STOPPED] == [c.state for c in inner.snapshot().children]


class _GroupFailure:
    """A service whose own nursery fails: the supervisor sees an ExceptionGroup."""

    def __init__(self) -> None:
        self.runs = 0

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        self.runs += 1
        task_status.started()
        if self.runs > 1:
            await trio.sleep_forever()

        async def fail() -> None:
            await trio.sleep(1)
            raise ValueError("boom")

        async with trio.open_nursery() as nursery:
            nursery.start_soon(fail)
            nursery.start_soon(trio.sleep_forever)


async def test_exception_group_from_a_child_nursery_is_that_childs_failure(
    autojump_clock: trio.abc.Clock,
) -> None:
    service = _GroupFailure()
    sup = Supervisor("s", [ChildSpec("g", service)])
    async with running(sup, for_seconds=5):
        node = sup.snapshot().children[0]
        assert (2, 1, "ValueError: boom") == (service.runs, node.restarts, node.last_error)


async def test_failures_and_restarts_are_logged_as_events(autojump_clock: trio.abc.Clock) -> None:
    journal = Journal()
    sup = Supervisor("s", [ChildSpec("c", Scripted("c", journal, [Step(lifetime=1)]))])
    with capture_logs() as logs:
        async with running(sup, for_seconds=5):
            pass
    seen = [
        (e["event"], e["name"], e["child"], e.get("error"))
        for e in logs
        if e["event"].startswith("supervisor.")
    ]
    expected = [
        ("supervisor.child_failed", "s", "c", "ValueError: boom"),
        ("supervisor.child_restarted", "s", "c", None),
    ]
    assert expected == seen


async def test_running_the_same_supervisor_twice_at_once_is_refused(
    autojump_clock: trio.abc.Clock,
) -> None:
    sup = Supervisor("s", [])
    async with running(sup):
        with pytest.raises(RuntimeError, match="already running"):
            await sup.run()


def test_duplicate_child_names_are_rejected() -> None:
    journal = Journal()
    with pytest.raises(ValueError, match="duplicate child names"):
        Supervisor(
            "s", [ChildSpec("x", Scripted("a", journal)), ChildSpec("x", Scripted("b", journal))]
        )


def test_negative_intensity_and_non_positive_period_are_rejected() -> None:
    with pytest.raises(ValueError, match="intensity"):
        Supervisor("s", [], intensity=-1)
    with pytest.raises(ValueError, match="period"):
        Supervisor("s", [], period=0)
