"""Fault plans from TOML files: every kind as the builders make it, and clear errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import trio

from connector import sim
from connector.errors import ConfigError
from connector.sim.faults import FaultInjector, FaultKind, FaultPlan
from connector.sim.faults.loading import KINDS

BASE = FaultPlan(seed=3)

# (kind, the file's keys, the same rule built in code): one row per builder, with
# every parameter the builder has.
CASES: list[tuple[str, str, Callable[[FaultPlan], FaultPlan]]] = [
    (
        "drop",
        'fraction = 0.25\nvenue = "binance"\nmarket = "spot"\nstream = "depth"\nmax_count = 4',
        lambda p: p.drop(0.25, venue="binance", market="spot", stream="depth", max_count=4),
    ),
    (
        "duplicate",
        'fraction = 0.5\nvenue = "okx"\nstream = "books"',
        lambda p: p.duplicate(0.5, venue="okx", stream="books"),
    ),
    ("reorder", "fraction = 1", lambda p: p.reorder(1.0)),
    (
        "delay",
        'fraction = 0.1\nseconds = 0.5\nmarket = "linear"',
        lambda p: p.delay(0.1, 0.5, market="linear"),
    ),
    (
        "disconnect",
        'after_frames = 500\nat = [5, 12.5]\nvenue = "okx"\nmax_count = 2',
        lambda p: p.disconnect(after_frames=500, at=(5.0, 12.5), venue="okx", max_count=2),
    ),
    (
        "stall",
        'seconds = 3\nafter_frames = 10\nvenue = "bybit"\nstream = "orderbook"',
        lambda p: p.stall(3.0, after_frames=10, venue="bybit", stream="orderbook"),
    ),
    (
        "refuse_connections",
        'seconds = 2\nstart = 1\nvenue = "binance"\nmarket = "linear"',
        lambda p: p.refuse_connections(2.0, start=1.0, venue="binance", market="linear"),
    ),
    (
        "rest_error",
        'fraction = 0.1\nstatus = 502\npath = "/v5/market"\nvenue = "bybit"',
        lambda p: p.rest_error(0.1, status=502, path="/v5/market", venue="bybit"),
    ),
    (
        "rest_rate_limited",
        'fraction = 0.2\nretry_after = 3\npath = "/api/v3"\nvenue = "binance"\nmax_count = 1',
        lambda p: p.rest_rate_limited(
            0.2, retry_after=3.0, path="/api/v3", venue="binance", max_count=1
        ),
    ),
    (
        "slow_rest",
        'fraction = 0.3\nseconds = 1.5\nmarket = "swap"',
        lambda p: p.slow_rest(0.3, 1.5, market="swap"),
    ),
    (
        "late_rest",
        'fraction = 1.0\nseconds = 12\npath = "/api/v3/order"\nmethod = "POST"\nmax_count = 1',
        lambda p: p.late_rest(1.0, 12.0, path="/api/v3/order", method="POST", max_count=1),
    ),
    (
        "rest_error_after",
        'fraction = 0.5\nstatus = 503\npath = "/fapi/v1/order"\nmethod = "POST"',
        lambda p: p.rest_error_after(0.5, status=503, path="/fapi/v1/order", method="POST"),
    ),
    ("stream_terminated", "at = [5]", lambda p: p.stream_terminated(at=(5.0,))),
    (
        "server_shutdown",
        "at = [5, 9]\nseconds = 2",
        lambda p: p.server_shutdown(at=(5.0, 9.0), seconds=2.0),
    ),
    ("listen_key_expired", "at = [30]", lambda p: p.listen_key_expired(at=(30.0,))),
    ("clock_skew", 'ms = -1500\nvenue = "binance"', lambda p: p.clock_skew(-1500, venue="binance")),
    (
        "stale_snapshot",
        'updates = 20\nfraction = 0.5\npath = "/api/v3/depth"\nvenue = "binance"',
        lambda p: p.stale_snapshot(20, fraction=0.5, path="/api/v3/depth", venue="binance"),
    ),
    ("corrupt_checksum", "fraction = 0.05", lambda p: p.corrupt_checksum(0.05)),
    (
        "restart_snapshot",
        'at = [30]\nmarket = "linear"',
        lambda p: p.restart_snapshot(at=(30.0,), market="linear"),
    ),
    (
        "malformed",
        'fraction = 0.01\nvariant = "wrong_type"\nvenue = "bybit"',
        lambda p: p.malformed(0.01, variant="wrong_type", venue="bybit"),
    ),
]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "faults.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_cases_cover_every_builder() -> None:
    assert {builder for builder in KINDS.values()} == {kind for kind, _, _ in CASES}


@pytest.mark.parametrize(("kind", "keys", "build"), CASES, ids=[c[0] for c in CASES])
def test_every_kind_loads_as_its_builder_makes_it(
    tmp_path: Path, kind: str, keys: str, build: Callable[[FaultPlan], FaultPlan]
) -> None:
    path = _write(tmp_path, f'seed = 3\n\n[[fault]]\nkind = "{kind}"\n{keys}\n')
    assert build(BASE) == FaultPlan.from_toml(path)


def test_kind_aliases_are_the_fault_kind_values() -> None:
    for alias, builder in (
        ("refuse", "refuse_connections"),
        ("rest_429", "rest_rate_limited"),
        ("rest_slow", "slow_rest"),
        ("rest_late", "late_rest"),
    ):
        row = next(c for c in CASES if c[0] == builder)
        data = {"seed": 3, "fault": [{"kind": alias, **_keys(row[1])}]}
        assert row[2](BASE) == FaultPlan.from_mapping(data)


def _keys(text: str) -> dict[str, object]:
    import tomllib

    return tomllib.loads(text)


def test_rules_keep_the_file_order_and_the_seed_defaults_to_zero(tmp_path: Path) -> None:
    text = "\n".join(f'[[fault]]\nkind = "{kind}"\n{keys}\n' for kind, keys, _ in CASES)
    plan = FaultPlan.from_toml(_write(tmp_path, text))
    expected = FaultPlan(seed=0)
    for _, _, build in CASES:
        expected = build(expected)
    assert expected == plan
    assert FaultPlan() == FaultPlan.from_mapping({})


def test_a_loaded_plan_injects_what_the_built_one_injects() -> None:
    data = {
        "seed": 11,
        "fault": [
            {"kind": "drop", "fraction": 0.3},
            {"kind": "duplicate", "fraction": 0.2},
            {"kind": "reorder", "fraction": 0.1},
            {"kind": "rest_error", "fraction": 0.5, "status": 503},
            {"kind": "clock_skew", "ms": 250, "venue": "okx"},
        ],
    }
    built = (
        FaultPlan(seed=11)
        .drop(0.3)
        .duplicate(0.2)
        .reorder(0.1)
        .rest_error(0.5)
        .clock_skew(250, venue="okx")
    )

    def behaviour(plan: FaultPlan) -> tuple[object, ...]:
        injector = FaultInjector(plan, clock=lambda: 0.0)
        conn = injector.connection("binance", 1, "spot")
        frames = [conn.on_frame("btcusdt@depth", f"f{i}").frames for i in range(300)]
        rest = [injector.on_request("bybit", "spot", "/v5/market/time") for _ in range(50)]
        return (frames, rest, injector.clock_skew_ms("okx"), injector.clock_skew_ms("bybit"))

    loaded = behaviour(FaultPlan.from_mapping(data))
    assert behaviour(built) == loaded
    assert any(verdict is not None for verdict in loaded[1])


def _problems(data: dict[str, object]) -> tuple[str, ...]:
    with pytest.raises(ConfigError) as info:
        FaultPlan.from_mapping(data, source="f.toml")
    return info.value.problems


def test_an_unknown_kind_is_named_with_the_allowed_kinds() -> None:
    (problem,) = _problems({"fault": [{"kind": "explode", "fraction": 1}]})
    assert problem.startswith("f.toml: fault[0]: kind 'explode': expected one of ")
    for kind in ("drop", "rest_error", "refuse_connections", "malformed", "clock_skew"):
        assert kind in problem
    (missing,) = _problems({"fault": [{"fraction": 1}]})
    assert "fault[0]: kind missing: expected one of" in missing


def test_an_unknown_key_is_named_with_the_kinds_keys() -> None:
    unknown, missing = _problems({"fault": [{"kind": "drop", "fractoin": 0.1}]})
    assert unknown.startswith("f.toml: fault[0] (drop): unknown key 'fractoin'; ")
    allowed = "allowed: kind, after_frames, fraction, market, max_count, stream, venue"
    assert unknown.endswith(allowed)
    assert "f.toml: fault[0] (drop): missing 'fraction'" == missing


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"kind": "drop", "fraction": 1.5}, "fraction = 1.5: expected a fraction from 0 to 1"),
        ({"kind": "drop", "fraction": "half"}, "fraction = 'half': expected a number"),
        ({"kind": "drop", "fraction": True}, "fraction = True: expected a number"),
        (
            {"kind": "drop", "fraction": 0.1, "venue": "kraken"},
            "venue = 'kraken': expected one of binance, bybit, okx",
        ),
        (
            {"kind": "drop", "fraction": 0.1, "market": "futures"},
            "market = 'futures': expected one of linear, spot, swap",
        ),
        (
            {"kind": "malformed", "fraction": 0.1, "variant": "garbled"},
            "variant = 'garbled': expected one of truncated, extra_field, wrong_type",
        ),
        ({"kind": "delay", "fraction": 0.1, "seconds": -1}, "seconds = -1: expected seconds"),
        (
            {"kind": "disconnect", "after_frames": 0},
            "after_frames = 0: expected an integer, 1 or more",
        ),
        ({"kind": "disconnect", "at": 5}, "at = 5: expected a list of seconds"),
        (
            {"kind": "rest_error", "fraction": 0.1, "status": 200},
            "status = 200: expected an HTTP error status from 400 to 599",
        ),
        (
            {"kind": "rest_error", "fraction": 0.1, "path": "api/v3"},
            "path = 'api/v3': expected a URL path starting with '/'",
        ),
        ({"kind": "clock_skew", "ms": 1.5}, "ms = 1.5: expected an integer"),
    ],
)
def test_a_bad_value_is_named_with_what_is_allowed(rule: dict[str, object], expected: str) -> None:
    (problem,) = _problems({"fault": [rule]})
    assert f"f.toml: fault[0] ({rule['kind']}): " in problem
    assert expected in problem


def test_every_problem_of_a_file_is_reported_at_once(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        'seed = "x"\nfaults = 1\n\n[[fault]]\nkind = "drop"\nfraction = 2\n\n'
        '[[fault]]\nkind = "stall"\nseconds = 1\nvenu = "okx"\n',
    )
    with pytest.raises(ConfigError) as info:
        FaultPlan.from_toml(path)
    problems = info.value.problems
    assert 4 == len(problems)
    assert f"{path}: unknown key 'faults'; allowed: seed, [[fault]] tables" in problems[0]
    assert f"{path}: seed = 'x': expected an integer" == problems[1]
    assert "fault[0] (drop): fraction = 2" in problems[2]
    assert "fault[1] (stall): unknown key 'venu'" in problems[3]


def test_an_unreadable_or_invalid_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the fault plan"):
        FaultPlan.from_toml(tmp_path / "absent.toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        FaultPlan.from_toml(_write(tmp_path, "[[fault]\nkind = "))


async def test_serve_standalone_runs_the_plan_of_a_faults_file(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        '[[fault]]\nkind = "rest_error"\nfraction = 1\nstatus = 503\npath = "/api/v3/ping"\n',
    )
    lines: list[str] = []
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            urls = await nursery.start(
                lambda task_status: sim.serve_standalone(
                    ["--venues", "binance", "--bases", "BTC", "--faults", str(path)],
                    out=lines.append,
                    task_status=task_status,
                )
            )
            async with httpx.AsyncClient(base_url=urls["binance"]["spot.rest"]) as client:
                ping = await client.get("/api/v3/ping")
                time = await client.get("/api/v3/time")
            nursery.cancel_scope.cancel()
    assert (503, 200) == (ping.status_code, time.status_code)
    first = json.loads(lines[0])
    # The line adds route keys and the demo credentials to the served URLs.
    assert all(urls[venue].items() <= first[venue].items() for venue in urls)


def test_fault_kinds_named_in_files_cover_every_fault_kind_with_a_builder() -> None:
    built = {build(BASE).rules[-1].kind for _, _, build in CASES}
    assert set(FaultKind) == built


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (
            {"kind": "clock_skew", "ms": 99999999999999999999},
            "ms = 99999999999999999999: expected an integer from -86400000 to 86400000",
        ),
        (
            {"kind": "clock_skew", "ms": -86400001},
            "ms = -86400001: expected an integer from -86400000 to 86400000",
        ),
        ({"kind": "stall", "seconds": float("inf")}, "seconds = inf: expected a finite number"),
        (
            {"kind": "disconnect", "at": [1.0, float("nan")]},
            "at = [1.0, nan]: expected a list of seconds",
        ),
    ],
)
def test_a_value_the_simulator_cannot_run_is_refused(
    rule: dict[str, object], expected: str
) -> None:
    (problem,) = _problems({"fault": [rule]})
    assert f"f.toml: fault[0] ({rule['kind']}): {expected}" in problem


async def test_a_clock_skew_past_a_day_is_refused_and_a_day_is_served(tmp_path: Path) -> None:
    rule = '[[fault]]\nkind = "clock_skew"\nvenue = "binance"\nms = '
    with pytest.raises(ConfigError, match="ms = 86400001: expected an integer from"):
        FaultPlan.from_toml(_write(tmp_path, rule + "86400001\n"))
    plan = FaultPlan.from_toml(_write(tmp_path, rule + "-86400000\n"))

    with trio.fail_after(20):
        async with (
            sim.run(venues=("binance",), faults=plan, rate=20) as s,
            httpx.AsyncClient() as client,
        ):
            answer = await client.get(s.urls["binance"]["spot.rest"] + "/api/v3/time")

    assert 200 == answer.status_code
