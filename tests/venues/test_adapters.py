"""The three venue drivers, through ``registry.driver_for``, on real-shaped input.

URLs are the venues' documented hosts; error bodies are the codes and messages
of the venues' docs (``_docs_extracts/errors_and_ratelimits.json``); REST bodies
are real captures (cryptofeed ``BINANCE.0``, ``OKX.0``, ``BYBIT-dev.jsonl.zst``).
"""

from __future__ import annotations

import io
import json
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import zstandard

from connector.errors import (
    AuthenticationFailed,
    ConfigError,
    ConnectorError,
    ExchangeRejected,
    IpBanned,
    LocalError,
    MalformedMessage,
    RateLimited,
    RemoteError,
    TimestampRejected,
    TransientError,
)
from connector.model import BookSnapshot, Instrument, Market, Symbol, SymbolKind
from connector.net.ratelimit import ENDPOINT
from connector.venues.bybit.orders import answer_error as bybit_answer_error
from connector.venues.common import SymbolMap
from connector.venues.driver import StreamSpec, VenueDriver
from connector.venues.registry import VENUES, driver_for
from tests.conftest import fixture_path

SPOT = Symbol.parse("BTC-USDT-SPOT")
PERP = Symbol.parse("BTC-USDT-PERP")
NATIVE = {
    "binance": {SPOT: "BTCUSDT", PERP: "BTCUSDT"},
    "bybit": {SPOT: "BTCUSDT", PERP: "BTCUSDT"},
    "okx": {SPOT: "BTC-USDT", PERP: "BTC-USDT-SWAP"},
}
PERP_MARKET = {"binance": Market.LINEAR, "bybit": Market.LINEAR, "okx": Market.SWAP}
ERRORS = "_docs_extracts/errors_and_ratelimits.json"


def _instrument(venue: str, symbol: Symbol, native_id: str | None = None) -> Instrument:
    adapter = driver_for(venue)
    return Instrument(
        venue=venue,
        symbol=symbol,
        native_id=native_id or NATIVE[venue][symbol],
        market=adapter.market_data.market_for(symbol),
        tick_size=Decimal("0.01"),
        lot_step=Decimal("0.001"),
        min_qty=Decimal("0.001"),
    )


def _specs(adapter: VenueDriver, instruments: list[Instrument]) -> list[StreamSpec]:
    return [
        spec
        for instrument in instruments
        for channel in ("book", "trades", "ticker", "bbo")
        for spec in adapter.market_data.streams(instrument.market, instrument, channel)
    ]


def _docs_errors() -> dict[str, object]:
    loaded: dict[str, object] = json.loads(fixture_path(ERRORS).read_text())
    return loaded


def _binance_message(code: str) -> str:
    binance = _docs_errors()["binance"]
    assert isinstance(binance, dict)
    message: str = binance["errors_md_codes"][code]["messages"][0]
    return message


def _bybit_message(code: str) -> str:
    bybit = _docs_errors()["bybit"]
    assert isinstance(bybit, dict)
    table = next(v for k, v in bybit.items() if k.startswith("error_codes"))
    message: str = table[code][-1]
    return message


# -- registry and markets -------------------------------------------------------


def test_registry_gives_a_fresh_adapter_named_after_each_venue() -> None:
    for venue in VENUES:
        first, second = driver_for(venue), driver_for(venue)
        assert venue == first.name
        assert first is not second
        assert first.market_data is not second.market_data


def test_registry_rejects_an_unknown_venue_with_a_config_error() -> None:
    with pytest.raises(ConfigError, match="kraken"):
        driver_for("kraken")


@pytest.mark.parametrize("venue", VENUES)
def test_market_for_maps_spot_and_perpetual_symbols_to_the_venue_markets(venue: str) -> None:
    adapter = driver_for(venue)
    assert Market.SPOT == adapter.market_data.market_for(SPOT)
    assert PERP_MARKET[venue] == adapter.market_data.market_for(PERP)


