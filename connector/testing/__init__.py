"""Public test helpers: run connector code against fakes in memory, without sockets.

* :class:`MemoryTransport` - a websocket transport whose sockets stay in
  memory. Pass it to a websocket connection (``transport=``); the test scripts
  the server end (a :class:`MemoryPeer`, from :meth:`MemoryTransport.accept`
  or a handler), including closes with any code, refused connects and
  unanswered pings.
* :class:`AsgiWebsocketTransport` and :func:`asgi_http_transport` - drive an
  ASGI application in memory: websockets through the transport, REST through
  an httpx transport. The simulator's venue endpoints are ASGI apps, so a test
  can talk to a simulated venue with no port bound on the client side.
* :func:`sim_transports` - both, routed by host to every endpoint of a running
  simulator, for a venue session or context (``transport=``, ``ws_transport=``).

Everything here runs under trio; time-dependent tests pair well with
pytest-trio's ``autojump_clock``, since nothing waits on a real socket.
"""

from __future__ import annotations

from connector.testing._asgi import AsgiApp, AsgiWebsocketTransport, asgi_http_transport
from connector.testing._memory import MemoryPeer, MemoryTransport, PeerHandler
from connector.testing._sim import SimTransports, sim_transports

__all__ = [
    "AsgiApp",
    "AsgiWebsocketTransport",
    "MemoryPeer",
    "MemoryTransport",
    "PeerHandler",
    "SimTransports",
    "asgi_http_transport",
    "sim_transports",
]
