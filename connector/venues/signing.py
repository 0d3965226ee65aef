"""Signing primitives shared by the venues: one key, parsed once, signs bytes.

Sans-I/O: no clock, no randomness (RSA PKCS#1 v1.5 and Ed25519 signatures are
deterministic, so the same payload always gives the same signature). Each
venue's ``sign.py`` decides what the payload is and how the signature is
written (hex or base64); a :class:`Signer` only turns bytes into signature
bytes.

Parsing an RSA private key takes about 0.1 s (the key is validated), so a
:class:`Signer` is built once per set of credentials and reused for every
request.
"""

from __future__ import annotations

import base64
import hashlib

import attrs
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from connector.errors import ConfigError
from connector.model.credentials import Credentials, KeyType

__all__ = ["Signer", "b64", "require_key_type"]

_BLOCK = 64  # SHA-256's block size in bytes
_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))


class _HmacSha256:
    """HMAC-SHA256 (RFC 2104) with the key's inner and outer hash states made once.

    Each signature copies the two states rather than setting up OpenSSL's HMAC
    anew, which costs about three times as much per call, and twice as much
    again on a cold cache (the first order after a quiet spell).
    """

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        if len(key) > _BLOCK:
            key = hashlib.sha256(key).digest()
        key = key.ljust(_BLOCK, b"\0")
        self._inner = hashlib.sha256(key.translate(_IPAD))
        self._outer = hashlib.sha256(key.translate(_OPAD))

    def digest(self, payload: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(payload)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()


_PrivateKey = _HmacSha256 | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


def b64(signature: bytes) -> str:
    """Standard base64 (with ``+``, ``/`` and ``=`` padding), as every venue writes it."""
    return base64.b64encode(signature).decode("ascii")


def _load_private_key(credentials: Credentials) -> _PrivateKey:
    if credentials.key_type is KeyType.HMAC:
        if not credentials.api_secret:
            raise ConfigError("HMAC credentials need a non-empty api_secret")
        return _HmacSha256(credentials.api_secret.encode("utf-8"))
    password = credentials.key_password
    kind = credentials.key_type.value
    try:
        key = serialization.load_pem_private_key(
            credentials.api_secret.encode("utf-8"),
            password=password.encode("utf-8") if password is not None else None,
        )
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        # The cause names only the format problem (cryptography never echoes the key);
        # the message here names neither the key nor the password.
        raise ConfigError(
            f"{kind} credentials: api_secret is not a readable PEM private key"
            " (PKCS#8, with key_password when it is encrypted)"
        ) from exc
    if credentials.key_type is KeyType.RSA and isinstance(key, rsa.RSAPrivateKey):
        return key
    if credentials.key_type is KeyType.ED25519 and isinstance(key, ed25519.Ed25519PrivateKey):
        return key
    raise ConfigError(f"{kind} credentials: the PEM private key is not a {kind} key")


@attrs.frozen(eq=False)
class Signer:
    """One set of credentials with its key parsed, ready to sign payloads.

    Build it with :meth:`from_credentials`. Only ``key_type`` shows in ``repr``.
    """

    credentials: Credentials
    _key: _PrivateKey = attrs.field(repr=False, alias="key")

    @classmethod
    def from_credentials(cls, credentials: Credentials) -> Signer:
        """Parse the credentials' key once.

        Raises:
            ConfigError: The secret is empty, or the PEM text does not hold a
                private key of ``credentials.key_type`` (or needs a password).
                The message never contains the secret or the password.
        """
        return cls(credentials, key=_load_private_key(credentials))

    @property
    def api_key(self) -> str:
        """The API key these credentials carry."""
        return self.credentials.api_key

    @property
    def key_type(self) -> KeyType:
        """How this signer signs."""
        return self.credentials.key_type

    def sign(self, payload: bytes) -> bytes:
        """The raw signature of ``payload``: an HMAC-SHA256 digest (32 bytes), an
        RSA PKCS#1 v1.5 SHA-256 signature, or an Ed25519 signature (64 bytes)."""
        key = self._key
        if isinstance(key, _HmacSha256):
            return key.digest(payload)
        if isinstance(key, rsa.RSAPrivateKey):
            return key.sign(payload, padding.PKCS1v15(), hashes.SHA256())
        return key.sign(payload)


def require_key_type(signer: Signer, venue: str, allowed: frozenset[KeyType], what: str) -> None:
    """Refuse a key the venue does not accept for ``what``.

    Raises:
        ConfigError: ``signer.key_type`` is not in ``allowed``.
    """
    if signer.key_type not in allowed:
        names = ", ".join(sorted(k.value for k in allowed))
        raise ConfigError(
            f"{venue} {what} accepts {names} keys, not {signer.key_type.value}",
        )
