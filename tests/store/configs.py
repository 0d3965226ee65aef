"""A config file for the store tests that start a connector: OKX's book on the simulator
and an SQLite store beside the file."""

from __future__ import annotations

from pathlib import Path

STORE_NAME = "store.sqlite"


def okx_config(directory: Path) -> Path:
    """``directory/connector.toml``: OKX trading one perpetual, the event store in
    ``directory/store.sqlite``, logging quiet."""
    path = directory / "connector.toml"
    path.write_text(
        '[venues.okx]\nsymbols = ["BTC-USDT-PERP"]\nchannels = ["book"]\n\n'
        f'[storage]\nsqlite_path = "{STORE_NAME}"\n\n[logging]\nlevel = "critical"\n'
    )
    return path
