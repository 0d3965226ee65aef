"""Talk to a running simulator in memory: transports routed by host to its endpoints."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import attrs
import httpx

from connector.errors import ConnectionLost
from connector.net.ws_transport import WsSocket
from connector.sim import SimRun
from connector.testing._asgi import AsgiApp, AsgiWebsocketTransport, asgi_http_transport

__all__ = ["SimTransports", "sim_transports"]


class _HttpByHost(httpx.AsyncBaseTransport):
    """Sends each request to the ASGI app serving its ``host:port``."""

    def __init__(self, apps: Mapping[str, AsgiApp]) -> None:
        self._routes = {netloc: asgi_http_transport(app) for netloc, app in apps.items()}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        netloc = request.url.netloc.decode("ascii")
        route = self._routes.get(netloc)
        if route is None:
            raise httpx.ConnectError(f"no simulated endpoint at {netloc}", request=request)
        return await route.handle_async_request(request)


class _WsByHost:
    """Opens each websocket on the ASGI app serving its ``host:port``."""

    def __init__(self, apps: Mapping[str, AsgiApp]) -> None:
        self._routes = {netloc: AsgiWebsocketTransport(app) for netloc, app in apps.items()}

    @asynccontextmanager
    async def connect(self, url: str) -> AsyncIterator[WsSocket]:
        netloc = urlsplit(url).netloc
        route = self._routes.get(netloc)
        if route is None:
            raise ConnectionLost(f"no simulated endpoint at {netloc}")
        async with route.connect(url) as socket:
            yield socket

    @property
    def connects(self) -> int:
        """Websockets opened so far, over every endpoint."""
        return sum(route.connects for route in self._routes.values())


@attrs.frozen
class SimTransports:
    """An httpx transport and a websocket transport reaching one simulator in memory.

    Give ``http`` to a REST client (``VenueContext(transport=...)``) and ``ws`` to
    websocket connections (``VenueContext(ws_transport=...)``): requests to the
    simulator's URLs then never touch a socket.
    """

    http: httpx.AsyncBaseTransport
    ws: _WsByHost


def sim_transports(run: SimRun) -> SimTransports:
    """Transports for every endpoint of a running simulator (``async with sim.run()``).

    Raises:
        ValueError: A front-end without ``servers`` (a custom front-end that serves
            no :class:`~connector.sim.server.VenueServer`).
    """
    apps: dict[str, AsgiApp] = {}
    for venue, frontend in run.frontends.items():
        servers = getattr(frontend, "servers", None)
        if not isinstance(servers, Mapping):
            raise ValueError(f"the {venue} front-end exposes no servers to reach in memory")
        for server in servers.values():
            apps[urlsplit(server.rest_url).netloc] = server.app
    return SimTransports(http=_HttpByHost(apps), ws=_WsByHost(apps))