@pytest.mark.parametrize("venue", VENUES)
def test_market_for_rejects_dated_futures_with_a_config_error(venue: str) -> None:
    with pytest.raises(ConfigError):
        driver_for(venue).market_data.market_for(Symbol.parse("BTC-USD-FUT-20250328"))


# -- endpoints and connection plans ---------------------------------------------

LIVE = {
    "binance": {
        "spot.rest": "https://api.binance.com",
        "spot.ws": "wss://stream.binance.com:9443",
        "spot.wsapi": "wss://ws-api.binance.com:443/ws-api/v3",
        "linear.rest": "https://fapi.binance.com",
        "linear.ws": "wss://fstream.binance.com",
        "linear.wsapi": "wss://ws-fapi.binance.com/ws-fapi/v1",
    },
    "bybit": {
        "spot.rest": "https://api.bybit.com",
        "spot.ws": "wss://stream.bybit.com",
        "linear.rest": "https://api.bybit.com",
        "linear.ws": "wss://stream.bybit.com",
    },
    "okx": {
        "spot.rest": "https://openapi.okx.com",
        "spot.ws": "wss://ws.okx.com",
        "swap.rest": "https://openapi.okx.com",
        "swap.ws": "wss://ws.okx.com",
    },
}


@pytest.mark.parametrize("venue", VENUES)
def test_live_endpoints_are_the_venues_documented_hosts(venue: str) -> None:
    assert LIVE[venue] == dict(driver_for(venue).rest.endpoints("live"))


@pytest.mark.parametrize("venue", VENUES)
def test_testnet_endpoints_have_the_same_keys_and_other_hosts(venue: str) -> None:
    adapter = driver_for(venue)
    live, testnet = adapter.rest.endpoints("live"), adapter.rest.endpoints("testnet")
    # The USDⓈ-M testnet names its (unrouted) stream paths; live derives the routes.
    assert set(live) == set(testnet) - {"linear.ws.public", "linear.ws.market"}
    assert all(urlsplit(testnet[k]).scheme == urlsplit(live[k]).scheme for k in live)
    assert {k for k in live if k.endswith(".ws")} == {
        k for k in live if k.endswith(".ws") and testnet[k] != live[k]
    }


@pytest.mark.parametrize("venue", VENUES)
def test_endpoints_reject_an_unknown_environment(venue: str) -> None:
    with pytest.raises(ConfigError):
        driver_for(venue).rest.endpoints("staging")


def test_binance_plan_routes_usdm_streams_and_names_them_in_combined_stream_urls() -> None:
    adapter = driver_for("binance")
    specs = _specs(adapter, [_instrument("binance", SPOT), _instrument("binance", PERP)])

    plans = adapter.market_data.plan_connections(LIVE["binance"], specs)

    # USDⓈ-M since 2026-04-23: books, best bid/offer and trades on /public;
    # aggregate trades and tickers on /market. Spot is not routed.
    assert [
        "wss://stream.binance.com:9443/stream?streams="
        "btcusdt@depth@100ms/btcusdt@trade/btcusdt@ticker/btcusdt@bookTicker",
        "wss://fstream.binance.com/public/stream?streams=btcusdt@depth@100ms/btcusdt@bookTicker",
        "wss://fstream.binance.com/market/stream?streams=btcusdt@aggTrade/btcusdt@ticker",
    ] == [plan.url for plan in plans]
    assert [Market.SPOT, Market.LINEAR, Market.LINEAR] == [plan.market for plan in plans]
    assert all([] == adapter.market_data.subscribe_frames(plan) for plan in plans)


def test_binance_usdm_testnet_keeps_the_unrouted_paths() -> None:
    adapter = driver_for("binance")
    specs = _specs(adapter, [_instrument("binance", PERP)])

    plans = adapter.market_data.plan_connections(adapter.rest.endpoints("testnet"), specs)

    assert {"wss://fstream.binancefuture.com/stream"} == {p.url.split("?")[0] for p in plans}


