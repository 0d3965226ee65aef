"""Snapshots of a live tree, their rendering, and short error descriptions."""

from __future__ import annotations

import trio

from connector.supervision import (
    ChildSnapshot,
    ChildSpec,
    ChildState,
    Restart,
    Strategy,
    Supervisor,
    SupervisorSnapshot,
    describe_error,
    render_tree,
)
from tests.supervision.services import Journal, Scripted, Step, running


def _tree(journal: Journal) -> Supervisor:
    venue = Supervisor(
        "venue:okx",
        [
            ChildSpec(
                "clock", Scripted("clock", journal, [Step(lifetime=2)]), restart=Restart.TRANSIENT
            ),
            ChildSpec("md", Scripted("md", journal, [Step(lifetime=1)]), restart=Restart.TEMPORARY),
        ],
        strategy=Strategy.REST_FOR_ONE,
    )
    return Supervisor(
        "root",
        [
            ChildSpec("health", Scripted("health", journal)),
            ChildSpec("venue:okx", venue),
            ChildSpec("metrics", Scripted("metrics", journal), restart=Restart.TRANSIENT),
        ],
    )


async def test_snapshot_shows_states_restarts_and_errors_of_the_nested_tree(
    autojump_clock: trio.abc.Clock,
) -> None:
    root = _tree(Journal())
    async with running(root, for_seconds=5):
        expected = SupervisorSnapshot(
            name="root",
            strategy=Strategy.ONE_FOR_ONE,
            state=ChildState.RUNNING,
            restarts=0,
            last_error=None,
            children=(
                ChildSnapshot(
                    name="health",
                    state=ChildState.RUNNING,
                    restarts=0,
                    last_error=None,
                    restart=Restart.PERMANENT,
                ),
                SupervisorSnapshot(
                    name="venue:okx",
                    strategy=Strategy.REST_FOR_ONE,
                    state=ChildState.RUNNING,
                    restarts=0,
                    last_error=None,
                    children=(
                        ChildSnapshot(
                            name="clock",
                            state=ChildState.RUNNING,
                            restarts=1,
                            last_error="ValueError: boom",
                            restart=Restart.TRANSIENT,
                        ),
                        ChildSnapshot(
                            name="md",
                            state=ChildState.FAILED,
                            restarts=0,
                            last_error="ValueError: boom",
                            restart=Restart.TEMPORARY,
                        ),
                    ),
                ),
                ChildSnapshot(
                    name="metrics",
                    state=ChildState.RUNNING,
                    restarts=0,
                    last_error=None,
                    restart=Restart.TRANSIENT,
                ),
            ),
        )
        assert expected == root.snapshot()
        assert root.snapshot() == root.statistics()


async def test_render_tree_draws_one_line_per_node(autojump_clock: trio.abc.Clock) -> None:
    root = _tree(Journal())
    async with running(root, for_seconds=5):
        expected = "\n".join(
            [
                "root  running  restarts=0  one_for_one",
                "├── health  running  restarts=0  permanent",
                "├── venue:okx  running  restarts=0  rest_for_one",
                "│   ├── clock  running  restarts=1  transient  last error: ValueError: boom",
                "│   └── md  failed  restarts=0  temporary  last error: ValueError: boom",
                "└── metrics  running  restarts=0  transient",
            ]
        )
        assert expected == render_tree(root.snapshot())


def test_snapshot_of_a_supervisor_that_never_ran_is_all_stopped() -> None:
    root = _tree(Journal())
    expected = "\n".join(
        [
            "root  stopped  restarts=0  one_for_one",
            "├── health  stopped  restarts=0  permanent",
            "├── venue:okx  stopped  restarts=0  rest_for_one",
            "│   ├── clock  stopped  restarts=0  transient",
            "│   └── md  stopped  restarts=0  temporary",
            "└── metrics  stopped  restarts=0  transient",
        ]
    )
    assert expected == render_tree(root.snapshot())


def test_find_returns_nodes_by_path_and_none_for_unknown_paths() -> None:
    snap = _tree(Journal()).snapshot()
    clock = snap.find("venue:okx/clock")
    assert clock is not None and "clock" == clock.name
    assert snap.find("venue:okx/nope") is None
    assert snap.find("health/below") is None


def test_describe_error_is_type_and_message_on_one_line() -> None:
    assert "ValueError: boom" == describe_error(ValueError("boom"))
    assert "KeyError: 'k'" == describe_error(KeyError("k"))
    assert "RuntimeError" == describe_error(RuntimeError())
    assert "OSError: two lines" == describe_error(OSError("two\n   lines"))


def test_describe_error_unwraps_a_group_with_one_leaf_and_lists_several() -> None:
    single = ExceptionGroup("outer", [ExceptionGroup("inner", [ValueError("boom")])])
    assert "ValueError: boom" == describe_error(single)
    several = ExceptionGroup("g", [ValueError("a"), TypeError("b")])
    assert "ExceptionGroup: ValueError: a; TypeError: b" == describe_error(several)


def test_describe_error_truncates_long_messages() -> None:
    text = describe_error(ValueError("x" * 500))
    assert 200 == len(text)
    assert text.endswith("…")
