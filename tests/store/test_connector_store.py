"""Which Connectors open the configured event store."""

from __future__ import annotations

from pathlib import Path

import trio

from connector import Connector, load_config, sim

TIMEOUT = 30


async def test_a_connector_that_trades_nowhere_opens_no_store(tmp_path: Path) -> None:
    with trio.fail_after(TIMEOUT):
        async with sim.run(venues=("okx",), rate=20.0) as running:
            urls = running.urls["okx"]
            table = "".join(f'"{k}" = "{v}"\n' for k, v in urls.items() if isinstance(v, str))
            path = tmp_path / "data-only.toml"
            path.write_text(
                '[venues.okx]\nendpoint = "custom"\nsymbols = ["BTC-USDT-SPOT"]\n'
                f"[venues.okx.urls]\n{table}"
            )
            config = load_config(path)
            async with Connector(config) as c:
                assert c.order_book("okx", "BTC-USDT-SPOT") is not None

    assert "sqlite" == config.storage.store  # a config file persists when it trades...
    assert not (tmp_path / "connector.sqlite").exists()  # ...this one does not trade
