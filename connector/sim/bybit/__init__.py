"""The simulator's Bybit v5 public market-data front-end (REST and websocket).

Wire shapes follow the real venue as recorded in
``cryptofeed/v3/sample_data/BYBIT-dev.jsonl.zst`` (linear and spot sockets,
2026), ``cryptofeed/pull-1085`` (``orderbook.1``) and the v5 docs:

* REST (envelope ``{"retCode":0,"retMsg":"OK","result":{...},"retExtInfo":{},
  "time":ms}``): ``/v5/market/time``, ``/v5/market/instruments-info``,
  ``/v5/market/orderbook``, ``/v5/market/tickers``, ``/v5/market/recent-trade``.
  Errors use the real retCodes (10001 parameter errors, 10006 rate limit with
  the ``X-Bapi-Limit*`` headers).
* Websocket ``/v5/public/spot`` and ``/v5/public/linear``: ``subscribe``,
  ``unsubscribe`` and ``ping`` ops with the replies each socket sends (the spot
  and linear replies differ, as in the capture); topics ``orderbook.{1,50,200,
  1000}.SYM``, ``publicTrade.SYM`` and ``tickers.SYM``.

Book topics are shared by every connection of a category: each topic keeps
the view it last published (the top ``depth`` levels) and its update id ``u``,
which grows by exactly one per published message. A subscriber gets a
``snapshot`` of that view and then every ``delta``; ``/v5/market/orderbook``
answers from the same view (after publishing any pending change), so its
``u``/``seq`` chain with the websocket stream. ``seq`` is the engine's update
id (a cross sequence). Messages go out at the documented push intervals
(linear: 1 level 10 ms, 50 levels 20 ms, 200 levels 100 ms, 1000 levels
200 ms; spot the same except 200 levels at 200 ms), or, with
``BybitSettings.immediate``, one message per engine change.

Faults: the generic per-frame faults apply (stream = topic name); the
``restart_snapshot`` rule makes one connection receive a ``u=1`` snapshot
mid-stream, after which that connection's ``u`` continues from 1.

Modules: ``wire.py`` (formats and message builders), ``rest.py`` (REST
routes), ``streams.py`` (topics), ``frontend.py`` (servers, websocket
session, push timers).
"""

from __future__ import annotations

from connector.sim.bybit.frontend import (
    BybitFrontend,
    BybitSettings,
    BybitStatistics,
    create_frontend,
)

__all__ = ["BybitFrontend", "BybitSettings", "BybitStatistics", "create_frontend"]
