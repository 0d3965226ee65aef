"""API credentials for one venue: a frozen value whose secrets never show.

The same three fields as the configuration's credentials (``api_key``,
``api_secret``, ``passphrase``), plus the kind of key. For an HMAC key the
secret is the secret string the venue issued; for an RSA or Ed25519 key it is
the PEM text of the private key (PKCS#8, optionally encrypted with
``key_password``). Parsing the key and signing happen in
``connector/venues/signing.py``; this module only holds the values.

No field but ``key_type`` appears in ``repr`` or ``str``, so a logged or
printed value shows which kind of key it is and nothing else.
"""

from __future__ import annotations

import enum

import attrs

__all__ = ["Credentials", "KeyType"]


class KeyType(enum.Enum):
    """How requests are signed: a shared secret or a private key.

    Binance accepts all three; Bybit HMAC and RSA; OKX HMAC only.
    """

    HMAC = "hmac"
    RSA = "rsa"
    ED25519 = "ed25519"


@attrs.frozen(kw_only=True)
class Credentials:
    """API credentials for one venue; no secret shows in ``repr`` or ``str``.

    Attributes:
        api_key: The API key (sent in clear in a header or a parameter, but
            still kept out of ``repr``: it names the account).
        api_secret: The HMAC secret, or the PEM text of the RSA / Ed25519
            private key.
        passphrase: OKX only: the passphrase chosen when the key was created.
        key_type: How ``api_secret`` signs (HMAC by default).
        key_password: The password of an encrypted PEM private key, if any.
    """

    api_key: str = attrs.field(repr=False)
    api_secret: str = attrs.field(repr=False)
    passphrase: str | None = attrs.field(default=None, repr=False)
    key_type: KeyType = KeyType.HMAC
    key_password: str | None = attrs.field(default=None, repr=False)