def test_binance_plan_splits_more_than_200_streams_over_several_sockets() -> None:
    adapter = driver_for("binance")
    instruments = [
        _instrument("binance", Symbol(f"C{n}", "USDT", SymbolKind.SPOT), f"C{n}USDT")
        for n in range(60)
    ]
    specs = _specs(adapter, instruments)  # 240 streams

    plans = adapter.market_data.plan_connections(LIVE["binance"], specs)

    assert [200, 40] == [len(plan.streams) for plan in plans]
    assert specs == [s for plan in plans for s in plan.streams]
    for plan in plans:
        named = parse_qs(urlsplit(plan.url).query)["streams"][0].split("/")
        assert [s.name for s in plan.streams] == named


def test_bybit_plan_appends_the_public_path_of_each_market_and_subscribes_by_frame() -> None:
    adapter = driver_for("bybit")
    specs = _specs(adapter, [_instrument("bybit", SPOT), _instrument("bybit", PERP)])

    plans = adapter.market_data.plan_connections(LIVE["bybit"], specs)

    assert [
        "wss://stream.bybit.com/v5/public/spot",
        "wss://stream.bybit.com/v5/public/linear",
    ] == [plan.url for plan in plans]
    frames = [json.loads(f) for f in adapter.market_data.subscribe_frames(plans[0])]
    assert ["subscribe"] == [f["op"] for f in frames]
    assert [
        "orderbook.200.BTCUSDT",
        "publicTrade.BTCUSDT",
        "tickers.BTCUSDT",
        "orderbook.1.BTCUSDT",
    ] == [arg for f in frames for arg in f["args"]]


def test_bybit_subscribe_frames_stay_within_ten_topics_per_spot_request() -> None:
    adapter = driver_for("bybit")
    instruments = [
        _instrument("bybit", Symbol(f"C{n}", "USDT", SymbolKind.SPOT), f"C{n}USDT")
        for n in range(10)
    ]
    specs = _specs(adapter, instruments)
    (plan,) = adapter.market_data.plan_connections(LIVE["bybit"], specs)

    frames = [json.loads(f) for f in adapter.market_data.subscribe_frames(plan)]

    assert all(len(f["args"]) <= 10 for f in frames)
    assert [s.name for s in specs] == [arg for f in frames for arg in f["args"]]


def test_okx_plan_puts_every_market_on_one_public_socket() -> None:
    adapter = driver_for("okx")
    specs = _specs(adapter, [_instrument("okx", SPOT), _instrument("okx", PERP)])

    (plan,) = adapter.market_data.plan_connections(LIVE["okx"], specs)

    assert "wss://ws.okx.com/ws/v5/public" == plan.url
    (frame,) = [json.loads(f) for f in adapter.market_data.subscribe_frames(plan)]
    assert "subscribe" == frame["op"]
    assert [
        {"channel": "books", "instId": "BTC-USDT"},
        {"channel": "trades", "instId": "BTC-USDT"},
        {"channel": "tickers", "instId": "BTC-USDT"},
        {"channel": "bbo-tbt", "instId": "BTC-USDT"},
        {"channel": "books", "instId": "BTC-USDT-SWAP"},
        {"channel": "trades", "instId": "BTC-USDT-SWAP"},
        {"channel": "tickers", "instId": "BTC-USDT-SWAP"},
        {"channel": "bbo-tbt", "instId": "BTC-USDT-SWAP"},
    ] == frame["args"]


def test_plans_of_no_streams_open_no_socket() -> None:
    for venue in VENUES:
        assert [] == driver_for(venue).market_data.plan_connections({}, [])


