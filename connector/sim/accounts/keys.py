"""API keys of simulated accounts and the verdicts of the venues' request verifiers.

A :class:`Credentials` is what the venue stores for one API key: the HMAC
secret, or the public half of an RSA or Ed25519 key (the venue never sees the
private key), and OKX's passphrase. A :class:`Keyring` finds the account that
owns an API key. The verifiers in ``connector/sim/<venue>/auth.py`` return an
:data:`AuthDecision`: :class:`Authenticated` (go on, as this account) or
:class:`AuthRejected` (answer with the venue's code, message and HTTP status).

The primitives at the bottom (:func:`hmac_sha256`, :func:`verify_public_key`)
are the only cryptography the verifiers use; they compare in constant time.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from typing import Literal

import attrs
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from connector.errors import ConfigError

__all__ = [
    "AuthDecision",
    "AuthRejected",
    "Authenticated",
    "Credentials",
    "KeyEntry",
    "KeyType",
    "Keyring",
    "hmac_sha256",
    "verify_public_key",
]

KeyType = Literal["hmac", "rsa", "ed25519"]
"""How requests made with a key are signed: HMAC-SHA256, RSA PKCS#1 v1.5 SHA-256, Ed25519."""

KEY_TYPES: tuple[KeyType, ...] = ("hmac", "rsa", "ed25519")


@attrs.frozen(kw_only=True)
class Credentials:
    """One API key as the venue stores it.

    Attributes:
        api_key: The key sent in the request (header or parameter).
        key_type: ``hmac`` (the default), ``rsa`` or ``ed25519``.
        secret: The shared HMAC secret (``hmac`` keys only).
        public_key: PEM public key (``rsa`` and ``ed25519`` keys only).
        passphrase: OKX's passphrase, chosen when the key was made ("" elsewhere).
    """

    api_key: str
    key_type: KeyType = "hmac"
    secret: str = attrs.field(default="", repr=False)
    public_key: str = ""
    passphrase: str = attrs.field(default="", repr=False)

    def __attrs_post_init__(self) -> None:
        if not self.api_key:
            raise ValueError("api_key is empty")
        if self.key_type not in KEY_TYPES:
            raise ValueError(f"key_type {self.key_type!r}: expected one of {', '.join(KEY_TYPES)}")
        if self.key_type == "hmac" and not self.secret:
            raise ValueError("an hmac key needs a secret")
        if self.key_type != "hmac":
            if not self.public_key:
                raise ValueError(f"an {self.key_type} key needs a public_key (PEM)")
            _load_public_key(self.public_key, self.key_type)


@attrs.frozen(kw_only=True)
class KeyEntry:
    """An API key and the account that owns it."""

    account_id: str
    credentials: Credentials


@attrs.frozen(kw_only=True)
class Authenticated:
    """The request is signed by a known key, in time: go on as ``account_id``."""

    account_id: str
    api_key: str


@attrs.frozen(kw_only=True)
class AuthRejected:
    """The venue refuses the request.

    Attributes:
        code: The venue's error code (Binance -1022, Bybit 10004, OKX 50113...).
        message: The venue's message, verbatim.
        http_status: The HTTP status of a REST answer (websocket answers put
            the code in the frame; Binance's WS API repeats it as ``status``).
    """

    code: int
    message: str
    http_status: int = 400


AuthDecision = Authenticated | AuthRejected
"""What a verifier decides about one request."""


class Keyring:
    """The API keys of one venue's accounts, by key.

    Args:
        entries: ``(account_id, credentials)`` pairs.

    Raises:
        ConfigError: two accounts share an API key.
    """

    def __init__(self, entries: Iterable[tuple[str, Credentials]]) -> None:
        self._keys: dict[str, KeyEntry] = {}
        for account_id, credentials in entries:
            owner = self._keys.get(credentials.api_key)
            if owner is not None:
                raise ConfigError(
                    f"sim accounts {owner.account_id!r} and {account_id!r} share an API key"
                )
            self._keys[credentials.api_key] = KeyEntry(
                account_id=account_id, credentials=credentials
            )

    def find(self, api_key: str) -> KeyEntry | None:
        """The owner of ``api_key``, or None for a key the venue does not know."""
        return self._keys.get(api_key)

    def __len__(self) -> int:
        return len(self._keys)

    @property
    def keys(self) -> Mapping[str, KeyEntry]:
        """Every key, read-only."""
        return dict(self._keys)


def hmac_sha256(secret: str, payload: bytes) -> bytes:
    """The HMAC-SHA256 digest of ``payload`` under the UTF-8 bytes of ``secret``."""
    return hmac.new(secret.encode(), payload, hashlib.sha256).digest()


def hmac_matches(expected: str, given: str) -> bool:
    """Constant-time comparison of two signature texts."""
    return hmac.compare_digest(expected.encode(), given.encode())


def verify_public_key(credentials: Credentials, payload: bytes, signature_b64: str) -> bool:
    """Whether ``signature_b64`` (standard base64) signs ``payload`` with the key's private half.

    RSA keys: RSASSA-PKCS1-v1_5 with SHA-256. Ed25519 keys: pure Ed25519. An
    HMAC key or a signature that is not base64 never verifies.
    """
    if credentials.key_type == "hmac":
        return False
    try:
        signature = base64.b64decode(signature_b64, validate=True)
    except (binascii.Error, ValueError):
        return False
    key = _load_public_key(credentials.public_key, credentials.key_type)
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, payload, padding.PKCS1v15(), hashes.SHA256())
        else:
            key.verify(signature, payload)
    except InvalidSignature:
        return False
    return True


@functools.lru_cache(maxsize=64)
def _load_public_key(pem: str, key_type: str) -> rsa.RSAPublicKey | ed25519.Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except ValueError as exc:
        raise ValueError(f"public_key is not a PEM public key: {exc}") from exc
    if key_type == "rsa" and isinstance(key, rsa.RSAPublicKey):
        return key
    if key_type == "ed25519" and isinstance(key, ed25519.Ed25519PublicKey):
        return key
    raise ValueError(f"public_key is not an {key_type} key")
