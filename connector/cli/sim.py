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
from connector.logs import configure_logging

__all__ = ["add_parser", "run"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``sim`` to the command parsers."""
    sim = commands.add_parser("sim", help="serve simulated Binance, Bybit and OKX on loopback")
    sim.add_argument("--venues", nargs="+", default=["binance", "bybit", "okx"], metavar="VENUE")
    sim.add_argument(
        "--seed", type=int, default=1, help="seed of the synthetic flow (0 to 2**32 - 1)"
    )
    sim.add_argument(
        "--rate",
        type=non_negative_float,
        default=200.0,
        help="book changes/s per instrument (at most 40000)",
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
    """Run ``connector sim``.

    Bad options are refused before anything is served, one line each
    (:func:`~connector.sim.standalone.parse_options`; a bad ``--setting`` value
    when its front-end reads it, still before serving): a
    :class:`~connector.errors.ConfigError`, exit 2. A port that cannot be bound is
    a :class:`~connector.errors.ConnectorError` naming the venue and port: exit 1.
    """
    from connector.sim.standalone import parse_options, serve_standalone

    def joined(specs: list[str]) -> str:
        return ",".join(item.strip() for spec in specs for item in spec.split(","))

    argv = [
        "--venues", joined(args.venues),
        "--seed", str(args.seed),
        "--rate", repr(args.rate),
        "--host", args.host,
        "--bases", joined(args.bases),
        "--markets", joined(args.markets),
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
    parse_options(argv)  # refuse bad options before logging starts or anything is served
    configure_logging("info", "auto", stream=sys.stderr)

    async def body(stop: trio.CancelScope) -> None:
        with stop:
            await serve_standalone(argv)

    run_stoppable(body, None)
    return 0
