from __future__ import annotations

import attrs

from connector.model.credentials import Credentials, KeyType


def test_credentials_repr_and_str_show_only_the_key_type() -> None:
    credentials = Credentials(
        api_key="key-visible-nowhere",
        api_secret="secret-visible-nowhere",
        passphrase="passphrase-visible-nowhere",
        key_type=KeyType.RSA,
        key_password="password-visible-nowhere",
    )

    for text in (repr(credentials), str(credentials), f"{credentials!r:>10}"):
        assert "visible-nowhere" not in text
        assert "rsa" in text.lower()


def test_credentials_default_to_hmac_without_passphrase() -> None:
    credentials = Credentials(api_key="k", api_secret="s")

    assert (KeyType.HMAC, None, None) == (
        credentials.key_type,
        credentials.passphrase,
        credentials.key_password,
    )


def test_credentials_keep_the_configuration_field_names() -> None:
    # connector.config builds credentials with these keywords; the value must accept them.
    names = [f.name for f in attrs.fields(Credentials)]

    assert ["api_key", "api_secret", "passphrase", "key_type", "key_password"] == names
