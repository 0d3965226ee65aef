"""Which accounts each simulated venue has: fixed demo defaults, more from a TOML file.

Every venue has one default account (:func:`default_accounts`) with fixed,
published demo credentials, so examples and third-party clients can sign
requests without any setup:

============  ======================================================================
venue         credentials of the default account
============  ======================================================================
binance       key ``JQXSKDKRyMlAtXZ7IZHhNu1DdDHx50quqzm6mShThoj8eWOyogsZSrC9IoqAn6hC``
              secret ``JVi3uLTZC8NfjZCqJhjsJjSN2dizI1jUb4gjeXzhHvEr3kkYvyovuTUX3FaDRU4H``
bybit         key ``XDOSACTNNBJFPXGIFL``, secret ``RAQRYBANJWEHMEFQNGXIWYPGWVRORJLJNVNR``
okx           key ``c5bb7f62-c5fd-46a8-a999-12cf291ffbd9``,
              secret ``93A07C7B613C2CB0109746BC08277B02``, passphrase ``Sim-Demo-2026``
============  ======================================================================

They start with :data:`DEFAULT_BALANCES` (100,000 USDT, 1 BTC, 10 ETH, 100
SOL) and the venue's regular-tier fees (:data:`DEFAULT_FEES`). These keys are
for the simulator only: they sign nothing anywhere else.

:func:`load_accounts` reads more accounts (or replaces a default one, by using
its id) from a TOML file::

    [[accounts]]
    id = "alice"                 # unique per venue; "<venue>-demo" replaces the default
    venue = "okx"                # binance, bybit or okx
    api_key = "..."
    secret = "..."               # HMAC secret
    passphrase = "..."           # OKX only, required there
    key_type = "hmac"            # or "rsa" / "ed25519", with public_key = "<PEM>"
    leverage = 5                 # linear symbols without their own setting (default 10)
    balances = { USDT = "250000", BTC = "2" }   # default: DEFAULT_BALANCES
    [accounts.fees.linear]       # spot and/or linear; default: the venue's DEFAULT_FEES
    maker = "0.0001"
    taker = "0.0004"

Amounts are strings (or integers) so they stay exact. Every problem in the file
is reported at once in one :class:`~connector.errors.ConfigError`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import get_args

import attrs

from connector.errors import ConfigError
from connector.sim.accounts.account import FeeRates, Market, SimAccount
from connector.sim.accounts.keys import KEY_TYPES, Credentials, Keyring

__all__ = [
    "DEFAULT_BALANCES",
    "DEFAULT_CREDENTIALS",
    "DEFAULT_FEES",
    "SIM_VENUES",
    "AccountBook",
    "AccountSpec",
    "default_accounts",
    "load_accounts",
    "merge_accounts",
    "parse_accounts",
]

SIM_VENUES = ("binance", "bybit", "okx")

DEFAULT_BALANCES: Mapping[str, Decimal] = {
    "USDT": Decimal(100_000),
    "BTC": Decimal(1),
    "ETH": Decimal(10),
    "SOL": Decimal(100),
}
"""Starting wallet of a default account."""


def _fees(maker: str, taker: str) -> FeeRates:
    return FeeRates(maker=Decimal(maker), taker=Decimal(taker))


DEFAULT_FEES: Mapping[str, Mapping[Market, FeeRates]] = {
    # Regular (VIP 0 / Lv1) tiers. Binance spot 0.1 %/0.1 % (binance.com/en/fee/schedule);
    # USDⓈ-M 0.02 %/0.05 % (fee page; also /fapi/v1/commissionRate in FIX
    # nautilus_trader .../http_futures_wallet_commission_rate_btcusdt.json).
    "binance": {"spot": _fees("0.001", "0.001"), "linear": _fees("0.0002", "0.0005")},
    # Bybit spot 0.1 %/0.1 %, derivatives 0.02 %/0.055 % (bybit.com/en/help-center, "Trading
    # fee structure", non-VIP).
    "bybit": {"spot": _fees("0.001", "0.001"), "linear": _fees("0.0002", "0.00055")},
    # OKX Lv1 spot 0.08 %/0.1 % (GET /api/v5/account/trade-fee in FIX nautilus_trader
    # .../okx/test_data/http_get_trade_fee_response.json, negative there as OKX signs a
    # charge); swap 0.02 %/0.05 % (okx.com/fees).
    "okx": {"spot": _fees("0.0008", "0.001"), "linear": _fees("0.0002", "0.0005")},
}
"""Fee rates of every default account, by venue and market."""

DEFAULT_CREDENTIALS: Mapping[str, Credentials] = {
    "binance": Credentials(
        api_key="JQXSKDKRyMlAtXZ7IZHhNu1DdDHx50quqzm6mShThoj8eWOyogsZSrC9IoqAn6hC",
        secret="JVi3uLTZC8NfjZCqJhjsJjSN2dizI1jUb4gjeXzhHvEr3kkYvyovuTUX3FaDRU4H",
    ),
    "bybit": Credentials(
        api_key="XDOSACTNNBJFPXGIFL", secret="RAQRYBANJWEHMEFQNGXIWYPGWVRORJLJNVNR"
    ),
    "okx": Credentials(
        api_key="c5bb7f62-c5fd-46a8-a999-12cf291ffbd9",
        secret="93A07C7B613C2CB0109746BC08277B02",
        passphrase="Sim-Demo-2026",
    ),
}
"""The fixed demo credentials of each venue's default account (documented above)."""