@pytest.mark.parametrize(
    ("venue", "expected"),
    [
        (
            "bybit",
            [("unsubscribe", ["orderbook.200.BTCUSDT"]), ("subscribe", ["orderbook.200.BTCUSDT"])],
        ),
        (
            "okx",
            [
                ("unsubscribe", [{"channel": "books", "instId": "BTC-USDT"}]),
                ("subscribe", [{"channel": "books", "instId": "BTC-USDT"}]),
            ],
        ),
    ],
)
def test_resubscribe_frames_unsubscribe_then_subscribe_the_one_book_stream(
    venue: str, expected: list[tuple[str, list[object]]]
) -> None:
    adapter = driver_for(venue)
    instrument = _instrument(venue, SPOT)
    (book,) = adapter.market_data.streams(Market.SPOT, instrument, "book")

    frames = [json.loads(f) for f in adapter.market_data.resubscribe_frames(book)]

    assert expected == [(f["op"], f["args"]) for f in frames]
    if venue == "bybit":
        assert adapter.market_data.snapshot_call(Market.SPOT, instrument) is None
    else:
        # OKX resubscribes only where the venue pushes snapshots; none was seen
        # here, so the book's resync is the REST snapshot (tests/venues/okx/).
        call = adapter.market_data.snapshot_call(Market.SPOT, instrument)
        assert call is not None and "/api/v5/market/books" == call.path


@pytest.mark.parametrize(
    ("venue", "expected"),
    [
        (
            "binance",
            [
                {"method": "UNSUBSCRIBE", "params": ["btcusdt@depth@100ms", "btcusdt@trade"]},
                {"method": "SUBSCRIBE", "params": ["ethusdt@depth@100ms", "ethusdt@trade"]},
            ],
        ),
        (
            "bybit",
            [
                {"op": "unsubscribe", "args": ["orderbook.200.BTCUSDT", "publicTrade.BTCUSDT"]},
                {"op": "subscribe", "args": ["orderbook.200.ETHUSDT", "publicTrade.ETHUSDT"]},
            ],
        ),
        (
            "okx",
            [
                {
                    "op": "unsubscribe",
                    "args": [
                        {"channel": "books", "instId": "BTC-USDT"},
                        {"channel": "trades", "instId": "BTC-USDT"},
                    ],
                },
                {
                    "op": "subscribe",
                    "args": [
                        {"channel": "books", "instId": "ETH-USDT"},
                        {"channel": "trades", "instId": "ETH-USDT"},
                    ],
                },
            ],
        ),
    ],
)
def test_changing_an_open_sockets_streams_sends_the_venues_frames_and_replans_it(
    venue: str, expected: list[dict[str, object]]
) -> None:
    adapter = driver_for(venue).market_data
    eth = Symbol.parse("ETH-USDT-SPOT")
    native = NATIVE[venue][SPOT].replace("BTC", "ETH")
    btc, added = (
        [s for ch in ("book", "trades") for s in adapter.streams(Market.SPOT, i, ch)]
        for i in (_instrument(venue, SPOT), _instrument(venue, eth, native))
    )
    (plan,) = adapter.plan_connections(LIVE[venue], btc)

    changed, frames = adapter.change_streams(plan, added, btc)

    assert expected == [
        {k: v for k, v in json.loads(f).items() if k in ("method", "params", "op", "args")}
        for f in frames
    ]
    assert added == list(changed.streams)
    # What a reconnect subscribes: the new set (Binance names it in the URL).
    (replanned,) = adapter.plan_connections(LIVE[venue], added)
    assert replanned.url == changed.url
    assert adapter.subscribe_frames(replanned) == adapter.subscribe_frames(changed)


def test_binance_resyncs_from_a_rest_depth_snapshot_not_a_resubscription() -> None:
    adapter = driver_for("binance")
    instrument = _instrument("binance", PERP)
    (book,) = adapter.market_data.streams(Market.LINEAR, instrument, "book")

    call = adapter.market_data.snapshot_call(Market.LINEAR, instrument)

    assert [] == adapter.market_data.resubscribe_frames(book)
    assert call is not None
    assert "/fapi/v1/depth" == call.path
    assert {"symbol": "BTCUSDT", "limit": "1000"} == {k: str(v) for k, v in call.params.items()}


def test_bybit_rejects_a_channel_it_does_not_have() -> None:
    adapter = driver_for("bybit")
    with pytest.raises(ConfigError):
        adapter.market_data.streams(Market.SPOT, _instrument("bybit", SPOT), "funding")


