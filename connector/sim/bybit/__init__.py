"""The simulator's Bybit v5 front-end: market data, klines and trading (REST and websocket).

Wire shapes follow the real venue as recorded in
``cryptofeed/v3/sample_data/BYBIT-dev.jsonl.zst`` (linear and spot sockets,
2026), ``cryptofeed/pull-1085`` (``orderbook.1``) and the v5 docs (checked
2026-12-02):

* One port for every category, as Bybit's single host: the URL map keeps
  ``spot.*`` and ``linear.*`` keys, both on that port.
* REST (envelope ``{"retCode":0,"retMsg":"OK","result":{...},"retExtInfo":{},
  "time":ms}``): ``/v5/market/time``, ``/v5/market/instruments-info``,
  ``/v5/market/orderbook`` (``limit`` 1-1000 on spot and linear, defaults 1
  and 25), ``/v5/market/tickers``, ``/v5/market/recent-trade``, for every
  ``category``. Errors use the real retCodes (10001 parameter errors, 10006
  rate limit with the ``X-Bapi-Limit*`` headers).
* Websocket ``/v5/public/spot`` and ``/v5/public/linear``: ``subscribe``,
  ``unsubscribe`` and ``ping`` ops with the replies each socket sends (the spot
  and linear replies differ, as in the capture); topics ``orderbook.{1,50,200,
  1000}.SYM``, ``publicTrade.SYM`` and ``tickers.SYM``. A topic it cannot
  serve gets ``{"success":false,"ret_msg":"error:handler not found,topic:<t>",
  "conn_id","req_id","op":"subscribe"}`` and nothing else.

Book topics are shared by every connection of a category: each topic keeps
the view it last published (the top ``depth`` levels) and its update id ``u``,
which grows by exactly one per published message. A subscriber gets a
``snapshot`` of that view and then every ``delta``; ``/v5/market/orderbook``
answers from the ``orderbook.1000`` view (after publishing any pending
change), so its ``u``/``seq`` are that stream's, as documented. ``seq`` is the
engine's update id (a cross sequence). Messages go out at the documented push
intervals (1 level 10 ms, 50 levels 20 ms, 200 levels 100 ms, 1000 levels
200 ms, spot and linear alike), or, with ``BybitSettings.immediate``, one
message per engine change. Books are as deep as the deepest view asked of
them (:mod:`connector.sim.depth`).

Faults: the generic per-frame faults apply (stream = topic name; a rule's
``market`` is the socket's category); the ``restart_snapshot`` rule makes one
connection receive a ``u=1`` snapshot mid-stream, after which that
connection's ``u`` continues from 1.

Klines (``klines.py``): ``/v5/market/kline`` and ``kline.{interval}.{symbol}``
from the simulated trades.

Trading, over the venue's desk (:mod:`connector.sim.desk`; docs/simulator.md
"Trading"): signed REST behind the ``X-BAPI-*`` check with per-UID order
limits (``signed.py``), order operations shared by REST and ``/v5/trade``
(``orders.py``), order routes (``trading.py``), account, position and asset
routes (``account.py``), the private stream ``/v5/private`` (``private.py``),
websocket order entry ``/v5/trade`` (``wsapi.py``), private wire shapes
(``trade_wire.py``) and the one refusal-to-retCode table (``codes.py``).

Modules: ``wire.py`` (formats and message builders), ``rest.py`` (REST
routes), ``streams.py`` (topics), ``frontend.py`` (server, websocket
session, push timers, routing).
"""

from __future__ import annotations

from connector.sim.bybit.frontend import (
    BybitFrontend,
    BybitSettings,
    BybitStatistics,
    create_frontend,
)

__all__ = ["BybitFrontend", "BybitSettings", "BybitStatistics", "create_frontend"]
