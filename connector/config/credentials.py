"""Secrets: credentials and a PostgreSQL DSN, from the environment or a secrets file.

Secrets never live in the main file. They come from ``CONNECTOR_<VENUE>_API_KEY``,
``CONNECTOR_<VENUE>_API_SECRET`` and ``CONNECTOR_OKX_PASSPHRASE``, or from the
TOML file named by ``secrets_file``; the environment wins, key by key. No
problem line ever echoes a secret's value, and every loaded secret is
registered with the log redactor.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

import attrs

from connector.config.fields import MISSING, SECRET_KEYS, EnvText, Problems
from connector.config.files import read_toml
from connector.config.values import VENUES, Config
from connector.errors import ConfigError
from connector.logs import register_secret
from connector.model.credentials import Credentials, KeyType

__all__ = [
    "SecretText",
    "Secrets",
    "attach_credentials",
    "check_dsn",
    "load_secrets",
    "merge_env_secrets",
    "register_secrets",
]

_SECRET_ENV = re.compile(
    r"CONNECTOR_([A-Z0-9]+)_(API_KEY|API_SECRET|PASSPHRASE|KEY_TYPE|KEY_PASSWORD)"
)
_KEY_TYPES = {
    "binance": (KeyType.HMAC, KeyType.RSA, KeyType.ED25519),
    "bybit": (KeyType.HMAC, KeyType.RSA),
    "okx": (KeyType.HMAC,),
}
"""The key types each venue accepts (venues-trading.md section 1.1)."""


class SecretText(str):
    """A secret's value and where it came from (an environment variable, or the secrets
    file and its section), for problem lines, which never show the value."""

    __slots__ = ("source",)
    source: str

    def __new__(cls, text: str, source: str) -> SecretText:
        self = super().__new__(cls, text)
        self.source = source
        return self

    def __repr__(self) -> str:
        return "SecretText(***)"


Secrets = dict[str, dict[str, SecretText]]
"""``{venue or "storage": {key: value}}``."""

_SENT_KEYS = ("api_key", "passphrase")
"""Secrets sent as they are, in a header (``X-MBX-APIKEY``, ``OK-ACCESS-PASSPHRASE``...)."""


def load_secrets(data: Mapping[str, object], base_dir: Path, problems: Problems) -> Secrets:
    """The secrets in the file named by ``secrets_file`` (relative to ``base_dir``)."""
    name = data.get("secrets_file", MISSING)
    if not isinstance(name, str):
        return {}
    file = Path(name).expanduser()
    if not file.is_absolute():
        file = base_dir / file
    try:
        raw = read_toml(file, "secrets file")
    except ConfigError as exc:
        problems.note(f"secrets_file: {exc}")
        return {}
    secrets: Secrets = {}
    for section, table in raw.items():
        if section == "storage" and isinstance(table, Mapping):
            for key, value in table.items():
                if key != "postgres_dsn":
                    problems.note(
                        f"secrets file [storage] {key}: unknown key; expected postgres_dsn"
                    )
                elif not isinstance(value, str):
                    problems.note("secrets file [storage] postgres_dsn: expected a string")
                else:
                    where = f"secrets file {str(file)!r} [storage]"
                    secrets.setdefault("storage", {})["postgres_dsn"] = SecretText(value, where)
            continue
        if section not in VENUES:
            close = difflib.get_close_matches(section, (*VENUES, "storage"), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.note(f"secrets file [{section}]: unknown section{hint}")
            continue
        if not isinstance(table, Mapping):
            problems.note(f"secrets file [{section}]: expected a table")
            continue
        for key, value in table.items():
            if key not in SECRET_KEYS:
                close = difflib.get_close_matches(key, SECRET_KEYS, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                problems.note(f"secrets file [{section}] {key}: unknown key{hint}")
            elif not isinstance(value, str) or not value:
                # The value is never echoed: it is (or should have been) a secret.
                problems.note(f"secrets file [{section}] {key}: expected a non-empty string")
            else:
                where = f"secrets file {str(file)!r} [{section}]"
                secrets.setdefault(section, {})[key] = SecretText(value, where)
    return secrets


def merge_env_secrets(secrets: Secrets, environ: Mapping[str, str], problems: Problems) -> Secrets:
    """``secrets`` with ``CONNECTOR_<VENUE>_*`` variables over them, key by key."""
    merged = {section: dict(values) for section, values in secrets.items()}
    for var in sorted(environ):
        match = _SECRET_ENV.fullmatch(var)
        if match is None:
            continue
        venue, key = match.group(1).lower(), match.group(2).lower()
        if venue not in VENUES:
            # CONNECTOR_TEST_... and the like are not ours; only near-misses are worth a word.
            close = difflib.get_close_matches(venue, VENUES, n=1)
            if close:
                problems.note(f"{var}: unknown venue {venue!r} (did you mean {close[0]!r}?)")
            continue
        if environ[var]:
            merged.setdefault(venue, {})[key] = SecretText(environ[var], var)
    return merged


def attach_credentials(config: Config, secrets: Secrets, problems: Problems) -> Config:
    """``config`` with each configured venue's credentials and the storage DSN attached."""
    venues = dict(config.venues)
    for name, values in secrets.items():
        if name == "storage":
            continue
        source = f"CONNECTOR_{name.upper()}_* or [{name}] in secrets_file"
        missing = [k for k in ("api_key", "api_secret") if k not in values]
        if missing:
            problems.note(f"{name} credentials: {' and '.join(missing)} missing (set {source})")
            continue
        passphrase = values.get("passphrase")
        if name == "okx" and passphrase is None:
            problems.note(f"okx credentials: passphrase missing (set {source})")
            continue
        if name != "okx" and passphrase is not None:
            problems.note(f"{name} credentials: {name} keys have no passphrase; remove it")
            continue
        allowed = _KEY_TYPES[name]
        try:
            key_type = KeyType(values.get("key_type", "hmac").lower())
        except ValueError:
            key_type = None
        if key_type not in allowed:
            names = ", ".join(t.value for t in allowed)
            problems.note(
                f"{name} credentials: key_type {str(values.get('key_type'))!r}: expected {names}"
            )
            continue
        pem = key_type is not KeyType.HMAC
        unsendable = [
            line
            for key in (*_SENT_KEYS, "api_secret")
            if key in values
            and (line := _unsendable(name, key, values[key], pem=key == "api_secret" and pem))
        ]
        if unsendable:
            for line in unsendable:
                problems.note(line)
            continue
        if name in venues:
            key_password = values.get("key_password")
            venues[name] = attrs.evolve(
                venues[name],
                credentials=Credentials(
                    api_key=str(values["api_key"]),
                    api_secret=str(values["api_secret"]),
                    passphrase=None if passphrase is None else str(passphrase),
                    key_type=key_type,
                    key_password=None if key_password is None else str(key_password),
                ),
            )
    storage = config.storage
    dsn = secrets.get("storage", {}).get("postgres_dsn")
    if dsn is not None and storage.postgres_dsn is None:
        storage = attrs.evolve(storage, postgres_dsn=str(dsn))
    return attrs.evolve(config, venues=venues, storage=storage)


