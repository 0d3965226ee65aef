from __future__ import annotations

import json

import pytest

from connector.model import Market
from connector.venues.bybit import streams


def test_bybit_ws_urls_per_market_and_testnet() -> None:
    assert "wss://stream.bybit.com/v5/public/spot" == streams.ws_url(Market.SPOT)
    assert "wss://stream.bybit.com/v5/public/linear" == streams.ws_url(Market.LINEAR)
    assert "wss://stream-testnet.bybit.com/v5/public/linear" == streams.ws_url(
        Market.LINEAR, testnet=True
    )
    assert "https://api-testnet.bybit.com" == streams.rest_url(testnet=True)


def test_bybit_topics_for_each_channel() -> None:
    assert "orderbook.200.BTCUSDT" == streams.topic("book", "BTCUSDT")
    assert "orderbook.1000.BTCUSDT" == streams.topic("book", "BTCUSDT", depth=1000)
    assert "orderbook.1.BTCUSDT" == streams.topic("bbo", "BTCUSDT")
    assert "publicTrade.BTCUSDT" == streams.topic("trades", "BTCUSDT")
    assert "tickers.BTCUSDT" == streams.topic("ticker", "BTCUSDT")
    assert ("book", "BTCUSDT") == streams.topic_channel("orderbook.200.BTCUSDT")
    assert ("bbo", "ETHUSDT") == streams.topic_channel("orderbook.1.ETHUSDT")
    assert streams.topic_channel("kline.1.BTCUSDT") is None


def test_bybit_topic_rejects_unknown_depth() -> None:
    with pytest.raises(ValueError):
        streams.topic("book", "BTCUSDT", depth=25)


def test_bybit_spot_subscribe_frames_carry_at_most_ten_args() -> None:
    topics = [f"publicTrade.COIN{i}USDT" for i in range(23)]
    frames = streams.subscribe_frames(topics, market=Market.SPOT, first_req_id=7)
    bodies = [json.loads(text) for _, text in frames]
    assert [10, 10, 3] == [len(b["args"]) for b in bodies]
    assert ["7", "8", "9"] == [req_id for req_id, _ in frames]
    assert ["7", "8", "9"] == [b["req_id"] for b in bodies]
    assert {"subscribe"} == {b["op"] for b in bodies}
    assert topics == [t for b in bodies for t in b["args"]]


def test_bybit_linear_subscribe_frames_split_only_by_length() -> None:
    topics = [f"orderbook.200.COIN{i:05d}USDT" for i in range(1000)]
    frames = streams.subscribe_frames(topics, market=Market.LINEAR)
    bodies = [json.loads(text) for _, text in frames]
    assert all(sum(map(len, b["args"])) <= streams.ARGS_CHARS_LIMIT for b in bodies)
    assert 2 == len(bodies)
    assert topics == [t for b in bodies for t in b["args"]]


def test_bybit_unsubscribe_and_ping_frames() -> None:
    ((_, text),) = streams.unsubscribe_frames(["tickers.BTCUSDT"], market=Market.LINEAR)
    assert {"req_id": "1", "op": "unsubscribe", "args": ["tickers.BTCUSDT"]} == json.loads(text)
    assert {"op": "ping"} == json.loads(streams.ping_frame())
    assert {"req_id": "p1", "op": "ping"} == json.loads(streams.ping_frame("p1"))
    assert 20.0 == streams.PING_INTERVAL_S


def test_bybit_rest_paths() -> None:
    assert "/v5/market/instruments-info?category=linear&limit=1000&cursor=abc" == (
        streams.instruments_path(Market.LINEAR, cursor="abc")
    )
