"""Binance front-end of the simulator: spot and USDⓈ-M futures, REST and streams.

Frame shapes, key order and JSON types follow real captures: hftbacktest's
``examples/{spot,usdm}/btcusdt_20240808.gz`` and cryptofeed's
``BINANCE*.ws.1.0``/``*.http.0.0``/``*.0`` (see ``tests/sim/binance/``).

Modules: ``wire.py`` (numbers, listings, stream names, events), ``info.py``
(``exchangeInfo``), ``rest.py`` (REST routes of one market), ``streams.py``
(subscriptions and events of one market), ``frontend.py`` (ports, websocket
session, flush timers, settings).
"""

from __future__ import annotations

from connector.sim.binance.frontend import (
    BinanceFrontend,
    BinanceSettings,
    BinanceStatistics,
    create_frontend,
)

__all__ = ["BinanceFrontend", "BinanceSettings", "BinanceStatistics", "create_frontend"]
