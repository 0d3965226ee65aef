"""python-okx (OKX's official client) against the simulator, spot and swap.

REST: ``MarketData.MarketAPI`` / ``PublicData.PublicAPI`` take the base URL as
their ``domain`` argument (``flag="0"``: live trading, as OKX's examples use).
Websockets: ``WsPublicAsync(url=...)`` always passes an SSL context to
``websockets.connect``, so it only speaks ``wss://``: it runs against the
simulator in TLS mode (``connector sim --tls``), trusting the run's CA file
through ``SSL_CERT_FILE`` (read by ``ssl.create_default_context``).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from tests.compat.conftest import Urls, run_async, within

pytest.importorskip("okx")

from okx import MarketData, PublicData
from okx.websocket.WsPrivateAsync import WsPrivateAsync
from okx.websocket.WsPublicAsync import WsPublicAsync

from connector.sim.accounts import DEFAULT_CREDENTIALS

pytestmark = pytest.mark.timeout(60)

CASES = [("SPOT", "BTC-USDT"), ("SWAP", "SOL-USDT-SWAP")]
IDS = [kind for kind, _ in CASES]


def market_api(urls: Urls) -> Any:
    return MarketData.MarketAPI(flag="0", domain=urls["okx"]["spot.rest"])


def ok(reply: dict[str, Any]) -> list[Any]:
    assert "0" == reply["code"], reply
    data: list[Any] = reply["data"]
    return data


@pytest.mark.parametrize(("kind", "inst_id"), CASES, ids=IDS)
def test_python_okx_get_instruments_lists_the_instrument(
    sim_urls: Urls, kind: str, inst_id: str
) -> None:
    api = PublicData.PublicAPI(flag="0", domain=sim_urls["okx"]["spot.rest"])
    listed = {i["instId"]: i for i in ok(api.get_instruments(instType=kind))}
    assert inst_id in listed
    assert Decimal(listed[inst_id]["tickSz"]) > 0


@pytest.mark.parametrize(("kind", "inst_id"), CASES, ids=IDS)
def test_python_okx_get_orderbook_is_uncrossed(sim_urls: Urls, kind: str, inst_id: str) -> None:
    (book,) = ok(market_api(sim_urls).get_orderbook(instId=inst_id))
    assert book["bids"] and book["asks"]
    assert Decimal(book["bids"][0][0]) < Decimal(book["asks"][0][0])


@pytest.mark.parametrize(("kind", "inst_id"), CASES, ids=IDS)
def test_python_okx_get_ticker_has_bid_below_ask(sim_urls: Urls, kind: str, inst_id: str) -> None:
    (ticker,) = ok(market_api(sim_urls).get_ticker(instId=inst_id))
    assert inst_id == ticker["instId"]
    assert Decimal(ticker["last"]) > 0
    assert Decimal(ticker["bidPx"]) < Decimal(ticker["askPx"])


@pytest.mark.parametrize(("kind", "inst_id"), CASES, ids=IDS)
def test_python_okx_get_trades_returns_trades(sim_urls: Urls, kind: str, inst_id: str) -> None:
    trades = ok(market_api(sim_urls).get_trades(instId=inst_id, limit=5))
    assert 5 == len(trades)
    assert all(t["instId"] == inst_id and t["side"] in ("buy", "sell") for t in trades)


@pytest.mark.parametrize(("kind", "inst_id"), CASES, ids=IDS)
def test_python_okx_get_candlesticks_returns_candles(
    sim_urls: Urls, kind: str, inst_id: str
) -> None:
    candles = ok(market_api(sim_urls).get_candlesticks(instId=inst_id, bar="1m"))
    assert candles
    for ts, open_, high, low, close, *_volumes in candles:
        assert int(ts) > 0
        prices = [Decimal(open_), Decimal(close)]
        assert 0 < Decimal(low) <= min(prices) <= max(prices) <= Decimal(high)


@pytest.fixture(scope="module")
def tls_sim() -> Iterator[dict[str, Any]]:
    """``connector sim --tls`` serving OKX: its first line (URLs and ``ca_file``)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "connector", "sim", "--tls", "--venues", "okx", "--rate", "100"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stdout is not None
    threading.Thread(target=lambda: lines.put(proc.stdout.readline()), daemon=True).start()
    try:
        try:
            first = lines.get(timeout=30)
        except queue.Empty:
            first = ""
        if not first:
            proc.kill()
            _, err = proc.communicate(timeout=10)
            pytest.fail(f"connector sim --tls printed no URLs: {err[-2000:]}")
        yield json.loads(first)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def stream(tls_sim: dict[str, Any], channel: str, inst_id: str, count: int) -> list[dict[str, Any]]:
    """The first ``count`` data pushes of one public channel, through ``WsPublicAsync``."""

    async def main() -> list[dict[str, Any]]:
        pushes: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

        def callback(message: str) -> None:
            decoded = json.loads(message)
            if "data" in decoded:
                pushes.put_nowait(decoded)

        ws = WsPublicAsync(url=tls_sim["okx"]["spot.ws"] + "/ws/v5/public")
        await within(ws.start())
        try:
            await within(ws.subscribe([{"channel": channel, "instId": inst_id}], callback))
            return [await within(pushes.get()) for _ in range(count)]
        finally:
            await ws.stop()

    return run_async(main)


