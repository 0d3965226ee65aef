"""TLS mode: https:// and wss:// signed by a certificate authority made per run."""

from __future__ import annotations

import json
import ssl

import httpx
import pytest
import trio
from trio_websocket import open_websocket_url

from connector import sim
from connector.errors import ConnectionLost
from connector.net.http import RestClient
from connector.net.ws_transport import WsClientTransport

STREAM = "/ws/btcusdt@depth@100ms"


async def test_a_tls_run_serves_rest_and_websockets_to_clients_trusting_its_ca() -> None:
    with trio.fail_after(20):
        async with sim.run(venues=("binance",), tls=True, rate=50.0) as s:
            urls = s.urls["binance"]
            assert s.ca_file is not None
            assert await trio.Path(s.ca_file).exists()
            context = ssl.create_default_context(cafile=s.ca_file)
            async with httpx.AsyncClient(verify=context) as client:
                ping = await client.get(urls["spot.rest"] + "/api/v3/ping")
            async with open_websocket_url(urls["spot.ws"] + STREAM, ssl_context=context) as ws:
                frame = json.loads(await ws.get_message())
            ca_file = s.ca_file
    assert urls["spot.rest"].startswith("https://127.0.0.1:")
    assert urls["spot.ws"] == urls["spot.rest"].replace("https://", "wss://")
    assert urls["linear.ws"].startswith("wss://")
    assert (200, {}) == (ping.status_code, ping.json())
    assert "depthUpdate" == frame["e"]
    assert not await trio.Path(ca_file).exists(), "the run's CA is deleted when the run ends"


async def test_a_client_that_does_not_trust_the_run_ca_is_refused() -> None:
    with trio.fail_after(20):
        async with sim.run(venues=("binance",), tls=True, paused=True) as s:
            url = s.urls["binance"]["spot.rest"]
            with pytest.raises(httpx.ConnectError) as info:
                async with httpx.AsyncClient() as client:
                    await client.get(url + "/api/v3/ping")
            untrusting = WsClientTransport(connect_timeout=1.0)
            with pytest.raises(ConnectionLost, match="CERTIFICATE_VERIFY_FAILED"):
                async with untrusting.connect(s.urls["binance"]["spot.ws"] + STREAM):
                    pass
    causes = []
    error: BaseException | None = info.value
    while error is not None:
        causes.append(error)
        error = error.__cause__ or error.__context__
    assert any(isinstance(c, ssl.SSLCertVerificationError) for c in causes)


async def test_our_rest_client_and_websocket_transport_trust_a_ca_file() -> None:
    with trio.fail_after(20):
        async with sim.run(venues=("okx",), tls=True, rate=50.0) as s:
            urls = s.urls["okx"]
            context = s.ssl_context()
            client = RestClient("okx", urls["spot.rest"], verify=context)
            try:
                answer = await client.get("/api/v5/public/time")
            finally:
                await client.aclose()
            transport = WsClientTransport(ssl_context=context)
            async with transport.connect(urls["spot.ws"] + "/ws/v5/public") as ws:
                await ws.send(
                    json.dumps(
                        {"op": "subscribe", "args": [{"channel": "trades", "instId": "BTC-USDT"}]}
                    )
                )
                reply = json.loads(await ws.receive())
    assert 200 == answer.status
    assert "0" == json.loads(answer.body)["code"]
    assert "subscribe" == reply["event"]


async def test_ssl_context_of_a_plain_run_is_refused() -> None:
    with trio.fail_after(10):
        async with sim.run(venues=("binance",), paused=True) as s:
            assert s.ca_file is None
            assert s.urls["binance"]["spot.rest"].startswith("http://")
            with pytest.raises(ValueError, match="does not serve TLS"):
                s.ssl_context()


async def test_serve_standalone_with_tls_prints_the_ca_file_in_its_json_line() -> None:
    lines: list[str] = []
    with trio.fail_after(20):
        async with trio.open_nursery() as nursery:
            urls = await nursery.start(
                lambda task_status: sim.serve_standalone(
                    ["--venues", "bybit", "--bases", "BTC", "--rate", "20", "--tls"],
                    out=lines.append,
                    task_status=task_status,
                )
            )
            first = json.loads(lines[0])
            context = ssl.create_default_context(cafile=first["ca_file"])
            async with httpx.AsyncClient(verify=context) as client:
                answer = await client.get(urls["bybit"]["linear.rest"] + "/v5/market/time")
            truth = await sim.fetch_truth(first["truth"]["bybit"], verify=context)
            nursery.cancel_scope.cancel()
    assert {"bybit", "truth", "ca_file"} == set(first)
    assert first["truth"]["bybit"].startswith("https://")
    assert ("bybit-demo",) == truth.accounts()
    assert urls["bybit"].items() <= first["bybit"].items()
    assert first["bybit"]["spot.ws"].startswith("wss://")
    assert 200 == answer.status_code
