"""The ``Connector`` facade at the public level, with every venue disabled.

The venue subtrees need adapters and the simulator; these tests pin down what
the facade itself promises: the root tree it starts, a clean and bounded
shutdown, subscriptions that never leak, and errors that reach the caller as
themselves rather than wrapped in exception groups.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import trio
import trio.testing

from connector.bus import Bus, Subscription
from connector.config import Config, MarketDataConfig, load_config
from connector.connector import Connector, ConnectorStatus
from connector.errors import ConfigError, ConnectorError, SupervisorGaveUp, UnknownInstrument
from connector.model import ConnectionEvent, ConnectionStatus
from connector.supervision import ChildSnapshot, ChildState, Strategy

TIMEOUT = 10


def _no_venues() -> Config:
    return Config(venues={})


def _disabled_venues_config(tmp_path: Path) -> Config:
    path = tmp_path / "connector.toml"
    path.write_text(
        "".join(f"[venues.{name}]\nenabled = false\n\n" for name in ("binance", "bybit", "okx")),
        encoding="utf-8",
    )
    return load_config(path, env={})


def _with_bus() -> tuple[Connector, Bus]:
    """A connector on a bus the test holds: the facade has no public publish (only
    services publish), so tests feed events the way a venue session would."""
    bus = Bus()
    return Connector(_no_venues(), bus=bus), bus


def _live_subscriptions(bus: Bus) -> set[str]:
    return {sub.pattern for sub in bus.subscriptions()}


async def test_entering_starts_root_with_health_risk_and_aggregator_running() -> None:
    with trio.fail_after(TIMEOUT):
        async with Connector(_no_venues()) as c:
            tree = c.status().tree

    assert "root" == tree.name
    assert Strategy.ONE_FOR_ONE == tree.strategy
    assert ChildState.RUNNING == tree.state
    assert ["health", "risk", "persistence", "aggregator"] == [
        child.name for child in tree.children
    ]
    assert all(child.state is ChildState.RUNNING for child in tree.children)
    assert all(
        isinstance(child, ChildSnapshot) for child in tree.children if child.name != "persistence"
    )


async def test_config_with_every_venue_disabled_starts_no_venue_subtree(tmp_path: Path) -> None:
    config = _disabled_venues_config(tmp_path)
    assert {"binance", "bybit", "okx"} == set(config.venues)

    with trio.fail_after(TIMEOUT):
        async with Connector(config) as c:
            status = c.status()

    assert not any(child.name.startswith("venue:") for child in status.tree.children)
    assert "simulator" not in [child.name for child in status.tree.children]
    assert {} == status.venues


async def test_status_after_leaving_shows_the_tree_stopped() -> None:
    with trio.fail_after(TIMEOUT):
        async with Connector(_no_venues()) as c:
            pass

    tree = c.status().tree
    assert ChildState.STOPPED == tree.state
    assert [ChildState.STOPPED] * 4 == [child.state for child in tree.children]


async def test_leaving_cancels_every_task_it_started() -> None:
    before = trio.lowlevel.current_statistics().tasks_living
    with trio.fail_after(TIMEOUT):
        async with Connector(_no_venues()):
            during = trio.lowlevel.current_statistics().tasks_living
    after = trio.lowlevel.current_statistics().tasks_living

    assert during > before  # the tree really runs tasks of its own
    assert before == after


async def test_leaving_returns_within_stop_timeout(autojump_clock: trio.abc.Clock) -> None:
    async with Connector(_no_venues(), stop_timeout=2.0):
        entered_at = trio.current_time()
    # Every service honours cancellation at once, so no virtual time passes.
    assert 0.0 == trio.current_time() - entered_at


async def test_cancelling_from_outside_stops_the_connector_cleanly() -> None:
    before = trio.lowlevel.current_statistics().tasks_living
    with trio.fail_after(TIMEOUT):
        with trio.move_on_after(0.05) as scope:
            async with Connector(_no_venues()):
                await trio.sleep_forever()

    assert scope.cancelled_caught
    assert before == trio.lowlevel.current_statistics().tasks_living


@pytest.mark.parametrize("seconds", ["3", float("nan"), 0, -5, True])
def test_a_stale_after_or_stop_timeout_that_is_no_number_of_seconds_is_refused(
    seconds: object,
) -> None:
    for name in ("stale_after", "stop_timeout"):
        with pytest.raises(ConfigError, match=f"{name}: .* is not a number of seconds > 0"):
            Connector(_no_venues(), **{name: seconds})  # type: ignore[arg-type]


@pytest.mark.parametrize("seconds", ["0.05", float("nan"), float("inf"), -0.01, True])
def test_a_reorder_window_that_is_no_number_of_seconds_is_refused(seconds: object) -> None:
    config = Config(venues={}, market_data=MarketDataConfig(reorder_window=seconds))  # type: ignore[arg-type]
    with pytest.raises(
        ConfigError, match=r"market_data\.reorder_window: .* is not a number of seconds >= 0"
    ):
        Connector(config)


async def test_entering_twice_raises_connector_error() -> None:
    c = Connector(_no_venues())
    with trio.fail_after(TIMEOUT):
        async with c:
            with pytest.raises(ConnectorError, match="already open"):
                async with c:
                    pass  # pragma: no cover - never entered
        # Nor again once it stopped: its bus is closed, its services ended.
        with pytest.raises(ConnectorError, match="has run and stopped; create a new one"):
            async with c:
                pass  # pragma: no cover - never entered


async def test_value_error_in_body_surfaces_as_itself_with_its_cause() -> None:
    with trio.fail_after(TIMEOUT):
        with pytest.raises(ValueError, match="bad input") as info:
            async with Connector(_no_venues()):
                try:
                    int("x")
                except ValueError as exc:
                    raise ValueError("bad input") from exc

    assert not isinstance(info.value, BaseExceptionGroup)
    assert isinstance(info.value.__cause__, ValueError)
    assert "invalid literal" in str(info.value.__cause__)


async def test_connector_error_in_body_surfaces_as_itself() -> None:
    with trio.fail_after(TIMEOUT):
        with pytest.raises(UnknownInstrument):
            async with Connector(_no_venues()) as c:
                c.order_book("binance", "BTC-USDT-SPOT")


async def test_order_book_of_unconfigured_venue_names_it() -> None:
    with trio.fail_after(TIMEOUT):
        async with Connector(_no_venues()) as c:
            with pytest.raises(UnknownInstrument, match="'okx' is not configured"):
                c.order_book("okx", "BTC-USDT-SPOT")


async def test_subscribe_with_async_with_receives_then_unsubscribes() -> None:
    event = ConnectionEvent(venue="binance", conn_id="c1", status=ConnectionStatus.CONNECTING)
    with trio.fail_after(TIMEOUT):
        connector, bus = _with_bus()
        async with connector as c:
            baseline = _live_subscriptions(bus)
            async with c.subscribe("connection.*") as sub:
                assert {"connection.*"} == _live_subscriptions(bus) - baseline
                bus.publish("connection.binance", event)
                received = await sub.receive()
            assert sub.closed
            assert baseline == _live_subscriptions(bus)

    assert event == received


async def test_subscribe_with_plain_async_for_unsubscribes_on_break() -> None:
    with trio.fail_after(TIMEOUT):
        connector, bus = _with_bus()
        async with connector as c:
            baseline = _live_subscriptions(bus)
            sub = c.subscribe("connection.>")
            for n in range(3):
                bus.publish("connection.okx", n)
            received = []
            async for item in sub:
                received.append(item)
                if len(received) == 2:
                    break
            assert sub.closed
            assert baseline == _live_subscriptions(bus)

    assert [0, 1] == received


async def test_subscription_loops_end_when_the_connector_closes() -> None:
    ended = trio.Event()
    received: list[object] = []

    async def consume(sub: Subscription) -> None:
        async for item in sub:
            received.append(item)
        ended.set()

    with trio.fail_after(TIMEOUT):
        async with trio.open_nursery() as nursery:
            connector, bus = _with_bus()
            async with connector as c:
                nursery.start_soon(consume, c.subscribe("connection.>"))
                await trio.testing.wait_all_tasks_blocked()
                bus.publish("connection.bybit", "last")
            await ended.wait()

    assert ["last"] == received


async def test_subscribe_rejects_an_invalid_pattern() -> None:
    with trio.fail_after(TIMEOUT):
        async with Connector(_no_venues()) as c:
            with pytest.raises(ValueError, match="'>' is only allowed as last token"):
                c.subscribe("ticker.>.binance")


async def test_service_that_keeps_failing_makes_async_with_raise_supervisor_gave_up() -> None:
    # The health monitor's ``connection.>`` subscription uses ``overflow="fail"``:
    # flooding it past its buffer makes health raise SubscriptionOverflow. Doing
    # that again after every restart exceeds root's intensity (5 in 10 s).
    flood = ConnectionEvent(venue="binance", conn_id="c", status=ConnectionStatus.CONNECTING)
    with trio.fail_after(TIMEOUT):
        with pytest.raises(SupervisorGaveUp) as info:
            connector, bus = _with_bus()
            async with connector as c:
                for _ in range(10):
                    for _ in range(5000):
                        bus.publish("connection.binance", flood)
                    await trio.testing.wait_all_tasks_blocked()
                pytest.fail("root should have given up")  # pragma: no cover

    assert "root" == info.value.supervisor
    assert "SubscriptionOverflow" in info.value.last_error
    tree = c.status().tree
    assert ChildState.GAVE_UP == tree.state
    health = tree.find("health")
    assert health is not None and health.restarts >= 5


async def test_status_render_draws_the_tree_lines() -> None:
    with trio.fail_after(TIMEOUT):
        async with Connector(_no_venues()) as c:
            status = c.status()

    assert isinstance(status, ConnectorStatus)
    lines = status.render().splitlines()
    assert [
        "root  running  restarts=0  one_for_one",
        "├── health  running  restarts=0  permanent",
        "├── risk  running  restarts=0  permanent",
        "├── persistence  running  restarts=0  all_for_one",
        "│   ├── writer  running  restarts=0  permanent",
        "│   └── reconciler  running  restarts=0  permanent",
        "└── aggregator  running  restarts=0  transient",
        "store memory memory: open, 0 appends, 0 failed, last seq 0",
    ] == lines
