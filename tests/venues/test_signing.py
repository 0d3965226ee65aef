from __future__ import annotations

import hashlib
import hmac

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from connector.errors import ConfigError
from connector.model.credentials import Credentials, KeyType
from connector.venues.signing import Signer, b64, require_key_type

PASSWORD = "pem-password-1234"


def _pem(key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey, password: str | None = None) -> str:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password.encode())
        if password is not None
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    ).decode()


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ed_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


def test_signer_hmac_is_sha256_of_the_secret() -> None:
    signer = Signer.from_credentials(Credentials(api_key="k", api_secret="s3cret"))

    assert hmac.new(b"s3cret", b"payload", hashlib.sha256).digest() == signer.sign(b"payload")
    assert ("k", KeyType.HMAC) == (signer.api_key, signer.key_type)


@pytest.mark.parametrize("length", [1, 63, 64, 65, 200])
def test_signer_hmac_agrees_with_the_standard_library_at_every_key_length(length: int) -> None:
    # The key's padded hash states are made once; a key longer than SHA-256's 64-byte
    # block is hashed first (RFC 2104). Each signature starts from fresh copies.
    secret = ("sé" * length)[:length]
    signer = Signer.from_credentials(Credentials(api_key="k", api_secret=secret))
    key = secret.encode("utf-8")

    for payload in (b"", b"payload", b"x" * 1000, b"payload"):
        assert hmac.new(key, payload, hashlib.sha256).digest() == signer.sign(payload)


def test_signer_rsa_signs_pkcs1v15_sha256_deterministically(rsa_key: rsa.RSAPrivateKey) -> None:
    signer = Signer.from_credentials(
        Credentials(
            api_key="k",
            api_secret=_pem(rsa_key, PASSWORD),
            key_type=KeyType.RSA,
            key_password=PASSWORD,
        )
    )

    signature = signer.sign(b"payload")

    rsa_key.public_key().verify(signature, b"payload", padding.PKCS1v15(), hashes.SHA256())
    assert signature == signer.sign(b"payload")


def test_signer_ed25519_signs_64_bytes(ed_key: ed25519.Ed25519PrivateKey) -> None:
    signer = Signer.from_credentials(
        Credentials(api_key="k", api_secret=_pem(ed_key), key_type=KeyType.ED25519)
    )

    signature = signer.sign(b"payload")

    ed_key.public_key().verify(signature, b"payload")
    assert 64 == len(signature)


def test_signer_refuses_unreadable_or_mismatched_keys_without_echoing_them(
    rsa_key: rsa.RSAPrivateKey, ed_key: ed25519.Ed25519PrivateKey
) -> None:
    encrypted = _pem(rsa_key, PASSWORD)
    cases = [
        (Credentials(api_key="k", api_secret="", key_type=KeyType.HMAC), "non-empty"),
        (Credentials(api_key="k", api_secret="not a pem", key_type=KeyType.RSA), "PEM"),
        (Credentials(api_key="k", api_secret=encrypted, key_type=KeyType.RSA), "key_password"),
        (
            Credentials(
                api_key="k", api_secret=encrypted, key_type=KeyType.RSA, key_password="wrong-one"
            ),
            "key_password",
        ),
        (Credentials(api_key="k", api_secret=_pem(ed_key), key_type=KeyType.RSA), "not a rsa"),
        (
            Credentials(api_key="k", api_secret=_pem(rsa_key), key_type=KeyType.ED25519),
            "not a ed25519",
        ),
    ]
    for credentials, reason in cases:
        with pytest.raises(ConfigError, match=reason) as info:
            Signer.from_credentials(credentials)
        texts = [str(info.value), str(info.value.__cause__ or "")]
        for text in texts:
            assert "PRIVATE KEY" not in text
            assert PASSWORD not in text
            assert "wrong-one" not in text


def test_signer_repr_hides_the_secret_and_the_key(rsa_key: rsa.RSAPrivateKey) -> None:
    hmac_signer = Signer.from_credentials(
        Credentials(api_key="key-hidden", api_secret="secret-hidden", passphrase="pass-hidden")
    )
    rsa_signer = Signer.from_credentials(
        Credentials(api_key="key-hidden", api_secret=_pem(rsa_key), key_type=KeyType.RSA)
    )

    for signer in (hmac_signer, rsa_signer):
        assert "hidden" not in repr(signer)
        assert "PRIVATE" not in repr(signer)
        assert "RSAPrivateKey" not in repr(signer)


def test_require_key_type_names_what_is_accepted() -> None:
    signer = Signer.from_credentials(Credentials(api_key="k", api_secret="s"))

    require_key_type(signer, "x", frozenset({KeyType.HMAC}), "signing")
    with pytest.raises(ConfigError, match="x logon accepts ed25519, rsa keys, not hmac"):
        require_key_type(signer, "x", frozenset({KeyType.RSA, KeyType.ED25519}), "logon")


def test_b64_is_standard_base64_with_padding() -> None:
    assert "+/8=" == b64(b"\xfb\xff")