def test_heartbeats_follow_each_venues_rule() -> None:
    binance = driver_for("binance").market_data.heartbeat(Market.SPOT)
    bybit = driver_for("bybit").market_data.heartbeat(Market.SPOT)
    okx = driver_for("okx").market_data.heartbeat(Market.SPOT)

    assert binance.ping is None  # Binance pings; the websocket layer answers
    assert ('{"op":"ping"}', 20.0) == (bybit.ping, bybit.interval)
    assert "ping" == okx.ping
    assert okx.interval < 30.0  # OKX drops a socket silent for 30 s


# -- REST errors ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("-1121", ExchangeRejected),
        ("-2015", AuthenticationFailed),
        ("-1003", RateLimited),
        ("-1021", TimestampRejected),
    ],
)
def test_binance_rest_error_maps_documented_codes(
    code: str, expected: type[ConnectorError]
) -> None:
    message = _binance_message(code)
    body = json.dumps({"code": int(code), "msg": message}).encode()

    error = driver_for("binance").rest.rest_error(400, body)

    assert expected is type(error)
    if isinstance(error, ExchangeRejected):
        assert (int(code), message) == (error.code, error.venue_message)
    else:
        assert code in str(error)


def test_binance_rest_error_ignores_success_and_unreadable_bodies() -> None:
    adapter = driver_for("binance")
    assert adapter.rest.rest_error(200, b'{"serverTime":1}') is None
    assert adapter.rest.rest_error(502, b"<html>bad gateway</html>") is None


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("10006", RateLimited),
        ("10003", AuthenticationFailed),
        ("110004", ExchangeRejected),
        ("10002", TimestampRejected),
    ],
)
def test_bybit_rest_error_maps_documented_codes_in_http_200_bodies(
    code: str, expected: type[ConnectorError]
) -> None:
    message = _bybit_message(code)
    body = json.dumps(
        {"retCode": int(code), "retMsg": message, "result": {}, "retExtInfo": {}, "time": 1}
    ).encode()

    error = driver_for("bybit").rest.rest_error(200, body)

    assert expected is type(error)
    if isinstance(error, RateLimited):
        assert error.retry_after is not None and error.retry_after > 0
    if isinstance(error, ExchangeRejected):
        assert (int(code), message) == (error.code, error.venue_message)


def test_bybit_rest_error_is_none_for_ret_code_zero() -> None:
    body = b'{"retCode":0,"retMsg":"OK","result":{},"retExtInfo":{},"time":1}'
    assert driver_for("bybit").rest.rest_error(200, body) is None


@pytest.mark.parametrize(
    ("code", "message", "expected"),
    [
        ("50011", "Rate limit reached. Please refer to API documentation", RateLimited),
        ("51001", "Instrument ID does not exist", ExchangeRejected),
        ("50113", "Invalid signature", AuthenticationFailed),
        ("50102", "Timestamp request expired", TimestampRejected),
    ],
)
def test_okx_rest_error_maps_codes(code: str, message: str, expected: type[ConnectorError]) -> None:
    body = json.dumps({"code": code, "msg": message, "data": []}).encode()

    error = driver_for("okx").rest.rest_error(200, body)

    assert expected is type(error)
    if isinstance(error, ExchangeRejected):
        assert (code, message) == (error.code, error.venue_message)


def test_okx_rest_error_is_none_for_code_zero() -> None:
    assert driver_for("okx").rest.rest_error(200, b'{"code":"0","msg":"","data":[]}') is None


@pytest.mark.parametrize(
    ("venue", "body"),
    [
        (
            "binance",
            b'{"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."}',
        ),
        ("bybit", b'{"retCode":10002,"retMsg":"The request time exceeds the time window range."}'),
        ("okx", b'{"code":"50102","msg":"Timestamp request expired","data":[]}'),
    ],
)
def test_timestamp_rejections_carry_the_code_and_are_remote_not_retryable_as_is(
    venue: str, body: bytes
) -> None:
    error = driver_for(venue).rest.rest_error(400 if venue == "binance" else 200, body)

    assert isinstance(error, TimestampRejected)
    assert isinstance(error, RemoteError)
    assert not isinstance(error, (AuthenticationFailed, TransientError))
    assert venue == error.venue
    assert str(error.code) in body.decode()


