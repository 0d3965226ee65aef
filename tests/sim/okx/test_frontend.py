"""The simulator's OKX v5 front-end: wire shapes against real captures, the
documented ``books`` procedure (run by an independent client: REST snapshot
aligned by ``seqId``, or the legacy pushed snapshot), checksums, faults,
heartbeats, subscribe errors and limits."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import trio
from trio_websocket import ConnectionClosed, open_websocket_url

from connector.sim.faults import FaultPlan
from connector.sim.okx import OkxSettings
from connector.sim.okx.wire import book_checksum
from connector.sim.standalone import run
from tests.conftest import fixture_path
from tests.sim.sync_bybit_okx import (
    ChecksumMismatch,
    OkxBook,
    SyncError,
    next_json,
    okx_align,
    okx_follow,
    okx_rest_book,
)

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


def rest_url(sim: Any) -> str:
    return str(sim.urls["okx"]["spot.rest"])


LEGACY = {"okx": {"legacy_books": True}}


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


async def _first_frames(sim: Any, channels: list[str]) -> tuple[Any, dict[str, Any], list[Any]]:
    """Subscribe ``channels`` of BTC-USDT; the acks, the first frame of each kind, and
    every ``books`` frame seen meanwhile."""
    async with open_websocket_url(ws_url(sim)) as ws:
        acks = await subscribe(ws, *({"channel": c, "instId": "BTC-USDT"} for c in channels))
        got: dict[str, dict[str, Any]] = {}
        books = []
        while len(got) < len(channels):
            msg = await next_json(ws)
            key = msg["arg"]["channel"] + msg.get("action", "")
            if msg["arg"]["channel"] == "books":
                books.append(msg)
            got.setdefault(key, msg)
    return acks, got, books


async def test_okx_websocket_frames_have_the_captured_shapes() -> None:
    real_update = real_ws(lambda m: m.get("action") == "update")
    real_ticker = real_ws(lambda m: m.get("arg", {}).get("channel") == "tickers" and "data" in m)
    real_ack = real_ws(lambda m: m.get("event") == "subscribe")
    real_trade = json.loads(fixture_path(GCT_TRADES).read_text().splitlines()[0])
    nt_update = json.loads(fixture_path(NT + "ws_books_update.json").read_text())
    nt_bbo = json.loads(fixture_path(NT + "ws_bbo_tbt.json").read_text())
    with trio.fail_after(20):
        async with run(venues=("okx",), rate=400) as sim:
            channels = ["books", "tickers", "trades", "bbo-tbt", "books5"]
            acks, got, books = await _first_frames(sim, channels)
    # The 2022 capture predates seqId/prevSeqId and connId; the rest must match it.
    extra = [("prevSeqId", "int"), ("seqId", "int")]
    assert skeleton(real_update["data"][0]) + extra == skeleton(got["booksupdate"]["data"][0])
    assert skeleton(nt_update) == skeleton(got["booksupdate"])
    assert skeleton(real_ticker) == skeleton(got["tickers"])
    assert skeleton(real_trade) == skeleton(got["trades"])
    assert skeleton(nt_bbo) == skeleton(got["bbo-tbt"])
    assert ["asks", "bids", "instId", "ts", "seqId"] == list(got["books5"]["data"][0])
    assert [*skeleton(real_ack), ("connId", "str")] == skeleton(acks[0])
    # Since August 2026 no snapshot is pushed, and the checksum is 0 (since June 2026).
    assert {"update"} == {m["action"] for m in books}
    assert {0} == {m["data"][0]["checksum"] for m in books}


async def test_okx_legacy_books_push_a_400_level_snapshot_with_real_checksums() -> None:
    real_snap = real_ws(lambda m: m.get("action") == "snapshot")
    nt_snap = json.loads(fixture_path(NT + "ws_books_snapshot.json").read_text())
    with trio.fail_after(20):
        async with run(venues=("okx",), rate=400, settings=LEGACY) as sim:
            _, got, books = await _first_frames(sim, ["books"])
            bids, asks = sim.engine_book("okx", "spot", "BTC-USDT", 400)
    snap = got["bookssnapshot"]
    extra = [("prevSeqId", "int"), ("seqId", "int")]
    assert skeleton(real_snap)[:2] == skeleton(snap)[:2]
    assert skeleton(real_snap["data"][0]) + extra == skeleton(snap["data"][0])
    assert skeleton(nt_snap) == skeleton(snap)
    assert -1 == snap["data"][0]["prevSeqId"]
    assert (400, 400) == (len(snap["data"][0]["bids"]), len(snap["data"][0]["asks"]))
    assert (400, 400) == (len(bids), len(asks))
    assert books[0] is snap
    data = snap["data"][0]
    top = [lv[:2] for lv in data["bids"]], [lv[:2] for lv in data["asks"]]
    assert book_checksum(*top) == data["checksum"] != 0


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
        # Since 2026-02 instruments carry instIdCode (an integer), after instId.
        real_keys = skeleton(real_item)
        at = [k for k, _ in real_keys].index("instId") + 1
        assert [*real_keys[:at], ("instIdCode", "int"), *real_keys[at:]] == skeleton(sim_item)
        assert ["code", "msg", "data"] == list(inst[inst_type])
    # The documented shape adds seqId (an integer) to the older capture's.
    nt_item = skeleton(nt_book)[2][1][1]
    assert skeleton(nt_book)[:2] == skeleton(book)[:2]
    assert ["list", [*nt_item, ("seqId", "int")]] == skeleton(book)[2][1]
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
            too_deep = await client.get(
                "/api/v5/market/books", params={"instId": "BTC-USDT", "sz": 401}
            )
            one = await client.get("/api/v5/market/books", params={"instId": "BTC-USDT"})
            missing = await client.get("/api/v5/public/instruments")
            times = [await client.get("/api/v5/public/time") for _ in range(3)]
    assert (200, "51001", []) == (
        unknown.status_code,
        unknown.json()["code"],
        unknown.json()["data"],
    )
    assert (200, "51000") == (too_deep.status_code, too_deep.json()["code"])
    # sz defaults to 1 level per side.
    assert (1, 1) == (len(one.json()["data"][0]["bids"]), len(one.json()["data"][0]["asks"]))
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
async def test_okx_rest_snapshot_and_updates_rebuild_the_engine_book(
    market: str, inst_id: str, checksum: bool
) -> None:
    with trio.fail_after(20):
        async with run(venues=("okx",), paused=True, okx_checksum=checksum) as sim:
            hub = sim.venue("okx")
            async with open_websocket_url(ws_url(sim)) as ws:
                acks = await subscribe(ws, {"channel": "books", "instId": inst_id})
                book = OkxBook()
                hub.step(6, market=market, native_id=inst_id)
                rest = await okx_align(ws, rest_url(sim), book, inst_id)
                for _ in range(5):
                    hub.step(6, market=market, native_id=inst_id)
                    await okx_follow(ws, book, inst_id, sim.update_id("okx", market, inst_id))
                assert "subscribe" == acks[0]["event"]
                assert (1, 0) == (book.snapshots, book.pushed_snapshots)
                assert book.updates >= 5
                assert (book.updates if checksum else 0) == book.checksums_verified
                assert engine_levels(sim, market, inst_id) == book.levels()
    assert (400, 400) == (len(rest["bids"]), len(rest["asks"]))


@pytest.mark.parametrize(("market", "inst_id"), [("spot", "BTC-USDT"), ("swap", "ETH-USDT-SWAP")])
async def test_okx_legacy_snapshot_and_updates_rebuild_the_engine_book(
    market: str, inst_id: str
) -> None:
    with trio.fail_after(20):
        async with run(venues=("okx",), paused=True, settings=LEGACY) as sim:
            hub = sim.venue("okx")
            async with open_websocket_url(ws_url(sim)) as ws:
                await subscribe(ws, {"channel": "books", "instId": inst_id})
                book = OkxBook()
                for _ in range(5):
                    hub.step(6, market=market, native_id=inst_id)
                    await okx_follow(ws, book, inst_id, sim.update_id("okx", market, inst_id))
                assert (1, 1) == (book.snapshots, book.pushed_snapshots)
                assert book.updates >= 5
                assert book.updates + 1 == book.checksums_verified
                assert engine_levels(sim, market, inst_id) == book.levels()


async def test_okx_rest_book_seq_id_is_a_published_one_the_stream_continues_from() -> None:
    with trio.fail_after(20):
        async with run(venues=("okx",), paused=True) as sim:
            hub = sim.venue("okx")
            async with open_websocket_url(ws_url(sim)) as ws:
                await subscribe(ws, {"channel": "books", "instId": "BTC-USDT"})
                hub.step(4, market="spot", native_id="BTC-USDT")
                first = await next_json(ws)
                hub.step(4, market="spot", native_id="BTC-USDT")
                rest = await okx_rest_book(rest_url(sim), "BTC-USDT")
                after = await next_json(ws)
                hub.step(4, market="spot", native_id="BTC-USDT")
                later = await next_json(ws)
                top = await okx_rest_book(rest_url(sim), "BTC-USDT", sz=1)
    data = [m["data"][0] for m in (first, after, later)]
    assert ["update"] * 3 == [m["action"] for m in (first, after, later)]
    # The REST call published the pending change first; its seqId is that update's.
    assert data[0]["seqId"] == data[1]["prevSeqId"]
    assert rest["seqId"] == data[1]["seqId"] == data[2]["prevSeqId"] < data[2]["seqId"]
    assert top["seqId"] == data[2]["seqId"]
    assert (1, 1) == (len(top["bids"]), len(top["asks"]))


async def test_okx_corrupted_checksum_is_detected_by_the_documented_procedure() -> None:
    plan = FaultPlan(seed=5).corrupt_checksum(1.0, venue="okx", max_count=1)
    with trio.fail_after(20):
        async with run(venues=("okx",), paused=True, okx_checksum=False, faults=plan) as sim:
            hub = sim.venue("okx")
            async with open_websocket_url(ws_url(sim)) as ws:
                await subscribe(ws, {"channel": "books", "instId": "BTC-USDT"})
                book = OkxBook()
                # Snapshot first (nothing buffered), so the first, corrupted, update is applied.
                assert book.load_snapshot(await okx_rest_book(rest_url(sim), "BTC-USDT"))
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
            rest = await okx_align(ws, rest_url(sim), book, "BTC-USDT")
            beats = []
            while len(beats) < 2:
                msg = await next_json(ws)
                book.on_message(msg)
                beats.append(msg["data"][0])
    assert [([], [])] * 2 == [(b["asks"], b["bids"]) for b in beats]
    assert [rest["seqId"]] * 4 == [b[k] for b in beats for k in ("prevSeqId", "seqId")]
    assert rest["seqId"] == book.seq


def test_okx_heartbeat_defaults_to_about_a_minute() -> None:
    assert 60.0 == OkxSettings().heartbeat


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


@pytest.mark.parametrize(
    ("channel", "code", "text"),
    [
        ("books-l2-tbt", "64003", "Your trading fee tier doesn't meet the requirement"),
        ("books50-l2-tbt", "64003", "Your trading fee tier doesn't meet the requirement"),
        ("candle1m", "64001", "This channel has been migrated to the '/business' URL"),
        ("books-elp", "60018", "Wrong URL or channel:books-elp,instId:BTC-USDT doesn't exist"),
        ("no-such-channel", "60018", "Wrong URL or channel:no-such-channel,instId:BTC-USDT"),
    ],
)
async def test_okx_a_channel_it_cannot_serve_gets_the_documented_error_and_no_data(
    channel: str, code: str, text: str
) -> None:
    arg = {"channel": channel, "instId": "BTC-USDT"}
    with trio.fail_after(20):
        async with run(venues=("okx",), rate=400) as sim, open_websocket_url(ws_url(sim)) as ws:
            await ws.send_message(json.dumps({"id": "1512", "op": "subscribe", "args": [arg]}))
            reply = await next_json(ws)
            late = []
            with trio.move_on_after(0.5):
                while True:
                    late.append(await next_json(ws))
    assert ["id", "event", "code", "msg", "connId"] == list(reply)
    assert ("1512", "error", code) == (reply["id"], reply["event"], reply["code"])
    assert reply["msg"].startswith(text)
    assert [] == late


async def test_okx_deep_books_off_keeps_the_synthetic_flows_depth() -> None:
    with trio.fail_after(20):
        async with run(
            venues=("okx",), paused=True, settings={"okx": {"deep_books": False}}
        ) as sim:
            rest = await okx_rest_book(rest_url(sim), "BTC-USDT", sz=400)
    assert len(rest["bids"]) < 50


async def test_okx_service_upgrade_notice_then_every_connection_closes() -> None:
    # OKX "Notification" (checked 2026-12-06): event "notice", code 64008, pushed
    # before a websocket service upgrade closes the connection.
    plan = FaultPlan().server_shutdown(at=(0.5,), seconds=0.2, venue="okx")
    with trio.fail_after(10):
        async with run(venues=("okx",), faults=plan, rate=20.0) as sim:
            base = str(sim.urls["okx"]["spot.ws"])
            frames: dict[str, list[Any]] = {}
            codes: dict[str, int] = {}

            async def watch(path: str) -> None:
                async with open_websocket_url(base + path) as ws:
                    frames[path] = []
                    try:
                        while True:
                            frames[path].append(json.loads(await ws.get_message()))
                    except ConnectionClosed as closed:
                        codes[path] = closed.reason.code

            async with trio.open_nursery() as nursery:
                for path in ("/ws/v5/public", "/ws/v5/private"):
                    nursery.start_soon(watch, path)
    for path in ("/ws/v5/public", "/ws/v5/private"):
        (notice,) = frames[path]
        assert {"event": "notice", "code": "64008"} == {k: notice[k] for k in ("event", "code")}
        assert "service upgrade" in notice["msg"] and len(notice["connId"]) == 8
        assert 1001 == codes[path]
    assert [("server_shutdown", "connections=2")] == [
        (f.kind.value, f.detail) for f in sim.fault_log
    ]