@pytest.fixture
def trusting_the_sim(tls_sim: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The TLS simulator, with its CA trusted the way a user of python-okx trusts one."""
    monkeypatch.setenv("SSL_CERT_FILE", tls_sim["ca_file"])
    return tls_sim


@pytest.mark.parametrize(("kind", "inst_id"), CASES, ids=IDS)
def test_python_okx_books_channel_aligns_to_the_rest_snapshot(
    trusting_the_sim: dict[str, Any], kind: str, inst_id: str
) -> None:
    """The documented procedure: buffer ``books`` updates, take ``GET /market/books``,
    drop updates with ``seqId <=`` its ``seqId``; the first kept one has
    ``prevSeqId <= snapshot seqId < seqId``, then each ``prevSeqId`` is the previous ``seqId``."""
    rest = MarketData.MarketAPI(flag="0", domain=trusting_the_sim["okx"]["spot.rest"])

    async def main() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        pushes: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

        def callback(message: str) -> None:
            decoded = json.loads(message)
            if "data" in decoded:
                pushes.put_nowait(decoded)

        ws = WsPublicAsync(url=trusting_the_sim["okx"]["spot.ws"] + "/ws/v5/public")
        await within(ws.start())
        try:
            await within(ws.subscribe([{"channel": "books", "instId": inst_id}], callback))
            buffered = [await within(pushes.get())]
            (snapshot,) = ok(await asyncio.to_thread(rest.get_orderbook, instId=inst_id, sz="400"))
            while len(buffered) < 2 or buffered[-1]["data"][0]["seqId"] <= snapshot["seqId"]:
                buffered.append(await within(pushes.get()))
            return snapshot, buffered
        finally:
            await ws.stop()

    snapshot, buffered = run_async(main)
    assert all("update" == push["action"] for push in buffered), "no pushed snapshot"
    assert Decimal(snapshot["bids"][0][0]) < Decimal(snapshot["asks"][0][0])
    kept = [p["data"][0] for p in buffered if p["data"][0]["seqId"] > snapshot["seqId"]]
    assert kept[0]["prevSeqId"] <= snapshot["seqId"] < kept[0]["seqId"]
    for before, after in itertools.pairwise(kept):
        assert after["prevSeqId"] == before["seqId"]


@pytest.mark.parametrize(("kind", "inst_id"), CASES, ids=IDS)
def test_python_okx_trades_channel_delivers_trades(
    trusting_the_sim: dict[str, Any], kind: str, inst_id: str
) -> None:
    (push,) = stream(trusting_the_sim, "trades", inst_id, 1)
    assert push["data"]
    assert all(t["instId"] == inst_id and t["side"] in ("buy", "sell") for t in push["data"])


@pytest.mark.parametrize(("kind", "inst_id"), CASES, ids=IDS)
def test_python_okx_tickers_channel_delivers_tickers(
    trusting_the_sim: dict[str, Any], kind: str, inst_id: str
) -> None:
    (push,) = stream(trusting_the_sim, "tickers", inst_id, 1)
    (ticker,) = push["data"]
    assert inst_id == ticker["instId"]
    assert Decimal(ticker["last"]) > 0
    assert Decimal(ticker["bidPx"]) < Decimal(ticker["askPx"])


def test_python_okx_private_socket_places_and_sees_its_order(
    trusting_the_sim: dict[str, Any],
) -> None:
    """``WsPrivateAsync``: login, the ``orders`` channel, the ``order`` and ``cancel-order`` ops
    (with ``instIdCode`` from ``public/instruments``); the op reply comes first."""
    base = trusting_the_sim["okx"]["spot.rest"]
    public = PublicData.PublicAPI(flag="0", domain=base)
    (inst,) = ok(public.get_instruments(instType="SPOT", instId="BTC-USDT"))
    (ticker,) = ok(MarketData.MarketAPI(flag="0", domain=base).get_ticker(instId="BTC-USDT"))
    price = str((Decimal(ticker["bidPx"]) * Decimal("0.9")).quantize(Decimal("0.1")))
    creds = DEFAULT_CREDENTIALS["okx"]

    async def main() -> list[dict[str, Any]]:
        got: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        ws = WsPrivateAsync(
            apiKey=creds.api_key,
            passphrase=creds.passphrase,
            secretKey=creds.secret,
            url=trusting_the_sim["okx"]["spot.ws"] + "/ws/v5/private",
        )
        await within(ws.start())
        ws.callback = lambda message: got.put_nowait(json.loads(message))
        try:
            await within(ws.login())
            await within(ws.send("subscribe", [{"channel": "orders", "instType": "SPOT"}]))
            order = {
                "instIdCode": inst["instIdCode"], "tdMode": "cash", "side": "buy",
                "ordType": "limit", "px": price, "sz": "0.001", "clOrdId": "wsokx1",
            }  # fmt: skip
            seen: list[dict[str, Any]] = []
            for _ in range(2):  # the login and subscribe acks
                seen.append(await within(got.get()))
            await within(ws.place_order([order], id="p1"))
            seen += [await within(got.get()) for _ in range(2)]  # the reply, then the push
            ord_id = seen[-2]["data"][0]["ordId"]
            cancel = [{"instIdCode": inst["instIdCode"], "ordId": ord_id}]
            await within(ws.cancel_order(cancel, id="c1"))
            seen += [await within(got.get()) for _ in range(2)]
            return seen
        finally:
            await ws.stop()

    login, ack, placed, live, canceled, gone = run_async(main)
    assert ("login", "0") == (login["event"], login["code"])
    assert "subscribe" == ack["event"]
    assert ("p1", "order", "0", "0") == (
        placed["id"], placed["op"], placed["code"], placed["data"][0]["sCode"],
    )  # fmt: skip
    assert ("wsokx1", "live") == (live["data"][0]["clOrdId"], live["data"][0]["state"])
    assert ("c1", "cancel-order", "0") == (canceled["id"], canceled["op"], canceled["code"])
    assert ("canceled", "1") == (gone["data"][0]["state"], gone["data"][0]["cancelSource"])