@pytest.mark.parametrize(
    ("venue", "status", "body", "expected"),
    [
        ("okx", 200, {"code": "50110", "msg": "Your IP 1.2.3.4 is not included in your API key's "
                      "IP whitelist."}, AuthenticationFailed),
        ("okx", 200, {"code": "50106", "msg": 'Request header "OK-ACCESS-SIGN" cannot be empty.'},
         AuthenticationFailed),
        ("okx", 200, {"code": "50112", "msg": "Invalid OK-ACCESS-TIMESTAMP"}, TimestampRejected),
        ("okx", 200, {"code": "50061", "msg": "Sub-account rate limit exceeded."}, RateLimited),
        ("bybit", 200, {"retCode": 10010, "retMsg": "Unmatched IP, please check your API key's "
                        "bound IP addresses."}, AuthenticationFailed),
        ("bybit", 200, {"retCode": 10429, "retMsg": "System level frequency protection"},
         RateLimited),
        ("bybit", 200, {"retCode": 10009, "retMsg": "IP has been banned."}, IpBanned),
        ("binance", 401, {"code": -1002, "msg": "You are not authorized to execute this request."},
         AuthenticationFailed),
        ("binance", 400, {"code": -5028, "msg": "Timestamp for this request is outside of the ME "
                          "recvWindow."}, TimestampRejected),
        ("binance", 503, {"code": -1008, "msg": "Request throttled by system-level protection."},
         RateLimited),
    ],
)  # fmt: skip
def test_rest_errors_of_any_request_know_every_code_order_answers_know(
    venue: str, status: int, body: dict[str, object], expected: type[ConnectorError]
) -> None:
    # A checked read (a reconciliation, a listenKey) meets the same codes as an order.
    error = driver_for(venue).rest.rest_error(status, json.dumps(body).encode())

    assert expected is type(error)
    if isinstance(error, IpBanned):
        assert 600.0 == error.retry_after  # all REST to the host stops, as for a 403
        order = bybit_answer_error(status, 10009, "IP has been banned.", action="place")
        assert isinstance(order, IpBanned) and 600.0 == order.retry_after


@pytest.mark.parametrize("venue", ["binance", "bybit", "okx"])
def test_a_venue_code_means_the_same_on_order_answers_and_on_other_requests(venue: str) -> None:
    if venue == "binance":
        from connector.venues.binance import orders as binance

        codes: frozenset[int | str] = (
            binance.TIMESTAMP_CODES | binance.AUTH_CODES | binance.RATE_CODES
        )

        def order_answer(code: int | str) -> ConnectorError | None:
            assert isinstance(code, int)
            return binance.classify_error(400, code, "m", action="query", client_order_id="x")

        def body(code: int | str) -> bytes:
            return json.dumps({"code": code, "msg": "m"}).encode()
    else:
        from connector.venues.bybit.orders import ERRORS as BYBIT
        from connector.venues.okx.orders import ERRORS as OKX

        errors = BYBIT if venue == "bybit" else OKX
        codes = errors.timestamp | errors.auth | errors.rate

        def order_answer(code: int | str) -> ConnectorError | None:
            return errors.error(200, code, "m")

        def body(code: int | str) -> bytes:
            key = ("retCode", "retMsg") if venue == "bybit" else ("code", "msg")
            return json.dumps({key[0]: code, key[1]: "m"}).encode()

    status = 400 if venue == "binance" else 200
    for code in sorted(codes, key=str):
        other = driver_for(venue).rest.rest_error(status, body(code))
        assert type(order_answer(code)) is type(other), code


def test_rest_snapshot_parsing_on_a_resubscribe_venue_is_a_local_misuse() -> None:
    adapter = driver_for("bybit").market_data
    instrument = _instrument("bybit", SPOT)

    with pytest.raises(LocalError, match="resubscribing"):
        adapter.parse_snapshot(Market.SPOT, instrument, b"{}", 0)


# -- rate-limit headers ---------------------------------------------------------


