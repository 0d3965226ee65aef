"""Simulated accounts: API keys, balances with order holds, fees, linear positions.

Sans-I/O (no trio, no clock): the venues' trading code calls it as orders are
placed, filled and cancelled, and the request verifiers
(``connector/sim/<venue>/auth.py``) look keys up in a :class:`Keyring`.

Modules: ``keys.py`` (credentials, keyring, verdicts, signature primitives),
``account.py`` (:class:`SimAccount`: balances, holds, fees, margin),
``positions.py`` (one-way position arithmetic), ``money.py`` (the rounding
rule), ``config.py`` (default demo accounts, the TOML loader, :class:`AccountBook`).
See docs/simulator.md, "Accounts and authentication".
"""

from __future__ import annotations

from connector.sim.accounts.account import (
    Balance,
    FeeRates,
    FillSettled,
    Held,
    Liquidity,
    Market,
    Refused,
    Side,
    SimAccount,
    insufficient_funds,
)
from connector.sim.accounts.config import (
    DEFAULT_BALANCES,
    DEFAULT_CREDENTIALS,
    DEFAULT_FEES,
    SIM_VENUES,
    AccountBook,
    AccountSpec,
    default_accounts,
    load_accounts,
    merge_accounts,
    parse_accounts,
)
from connector.sim.accounts.keys import (
    AuthDecision,
    Authenticated,
    AuthRejected,
    Credentials,
    KeyEntry,
    Keyring,
    KeyType,
)
from connector.sim.accounts.positions import Position, PositionChange, apply_fill, unrealised_pnl

__all__ = [
    "DEFAULT_BALANCES",
    "DEFAULT_CREDENTIALS",
    "DEFAULT_FEES",
    "SIM_VENUES",
    "AccountBook",
    "AccountSpec",
    "AuthDecision",
    "AuthRejected",
    "Authenticated",
    "Balance",
    "Credentials",
    "FeeRates",
    "FillSettled",
    "Held",
    "KeyEntry",
    "KeyType",
    "Keyring",
    "Liquidity",
    "Market",
    "Position",
    "PositionChange",
    "Refused",
    "Side",
    "SimAccount",
    "apply_fill",
    "default_accounts",
    "insufficient_funds",
    "load_accounts",
    "merge_accounts",
    "parse_accounts",
    "unrealised_pnl",
]
