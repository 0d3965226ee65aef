from __future__ import annotations

import json

import pytest

from connector.errors import ConfigError
from connector.model import Market
from connector.venues.binance.streams import (
    DEPTH_PATH,
    MAX_STREAMS_PER_CONNECTION,
    SNAPSHOT_LIMIT,
    Endpoints,
    RequestIds,
    combined_stream_url,
    depth_params,
    depth_weight,
    endpoints,
    list_subscriptions_frame,
    shard_streams,
    stream_name,
    subscribe_frame,
    unsubscribe_frame,
)


def test_endpoints_for_live_and_testnet() -> None:
    assert Endpoints("https://api.binance.com", "wss://stream.binance.com:9443") == endpoints(
        Market.SPOT
    )
    assert "wss://fstream.binance.com" == endpoints(Market.LINEAR).ws
    assert "https://testnet.binancefuture.com" == endpoints(Market.LINEAR, testnet=True).rest
    assert "https://testnet.binance.vision" == endpoints(Market.SPOT, testnet=True).rest
    with pytest.raises(ConfigError):
        endpoints(Market.SWAP)


@pytest.mark.parametrize(
    ("channel", "market", "expected"),
    [
        ("book", Market.SPOT, "btcusdt@depth@100ms"),
        ("book", Market.LINEAR, "btcusdt@depth@100ms"),
        ("trades", Market.SPOT, "btcusdt@trade"),
        ("trades", Market.LINEAR, "btcusdt@aggTrade"),
        ("agg_trades", Market.SPOT, "btcusdt@aggTrade"),
        ("ticker", Market.SPOT, "btcusdt@ticker"),
        ("bbo", Market.LINEAR, "btcusdt@bookTicker"),
        ("depth20", Market.SPOT, "btcusdt@depth20@100ms"),
    ],
)
def test_stream_names_per_channel(channel: str, market: Market, expected: str) -> None:
    assert expected == stream_name(channel, "BTCUSDT", market)


def test_stream_name_speeds_and_unknown_channels() -> None:
    assert "btcusdt@depth" == stream_name("book", "BTCUSDT", Market.SPOT, speed_ms=1000)
    assert "btcusdt@depth@500ms" == stream_name("book", "BTCUSDT", Market.LINEAR, speed_ms=500)
    with pytest.raises(ConfigError):
        stream_name("book", "BTCUSDT", Market.SPOT, speed_ms=500)
    with pytest.raises(ConfigError, match="kline"):
        stream_name("kline", "BTCUSDT", Market.SPOT)


def test_subscribe_frames_carry_method_params_and_id() -> None:
    ids = RequestIds()
    assert {"method": "SUBSCRIBE", "params": ["a@trade", "b@trade"], "id": 1} == json.loads(
        subscribe_frame(["a@trade", "b@trade"], next(ids))
    )
    assert {"method": "UNSUBSCRIBE", "params": ["a@trade"], "id": 2} == json.loads(
        unsubscribe_frame(["a@trade"], next(ids))
    )
    assert {"method": "LIST_SUBSCRIPTIONS", "id": 3} == json.loads(
        list_subscriptions_frame(next(ids))
    )


def test_shard_streams_respects_the_limit_and_removes_duplicates() -> None:
    streams = [f"s{i}@trade" for i in range(2500)] + ["s0@trade"]
    shards = shard_streams(streams)
    assert [1024, 1024, 452] == [len(s) for s in shards]
    assert streams[:2500] == [s for shard in shards for s in shard]
    assert [["a", "b"], ["c"]] == shard_streams(["a", "b", "a", "c"], 2)
    assert [] == shard_streams([])
    assert 1024 == MAX_STREAMS_PER_CONNECTION
    with pytest.raises(ValueError, match="positive"):
        shard_streams(["a"], 0)


def test_combined_stream_url() -> None:
    assert "wss://x/stream" == combined_stream_url("wss://x")
    assert "wss://x/stream?streams=a@trade/b@trade" == combined_stream_url(
        "wss://x", ["a@trade", "b@trade"]
    )


@pytest.mark.parametrize(
    ("market", "limit", "weight"),
    [
        (Market.SPOT, 100, 5),
        (Market.SPOT, 101, 25),
        (Market.SPOT, 500, 25),
        (Market.SPOT, 1000, 50),
        (Market.SPOT, 5000, 250),
        (Market.LINEAR, 5, 2),
        (Market.LINEAR, 50, 2),
        (Market.LINEAR, 100, 5),
        (Market.LINEAR, 500, 10),
        (Market.LINEAR, 1000, 20),
    ],
)
def test_depth_weight_by_limit(market: Market, limit: int, weight: int) -> None:
    assert weight == depth_weight(market, limit)


def test_depth_weight_rejects_limits_the_venue_refuses() -> None:
    with pytest.raises(ConfigError):
        depth_weight(Market.SPOT, 5001)
    with pytest.raises(ConfigError):
        depth_weight(Market.LINEAR, 200)


def test_depth_request_defaults_to_the_snapshot_limit() -> None:
    assert "/fapi/v1/depth" == DEPTH_PATH[Market.LINEAR]
    assert {"symbol": "BTCUSDT", "limit": "1000"} == depth_params("btcusdt")
    assert 1000 == SNAPSHOT_LIMIT