@attrs.frozen(kw_only=True)
class AccountSpec:
    """How to open one simulated account.

    Attributes:
        account_id: Unique per venue (``<venue>-demo`` for the default one).
        venue: ``binance``, ``bybit`` or ``okx``.
        credentials: Its API key.
        balances: Starting wallet by asset.
        fees: Fee rates by market.
        leverage: Leverage of linear symbols without their own setting.
    """

    account_id: str
    venue: str
    credentials: Credentials
    balances: Mapping[str, Decimal] = attrs.field(factory=lambda: dict(DEFAULT_BALANCES))
    fees: Mapping[Market, FeeRates] = attrs.field(factory=dict)
    leverage: int = 10

    def open(self) -> SimAccount:
        """A fresh account with the starting balances."""
        fees = {**DEFAULT_FEES.get(self.venue, {}), **self.fees}
        return SimAccount.open(
            self.account_id,
            self.venue,
            balances=self.balances,
            fees=fees,
            leverage=self.leverage,
        )


def default_accounts(balances: Mapping[str, Decimal] | None = None) -> tuple[AccountSpec, ...]:
    """Each venue's default account, starting with ``balances`` or :data:`DEFAULT_BALANCES`."""
    start = dict(DEFAULT_BALANCES if balances is None else balances)
    return tuple(
        AccountSpec(
            account_id=f"{venue}-demo",
            venue=venue,
            credentials=DEFAULT_CREDENTIALS[venue],
            balances=start,
            fees=dict(DEFAULT_FEES[venue]),
        )
        for venue in SIM_VENUES
    )


def merge_accounts(*groups: Iterable[AccountSpec]) -> tuple[AccountSpec, ...]:
    """All accounts of the groups; a later one replaces an earlier one of the same venue and id."""
    merged: dict[tuple[str, str], AccountSpec] = {}
    for group in groups:
        for spec in group:
            merged[(spec.venue, spec.account_id)] = spec
    return tuple(merged.values())


def load_accounts(path: str | Path, *, defaults: bool = True) -> tuple[AccountSpec, ...]:
    """The accounts of a TOML file, after the default accounts unless ``defaults`` is False.

    Raises:
        ConfigError: the file cannot be read or is not valid TOML, or any
            account in it is wrong (every problem is listed in ``problems``).
    """
    source = str(path)
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read the accounts file: {exc.strerror}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from exc
    loaded = parse_accounts(data, source)
    return merge_accounts(default_accounts(), loaded) if defaults else loaded


_FIELDS = (
    "id",
    "venue",
    "api_key",
    "secret",
    "passphrase",
    "key_type",
    "public_key",
    "leverage",
    "balances",
    "fees",
)


def parse_accounts(data: Mapping[str, object], source: str) -> tuple[AccountSpec, ...]:
    """Accounts from parsed TOML (``{"accounts": [{...}, ...]}``); ``source`` names it in errors.

    Raises:
        ConfigError: every problem found, in ``problems``.
    """
    problems: list[str] = []
    unknown = sorted(set(data) - {"accounts"})
    if unknown:
        problems.append(f"{source}: unknown top-level key {', '.join(unknown)}; expected accounts")
    entries = data.get("accounts", [])
    if not isinstance(entries, list):
        raise ConfigError(f"{source}: accounts must be an array of tables ([[accounts]])")
    specs: list[AccountSpec] = []
    seen: dict[tuple[str, str], int] = {}
    keys: dict[str, str] = {}
    for index, entry in enumerate(entries):
        where = f"{source}: accounts[{index}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: must be a table")
            continue
        spec = _parse_entry(entry, where, problems)
        if spec is None:
            continue
        key = (spec.venue, spec.account_id)
        if key in seen:
            problems.append(f"{where}: id {spec.account_id!r} is already used on {spec.venue}")
        seen[key] = index
        owner = keys.get(spec.credentials.api_key)
        if owner is not None:
            problems.append(f"{where}: api_key is already the key of account {owner!r}")
        keys[spec.credentials.api_key] = spec.account_id
        specs.append(spec)
    if problems:
        raise ConfigError(problems[0], tuple(problems))
    return tuple(specs)


