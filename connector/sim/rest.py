"""REST middleware of the front-ends: the checks a request passes before its handler.

A venue keeps one :class:`RestChain` with its venue-wide checks (the rate
limit; later the signature check of signed endpoints) and registers each
handler through it, with that route's own checks (parameters)::

    chain = RestChain(rate_limit)
    chain.get(router, "/api/v3/depth", depth, symbol_check, limit_check)

For each request the chain builds a :class:`RestCall` and runs the venue-wide
checks, then the route's, in order. A :data:`Check` returns None to go on or
the venue's reply to answer at once (a 429, a parameter error); it may add
headers (:attr:`RestCall.headers`, e.g. the used weight) that go out with
whatever response the call gets, and store what it found
(:meth:`RestCall.put`, e.g. the instrument) for the handler
(:meth:`RestCall.get`). :meth:`RestChain.add_check` adds a venue-wide step
after construction.

Building blocks for the common checks: :func:`limit_check` (a rate limiter's
verdict), :func:`lookup_check` (a required parameter naming something that
must exist) and :func:`int_check` (an integer parameter with a default and a
valid range). Replies are :data:`Reply` callables, called only when the check
fails, so a body may carry the venue's clock.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Container, Mapping
from typing import Protocol, TypeVar

import attrs

from connector.sim.http import Handler, Request, Response, Router

__all__ = [
    "CallHandler",
    "Check",
    "Reply",
    "RestCall",
    "RestChain",
    "int_check",
    "limit_check",
    "lookup_check",
    "parse_int",
]

_T = TypeVar("_T")


@attrs.define
class RestCall:
    """One REST request on its way through a venue's checks.

    Attributes:
        request: The request.
        headers: Headers added to whatever response the call gets.
        values: What the checks found, by name (see :meth:`put`, :meth:`get`).
    """

    request: Request
    headers: tuple[tuple[str, str], ...] = ()
    values: dict[str, object] = attrs.field(factory=dict)

    @property
    def query(self) -> Mapping[str, str]:
        """The request's query parameters."""
        return self.request.query

    def put(self, name: str, value: object) -> None:
        """Keep what a check found for the handler."""
        self.values[name] = value

    def get(self, name: str, kind: type[_T]) -> _T:
        """A value a check stored (the route's checks guarantee it is there)."""
        value = self.values[name]
        assert isinstance(value, kind), (name, value)
        return value

    def find(self, name: str, kind: type[_T]) -> _T | None:
        """A value an optional check may have stored, or None."""
        value = self.values.get(name)
        assert value is None or isinstance(value, kind), (name, value)
        return value


Check = Callable[[RestCall], Response | None]
"""A step before the handler: None to go on, or the reply to answer with now."""
CallHandler = Callable[[RestCall], Awaitable[Response]]
"""A handler behind a :class:`RestChain`: it reads the checks' values from the call."""
Reply = Callable[[], Response]
"""The venue's error reply of a failed check (built only when needed)."""


class RestChain:
    """The checks every REST call of one venue endpoint passes.

    Args:
        checks: Venue-wide checks, run before each route's own.
    """

    def __init__(self, *checks: Check) -> None:
        self._checks: list[Check] = list(checks)

    def add_check(self, check: Check) -> None:
        """Run ``check`` on every call too, after the venue-wide checks so far."""
        self._checks.append(check)

    def handler(self, handler: CallHandler, *checks: Check) -> Handler:
        """A router handler running the checks, then ``handler``."""
        venue_checks = self._checks

        async def run(req: Request) -> Response:
            call = RestCall(request=req)
            for check in venue_checks:
                refused = check(call)
                if refused is not None:
                    return refused.with_headers(call.headers)
            for check in checks:
                refused = check(call)
                if refused is not None:
                    return refused.with_headers(call.headers)
            response = await handler(call)
            return response.with_headers(call.headers)

        return run

    def get(self, router: Router, path: str, handler: CallHandler, *checks: Check) -> None:
        """Register a GET route behind the chain."""
        router.get(path, self.handler(handler, *checks))

    def post(self, router: Router, path: str, handler: CallHandler, *checks: Check) -> None:
        """Register a POST route behind the chain."""
        router.post(path, self.handler(handler, *checks))


class _Verdict(Protocol):
    @property
    def allowed(self) -> bool: ...

    @property
    def headers(self) -> tuple[tuple[str, str], ...]: ...

    def response(self) -> Response: ...


def limit_check(decide: Callable[[Request], _Verdict]) -> Check:
    """A check from a rate limiter: ``decide(request)`` charges the request.

    Allowed: the verdict's headers go out with the response. Refused: the
    verdict's own response (status, headers and the venue's error body).
    """

    def check(call: RestCall) -> Response | None:
        verdict = decide(call.request)
        if not verdict.allowed:
            return verdict.response()
        call.headers = verdict.headers
        return None

    return check


def lookup_check(
    param: str,
    find: Callable[[RestCall, str], object | None],
    *,
    missing: Reply,
    unknown: Reply,
    name: str | None = None,
    optional: bool = False,
) -> Check:
    """A parameter naming something that must exist (a symbol, an instrument).

    Args:
        param: Query parameter name.
        find: The thing ``find(call, value)`` names, or None.
        missing: Reply when the parameter is absent or empty.
        unknown: Reply when ``find`` knows no such value.
        name: Where the found thing is stored (default ``param``).
        optional: An absent or empty parameter is fine (nothing is stored).
    """
    key = name or param

    def check(call: RestCall) -> Response | None:
        raw = call.query.get(param, "")
        if not raw:
            return None if optional else missing()
        found = find(call, raw)
        if found is None:
            return unknown()
        call.put(key, found)
        return None

    return check


def parse_int(raw: str | None, default: int, *, blank_is_default: bool = True) -> int | None:
    """``raw`` as an int; ``default`` when absent (or empty); None when malformed."""
    if raw is None or (raw == "" and blank_is_default):
        return default
    try:
        return int(raw)
    except ValueError:
        return None


def int_check(
    param: str,
    *,
    default: int | Callable[[RestCall], int],
    valid: Container[int] | Callable[[RestCall], Container[int]],
    invalid: Reply | None,
    malformed: Reply | None = None,
    blank_is_default: bool = True,
) -> Check:
    """An integer parameter with a default and a set of valid values.

    The value (or the default) is stored under ``param``.

    Args:
        param: Query parameter name.
        default: Its value when absent (or empty, with ``blank_is_default``),
            or a function of the call (e.g. per category).
        valid: The values accepted (a ``range`` or a set), or a function of
            the call giving them.
        invalid: Reply to a value outside ``valid``; None clamps the value into
            ``valid`` (which must then be a ``range``).
        malformed: Reply to a value that is not an integer (None: ``invalid``
            answers it; when both are None the default is used instead).
        blank_is_default: An empty value means the default (else it is malformed).
    """
    bad_text = malformed if malformed is not None else invalid

    def check(call: RestCall) -> Response | None:
        fallback = default(call) if callable(default) else default
        value = parse_int(call.query.get(param), fallback, blank_is_default=blank_is_default)
        if value is None:
            if bad_text is not None:
                return bad_text()
            value = fallback
        allowed = valid(call) if callable(valid) else valid
        if value not in allowed:
            if invalid is not None:
                return invalid()
            assert isinstance(allowed, range)
            value = max(allowed.start, min(value, allowed.stop - 1))
        call.put(param, value)
        return None

    return check
