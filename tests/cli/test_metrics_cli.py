"""``connector metrics``: the exposition once, after the books are valid; usage errors exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from connector.cli import main


def _config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "connector.toml"
    path.write_text(
        '[venues.binance]\nendpoint = "sim"\nsymbols = ["BTC-USDT-PERP"]\nchannels = ["book"]\n'
        "[venues.bybit]\nenabled = false\n[venues.okx]\nenabled = false\n"
        '[storage]\nkind = "memory"\n' + extra,
        encoding="utf-8",
    )
    return path


def test_metrics_prints_an_exposition_with_the_book_valid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The [metrics] endpoint is not opened by this command: a port in the file is fine.
    path = _config(tmp_path, '[metrics]\nlisten = "127.0.0.1:0"\n')

    assert 0 == main(["metrics", "-c", str(path), "--wait", "30"])

    families = {f.name: f for f in text_string_to_metric_families(capsys.readouterr().out)}
    [valid] = [s for s in families["connector_book_state"].samples if s.labels["state"] == "valid"]
    assert ({"venue": "binance", "symbol": "BTC-USDT-PERP", "state": "valid"}, 1.0) == (
        valid.labels,
        valid.value,
    )
    assert "counter" == families["connector_feed_frames"].type
    assert "histogram" == families["connector_order_round_trip_seconds"].type


def test_metrics_with_a_bad_listen_in_the_config_exits_2_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _config(tmp_path, '[metrics]\nlisten = "nowhere"\n')

    assert 2 == main(["metrics", "-c", str(path)])

    out = capsys.readouterr()
    assert "" == out.out
    assert "metrics.listen" in out.err


def test_metrics_rejects_a_negative_wait_as_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["metrics", "--wait", "-1"])
    assert 2 == exited.value.code
    assert "--wait" in capsys.readouterr().err