def test_binance_limit_headers_turn_used_weight_into_tokens_left() -> None:
    adapter = driver_for("binance")
    assert {"weight": 6000.0 - 120} == adapter.rest.limit_headers(
        Market.SPOT, {"x-mbx-used-weight-1m": "120", "Content-Type": "application/json"}
    )
    assert {"weight": 2400.0 - 5} == adapter.rest.limit_headers(
        Market.LINEAR, {"X-MBX-USED-WEIGHT-1M": "5"}
    )
    assert {} == adapter.rest.limit_headers(Market.SPOT, {"x-mbx-used-weight-1m": "lots"})
    assert {} == adapter.rest.limit_headers(Market.SPOT, {})


def test_bybit_limit_headers_read_the_docs_example() -> None:
    bybit = _docs_errors()["bybit"]
    assert isinstance(bybit, dict)
    example = next(v for k, v in bybit.items() if k.startswith("rate_limit_response_header"))
    headers = dict(
        line.split(": ", 1) for line in example.splitlines() if line.startswith("X-Bapi")
    )

    assert {ENDPOINT: 9.0} == driver_for("bybit").rest.limit_headers(Market.SPOT, headers)


def test_okx_sends_no_limit_headers_to_read() -> None:
    assert {} == driver_for("okx").rest.limit_headers(Market.SPOT, {"x-bapi-limit-status": "9"})


# -- server time ----------------------------------------------------------------


def test_parse_server_time_reads_each_venues_body_in_nanoseconds() -> None:
    binance = b'{"serverTime":1754603741167}'
    bybit = (
        b'{"retCode":0,"retMsg":"OK","result":{"timeSecond":"1688639403",'
        b'"timeNano":"1688639403423213947"},"retExtInfo":{},"time":1688639403423}'
    )
    okx = b'{"code":"0","data":[{"ts":"1597026383085"}],"msg":""}'

    assert 1754603741167_000_000 == driver_for("binance").rest.parse_server_time(binance)
    assert 1688639403423213947 == driver_for("bybit").rest.parse_server_time(bybit)
    assert 1597026383085_000_000 == driver_for("okx").rest.parse_server_time(okx)


@pytest.mark.parametrize("venue", VENUES)
def test_parse_server_time_raises_malformed_message_on_a_bad_body(venue: str) -> None:
    with pytest.raises(MalformedMessage):
        driver_for(venue).rest.parse_server_time(b'{"unexpected":true}')


def test_server_time_calls_use_the_documented_paths() -> None:
    assert "/api/v3/time" == driver_for("binance").rest.server_time_call(Market.SPOT).path
    assert "/fapi/v1/time" == driver_for("binance").rest.server_time_call(Market.LINEAR).path
    assert "/v5/market/time" == driver_for("bybit").rest.server_time_call(Market.SPOT).path
    assert "/api/v5/public/time" == driver_for("okx").rest.server_time_call(Market.SWAP).path


# -- instruments from ids alone (replay) ----------------------------------------


def test_guess_instrument_builds_canonical_symbols_from_native_ids() -> None:
    binance, bybit, okx = (driver_for(v).market_data for v in VENUES)

    guessed = [
        binance.guess_instrument(Market.LINEAR, "BTCUSDT"),
        binance.guess_instrument(Market.SPOT, "ETHBTC"),
        bybit.guess_instrument(Market.SPOT, "SOLUSDT"),
        okx.guess_instrument(Market.SPOT, "BTC-USDT-SWAP"),
        okx.guess_instrument(Market.SPOT, "ETH-USDT"),
    ]

    assert [
        ("BTC-USDT-PERP", Market.LINEAR),
        ("ETH-BTC-SPOT", Market.SPOT),
        ("SOL-USDT-SPOT", Market.SPOT),
        ("BTC-USDT-PERP", Market.SWAP),
        ("ETH-USDT-SPOT", Market.SPOT),
    ] == [(str(i.symbol), i.market) for i in guessed if i is not None]


