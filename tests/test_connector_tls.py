"""``[sim] tls``: the in-process simulator serves https/wss and only the Connector trusts it."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx
import pytest
import trio

from connector import Connector, load_config
from connector.model import BookUpdate

TIMEOUT = 30


async def test_a_connector_makes_its_books_valid_over_tls_to_its_own_simulator(
    tmp_path: Path,
) -> None:
    path = tmp_path / "tls.toml"
    path.write_text(
        '[sim]\ntls = true\n\n[venues.okx]\nendpoint = "sim"\nsymbols = ["BTC-USDT-SPOT"]\n'
    )
    with trio.fail_after(TIMEOUT):
        async with Connector(load_config(path)) as c:
            assert c.simulator is not None
            urls = c.simulator.urls["okx"]
            async with c.subscribe("orderbook.okx.>") as books:
                async for update in books:
                    assert isinstance(update, BookUpdate)
                    if update.state.valid:
                        break
            trusting = c.simulator.ssl_context()
            async with httpx.AsyncClient(verify=trusting) as client:
                trusted = await client.get(urls["spot.rest"] + "/api/v5/public/time")
            async with httpx.AsyncClient() as client:
                with pytest.raises(httpx.ConnectError) as refused:
                    await client.get(urls["spot.rest"] + "/api/v5/public/time")
        files_left = c.simulator.ssl_context() is not None

    assert urls["spot.rest"].startswith("https://")
    assert urls["spot.ws"].startswith("wss://")
    assert isinstance(trusting, ssl.SSLContext)
    assert 200 == trusted.status_code
    assert any(isinstance(e, ssl.SSLCertVerificationError) for e in _chain(refused.value))
    assert not files_left  # the certificate authority is gone with the Connector


def _chain(exc: BaseException | None) -> list[BaseException]:
    seen: list[BaseException] = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


def test_config_check_refuses_a_tls_value_that_is_not_a_boolean(tmp_path: Path) -> None:
    from connector.errors import ConfigError

    path = tmp_path / "bad.toml"
    path.write_text('[sim]\ntls = "yes"\n')
    with pytest.raises(ConfigError, match="tls"):
        load_config(path)
