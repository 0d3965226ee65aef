from __future__ import annotations

import json

import pytest

from connector.venues.okx import streams


def test_okx_urls_live_and_demo() -> None:
    assert "wss://ws.okx.com/ws/v5/public" == streams.ws_url()
    assert "wss://wspap.okx.com/ws/v5/public" == streams.ws_url(demo=True)
    # OKX "Demo Trading Services": the production REST host, with x-simulated-trading: 1
    assert "https://openapi.okx.com" == streams.rest_url(demo=True)
    assert {"x-simulated-trading": "1"} == streams.DEMO_HEADERS


def test_okx_channel_names() -> None:
    assert ["books", "books5", "bbo-tbt", "trades", "tickers"] == [
        streams.channel_name(c) for c in ("book", "book5", "bbo", "trades", "ticker")
    ]
    with pytest.raises(ValueError):
        streams.channel_name("candles")  # type: ignore[arg-type]


def test_okx_subscribe_frame_lists_channel_and_inst_id_once() -> None:
    frames = streams.subscribe_frames(
        [("book", "BTC-USDT"), ("trades", "BTC-USDT"), ("book", "BTC-USDT")], first_id=4
    )
    assert [
        (
            "4",
            {
                "id": "4",
                "op": "subscribe",
                "args": [
                    {"channel": "books", "instId": "BTC-USDT"},
                    {"channel": "trades", "instId": "BTC-USDT"},
                ],
            },
        )
    ] == [(i, json.loads(text)) for i, text in frames]


def test_okx_subscribe_frames_split_under_64_kb_of_args() -> None:
    subs = [("ticker", f"COIN{i:05d}-USDT") for i in range(3000)]
    frames = streams.subscribe_frames(subs)  # type: ignore[arg-type]
    bodies = [json.loads(text) for _, text in frames]
    assert len(bodies) > 1
    assert all(
        len(json.dumps(b["args"], separators=(",", ":"))) <= streams.ARGS_BYTES_LIMIT
        for b in bodies
    )
    assert 3000 == sum(len(b["args"]) for b in bodies)


def test_okx_unsubscribe_ping_and_rest_paths() -> None:
    ((_, text),) = streams.unsubscribe_frames([("bbo", "BTC-USDT-SWAP")])
    assert "unsubscribe" == json.loads(text)["op"]
    assert "ping" == streams.ping_frame()
    assert streams.PING_AFTER_S < 30
    assert "/api/v5/market/books?instId=BTC-USDT&sz=400" == streams.books_path("BTC-USDT")
    assert "/api/v5/public/instruments?instType=SWAP" == streams.instruments_path("SWAP")
    with pytest.raises(ValueError):
        streams.books_path("BTC-USDT", size=401)