def test_guess_instrument_gives_none_for_ids_it_cannot_read() -> None:
    assert driver_for("binance").market_data.guess_instrument(Market.SPOT, "XYZ") is None
    assert (
        driver_for("okx").market_data.guess_instrument(Market.SPOT, "BTC-USD-220527-30000-C")
        is None
    )
    assert driver_for("okx").market_data.guess_instrument(Market.SPOT, "nonsense") is None


# -- captured REST bodies -------------------------------------------------------


def _cryptofeed_text_rest(name: str) -> list[tuple[str, bytes]]:
    out = []
    for line in fixture_path(f"cryptofeed/master/sample_data/{name}").read_text().splitlines():
        url, sep, rest = line.partition(" -> ")
        if sep:
            out.append((url, rest.partition(": ")[2].encode()))
    return out


def test_binance_read_captured_rest_loads_the_2021_exchange_info() -> None:
    adapter = driver_for("binance")
    ((url, body),) = _cryptofeed_text_rest("BINANCE.0")

    found = adapter.market_data.read_captured_rest(url, body, SymbolMap("binance"), 1)

    instruments = [i for i in found if isinstance(i, Instrument)]
    assert len(found) == len(instruments) > 1000
    btc = next(i for i in instruments if i.native_id == "BTCUSDT")
    assert (SPOT, Market.SPOT) == (btc.symbol, btc.market)


def test_binance_read_captured_rest_turns_a_depth_body_into_a_snapshot() -> None:
    adapter = driver_for("binance")
    symbols = SymbolMap("binance")
    ((url, body),) = _cryptofeed_text_rest("BINANCE.0")
    symbols.extend(
        i
        for i in adapter.market_data.read_captured_rest(url, body, symbols, 1)
        if isinstance(i, Instrument)
    )
    depth_url, depth_body = _cryptofeed_text_rest("BINANCE.http.0.0")[0]

    (snapshot,) = adapter.market_data.read_captured_rest(depth_url, depth_body, symbols, 7)

    assert isinstance(snapshot, BookSnapshot)
    assert (Symbol.parse("NKN-USDT-SPOT"), 499869752, 7) == (
        snapshot.symbol,
        snapshot.seq,
        snapshot.ts_recv_ns,
    )
    assert snapshot.bids and snapshot.asks


def test_okx_read_captured_rest_loads_each_instrument_type() -> None:
    adapter = driver_for("okx")
    markets: set[Market] = set()
    for url, body in _cryptofeed_text_rest("OKX.0"):
        for item in adapter.market_data.read_captured_rest(url, body, SymbolMap("okx"), 1):
            assert isinstance(item, Instrument)
            markets.add(item.market)

    assert {Market.SPOT, Market.SWAP, Market.FUTURES} == markets


def test_okx_read_captured_rest_ignores_bodies_it_does_not_use() -> None:
    body = b'{"code":"0","data":[{"ts":"1597026383085"}],"msg":""}'
    assert [] == driver_for("okx").market_data.read_captured_rest(
        "https://www.okx.com/api/v5/public/time", body, SymbolMap("okx"), 1
    )


def test_bybit_read_captured_rest_loads_the_v3_instrument_lists() -> None:
    path = fixture_path("cryptofeed/v3/sample_data/BYBIT-dev.jsonl.zst")
    with path.open("rb") as fh:
        text = io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(fh)).read()
    http = [r for r in map(json.loads, text.splitlines()) if r["t"] == "http"]
    adapter = driver_for("bybit")

    loaded = {
        record["url"].split("category=")[1].split("&")[0]: adapter.market_data.read_captured_rest(
            record["url"], record["data"].encode(), SymbolMap("bybit"), 1
        )
        for record in http
    }

    assert {"linear", "spot"} == set(loaded)
    linear = {i.native_id: i for i in loaded["linear"] if isinstance(i, Instrument)}
    spot = {i.native_id: i for i in loaded["spot"] if isinstance(i, Instrument)}
    assert (PERP, Market.LINEAR) == (linear["BTCUSDT"].symbol, linear["BTCUSDT"].market)
    assert (SPOT, Market.SPOT) == (spot["BTCUSDT"].symbol, spot["BTCUSDT"].market)
