"""The simulator's OKX v5 front-end: wire shapes against real captures, the
documented ``books`` procedure (run by an independent client), checksums,
faults, heartbeats and limits."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import trio
from trio_websocket import ConnectionClosed, open_websocket_url

from connector.sim.faults import FaultPlan
from connector.sim.okx.wire import book_checksum
from connector.sim.standalone import run
from tests.conftest import fixture_path
from tests.sim.sync_bybit_okx import ChecksumMismatch, OkxBook, SyncError, next_json, okx_follow

WS_CAPTURE = "cryptofeed/master/sample_data/OKX-dev.ws.1.0"
INSTRUMENTS = "cryptofeed/master/sample_data/OKX.0"
NT = "nautilus_trader/crates/adapters/okx/test_data/"
GCT_TRADES = "gocryptotrader/exchanges/okx/testdata/wsAllTrades.json"


def skeleton(value: Any) -> Any:
    """Keys in order and JSON types, lists reduced to their first element's skeleton."""
    if isinstance(value, dict):
        return [(k, skeleton(v)) for k, v in value.items()]
    if isinstance(value, list):
        return ["list", skeleton(value[0])] if value else ["list"]
    if isinstance(value, bool):
        return "bool"
    return type(value).__name__


def real_ws(pred: Any) -> dict[str, Any]:
    for line in fixture_path(WS_CAPTURE).read_text().splitlines():
        if " <-" in line:
            continue
        msg = json.loads(line.split(": ", 1)[1])
        if pred(msg):
            return dict(msg)
    raise AssertionError("no such frame")


def ws_url(sim: Any) -> str:
    return str(sim.urls["okx"]["spot.ws"]) + "/ws/v5/public"


async def subscribe(ws: Any, *args: dict[str, str]) -> list[dict[str, Any]]:
    await ws.send_message(json.dumps({"op": "subscribe", "args": list(args)}))
    out = []
    while len(out) < len(args):
        msg = await next_json(ws)
        if "event" in msg:
            out.append(msg)
    return out


def engine_levels(sim: Any, market: str, inst_id: str) -> Any:
    bids, asks = sim.engine_book("okx", market, inst_id, 400)
    return [(lv.price, lv.qty) for lv in bids], [(lv.price, lv.qty) for lv in asks]


# ------------------------------------------------------------------ checksum


def test_okx_checksum_matches_the_published_vectors() -> None:
    vectors = json.loads(fixture_path("okx_checksum_vectors.json").read_text())["vectors"]
    checked = 0
    for v in vectors:
        if not v["match"]:
            continue
        bids = v.get("bids_top25", v.get("bids"))
        asks = v.get("asks_top25", v.get("asks"))
        assert v["expected"] == book_checksum(bids, asks)
        checked += 1
    assert checked >= 4


# -------------------------------------------------------------------- shapes


async def test_okx_websocket_frames_have_the_captured_shapes() -> None:
    real_snap = real_ws(lambda m: m.get("action") == "snapshot")
    real_update = real_ws(lambda m: m.get("action") == "update")
    real_ticker = real_ws(lambda m: m.get("arg", {}).get("channel") == "tickers" and "data" in m)
    real_ack = real_ws(lambda m: m.get("event") == "subscribe")
    real_trade = json.loads(fixture_path(GCT_TRADES).read_text().splitlines()[0])
    nt_snap = json.loads(fixture_path(NT + "ws_books_snapshot.json").read_text())
    nt_bbo = json.loads(fixture_path(NT + "ws_bbo_tbt.json").read_text())
    with trio.fail_after(20):
        async with (
            run(venues=("okx",), rate=400, okx_checksum=True) as sim,
            open_websocket_url(ws_url(sim)) as ws,
        ):
            channels = ["books", "tickers", "trades", "bbo-tbt", "books5"]
            acks = await subscribe(ws, *({"channel": c, "instId": "BTC-USDT"} for c in channels))
            got: dict[str, dict[str, Any]] = {}
            while len(got) < 6:
                msg = await next_json(ws)
                key = msg["arg"]["channel"] + msg.get("action", "")
                got.setdefault(key, msg)
    # The 2022 capture predates seqId/prevSeqId and connId; the rest must match it.
    extra = [("prevSeqId", "int"), ("seqId", "int")]
    assert skeleton(real_snap)[:2] == skeleton(got["bookssnapshot"])[:2]
    assert skeleton(real_snap["data"][0]) + extra == skeleton(got["bookssnapshot"]["data"][0])
    assert skeleton(real_update["data"][0]) + extra == skeleton(got["booksupdate"]["data"][0])
    assert skeleton(nt_snap) == skeleton(got["bookssnapshot"])
    assert skeleton(real_ticker) == skeleton(got["tickers"])
    assert skeleton(real_trade) == skeleton(got["trades"])
    assert skeleton(nt_bbo) == skeleton(got["bbo-tbt"])
    assert ["asks", "bids", "instId", "ts", "seqId"] == list(got["books5"]["data"][0])
    assert [*skeleton(real_ack), ("connId", "str")] == skeleton(acks[0])
    assert -1 == got["bookssnapshot"]["data"][0]["prevSeqId"]