def _parse_entry(entry: dict[str, object], where: str, problems: list[str]) -> AccountSpec | None:
    before = len(problems)
    account_id = _text(entry, "id", where, problems, required=True)
    if account_id:
        where = f"{where} ({account_id})"
    unknown = sorted(set(entry) - set(_FIELDS))
    if unknown:
        problems.append(f"{where}: unknown field {', '.join(unknown)}; known: {', '.join(_FIELDS)}")
    venue = _text(entry, "venue", where, problems, required=True)
    if venue and venue not in SIM_VENUES:
        problems.append(f"{where}: venue {venue!r}: expected one of {', '.join(SIM_VENUES)}")
    api_key = _text(entry, "api_key", where, problems, required=True)
    key_type = _text(entry, "key_type", where, problems) or "hmac"
    if key_type not in KEY_TYPES:
        problems.append(f"{where}: key_type {key_type!r}: expected one of {', '.join(KEY_TYPES)}")
    secret = _text(entry, "secret", where, problems)
    public_key = _text(entry, "public_key", where, problems)
    passphrase = _text(entry, "passphrase", where, problems)
    if venue == "okx" and not passphrase:
        problems.append(f"{where}: an okx account needs a passphrase")
    leverage = entry.get("leverage", 10)
    if not isinstance(leverage, int) or isinstance(leverage, bool) or not 1 <= leverage <= 125:
        problems.append(f"{where}: leverage must be a whole number from 1 to 125")
        leverage = 10
    balances = _balances(entry.get("balances"), where, problems)
    fees = _fee_table(entry.get("fees"), where, problems)
    credentials: Credentials | None = None
    if len(problems) == before:
        try:
            credentials = Credentials(
                api_key=api_key,
                key_type=key_type,  # type: ignore[arg-type]  # checked against KEY_TYPES above
                secret=secret,
                public_key=public_key,
                passphrase=passphrase,
            )
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
    if credentials is None or len(problems) != before:
        return None
    return AccountSpec(
        account_id=account_id,
        venue=venue,
        credentials=credentials,
        balances=balances if balances is not None else dict(DEFAULT_BALANCES),
        fees=fees,
        leverage=leverage,
    )


def _text(
    entry: Mapping[str, object],
    name: str,
    where: str,
    problems: list[str],
    *,
    required: bool = False,
) -> str:
    value = entry.get(name)
    if value is None:
        if required:
            problems.append(f"{where}: {name} is missing")
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        problems.append(f"{where}: {name} must be a non-empty string")
        return ""
    return value


def _amount(value: object, where: str, problems: list[str], *, signed: bool = False) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        problems.append(f'{where}: expected a number written as a string, e.g. "100000"')
        return Decimal(0)
    try:
        # A TOML float goes through its shortest repr, so 0.1 stays 0.1.
        amount = Decimal(str(value))
    except InvalidOperation:
        problems.append(f"{where}: {value!r} is not a number")
        return Decimal(0)
    if not amount.is_finite() or (not signed and amount < 0):
        problems.append(
            f"{where}: {value!r} must be a finite{'' if signed else ', non-negative'} number"
        )
        return Decimal(0)
    return amount


def _balances(value: object, where: str, problems: list[str]) -> dict[str, Decimal] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        problems.append(f'{where}: balances must be a table of ASSET = "amount"')
        return None
    return {
        str(asset): _amount(amount, f"{where}: balances.{asset}", problems)
        for asset, amount in value.items()
    }


def _fee_table(value: object, where: str, problems: list[str]) -> dict[Market, FeeRates]:
    if value is None:
        return {}
    markets = get_args(Market)
    if not isinstance(value, dict):
        problems.append(f"{where}: fees must be a table of markets ({', '.join(markets)})")
        return {}
    fees: dict[Market, FeeRates] = {}
    for market, rates in value.items():
        at = f"{where}: fees.{market}"
        if market not in markets:
            problems.append(f"{at}: unknown market; expected {', '.join(markets)}")
            continue
        if not isinstance(rates, dict) or set(rates) != {"maker", "taker"}:
            problems.append(f'{at}: expected maker = "rate" and taker = "rate"')
            continue
        maker = _amount(rates["maker"], f"{at}.maker", problems, signed=True)
        taker = _amount(rates["taker"], f"{at}.taker", problems, signed=True)
        try:
            fees[market] = FeeRates(maker=maker, taker=taker)
        except ValueError as exc:
            problems.append(f"{at}: {exc}")
    return fees


class AccountBook:
    """The accounts of one venue, by id and by API key.

    Args:
        venue: ``binance``, ``bybit`` or ``okx``.
        specs: Accounts of every venue; those of ``venue`` are opened.
    """

    def __init__(self, venue: str, specs: Iterable[AccountSpec]) -> None:
        self.venue = venue
        mine = [s for s in specs if s.venue == venue]
        self._accounts = {s.account_id: s.open() for s in mine}
        self.keyring = Keyring((s.account_id, s.credentials) for s in mine)

    def get(self, account_id: str) -> SimAccount:
        """The account named ``account_id``.

        Raises:
            KeyError: no such account on this venue.
        """
        return self._accounts[account_id]

    def accounts(self) -> tuple[SimAccount, ...]:
        """Every account of the venue, in the order they were given."""
        return tuple(self._accounts.values())
