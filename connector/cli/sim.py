"""``connector sim``: serve the simulated venues on loopback until stopped.

The first line on stdout is one JSON object: the URLs per venue
(``{"binance": {"spot.rest": ..., "spot.ws": ...}, ...}``) and, with
``--tls``, ``"ca_file"``: the certificate authority to trust. Each venue's
entry also carries ``"credentials"`` (``api_key``, ``api_secret``, OKX
``passphrase``) of its default account; ``"truth"`` names, per venue, the URL of
the venue's truth (``GET /_sim/truth``: orders, fills, balances, positions).
``--faults FILE`` injects the fault plan of a TOML file; ``--accounts FILE`` adds
accounts; ``--setting VENUE.NAME=VALUE`` sets a front-end setting, e.g.
``bybit.latency=0.02`` (see ``docs/simulator.md``).
"""

from __future__ import annotations

import argparse
import sys

import trio

from connector.cli.common import non_negative_float, run_stoppable
from connector.errors import ConfigError
from connector.logs import configure_logging

__all__ = ["add_parser", "run"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``sim`` to the command parsers."""
    sim = commands.add_parser("sim", help="serve simulated Binance, Bybit and OKX on loopback")
    sim.add_argument("--venues", nargs="+", default=["binance", "bybit", "okx"], metavar="VENUE")
    sim.add_argument("--seed", type=int, default=1, help="seed of the synthetic flow")
    sim.add_argument(
        "--rate", type=non_negative_float, default=200.0, help="book changes/s per instrument"
    )
    sim.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    sim.add_argument(
        "--port",
        action="append",
        default=[],
        metavar="VENUE[.MARKET]=PORT",
        help="fixed port, e.g. binance.spot=9000 (repeatable)",
    )
    sim.add_argument("--bases", nargs="+", default=["BTC", "ETH", "SOL"], metavar="ASSET")
    sim.add_argument("--markets", nargs="+", default=[], metavar="MARKET", help="default: all")
    sim.add_argument("--okx-checksum", action="store_true", help="OKX sends real CRC32 checksums")
    sim.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="VENUE.NAME=JSON",
        help="front-end setting, e.g. bybit.latency=0.02 (repeatable)",
    )
    sim.add_argument(
        "--faults", default=None, metavar="FILE", help="inject the fault plan of a TOML file"
    )
    sim.add_argument(
        "--accounts", default=None, metavar="FILE", help="more accounts from a TOML file"
    )
    sim.add_argument(
        "--tls",
        action="store_true",
        help='serve https:// and wss://; the JSON line names the CA file ("ca_file")',
    )
    sim.set_defaults(command=run)


def run(args: argparse.Namespace) -> int:
    """Run ``connector sim``."""
    from connector.sim.faults import FaultPlan
    from connector.sim.instruments import SIMULATED_BASES
    from connector.sim.standalone import FRONTENDS, serve_standalone

    venues = [v.strip() for spec in args.venues for v in spec.split(",") if v.strip()]
    problems = [
        f"sim: unknown venue {v!r}: expected one of {', '.join(FRONTENDS)}"
        for v in venues
        if v not in FRONTENDS
    ]
    bases = [b.strip() for spec in args.bases for b in spec.split(",") if b.strip()]
    problems += [
        f"sim: --bases {b!r}: expected any of {', '.join(SIMULATED_BASES)}"
        for b in bases
        if b not in SIMULATED_BASES
    ]
    for spec in args.port:
        key, sep, value = spec.partition("=")
        if not sep or not key.strip() or not value.strip().isdigit():
            problems.append(f"sim: --port {spec!r}: expected VENUE[.MARKET]=PORT")
    for spec in args.setting:
        key, sep, _ = spec.partition("=")
        venue, dot, name = key.strip().partition(".")
        if not sep or not dot or not name:
            problems.append(f"sim: --setting {spec!r}: expected VENUE.NAME=VALUE")
        elif venue not in venues:
            problems.append(f"sim: --setting {spec!r}: {venue!r} is not a served venue")
    if args.faults:
        try:
            FaultPlan.from_toml(args.faults)  # refuse a bad plan before serving anything
        except ConfigError as exc:
            problems.extend(exc.problems)
    if args.accounts:
        from connector.sim.accounts import load_accounts

        try:
            load_accounts(args.accounts)  # refuse a bad file before serving anything
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems[0], tuple(problems))
    configure_logging("info", "auto", stream=sys.stderr)
    argv = [
        "--venues", ",".join(venues),
        "--seed", str(args.seed),
        "--rate", str(args.rate),
        "--host", args.host,
        "--bases", ",".join(bases),
        "--markets", ",".join(m.strip() for spec in args.markets for m in spec.split(",")),
    ]  # fmt: skip
    for spec in args.port:
        argv += ["--port", spec]
    for spec in args.setting:
        argv += ["--setting", spec]
    if args.okx_checksum:
        argv.append("--okx-checksum")
    if args.faults:
        argv += ["--faults", args.faults]
    if args.tls:
        argv.append("--tls")
    if args.accounts:
        argv += ["--accounts", args.accounts]

    async def body(stop: trio.CancelScope) -> None:
        with stop:
            await serve_standalone(argv)

    run_stoppable(body, None)
    return 0
