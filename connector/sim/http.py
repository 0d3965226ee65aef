"""REST plumbing of the simulator: requests, responses and the router.

A front-end builds a :class:`Router`:

* ``router.get(path, handler)`` / ``router.post(...)`` / ``router.route(method,
  path, handler)``: ``async def handler(req: Request) -> Response``. Build
  responses with :func:`json_response` (msgspec-encoded, key order kept as in
  the dict you pass) or :class:`Response` directly. Most front-ends register
  handlers through :class:`~connector.sim.rest.RestChain`, which runs the
  venue's checks (rate limit, parameters) first.
* ``router.websocket(path, handler, prefix=False)``: ``async def handler(conn:
  WsConnection) -> None`` (see :mod:`connector.sim.ws`).

:class:`~connector.sim.server.VenueServer` serves the router.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING

import attrs
import msgspec

if TYPE_CHECKING:
    from connector.sim.ws import WsConnection

__all__ = [
    "Handler",
    "Request",
    "Response",
    "Router",
    "WsHandler",
    "json_response",
    "not_found",
]

_json_encoder = msgspec.json.Encoder()


@attrs.frozen(kw_only=True)
class Request:
    """One REST request as a handler sees it.

    Attributes:
        method: Upper-case HTTP method.
        path: URL path without the query string.
        query: Query parameters (the first value of each name).
        headers: Header names lower-cased.
        body: Raw request body.
        client: Client IP address (the key for IP rate limits).
        query_string: The raw query string (for signature checks).
    """

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes
    client: str
    query_string: str = ""


@attrs.frozen(kw_only=True)
class Response:
    """A REST response: status, body bytes and extra headers."""

    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    content_type: str = "application/json;charset=UTF-8"

    def with_headers(self, headers: tuple[tuple[str, str], ...]) -> Response:
        """A copy with more headers appended (``self`` when there are none)."""
        if not headers:
            return self
        return attrs.evolve(self, headers=self.headers + headers)


def json_response(
    value: object, status: int = 200, headers: tuple[tuple[str, str], ...] = ()
) -> Response:
    """Encode ``value`` as compact JSON (dict key order is kept)."""
    return Response(status=status, body=_json_encoder.encode(value), headers=headers)


Handler = Callable[[Request], Awaitable[Response]]
WsHandler = Callable[["WsConnection"], Awaitable[None]]


async def not_found(req: Request) -> Response:
    """The default reply to an unknown path: an empty HTML 404."""
    return Response(status=404, body=b"", content_type="text/html")


class Router:
    """Maps (method, path) to REST handlers and paths to websocket handlers."""

    def __init__(self) -> None:
        self._routes: dict[tuple[str, str], Handler] = {}
        self._ws_exact: dict[str, WsHandler] = {}
        self._ws_prefix: list[tuple[str, WsHandler]] = []
        self.not_found: Handler = not_found

    def route(self, method: str, path: str, handler: Handler) -> None:
        """Register ``handler`` for ``method`` and exact ``path``."""
        self._routes[(method.upper(), path)] = handler

    def get(self, path: str, handler: Handler) -> None:
        """Register a GET handler."""
        self.route("GET", path, handler)

    def post(self, path: str, handler: Handler) -> None:
        """Register a POST handler."""
        self.route("POST", path, handler)

    def websocket(self, path: str, handler: WsHandler, *, prefix: bool = False) -> None:
        """Register a websocket handler for ``path`` (or every path under it)."""
        if prefix:
            self._ws_prefix.append((path, handler))
            self._ws_prefix.sort(key=lambda p: -len(p[0]))
        else:
            self._ws_exact[path] = handler

    def find(self, method: str, path: str) -> Handler | None:
        """The REST handler for a request, or None."""
        return self._routes.get((method, path))

    def find_ws(self, path: str) -> WsHandler | None:
        """The websocket handler for a path, or None."""
        handler = self._ws_exact.get(path)
        if handler is not None:
            return handler
        for prefix, h in self._ws_prefix:
            if path.startswith(prefix):
                return h
        return None
