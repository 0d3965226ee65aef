"""The replay benchmark measures the real pipeline: same final book as ``connector replay``."""

from __future__ import annotations

from pathlib import Path

from bench.replay import (
    command_problems,
    depth_frames,
    load_frames,
    run_pipeline,
    run_pipeline_trio,
    write_synthetic_capture,
)
from connector.replay import replay_file
from tests.conftest import fixture_path

CAPTURE = "hftbacktest/examples/usdm/btcusdt_20240808.gz"


def test_replay_bench_pipeline_ends_with_the_same_book_as_the_replay_module() -> None:
    path = fixture_path(CAPTURE)
    summary = replay_file(path, venue="binance", market="linear", depth=10).summary()
    (book,) = summary["books"]  # type: ignore[misc]
    frames = load_frames(path)

    every = run_pipeline(frames)
    only_depth = run_pipeline(depth_frames(frames))
    with_task = run_pipeline_trio(depth_frames(frames))

    expected = (
        book["final_state"],
        book["final_seq"],
        book["deltas_applied"],
        book["bids"],
        book["asks"],
    )
    for result in (every, only_depth, with_task):
        actual = (
            result.final_state,
            result.final_seq,
            result.deltas_applied,
            result.bids,
            result.asks,
        )
        assert expected == actual
        assert 0 == result.dropped
        assert result.last_best == (*book["bids"][0], *book["asks"][0])


def test_replay_bench_subscriber_consumes_every_book_event() -> None:
    frames = depth_frames(load_frames(fixture_path(CAPTURE)))

    synchronous = run_pipeline(frames)
    with_task = run_pipeline_trio(frames)

    assert 6547 == synchronous.deltas_applied
    assert synchronous.events == with_task.events
    assert synchronous.events > 6000


def test_synthetic_small_diff_capture_replays_to_the_generators_book(tmp_path: Path) -> None:
    stream = write_synthetic_capture(tmp_path / "small.jsonl", diffs=3_000, levels=300, seed=7)
    assert 9 <= stream.changes / stream.diffs <= 11  # about 10 level changes per diff
    for emit in (None, lambda event: None):  # with --summary, and printing every event
        replayer = replay_file(stream.path, emit=emit)
        ((_, keeper),) = replayer.feeds["binance"].keepers().items()
        assert keeper.state.valid
        assert stream.final_seq == keeper.seq
        assert [tuple(lv) for lv in stream.bids] == keeper.book.bid_texts()
        assert [tuple(lv) for lv in stream.asks] == keeper.book.ask_texts()
        summary = replayer.summary()
        (book,) = summary["books"]  # type: ignore[misc]
        assert [] == command_problems(summary, stream)
        assert (0, 0) == (book["gaps"], book["crossed"])
