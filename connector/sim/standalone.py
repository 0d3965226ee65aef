"""Running the simulator: :func:`run` for tests and tools, :func:`serve_standalone` for the CLI.

``async with run(...) as s:`` builds one :class:`~connector.sim.hub.SimVenue`
per venue, starts its driver task and its front-end (looked up in
:data:`FRONTENDS`), and yields a :class:`SimRun` once every port is bound.
Leaving the block cancels everything.

URLs (``s.urls[venue][key]``), one pair per market the venue serves:

* ``"<market>.rest"``: the REST base URL, ``http://127.0.0.1:<port>``; append
  the venue's documented path (``/api/v3/depth``, ``/fapi/v1/depth``,
  ``/v5/market/orderbook``, ``/api/v5/market/books``).
* ``"<market>.ws"``: the websocket base URL, ``ws://127.0.0.1:<port>``; append
  the venue's documented websocket path (Binance ``/ws``, ``/ws/<stream>``,
  ``/stream?streams=...``; Bybit ``/v5/public/spot``, ``/v5/public/linear``,
  ``/v5/private``; OKX ``/ws/v5/public``, ``/ws/v5/private``).

Markets: binance ``spot``/``linear`` (one port each, like the real hosts),
bybit ``spot``/``linear``, okx ``spot``/``swap`` (the front-end decides
whether they share a port; the keys exist either way).

Accounts: every venue has a trading desk (``s.venue(v).desk``,
:mod:`connector.sim.desk`) over its accounts: the default demo account
(``<venue>-demo``, :data:`~connector.sim.accounts.DEFAULT_CREDENTIALS`) unless
``accounts`` says otherwise. :meth:`SimRun.truth` is a read-only view of what
the venue knows (orders, fills, balances, positions), for tests; every REST
port also serves it over the wire (``GET /_sim/truth``, :attr:`SimRun.truth_urls`,
:func:`~connector.sim.truth.fetch_truth`) for a client in another process.

With ``tls=True`` every endpoint serves TLS: the URLs are ``https://`` and
``wss://``, signed by a certificate authority made for the run, whose PEM file
is :attr:`SimRun.ca_file` (deleted when the run ends); :meth:`SimRun.ssl_context`
is a client context that trusts it.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import ssl
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import ExitStack, asynccontextmanager, suppress

import attrs
import structlog
import trio

from connector.errors import ConfigError, ConnectorError
from connector.model import BookLevel
from connector.model.venues import venue_facts
from connector.sim.accounts import AccountBook, AccountSpec, Credentials, load_accounts
from connector.sim.faults import FaultInjector, FaultKind, FaultPlan, InjectedFault
from connector.sim.hub import MAX_RATE, SEED_LIMIT, SimVenue
from connector.sim.instruments import (
    SIMULATED_BASES,
    VENUE_MARKETS,
    SimInstrument,
    default_instruments,
)
from connector.sim.reference import ReferenceMarket
from connector.sim.server import (
    Frontend,
    FrontendFactory,
    FrontendOptions,
    ServerTls,
    VenueServer,
    make_server_tls,
    serving_tls,
    websocket_url,
)
from connector.sim.truth import TRUTH_PATH, Truth, truth_handler

__all__ = [
    "FRONTENDS",
    "MAX_PORT",
    "Accounts",
    "SimRun",
    "StandaloneOptions",
    "line_environment",
    "parse_options",
    "register_frontend",
    "run",
    "serve_standalone",
]

log = structlog.get_logger(__name__)

#: Venue name -> front-end factory, or the module that defines ``create_frontend``.
FRONTENDS: dict[str, FrontendFactory | str] = {
    "binance": "connector.sim.binance",
    "bybit": "connector.sim.bybit",
    "okx": "connector.sim.okx",
}


Accounts = AccountBook | Iterable[AccountBook] | Iterable[AccountSpec]
"""What ``run(accounts=...)`` takes: one venue's :class:`AccountBook`, several
(one per venue), or account specs of any venues (:func:`load_accounts`).
Venues left out get their default account."""


def _account_books(venues: Sequence[str], accounts: Accounts | None) -> dict[str, AccountBook]:
    given: list[AccountBook | AccountSpec] = (
        []
        if accounts is None
        else [accounts]
        if isinstance(accounts, AccountBook)
        else list(accounts)
    )
    books = {b.venue: b for b in given if isinstance(b, AccountBook)}
    specs = [s for s in given if isinstance(s, AccountSpec)]
    out: dict[str, AccountBook] = {}
    for name in venues:
        mine = [s for s in specs if s.venue == name]
        if name in books:
            out[name] = books[name]
        elif mine:
            out[name] = AccountBook(name, mine)
    return out


def register_frontend(name: str, factory: FrontendFactory | str) -> None:
    """Register (or replace) the front-end of venue ``name``."""
    FRONTENDS[name] = factory


def _factory(name: str) -> FrontendFactory:
    entry = FRONTENDS.get(name)
    if entry is None:
        raise ValueError(f"no simulated front-end for venue {name!r}")
    if isinstance(entry, str):
        module = importlib.import_module(entry)
        factory: FrontendFactory = module.create_frontend
        return factory
    return entry


@attrs.define
class SimRun:
    """A running simulator (what ``async with run(...)`` yields).

    Per venue: hooks (:meth:`venue`), the trading desk (``venue(v).desk``),
    the venue's truth (:meth:`truth`) and the default account's credentials
    (:meth:`credentials`).

    Attributes:
        urls: ``{venue: {"<market>.rest": url, "<market>.ws": url}}``.
        venues: The venue hubs by name.
        frontends: The front-ends by venue name.
        injector: The run's fault injector.
        ca_file: With TLS, the PEM file of the certificate authority that
            signed the endpoints' certificate (``None`` without TLS).
        truth_urls: ``{venue: url}``: where each venue's truth is served over
            the wire (``GET <rest>/_sim/truth``, :func:`~connector.sim.truth.fetch_truth`);
            a venue whose front-end exposes no ``servers`` has none.
    """

    urls: dict[str, dict[str, str]]
    venues: dict[str, SimVenue]
    frontends: dict[str, Frontend]
    injector: FaultInjector
    ca_file: str | None = None
    truth_urls: dict[str, str] = attrs.field(factory=dict)

    def ssl_context(self) -> ssl.SSLContext:
        """A client SSL context that trusts this run's certificate authority.

        Raises:
            ValueError: The run does not serve TLS.
        """
        if self.ca_file is None:
            raise ValueError("this simulator run does not serve TLS (start it with tls=True)")
        return ssl.create_default_context(cafile=self.ca_file)

    def venue(self, name: str) -> SimVenue:
        """The hub of venue ``name`` (hooks: pause, resume, step, move_market...)."""
        return self.venues[name]

    def truth(self, venue: str) -> Truth:
        """What venue ``venue`` knows of its accounts: orders, fills, balances, positions."""
        return Truth(self.venues[venue].desk)

    def credentials(self, venue: str, account: str | None = None) -> Credentials | None:
        """The API key of ``account`` (default: the venue's default account), if any."""
        desk = self.venues[venue].desk
        wanted = account or desk.default_account()
        for entry in desk.keyring.keys.values():
            if entry.account_id == wanted:
                return entry.credentials
        return None

    def environment(self, venues: Sequence[str] | None = None) -> dict[str, str]:
        """``CONNECTOR_*`` variables that point a :class:`~connector.Connector` at this run.

        Per venue: ``endpoint = "custom"``, every ``<market>.rest`` / ``<market>.ws``
        URL and the default account's ``API_KEY``, ``API_SECRET`` (and OKX
        ``PASSPHRASE``), as ``load_config`` reads them.
        """
        env: dict[str, str] = {}
        for venue in venues if venues is not None else tuple(self.urls):
            creds = self.credentials(venue)
            env.update(
                _venue_environment(
                    venue, self.urls[venue], None if creds is None else _credentials_json(creds)
                )
            )
        return env

    def first_line(self) -> dict[str, object]:
        """What ``connector sim`` prints first: per venue, every base URL under the keys
        a ``[venues.<name>.urls]`` table takes, and the default account's credentials;
        then ``"truth"`` (:attr:`truth_urls`) and, with TLS, ``"ca_file"``."""
        line: dict[str, object] = {}
        for venue, urls in self.urls.items():
            entry: dict[str, object] = dict(urls)
            with suppress(ConfigError):
                for market in venue_facts(venue).markets:
                    name = market.market.value
                    ws = urls.get(f"{name}.ws")
                    if ws is None:
                        continue
                    derived = {
                        f"{name}.ws.{route}": _WS_ROUTE_PATHS.get((venue, route), f"/{route}")
                        for route in market.ws_routes
                    }
                    api = _WS_API_PATHS.get((venue, name))
                    if api is not None:
                        derived[f"{name}.wsapi"] = api
                    for key, path in derived.items():
                        if key in market.url_keys() and key not in entry:
                            entry[key] = ws.rstrip("/") + path
            creds = self.credentials(venue)
            if creds is not None:
                entry["credentials"] = _credentials_json(creds)
            line[venue] = entry
        if self.truth_urls:
            line["truth"] = dict(self.truth_urls)
        if self.ca_file is not None:
            line["ca_file"] = self.ca_file
        return line

    @property
    def fault_log(self) -> tuple[InjectedFault, ...]:
        """Every fault injected so far, oldest first."""
        return self.injector.log()

    def engine_book(
        self, venue: str, market: str, native_id: str, limit: int | None = None
    ) -> tuple[tuple[BookLevel, ...], tuple[BookLevel, ...]]:
        """The engine's book ``(bids, asks)`` best first, for comparisons."""
        return self.venues[venue].book(market, native_id).engine.depth(limit)

    def update_id(self, venue: str, market: str, native_id: str) -> int:
        """The engine's current update id of one instrument."""
        return self.venues[venue].book(market, native_id).update_id


_WS_ROUTE_PATHS = {
    ("bybit", "private"): "/v5/private",
    ("bybit", "trade"): "/v5/trade",
    ("okx", "private"): "/ws/v5/private",
}
"""Where Bybit's and OKX's private streams (and Bybit's websocket order entry) live on the
market's websocket host (their documented paths; Binance USDⓈ-M's routes are ``/public``,
``/market``, ``/private``)."""

_WS_API_PATHS = {("binance", "spot"): "/ws-api/v3", ("binance", "linear"): "/ws-fapi/v1"}
"""Where a venue's WebSocket API lives on its market's websocket host (the venues' paths),
for the ``<market>.wsapi`` key of a URL table that has one."""


_LINE_EXTRAS = frozenset({"truth", "ca_file"})
"""Keys of the first line that are not venues."""


def _venue_environment(
    venue: str, urls: Mapping[str, object], credentials: Mapping[str, object] | None
) -> dict[str, str]:
    prefix = f"CONNECTOR_VENUES__{venue.upper()}__"
    env = {prefix + "ENDPOINT": "custom"}
    for key, url in urls.items():
        # The base URLs only (the route keys follow from them); the variable's one '_'
        # stands for the one '.'.
        if isinstance(url, str) and key.count(".") == 1 and key.endswith((".rest", ".ws")):
            env[prefix + "URLS__" + key.replace(".", "_").upper()] = url
    for name, value in (credentials or {}).items():
        env[f"CONNECTOR_{venue.upper()}_{name.upper()}"] = str(value)
    return env


def line_environment(
    line: Mapping[str, object], venues: Sequence[str] | None = None
) -> dict[str, str]:
    """``CONNECTOR_*`` variables that point a :class:`~connector.Connector` at the
    ``connector sim`` whose first line (parsed JSON) is ``line``.

    The same variables :meth:`SimRun.environment` gives inside the run: per venue
    ``endpoint = "custom"``, the ``<market>.rest`` / ``<market>.ws`` URLs and the
    default account's ``API_KEY``, ``API_SECRET`` (OKX ``PASSPHRASE``).

    Args:
        line: The first line, ``json.loads``-ed.
        venues: The venues to configure (default: every venue of the line).

    Raises:
        KeyError: A venue the line does not serve.
    """
    names = venues if venues is not None else [k for k in line if k not in _LINE_EXTRAS]
    env: dict[str, str] = {}
    for venue in names:
        entry = None if venue in _LINE_EXTRAS else line[venue]
        if not isinstance(entry, Mapping):
            raise KeyError(f"the first line serves no venue {venue!r}")
        creds = entry.get("credentials")
        env.update(_venue_environment(venue, entry, creds if isinstance(creds, Mapping) else None))
    return env


def _credentials_json(creds: Credentials) -> dict[str, str]:
    out = {"api_key": creds.api_key}
    if creds.key_type == "hmac":
        out["api_secret"] = creds.secret
    else:
        out["key_type"] = creds.key_type
    if creds.passphrase:
        out["passphrase"] = creds.passphrase
    return out


@asynccontextmanager
async def run(
    *,
    venues: Sequence[str] = ("binance", "bybit", "okx"),
    seed: int = 1,
    faults: FaultPlan | None = None,
    rate: float = 200.0,
    instruments: Sequence[SimInstrument] | None = None,
    okx_checksum: bool = False,
    host: str = "127.0.0.1",
    ports: Mapping[str, int] | None = None,
    settings: Mapping[str, Mapping[str, object]] | None = None,
    paused: bool = False,
    tls: bool | ServerTls = False,
    accounts: Accounts | None = None,
) -> AsyncIterator[SimRun]:
    """Serve simulated venues on loopback for the duration of the block.

    Args:
        venues: Venue names; each must have a registered front-end.
        seed: Seed of the synthetic flow (and the fault plan's default), from 0
            to ``SEED_LIMIT - 1`` (:data:`~connector.sim.hub.SEED_LIMIT`, 2**32).
        faults: Fault plan (None: no faults).
        rate: Book changes per second per instrument, from 0 to
            :data:`~connector.sim.hub.MAX_RATE`.
        instruments: Instruments to list (default: BTC, ETH, SOL against USDT
            in both markets of every venue).
        okx_checksum: OKX sends real CRC32 checksums instead of 0.
        host: Address to bind.
        ports: ``{"binance.spot": 9000, "okx": 9100, ...}``: a port (0 to
            65535; 0: any free one) per ``venue.market`` served, or per venue
            (applies to its first market); missing means any free port.
        settings: Venue-specific knobs, ``{"binance": {"max_lifetime": 5.0}}``.
        paused: Start with the drivers paused (step them with ``s.venue(v).step()``).
        tls: Serve ``https://`` and ``wss://`` with a certificate authority made
            for the run (:attr:`SimRun.ca_file`), or with the one given (a
            :class:`~connector.sim.server.ServerTls` from ``make_server_tls``, kept
            by the caller across runs).
        accounts: The venues' accounts (:data:`Accounts`; ``None``: each
            venue's default demo account). An :class:`AccountBook` holds live
            balances: give each run fresh ones.

    Yields:
        The running :class:`SimRun`.

    Raises:
        ConfigError: before anything is built, for a seed, rate or port out of
            range or a port key that names no venue or market served; each
            problem in ``problems``. A bad setting is refused the same way.
        ConnectorError: a port cannot be bound (in use, or a host that is not
            this machine's), naming the venue, host and ports.
    """
    with ExitStack() as files:
        server_tls: ServerTls | None = tls if isinstance(tls, ServerTls) else None
        if tls is True:
            folder = files.enter_context(tempfile.TemporaryDirectory(prefix="connector-sim-tls-"))
            server_tls = make_server_tls(folder, host)
        async with _run(
            venues=venues,
            seed=seed,
            faults=faults,
            rate=rate,
            instruments=instruments,
            okx_checksum=okx_checksum,
            host=host,
            ports=ports,
            settings=settings,
            paused=paused,
            tls=server_tls,
            accounts=accounts,
        ) as running:
            yield running


@asynccontextmanager
async def _run(
    *,
    venues: Sequence[str],
    seed: int,
    faults: FaultPlan | None,
    rate: float,
    instruments: Sequence[SimInstrument] | None,
    okx_checksum: bool,
    host: str,
    ports: Mapping[str, int] | None,
    settings: Mapping[str, Mapping[str, object]] | None,
    paused: bool,
    tls: ServerTls | None,
    accounts: Accounts | None = None,
) -> AsyncIterator[SimRun]:
    insts = list(instruments) if instruments is not None else default_instruments(venues)
    served = {
        name: list(dict.fromkeys(i.market for i in insts if i.venue == name)) for name in venues
    }
    problems = [
        f"sim: {what}: {rule}"
        for what, rule in (
            (f"seed {seed!r}", _seed_rule(seed)),
            (f"rate {rate!r}", _rate_rule(rate)),
            *((f"port {k}={p!r}", _port_rule(k, p, served)) for k, p in (ports or {}).items()),
        )
        if rule is not None
    ]
    if problems:
        raise ConfigError("; ".join(problems), tuple(problems))
    injector = FaultInjector(faults)
    account_books = _account_books(venues, accounts)
    hubs: dict[str, SimVenue] = {}
    frontends: dict[str, Frontend] = {}
    bound: dict[str, str] = {}  # venue -> the fixed ports asked for, for a bind error
    # One reference price per base asset for every venue: they stay arbitraged.
    reference = ReferenceMarket(seed)
    for name in venues:
        mine = [i for i in insts if i.venue == name]
        hub = SimVenue(
            name,
            mine,
            seed=seed,
            rate=rate,
            clock_skew_ms=injector.clock_skew_ms(name),
            reference=reference,
            accounts=account_books.get(name),
        )
        if paused:
            hub.pause()
        hubs[name] = hub
        venue_ports: dict[str, int] = {}
        for key, port in (ports or {}).items():
            if key == name and hub.markets():
                venue_ports[hub.markets()[0]] = port
            elif key.startswith(name + "."):
                venue_ports[key.split(".", 1)[1]] = port
        bound[name] = ", ".join(f"{m}={p}" for m, p in venue_ports.items())
        options = FrontendOptions(
            host=host,
            ports=venue_ports,
            okx_checksum=okx_checksum,
            settings=dict((settings or {}).get(name, {})),
        )
        with serving_tls(tls):
            frontends[name] = _factory(name)(hub, injector, options)
    urls: dict[str, dict[str, str]] = {}
    async with trio.open_nursery() as nursery:
        injector.start()
        for name, skew in ((n, injector.clock_skew_ms(n)) for n in venues):
            if skew:
                injector.record(name, FaultKind.CLOCK_SKEW, detail=f"ms={skew}")
        truth_urls: dict[str, str] = {}
        for name in venues:
            await nursery.start(hubs[name].run)
            servers = _servers(frontends[name])
            for server in servers:
                server.add_operator_route("GET", TRUTH_PATH, truth_handler(hubs[name].desk))
            try:
                started: dict[str, str] = await nursery.start(frontends[name].run)
            except (OSError, BaseExceptionGroup) as exc:
                error = _bind_error(exc)
                if error is None:
                    raise
                ports_asked = f" ({bound[name]})" if bound[name] else ""
                raise ConnectorError(
                    f"sim: cannot serve {name} on {host}{ports_asked}: {error.strerror or error}"
                ) from exc
            # A front-end derives its websocket URLs from "http://"; TLS makes them wss://.
            urls[name] = {
                key: websocket_url(url) if key.endswith(".ws") else url
                for key, url in started.items()
            }
            if servers:
                truth_urls[name] = servers[0].rest_url + TRUTH_PATH
        log.info("sim.started", urls=urls, truth=truth_urls, tls=tls is not None)
        try:
            yield SimRun(
                urls=urls,
                venues=hubs,
                frontends=frontends,
                injector=injector,
                ca_file=None if tls is None else tls.ca_file,
                truth_urls=truth_urls,
            )
        finally:
            nursery.cancel_scope.cancel()


MAX_PORT = 65535
"""The largest TCP port number (0 asks for any free port)."""


def _seed_rule(seed: int) -> str | None:
    """What a seed must be, when ``seed`` is not that; ``None`` when it is."""
    if isinstance(seed, int) and 0 <= seed < SEED_LIMIT:
        return None
    return f"expected an integer from 0 to {SEED_LIMIT - 1}"


def _rate_rule(rate: float) -> str | None:
    if math.isfinite(rate) and 0 <= rate <= MAX_RATE:
        return None
    return (
        f"expected 0 to {MAX_RATE:.0f} book changes per second per instrument, "
        "about what the simulator makes on one core (docs/simulator.md)"
    )


def _port_rule(key: str, port: int, served: Mapping[str, Sequence[str]]) -> str | None:
    """What is wrong with ``ports[key] = port``, given the markets each venue serves."""
    venue, dot, market = key.partition(".")
    if venue not in served:
        return f"{venue!r} is not a served venue"
    if dot and market not in served[venue]:
        markets = ", ".join(served[venue]) or "none"
        return f"{venue} serves no market {market!r} (it serves {markets})"
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= MAX_PORT:
        return f"expected a port from 0 to {MAX_PORT} (0: any free port)"
    return None


def _bind_error(exc: BaseException) -> OSError | None:
    """The :class:`OSError` of a listener that could not bind, when ``exc`` is only that
    (the front-end's nurseries wrap it in groups)."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc if isinstance(exc, OSError) else None


def _servers(frontend: Frontend) -> list[VenueServer]:
    """The endpoints of a front-end (its ``servers``, each once, in market order);
    none for a front-end that exposes no :class:`VenueServer`."""
    found = getattr(frontend, "servers", None)
    out: list[VenueServer] = []
    if isinstance(found, Mapping):
        for server in found.values():
            if isinstance(server, VenueServer) and all(server is not s for s in out):
                out.append(server)
    return out


def _parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="connector sim", description="Serve simulated Binance, Bybit and OKX on loopback."
    )
    parser.add_argument("--venues", default="binance,bybit,okx", help="comma-separated venue names")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rate", type=float, default=200.0, help="book changes/s per instrument")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--port",
        action="append",
        default=[],
        metavar="VENUE[.MARKET]=PORT",
        help="fixed port, e.g. binance.spot=9000 (repeatable)",
    )
    parser.add_argument("--bases", default="BTC,ETH,SOL", help="comma-separated base assets")
    parser.add_argument(
        "--markets", default="", help="comma-separated markets to list (default: all)"
    )
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="VENUE.NAME=JSON",
        help="front-end setting, e.g. bybit.immediate=true (repeatable)",
    )
    parser.add_argument("--okx-checksum", action="store_true", help="OKX sends real checksums")
    parser.add_argument(
        "--faults", default=None, metavar="FILE", help="fault plan (TOML) to inject"
    )
    parser.add_argument(
        "--tls", action="store_true", help="serve https:// and wss:// (CA file in the JSON line)"
    )
    parser.add_argument(
        "--accounts", default=None, metavar="FILE", help="more accounts (TOML), after the defaults"
    )
    return parser.parse_args(list(argv))


@attrs.frozen(kw_only=True)
class StandaloneOptions:
    """What ``connector sim``'s options ask for, checked (:func:`parse_options`)."""

    venues: tuple[str, ...]
    seed: int
    rate: float
    host: str
    ports: Mapping[str, int]
    instruments: tuple[SimInstrument, ...]
    settings: Mapping[str, Mapping[str, object]]
    okx_checksum: bool
    faults: FaultPlan | None
    tls: bool
    accounts: tuple[AccountSpec, ...] | None


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def parse_options(argv: Sequence[str]) -> StandaloneOptions:
    """The options of ``connector sim`` (:func:`serve_standalone`'s ``argv``), checked.

    Raises:
        ConfigError: every problem at once, one line each in ``problems``
            (``sim: --port 'kraken=9000': 'kraken' is not a served venue``): an
            unknown venue, base or market, a venue the markets leave without
            instruments, a seed or rate out of range, a malformed ``--port`` or
            one out of range or for a venue or market not served, a malformed
            ``--setting`` or one for a venue not served, an invalid fault plan
            or accounts file.
    """
    args = _parse_args(argv)
    problems: list[str] = []
    venues = tuple(_split(args.venues))
    problems += [
        f"sim: unknown venue {v!r}: expected one of {', '.join(FRONTENDS)}"
        for v in venues
        if v not in FRONTENDS
    ]
    if not venues:
        problems.append(f"sim: --venues: expected one or more of {', '.join(FRONTENDS)}")
    bases = tuple(_split(args.bases))
    problems += [
        f"sim: --bases {b!r}: expected any of {', '.join(SIMULATED_BASES)}"
        for b in bases
        if b not in SIMULATED_BASES
    ]
    if not bases:
        problems.append(f"sim: --bases: expected one or more of {', '.join(SIMULATED_BASES)}")
    markets_asked = _split(args.markets)
    served = {
        v: [m for m in VENUE_MARKETS.get(v, ()) if not markets_asked or m in markets_asked]
        for v in venues
        if v in FRONTENDS
    }
    known = list(
        dict.fromkeys(m for v in served or VENUE_MARKETS for m in VENUE_MARKETS.get(v, ()))
    )
    unknown = [m for m in markets_asked if m not in known]
    problems += [f"sim: --markets {m!r}: expected any of {', '.join(known)}" for m in unknown]
    if not unknown:
        problems += [
            f"sim: {v} serves nothing: --markets {' '.join(markets_asked)} names none of its "
            f"markets ({', '.join(VENUE_MARKETS[v])})"
            for v, markets in served.items()
            if not markets and v in VENUE_MARKETS
        ]
    for option, value, rule in (
        ("--seed", args.seed, _seed_rule(args.seed)),
        ("--rate", args.rate, _rate_rule(args.rate)),
    ):
        if rule is not None:
            problems.append(f"sim: {option} {value}: {rule}")
    ports: dict[str, int] = {}
    for spec in args.port:
        key, sep, value = (part.strip() for part in spec.partition("="))
        if not sep or not key or not value.isdigit():
            problems.append(f"sim: --port {spec!r}: expected VENUE[.MARKET]=PORT")
            continue
        rule = _port_rule(key, int(value), served)
        if rule is not None:
            problems.append(f"sim: --port {spec!r}: {rule}")
            continue
        ports[key] = int(value)
    settings: dict[str, dict[str, object]] = {}
    for spec in args.setting:
        key, sep, value = spec.partition("=")
        venue, dot, name = key.strip().partition(".")
        if not sep or not dot or not name:
            problems.append(f"sim: --setting {spec!r}: expected VENUE.NAME=VALUE")
            continue
        if venue not in venues:
            problems.append(f"sim: --setting {spec!r}: {venue!r} is not a served venue")
            continue
        try:
            parsed: object = json.loads(value)
        except json.JSONDecodeError:
            parsed = value
        settings.setdefault(venue, {})[name] = parsed
    instruments: list[SimInstrument] = []
    if not problems:
        instruments = [
            i
            for i in default_instruments(venues, bases)
            if not markets_asked or i.market in markets_asked
        ]
    plan: FaultPlan | None = None
    if args.faults:
        try:
            plan = FaultPlan.from_toml(args.faults)
        except ConfigError as exc:
            problems.extend(exc.problems)
    specs: tuple[AccountSpec, ...] | None = None
    if args.accounts:
        try:
            specs = tuple(load_accounts(args.accounts))
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError(
            problems[0] if len(problems) == 1 else "; ".join(problems), tuple(problems)
        )
    return StandaloneOptions(
        venues=venues,
        seed=args.seed,
        rate=args.rate,
        host=args.host,
        ports=ports,
        instruments=tuple(instruments),
        settings=settings,
        okx_checksum=args.okx_checksum,
        faults=plan,
        tls=args.tls,
        accounts=specs,
    )


async def serve_standalone(
    argv: Sequence[str] = (),
    *,
    out: Callable[[str], None] | None = None,
    task_status: trio.TaskStatus[dict[str, dict[str, str]]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve the simulator until cancelled (``connector sim``).

    Prints ONE JSON line first (:meth:`SimRun.first_line`):
    ``{"binance": {"spot.rest": ..., ..., "credentials": {"api_key": ...,
    "api_secret": ...}}, ..., "truth": {"binance": "http://.../_sim/truth", ...}}``
    (OKX adds ``"passphrase"``), with ``"ca_file": "/path/ca.pem"`` added under
    ``--tls``, then runs until cancelled (Ctrl-C). :func:`line_environment`
    turns the line into a client's ``CONNECTOR_*`` variables.

    Args:
        argv: Command-line options (``--venues``, ``--seed``, ``--rate``,
            ``--host``, ``--port venue.market=N``, ``--bases``, ``--markets``,
            ``--setting venue.name=json``, ``--okx-checksum``, ``--faults FILE``,
            ``--tls``, ``--accounts FILE``).
        out: Where the JSON line goes (default: stdout, flushed).
        task_status: Started with the URL map (venues only).

    Raises:
        ConfigError: Options that do not hold (:func:`parse_options`), or a bad
            front-end setting, before anything is served.
        ConnectorError: A port cannot be bound (in use, or not this machine's address).
    """
    options = parse_options(argv)
    if not structlog.is_configured():
        # stdout carries the JSON line; keep logs off it.
        structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))
    async with run(
        venues=options.venues,
        seed=options.seed,
        rate=options.rate,
        instruments=options.instruments,
        okx_checksum=options.okx_checksum,
        host=options.host,
        ports=options.ports,
        settings=options.settings,
        faults=options.faults,
        tls=options.tls,
        accounts=options.accounts,
    ) as sim:
        line = json.dumps(sim.first_line())
        if out is None:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
        else:
            out(line)
        task_status.started(sim.urls)
        await trio.sleep_forever()


def _leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
    return [exc]


def _main() -> None:
    """``python -m connector.sim.standalone``: like ``connector sim`` (one line per
    problem on stderr; exit 2 for bad options, 1 for a port that cannot be bound)."""
    try:
        trio.run(serve_standalone, sys.argv[1:])
    except KeyboardInterrupt:
        return
    except BaseException as exc:
        errors = [e for e in _leaves(exc) if not isinstance(e, trio.Cancelled | KeyboardInterrupt)]
        if not errors:
            return
        if not all(isinstance(e, ConnectorError) for e in errors):
            raise
        for error in errors:
            lines = error.problems if isinstance(error, ConfigError) else (str(error),)
            for line in lines:
                print(line, file=sys.stderr)
        sys.exit(2 if all(isinstance(e, ConfigError) for e in errors) else 1)


if __name__ == "__main__":
    _main()
