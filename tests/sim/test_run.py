"""The run API, the standalone entry point and the venue hub's hooks."""

from __future__ import annotations

import json
import socket
from decimal import Decimal

import httpx
import pytest
import trio

from connector import sim
from connector.errors import ConfigError
from connector.model import Side
from connector.model.venues import venue_facts
from connector.sim.hub import SimVenue
from connector.sim.instruments import default_instruments


def _venue(seed: int = 5, rate: float = 100.0) -> SimVenue:
    return SimVenue("binance", default_instruments(("binance",), ("BTC",)), seed=seed, rate=rate)


async def test_run_serves_binance_alone_with_per_market_urls() -> None:
    async with sim.run(venues=("binance",)) as s:
        urls = s.urls["binance"]
        with trio.fail_after(10):
            async with httpx.AsyncClient() as client:
                spot = await client.get(urls["spot.rest"] + "/api/v3/ping")
                fut = await client.get(urls["linear.rest"] + "/fapi/v1/ping")
    assert ["binance"] == list(s.urls)
    assert {"spot.rest", "spot.ws", "linear.rest", "linear.ws"} == set(urls)
    assert urls["spot.ws"] == urls["spot.rest"].replace("http://", "ws://")
    assert urls["spot.rest"] != urls["linear.rest"]
    assert (200, 200) == (spot.status_code, fut.status_code)
    assert () == s.fault_log


async def test_run_binds_the_requested_ports() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with trio.fail_after(10):
        async with sim.run(venues=("binance",), ports={"binance.linear": port}) as s:
            assert f"http://127.0.0.1:{port}" == s.urls["binance"]["linear.rest"]


async def test_engine_book_matches_the_rest_snapshot_while_paused() -> None:
    async with sim.run(venues=("binance",), paused=True) as s:
        with trio.fail_after(10):
            async with httpx.AsyncClient() as client:
                snap = (
                    await client.get(
                        s.urls["binance"]["spot.rest"] + "/api/v3/depth",
                        params={"symbol": "ETHUSDT", "limit": 10},
                    )
                ).json()
        bids, _asks = s.engine_book("binance", "spot", "ETHUSDT", 10)
    assert s.update_id("binance", "spot", "ETHUSDT") == snap["lastUpdateId"]
    assert [[lv.price, lv.qty] for lv in bids] == [
        [Decimal(p), Decimal(q)] for p, q in snap["bids"]
    ]


async def test_serve_standalone_prints_one_json_line_with_every_url() -> None:
    lines: list[str] = []
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            urls = await nursery.start(
                lambda task_status: sim.serve_standalone(
                    ["--venues", "binance", "--bases", "BTC", "--rate", "50"],
                    out=lines.append,
                    task_status=task_status,
                )
            )
            async with httpx.AsyncClient() as client:
                r = await client.get(urls["binance"]["spot.rest"] + "/api/v3/exchangeInfo")
            nursery.cancel_scope.cancel()
    assert 1 == len(lines)
    first = json.loads(lines[0])
    # Every served URL, plus the route keys a config table takes and the demo credentials.
    assert urls["binance"].items() <= first["binance"].items()
    keys = {k for m in venue_facts("binance").markets for k in m.url_keys()}
    assert {"linear.ws.public", "linear.ws.market"} <= set(first["binance"])
    assert set(first["binance"]) - set(urls["binance"]) <= keys | {"credentials"}
    assert ["BTCUSDT"] == [x["symbol"] for x in r.json()["symbols"]]


async def test_unknown_venue_is_refused() -> None:
    with trio.fail_after(10), pytest.raises(ValueError, match="nowhere"):
        async with sim.run(venues=("nowhere",), instruments=[]):
            pass


def test_same_seed_gives_the_same_book_after_the_same_steps() -> None:
    a, b = _venue(seed=9), _venue(seed=9)
    a.step(200)
    b.step(200)
    assert a.book("spot", "BTCUSDT").depth() == b.book("spot", "BTCUSDT").depth()
    c = _venue(seed=10)
    c.step(200)
    assert a.book("spot", "BTCUSDT").depth() != c.book("spot", "BTCUSDT").depth()


def test_listeners_see_every_update_in_order() -> None:
    venue = _venue()
    seen: list[int] = []
    unlisten = venue.listen(
        lambda batch: seen.extend(r.update_id for r in batch.results if r.changes)
    )
    start = venue.book("linear", "BTCUSDT").update_id
    venue.step(50, market="linear")
    unlisten()
    venue.step(5, market="linear")
    assert list(range(start + 1, start + 1 + len(seen))) == seen
    assert len(seen) >= 50
    assert venue.book("linear", "BTCUSDT").update_id > seen[-1]


def test_buffer_drops_the_oldest_batches_on_overflow() -> None:
    venue = _venue()
    with venue.open_buffer(size=3) as buf:
        venue.step(1)
        venue.step(1)
        venue.step(1)
        venue.step(1)
    assert 2 * 4 - 3 == buf.dropped  # two instruments, one batch each per step
    assert 0 == venue.statistics().listeners


def test_move_market_trades_and_moves_the_mid() -> None:
    venue = _venue()
    book = venue.book("spot", "BTCUSDT")
    before = book.engine.best_bid()
    assert before is not None
    venue.move_market("spot", "BTCUSDT", 2)
    after = book.engine.best_bid()
    assert after is not None
    assert after.price > before.price * Decimal("1.015")
    ticker = book.ticker()
    assert ticker.count > 0
    assert ticker.high >= ticker.last >= ticker.low
    assert ticker.count == len(book.recent_trades(10_000))


def test_add_liquidity_is_one_update_and_reverts_in_depth_at() -> None:
    venue = _venue()
    book = venue.book("spot", "BTCUSDT")
    before = book.depth()
    venue.add_liquidity("spot", "BTCUSDT", Side.SELL, Decimal("90000.00"), Decimal("2"))
    after = book.depth()
    assert before[0] + 1 == after[0]
    assert (Decimal("90000.00"), Decimal("2")) == after[2][-1]
    assert before == book.depth_at(1)


async def test_driver_runs_at_roughly_the_rate_and_pauses() -> None:
    venue = _venue(rate=400.0)
    book = venue.book("spot", "BTCUSDT")
    async with trio.open_nursery() as nursery:
        await nursery.start(venue.run)
        start = book.update_id
        await trio.sleep(0.5)
        produced = book.update_id - start
        venue.pause()
        await trio.sleep(0.05)
        frozen = book.update_id
        await trio.sleep(0.2)
        assert frozen == book.update_id
        venue.resume()
        await trio.sleep(0.1)
        assert book.update_id > frozen
        nursery.cancel_scope.cancel()
    assert 100 < produced < 400


async def test_an_unknown_front_end_setting_is_refused_with_the_known_ones() -> None:
    with trio.fail_after(10), pytest.raises(ConfigError, match="spot_ping_intervl") as info:
        async with sim.run(venues=("binance",), settings={"binance": {"spot_ping_intervl": 1}}):
            pass
    assert "spot_ping_interval" in str(info.value)


async def test_every_front_end_names_the_endpoint_behind_each_market_url() -> None:
    with trio.fail_after(10):
        async with sim.run() as s:
            for venue, frontend in s.frontends.items():
                servers = frontend.servers  # type: ignore[attr-defined]
                markets = {key.split(".")[0] for key in s.urls[venue]}
                assert markets == set(servers), venue
                for market, server in servers.items():
                    assert s.urls[venue][f"{market}.rest"] == server.rest_url
                    assert s.urls[venue][f"{market}.ws"] == server.ws_url
                    assert callable(server.app)
