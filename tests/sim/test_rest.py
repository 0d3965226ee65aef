"""The REST chain: venue-wide checks, then the route's, headers on every answer."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from connector.sim.http import Request, Response, Router, json_response
from connector.sim.rest import RestCall, RestChain, int_check, limit_check, lookup_check


@attrs.frozen
class _Verdict:
    allowed: bool
    headers: tuple[tuple[str, str], ...] = ()

    def response(self) -> Response:
        return Response(status=429, body=b"slow down", headers=(("X-Used", "9"),))


def _req(path: str = "/x", query: Mapping[str, str] | None = None) -> Request:
    return Request(
        method="GET", path=path, query=dict(query or {}), headers={}, body=b"", client="1.2.3.4"
    )


def _error(code: int) -> Response:
    return json_response({"code": code}, status=400)


THINGS = {"a": "thing-a"}


async def _echo(call: RestCall) -> Response:
    return json_response({"thing": call.get("thing", str), "n": call.get("n", int)})


def _chain(allowed: bool = True) -> tuple[RestChain, Router]:
    chain = RestChain(limit_check(lambda req: _Verdict(allowed, (("X-Used", "1"),))))
    router = Router()
    chain.get(
        router,
        "/x",
        _echo,
        lookup_check(
            "thing",
            lambda _call, raw: THINGS.get(raw),
            missing=lambda: _error(1),
            unknown=lambda: _error(2),
        ),
        int_check("n", default=5, valid=range(1, 11), invalid=lambda: _error(3)),
    )
    return chain, router


async def _get(router: Router, query: Mapping[str, str]) -> Response:
    handler = router.find("GET", "/x")
    assert handler is not None
    return await handler(_req(query=query))


async def test_checks_pass_their_values_and_headers_reach_the_answer() -> None:
    _, router = _chain()
    response = await _get(router, {"thing": "a", "n": "7"})
    assert (200, b'{"thing":"thing-a","n":7}') == (response.status, response.body)
    assert (("X-Used", "1"),) == response.headers


async def test_a_parameter_error_answers_with_the_venue_reply_and_the_headers() -> None:
    _, router = _chain()
    missing = await _get(router, {})
    unknown = await _get(router, {"thing": "b"})
    bad = await _get(router, {"thing": "a", "n": "11"})
    malformed = await _get(router, {"thing": "a", "n": "x"})
    assert [b'{"code":1}', b'{"code":2}', b'{"code":3}', b'{"code":3}'] == [
        r.body for r in (missing, unknown, bad, malformed)
    ]
    assert {(("X-Used", "1"),)} == {r.headers for r in (missing, unknown, bad, malformed)}


async def test_a_refusal_of_the_rate_limit_stops_the_call_before_the_parameters() -> None:
    _, router = _chain(allowed=False)
    response = await _get(router, {})
    assert (429, b"slow down", (("X-Used", "9"),)) == (
        response.status,
        response.body,
        response.headers,
    )


async def test_an_added_venue_check_runs_on_every_route_after_the_first_ones() -> None:
    chain, router = _chain()
    seen: list[str] = []

    def signed(call: RestCall) -> Response | None:
        seen.append(call.request.path)
        return None if call.query.get("sig") == "ok" else _error(99)

    chain.add_check(signed)
    refused = await _get(router, {"thing": "a"})
    accepted = await _get(router, {"thing": "a", "sig": "ok"})
    assert (b'{"code":99}', 200) == (refused.body, accepted.status)
    assert ["/x", "/x"] == seen


async def test_int_check_without_an_invalid_reply_clamps_and_defaults() -> None:
    chain = RestChain()
    router = Router()

    async def n(call: RestCall) -> Response:
        return json_response(call.get("n", int))

    chain.get(router, "/x", n, int_check("n", default=100, valid=range(1, 501), invalid=None))
    got = [
        (await _get(router, q)).body for q in ({}, {"n": ""}, {"n": "x"}, {"n": "0"}, {"n": "900"})
    ]
    assert [b"100", b"100", b"100", b"1", b"500"] == got