def _unsendable(venue: str, key: str, value: SecretText, *, pem: bool) -> str | None:
    """Why secret ``key`` cannot be what the venue issued, or ``None``; never shows the value.

    The API key and the OKX passphrase go as they are into a header, whose value
    holds no control character and loses its leading and trailing whitespace
    (RFC 9110 section 5.5); no venue issues a key with whitespace in it. An HMAC
    secret is the same kind of text; a PEM private key (``key_type`` rsa or
    ed25519) is lines of text, so only its line breaks and spaces pass.
    """
    allowed = "\n\r\t " if pem else ""
    for index, char in enumerate(value):
        if char in allowed or (char.isprintable() and not char.isspace()):
            continue
        if char in "\r\n":
            what = "a line break"
        elif char.isspace():
            what = "whitespace"
        else:
            what = f"a control character (U+{ord(char):04X})"
        place = (
            "at its end" if index == len(value) - 1 else "at its start" if index == 0 else "inside"
        )
        rule = (
            "a PEM key is lines of text"
            if pem
            else "keys, HMAC secrets and passphrases hold no whitespace or control characters"
        )
        return f"{venue} credentials: {key} (from {value.source}) has {what} {place}; {rule}"
    return None


def _dsn_password(dsn: str) -> str | None:
    if "://" in dsn:
        try:
            return urlsplit(dsn).password
        except ValueError:
            return None
    match = re.search(r"(?:^|\s)password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", dsn)
    if match is None:
        return None
    return match.group(1).strip("'")


def check_dsn(data: Mapping[str, object], problems: Problems) -> None:
    """A password inside a DSN written in the main file is a secret in the wrong place."""
    storage = data.get("storage")
    if not isinstance(storage, Mapping):
        return
    dsn = storage.get("postgres_dsn")
    if isinstance(dsn, str) and not isinstance(dsn, EnvText) and _dsn_password(dsn):
        problems.note(
            "storage.postgres_dsn: holds a password; put secrets in the environment "
            "(CONNECTOR_STORAGE__POSTGRES_DSN) or secrets_file ([storage] postgres_dsn)"
        )


def register_secrets(config: Config) -> None:
    """Register every secret of ``config`` with the log redactor."""
    for venue in config.venues.values():
        if venue.credentials is not None:
            for secret in (
                venue.credentials.api_key,
                venue.credentials.api_secret,
                venue.credentials.passphrase,
                venue.credentials.key_password,
            ):
                if secret:
                    register_secret(secret)
    if config.storage.postgres_dsn:
        register_secret(config.storage.postgres_dsn)
        password = _dsn_password(config.storage.postgres_dsn)
        if password:
            register_secret(password)