async def test_okx_rest_bodies_have_the_real_shapes() -> None:
    real = {}
    for line in fixture_path(INSTRUMENTS).read_text().splitlines():
        url, _, rest = line.partition(" -> ")
        if not rest:
            continue
        body = json.loads(rest.partition(": ")[2])
        if url.endswith("instType=SPOT") or url.endswith("instType=SWAP"):
            real[url.rsplit("=", 1)[1]] = body
    nt_book = json.loads(fixture_path(NT + "http_get_order_book.json").read_text())
    nt_trades = json.loads(fixture_path(NT + "http_get_trades.json").read_text())
    with trio.fail_after(20):
        async with (
            run(venues=("okx",), rate=400) as sim,
            httpx.AsyncClient(base_url=sim.urls["okx"]["spot.rest"]) as client,
        ):
            inst = {
                t: (await client.get("/api/v5/public/instruments", params={"instType": t})).json()
                for t in ("SPOT", "SWAP")
            }
            book = (
                await client.get("/api/v5/market/books", params={"instId": "BTC-USDT", "sz": 5})
            ).json()
            await trio.sleep(0.2)
            trades = (
                await client.get("/api/v5/market/trades", params={"instId": "BTC-USDT"})
            ).json()
            ticker = (
                await client.get("/api/v5/market/ticker", params={"instId": "BTC-USDT-SWAP"})
            ).json()
            tickers = (
                await client.get("/api/v5/market/tickers", params={"instType": "SPOT"})
            ).json()
            t = (await client.get("/api/v5/public/time")).json()
    for inst_type in ("SPOT", "SWAP"):
        real_item = next(i for i in real[inst_type]["data"] if i["instId"].startswith("BTC-USDT"))
        sim_item = next(i for i in inst[inst_type]["data"] if i["instId"].startswith("BTC-USDT"))
        assert skeleton(real_item) == skeleton(sim_item)
        assert ["code", "msg", "data"] == list(inst[inst_type])
    assert skeleton(nt_book) == skeleton(book)
    assert 5 == len(book["data"][0]["bids"])
    assert skeleton(nt_trades) == skeleton(trades)
    rest_ticker_keys = [
        "instType", "instId", "last", "lastSz", "askPx", "askSz", "bidPx", "bidSz", "open24h",
        "high24h", "low24h", "volCcy24h", "vol24h", "ts", "sodUtc0", "sodUtc8",
    ]  # fmt: skip
    assert rest_ticker_keys == list(ticker["data"][0])
    assert {"BTC-USDT", "ETH-USDT", "SOL-USDT"} == {i["instId"] for i in tickers["data"]}
    assert [("ts", "str")] == skeleton(t["data"][0])


async def test_okx_rest_errors_use_the_real_codes() -> None:
    with trio.fail_after(20):
        async with (
            run(
                venues=("okx",),
                paused=True,
                settings={"okx": {"rest_limits": {"/api/v5/public/time": 2}}},
            ) as sim,
            httpx.AsyncClient(base_url=sim.urls["okx"]["spot.rest"]) as client,
        ):
            unknown = await client.get("/api/v5/market/books", params={"instId": "NOPE-USDT"})
            missing = await client.get("/api/v5/public/instruments")
            times = [await client.get("/api/v5/public/time") for _ in range(3)]
    assert (200, "51001", []) == (
        unknown.status_code,
        unknown.json()["code"],
        unknown.json()["data"],
    )
    assert (400, "50014") == (missing.status_code, missing.json()["code"])
    assert [200, 200, 429] == [r.status_code for r in times]
    assert {"code": "50011", "msg": "Too Many Requests", "data": []} == times[2].json()


# ---------------------------------------------------------- sync procedure


@pytest.mark.parametrize(
    ("market", "inst_id", "checksum"),
    [
        ("spot", "BTC-USDT", True),
        ("swap", "ETH-USDT-SWAP", True),
        ("spot", "SOL-USDT", False),
        ("swap", "BTC-USDT-SWAP", False),
    ],
)
async def test_okx_snapshot_and_updates_rebuild_the_engine_book(
    market: str, inst_id: str, checksum: bool
) -> None:
    with trio.fail_after(20):
        async with run(venues=("okx",), paused=True, okx_checksum=checksum) as sim:
            hub = sim.venue("okx")
            async with open_websocket_url(ws_url(sim)) as ws:
                acks = await subscribe(ws, {"channel": "books", "instId": inst_id})
                book = OkxBook()
                for _ in range(5):
                    hub.step(6, market=market, native_id=inst_id)
                    await okx_follow(ws, book, inst_id, sim.update_id("okx", market, inst_id))
                assert "subscribe" == acks[0]["event"]
                assert book.updates >= 5
                assert (book.updates + 1 if checksum else 0) == book.checksums_verified
                assert engine_levels(sim, market, inst_id) == book.levels()


