"""Property: restarts obey the intensity window for any failure schedule."""

from __future__ import annotations

import trio
import trio.testing
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.errors import SupervisorGaveUp
from connector.supervision import ChildSpec, Restart, Strategy, Supervisor
from tests.supervision.services import Journal, Scripted, Step

# One run of the child: (seconds until it ends, raises instead of returning, ends before ready).
_runs = st.lists(st.tuples(st.integers(0, 4), st.booleans(), st.booleans()), max_size=20)


def _expected(
    schedule: list[tuple[int, bool, bool]], intensity: int, period: int, transient: bool
) -> tuple[list[float], float | None]:
    """Restart times and the give-up time, computed from the rule's definition.

    A restart demanded at ``t`` is refused (the supervisor gives up) when,
    counting that demand, more than ``intensity`` restarts fall in ``(t - period, t]``.
    """
    restarts: list[float] = []
    now = 0.0
    for lifetime, fail, _before_start in schedule:
        now += lifetime
        if transient and not fail:
            return restarts, None
        demanded = [*restarts, now]
        if sum(1 for r in demanded if now - r < period) > intensity:
            return restarts, now
        restarts.append(now)
    return restarts, None


@settings(max_examples=150, deadline=None)
@given(
    schedule=_runs,
    intensity=st.integers(0, 4),
    period=st.integers(1, 10),
    transient=st.booleans(),
    strategy=st.sampled_from(list(Strategy)),
)
def test_restarts_never_exceed_intensity_and_supervisor_gives_up_when_due(
    schedule: list[tuple[int, bool, bool]],
    intensity: int,
    period: int,
    transient: bool,
    strategy: Strategy,
) -> None:
    journal = Journal()
    steps = [
        Step(start_delay=t, fail=f, before_start=True) if b else Step(lifetime=t, fail=f)
        for t, f, b in schedule
    ]
    steady = Scripted("steady", journal)
    child = Scripted("child", journal, steps)
    sup = Supervisor(
        "s",
        [
            ChildSpec("steady", steady),
            ChildSpec(
                "child", child, restart=Restart.TRANSIENT if transient else Restart.PERMANENT
            ),
        ],
        strategy=strategy,
        intensity=intensity,
        period=period,
    )
    horizon = sum(t for t, _, _ in schedule) + period + 1
    outcome: dict[str, float] = {}

    async def main() -> None:
        origin = trio.current_time()
        try:
            with trio.move_on_after(horizon):
                await sup.run()
        except SupervisorGaveUp:
            outcome["gave_up"] = trio.current_time() - origin
        outcome["origin"] = origin

    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))

    origin = outcome["origin"]
    starts = [t - origin for t in journal.times("child", "start")]
    actual_restarts = starts[1:]
    for r in actual_restarts:
        assert sum(1 for s in actual_restarts if r - period < s <= r) <= intensity

    expected_restarts, expected_gave_up = _expected(schedule, intensity, period, transient)
    assert expected_restarts == actual_restarts
    assert expected_gave_up == outcome.get("gave_up")
    steady_starts = len(journal.times("steady", "start"))
    assert (1 + len(expected_restarts) if strategy is Strategy.ALL_FOR_ONE else 1) == steady_starts
