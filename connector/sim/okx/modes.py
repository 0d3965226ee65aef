"""OKX account configuration: each account's account mode and position mode. Pure state.

OKX docs (checked 2026-12-06): "Get account configuration" (``acctLv`` ``1`` Spot
mode, ``2`` Futures mode, ``3`` Multi-currency margin, ``4`` Portfolio margin;
``posMode`` ``long_short_mode`` or ``net_mode``), "Set position mode" (Portfolio
margin supports net mode only: 51041), "Set account mode"
(``POST /api/v5/account/set-account-level``), "POST / Place order" (``tdMode``: spot
``cash`` in Spot and Futures mode, ``cross`` in Multi-currency and Portfolio margin;
``posSide`` required in long/short mode, 51000 without it).

Every account starts in the front-end's ``acct_lv`` and ``pos_mode`` settings
(``2``, ``net_mode``: a Futures mode account in net mode, as the simulator always
was); ``set-account-level`` and ``set-position-mode`` change one account's.
"""

from __future__ import annotations

import attrs

from connector.errors import ConfigError

__all__ = ["ACCOUNT_LEVELS", "POSITION_MODES", "AccountMode", "AccountModes", "check_mode"]

ACCOUNT_LEVELS = ("1", "2", "3", "4")
"""Spot mode, Futures mode, Multi-currency margin, Portfolio margin."""
POSITION_MODES = ("net_mode", "long_short_mode")


@attrs.frozen(kw_only=True)
class AccountMode:
    """One account's configuration.

    Attributes:
        acct_lv: ``1`` to ``4``.
        pos_mode: ``net_mode`` or ``long_short_mode`` (never with ``acct_lv`` 4).
    """

    acct_lv: str = "2"
    pos_mode: str = "net_mode"

    @property
    def spot_td_modes(self) -> tuple[str, ...]:
        """The ``tdMode`` a spot order may take: ``cash`` in modes 1 and 2 (``cross``
        there is margin trading, not simulated), ``cross`` in 3 and 4."""
        return ("cash",) if self.acct_lv in ("1", "2") else ("cross",)


def check_mode(acct_lv: str, pos_mode: str) -> str | None:
    """Why ``(acct_lv, pos_mode)`` is not a configuration OKX allows (``None`` if it is)."""
    if acct_lv not in ACCOUNT_LEVELS:
        return f"acct_lv {acct_lv!r}: expected one of {', '.join(ACCOUNT_LEVELS)}"
    if pos_mode not in POSITION_MODES:
        return f"pos_mode {pos_mode!r}: expected one of {', '.join(POSITION_MODES)}"
    if acct_lv == "4" and pos_mode != "net_mode":
        return "Portfolio margin (acct_lv 4) supports net_mode only"
    return None


@attrs.define
class AccountModes:
    """Each account's :class:`AccountMode`, from a default every account starts with.

    Args:
        default: The configuration of an account never set otherwise.

    Raises:
        ConfigError: A default OKX does not allow (an unknown level or mode,
            Portfolio margin in long/short mode).
    """

    default: AccountMode = attrs.field(factory=AccountMode)
    _by_account: dict[str, AccountMode] = attrs.field(factory=dict, init=False)

    def __attrs_post_init__(self) -> None:
        problem = check_mode(self.default.acct_lv, self.default.pos_mode)
        if problem is not None:
            raise ConfigError(f"sim okx: {problem}")

    def of(self, account: str) -> AccountMode:
        """``account``'s configuration."""
        return self._by_account.get(account, self.default)

    def set(self, account: str, *, acct_lv: str | None = None, pos_mode: str | None = None) -> None:
        """Change ``account``'s account mode and/or position mode (the caller checked
        :func:`check_mode`)."""
        mode = self.of(account)
        self._by_account[account] = AccountMode(
            acct_lv=mode.acct_lv if acct_lv is None else acct_lv,
            pos_mode=mode.pos_mode if pos_mode is None else pos_mode,
        )
