"""The simulator's OKX v5 public market-data front-end (REST and websocket).

Wire shapes follow the real venue as recorded in
``cryptofeed/master/sample_data/OKX-dev.ws.1.0`` and ``OKX.0`` (instrument
listings, keys in alphabetical order, every field a string), the OKX v5 docs
and changelog (checked 2026-12-02) and later captures (``seqId``/``prevSeqId``,
``connId``, trade ``count``):

* REST (envelope ``{"code":"0","msg":"","data":[...]}``):
  ``/api/v5/public/time``, ``/api/v5/public/instruments``,
  ``/api/v5/market/books`` (``sz`` 1-400, default 1; ``seqId``),
  ``/api/v5/market/ticker``, ``/api/v5/market/tickers``,
  ``/api/v5/market/trades``. Errors use the real codes (51001 unknown
  instrument with HTTP 200, 50014 missing parameter and 51000 bad parameter
  with HTTP 400, 50011 rate limit with HTTP 429).
* Websocket ``/ws/v5/public``: ``subscribe``/``unsubscribe`` with one
  ``{"event":...,"arg":...,"connId":...}`` reply per argument, ``error`` events
  (60012 invalid request, 60013 invalid args, 60018 unknown channel or
  instrument, 60019 bad op, 64001 a ``/business`` channel such as candles,
  64003 ``books-l2-tbt``/``books50-l2-tbt``, which need VIP4), text ``ping``
  -> ``pong``, and the connection closed after ``idle_timeout`` (30 s) without
  any message from the client. Channels ``books`` (400 levels, updates every
  100 ms), ``books5`` (100 ms), ``bbo-tbt`` (10 ms), ``trades`` and
  ``tickers`` (100 ms).

``books`` pushes no snapshot (OKX delisted it: demo May 2026, production
August 2026): a client buffers the updates and aligns them to
``/api/v5/market/books``, which answers from the channel's published views,
so its ``seqId`` is one the stream published and the next update's
``prevSeqId`` is it. ``seqId`` is the engine's update id; an update's
``prevSeqId`` is the previous message's ``seqId`` and, after ``heartbeat``
seconds (about 60) without a change, an empty update repeats the last
``seqId`` as both. ``checksum`` is ``0`` (as OKX sends since 2026-06) unless
the run asks for real checksums (``FrontendOptions.okx_checksum``): the CRC32
of the top 25 bids and asks interleaved as ``bid:size:ask:size...``, as a
signed 32-bit integer. ``OkxSettings.legacy_books`` brings back the pushed
snapshot (``prevSeqId`` ``-1``) with real checksums. The ``corrupt_checksum``
fault sends a wrong non-zero checksum on some messages. Books are as deep as
the deepest view asked of them (:mod:`connector.sim.depth`).

Modules: ``wire.py`` (formats and message builders), ``rest.py`` (REST
routes), ``streams.py`` (channels), ``frontend.py`` (server, websocket
session, push timers).
"""

from __future__ import annotations

from connector.sim.okx.frontend import OkxFrontend, OkxSettings, OkxStatistics, create_frontend

__all__ = ["OkxFrontend", "OkxSettings", "OkxStatistics", "create_frontend"]
