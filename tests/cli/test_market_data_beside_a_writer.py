"""The market-data commands run beside the program that trades: they leave its event
store alone, and a capture holds no account data."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from connector.cli import main
from connector.store.sqlite import open_sqlite
from tests.store.configs import STORE_NAME, okx_config


def _beside_a_writer(db: Path, argv: list[str]) -> int:
    async def hold_and_run() -> int:
        store = await open_sqlite(db)
        try:
            return await trio.to_thread.run_sync(main, argv)
        finally:
            await store.close()

    return trio.run(hold_and_run)


@pytest.mark.timeout(40)
def test_book_and_stream_run_while_another_program_writes_the_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(okx_config(tmp_path))
    db = tmp_path / STORE_NAME

    book = ["book", "okx", "BTC-USDT-PERP", "-c", config, "--duration", "2"]
    assert 0 == _beside_a_writer(db, book)
    assert "okx BTC-USDT-PERP" in capsys.readouterr().out

    stream = ["stream", "-c", config, "--topics", "orderbook.>", "--count", "3"]
    assert 0 == _beside_a_writer(db, stream)
    assert 3 == len(capsys.readouterr().out.splitlines())


@pytest.mark.timeout(40)
def test_stream_of_order_topics_trades_and_so_needs_the_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(okx_config(tmp_path))
    stream = ["stream", "-c", config, "--topics", "order.>", "--duration", "1"]

    assert 1 == _beside_a_writer(tmp_path / STORE_NAME, stream)
    assert "already open for writing" in capsys.readouterr().err


@pytest.mark.timeout(40)
def test_a_capture_holds_no_private_request(tmp_path: Path) -> None:
    config = str(okx_config(tmp_path))
    capture = tmp_path / "okx.jsonl"

    assert 0 == _beside_a_writer(
        tmp_path / STORE_NAME, ["record", str(capture), "-c", config, "--duration", "2"]
    )

    text = capture.read_text(encoding="utf-8")
    assert "/api/v5/market/" in text or "books" in text, "no market data was recorded"
    assert not [m for m in ("/api/v5/account/", "/api/v5/trade/", '\\"login\\"') if m in text]