async def test_okx_corrupted_checksum_is_detected_by_the_documented_procedure() -> None:
    plan = FaultPlan(seed=5).corrupt_checksum(1.0, venue="okx", max_count=1)
    with trio.fail_after(20):
        async with run(venues=("okx",), paused=True, okx_checksum=False, faults=plan) as sim:
            hub = sim.venue("okx")
            async with open_websocket_url(ws_url(sim)) as ws:
                await subscribe(ws, {"channel": "books", "instId": "BTC-USDT"})
                book = OkxBook()
                with pytest.raises(ChecksumMismatch):
                    for _ in range(5):
                        hub.step(6, market="spot", native_id="BTC-USDT")
                        await okx_follow(
                            ws, book, "BTC-USDT", sim.update_id("okx", "spot", "BTC-USDT")
                        )
    assert 1 == sum(1 for f in sim.fault_log if f.kind.value == "corrupt_checksum")


def test_okx_sync_script_detects_a_sequence_gap() -> None:
    book = OkxBook()
    book.on_message(
        {
            "action": "snapshot",
            "data": [{"asks": [], "bids": [], "checksum": 0, "prevSeqId": -1, "seqId": 5}],
        }
    )
    with pytest.raises(SyncError):
        book.on_message(
            {
                "action": "update",
                "data": [{"asks": [], "bids": [], "checksum": 0, "prevSeqId": 6, "seqId": 7}],
            }
        )


async def test_okx_books_sends_empty_heartbeat_updates_with_equal_seq_ids() -> None:
    with trio.fail_after(20):
        async with (
            run(venues=("okx",), paused=True, settings={"okx": {"heartbeat": 0.2}}) as sim,
            open_websocket_url(ws_url(sim)) as ws,
        ):
            await subscribe(ws, {"channel": "books", "instId": "BTC-USDT"})
            book = OkxBook()
            beats = []
            while book.empty_updates < 2:
                msg = await next_json(ws)
                book.on_message(msg)
                if msg["action"] == "update":
                    beats.append(msg["data"][0])
    assert [([], [])] * 2 == [(b["asks"], b["bids"]) for b in beats]
    assert [b["seqId"] for b in beats] == [b["prevSeqId"] for b in beats]


# ------------------------------------------------------- control messages


async def test_okx_text_ping_gets_text_pong() -> None:
    with trio.fail_after(20):
        async with run(venues=("okx",), paused=True) as sim, open_websocket_url(ws_url(sim)) as ws:
            await ws.send_message("ping")
            reply = await ws.get_message()
    assert "pong" == reply


async def test_okx_closes_a_connection_idle_for_the_idle_timeout() -> None:
    with trio.fail_after(20):
        async with (
            run(venues=("okx",), paused=True, settings={"okx": {"idle_timeout": 0.3}}) as sim,
            open_websocket_url(ws_url(sim)) as ws,
        ):
            start = trio.current_time()
            with pytest.raises(ConnectionClosed):
                while True:
                    await ws.get_message()
            elapsed = trio.current_time() - start
    assert 0.25 < elapsed < 5


async def test_okx_subscribe_errors_and_unsubscribe() -> None:
    with trio.fail_after(20):
        async with run(venues=("okx",), rate=400) as sim, open_websocket_url(ws_url(sim)) as ws:
            await ws.send_message(
                json.dumps(
                    {"op": "subscribe", "args": [{"channel": "books", "instId": "NOPE-USDT"}]}
                )
            )
            unknown = await next_json(ws)
            await ws.send_message("{not json")
            invalid = await next_json(ws)
            await ws.send_message(json.dumps({"op": "dance", "args": []}))
            bad_op = await next_json(ws)
            await subscribe(ws, {"channel": "trades", "instId": "BTC-USDT"})
            while "data" not in await next_json(ws):
                pass
            await ws.send_message(
                json.dumps(
                    {"op": "unsubscribe", "args": [{"channel": "trades", "instId": "BTC-USDT"}]}
                )
            )
            unsub = None
            while unsub is None:
                msg = await next_json(ws)
                if msg.get("event") == "unsubscribe":
                    unsub = msg
            late = []
            with trio.move_on_after(0.5):
                while True:
                    late.append(await next_json(ws))
    assert ["event", "code", "msg", "connId"] == list(unknown)
    assert ("error", "60018") == (unknown["event"], unknown["code"])
    assert ("error", "60012") == (invalid["event"], invalid["code"])
    assert ("error", "60019") == (bad_op["event"], bad_op["code"])
    assert {"channel": "trades", "instId": "BTC-USDT"} == unsub["arg"]
    assert [] == [m for m in late if "data" in m]
