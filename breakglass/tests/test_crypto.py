"""The envelope format and keyring, without Django's database."""

from __future__ import annotations

import base64
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from breakglass.crypto import (
    MAGIC,
    CryptoError,
    DecryptionError,
    KeyConfigurationError,
    Keyring,
    generate_key_entry,
)

AAD = b"root-credential:0b8f2a52-3d5c-4a55-9d8e-8c1b5f0f7d11"
PLAINTEXT = b"Tr0ub4dor&3 correct horse"
NONCE = 12
WRAPPED = 48
TAG = 16


def entry(key_id: str, key: bytes | None = None) -> str:
    return f"{key_id}:{base64.b64encode(key if key is not None else os.urandom(32)).decode()}"


@pytest.fixture
def ring() -> Keyring:
    return Keyring.from_config(entry("k1"))


def regions(token: bytes, key_id: str) -> dict[str, tuple[int, int]]:
    """Byte ranges of each field, as documented in the module docstring."""
    header_end = len(MAGIC) + 1 + len(key_id)
    wrap_nonce_end = header_end + NONCE
    wrapped_end = wrap_nonce_end + WRAPPED
    nonce_end = wrapped_end + NONCE
    tag_start = len(token) - TAG
    return {
        "magic": (0, len(MAGIC)),
        "key id length": (len(MAGIC), len(MAGIC) + 1),
        "key id": (len(MAGIC) + 1, header_end),
        "wrap nonce": (header_end, wrap_nonce_end),
        "wrapped key": (wrap_nonce_end, wrapped_end),
        "nonce": (wrapped_end, nonce_end),
        "ciphertext": (nonce_end, tag_start),
        "tag": (tag_start, len(token)),
    }


def flipped(token: bytes, index: int) -> bytes:
    altered = bytearray(token)
    altered[index] ^= 0x01
    return bytes(altered)


def test_it_round_trips_a_secret(ring: Keyring) -> None:
    token = ring.encrypt(PLAINTEXT, aad=AAD)

    assert ring.decrypt(token, aad=AAD) == PLAINTEXT


def test_it_round_trips_an_empty_and_a_long_secret(ring: Keyring) -> None:
    for plaintext in (b"", os.urandom(10_000)):
        assert ring.decrypt(ring.encrypt(plaintext, aad=AAD), aad=AAD) == plaintext


def test_the_token_does_not_contain_the_plaintext(ring: Keyring) -> None:
    token = ring.encrypt(PLAINTEXT, aad=AAD)

    assert PLAINTEXT not in token
    assert base64.b64encode(PLAINTEXT) not in token


def test_the_token_is_self_describing(ring: Keyring) -> None:
    token = ring.encrypt(PLAINTEXT, aad=AAD)

    assert token.startswith(MAGIC + bytes([2]) + b"k1")
    assert len(token) == len(MAGIC) + 1 + 2 + NONCE + WRAPPED + NONCE + len(PLAINTEXT) + TAG
    assert ring.key_id_of(token) == "k1"


def test_it_uses_a_fresh_data_key_and_nonce_each_time(ring: Keyring) -> None:
    first = ring.encrypt(PLAINTEXT, aad=AAD)
    second = ring.encrypt(PLAINTEXT, aad=AAD)

    assert first != second
    first_regions, second_regions = regions(first, "k1"), regions(second, "k1")
    for name in ("wrap nonce", "wrapped key", "nonce", "ciphertext"):
        start, end = first_regions[name]
        assert first[start:end] != second[slice(*second_regions[name])], name


@pytest.mark.parametrize(
    "region",
    ["magic", "key id length", "key id", "wrap nonce", "wrapped key", "nonce", "ciphertext", "tag"],
)
def test_it_refuses_a_token_tampered_in_any_region(ring: Keyring, region: str) -> None:
    token = ring.encrypt(PLAINTEXT, aad=AAD)
    start, end = regions(token, "k1")[region]
    assert end > start

    for index in (start, end - 1):
        with pytest.raises(DecryptionError) as caught:
            ring.decrypt(flipped(token, index), aad=AAD)
        assert PLAINTEXT.decode() not in str(caught.value)


def test_it_refuses_a_tampered_ciphertext_whichever_byte_is_flipped(ring: Keyring) -> None:
    token = ring.encrypt(PLAINTEXT, aad=AAD)

    for index in range(len(token)):
        with pytest.raises(DecryptionError):
            ring.decrypt(flipped(token, index), aad=AAD)


def test_a_key_id_tampered_into_another_configured_id_is_refused() -> None:
    # Both "k1" and "k2" are known, so the altered header parses; the header is bound as aad.
    ring = Keyring.from_config(f"{entry('k1')},{entry('k2')}")
    token = ring.encrypt(PLAINTEXT, aad=AAD)

    with pytest.raises(DecryptionError):
        ring.decrypt(token.replace(b"k1", b"k2", 1), aad=AAD)


@pytest.mark.parametrize(
    "token",
    [b"", b"BG1", b"XYZ" + bytes(200), MAGIC + bytes([0]) + bytes(200), MAGIC + bytes([40]) + bytes(10)],
    ids=["empty", "magic only", "wrong magic", "empty key id", "truncated"],
)
def test_it_refuses_a_malformed_token(ring: Keyring, token: bytes) -> None:
    with pytest.raises(DecryptionError):
        ring.decrypt(token, aad=AAD)
    with pytest.raises(DecryptionError):
        ring.key_id_of(token)


def test_it_refuses_a_truncated_or_extended_token(ring: Keyring) -> None:
    token = ring.encrypt(PLAINTEXT, aad=AAD)

    for altered in (token[:-1], token[:-TAG], token + b"\x00"):
        with pytest.raises(DecryptionError):
            ring.decrypt(altered, aad=AAD)


def test_it_refuses_the_wrong_aad(ring: Keyring) -> None:
    token = ring.encrypt(PLAINTEXT, aad=AAD)

    for wrong in (b"", AAD + b"x", AAD[:-1], b"root-credential:another-row"):
        with pytest.raises(DecryptionError):
            ring.decrypt(token, aad=wrong)


def test_it_refuses_a_token_sealed_with_a_different_key_under_the_same_id(ring: Keyring) -> None:
    token = ring.encrypt(PLAINTEXT, aad=AAD)
    impostor = Keyring.from_config(entry("k1"))

    with pytest.raises(DecryptionError):
        impostor.decrypt(token, aad=AAD)


def test_an_old_key_still_decrypts_after_a_new_key_is_prepended() -> None:
    old = entry("k1")
    token = Keyring.from_config(old).encrypt(PLAINTEXT, aad=AAD)

    rotated = Keyring.from_config(f"{entry('k2')},{old}")

    assert rotated.primary_key_id == "k2"
    assert rotated.key_ids == ("k2", "k1")
    assert rotated.decrypt(token, aad=AAD) == PLAINTEXT
    assert rotated.needs_reencryption(token)
    resealed = rotated.reencrypt(token, aad=AAD)
    assert rotated.key_id_of(resealed) == "k2"
    assert not rotated.needs_reencryption(resealed)
    assert rotated.decrypt(resealed, aad=AAD) == PLAINTEXT


def test_it_refuses_a_token_whose_key_is_not_in_the_keyring() -> None:
    token = Keyring.from_config(entry("k1")).encrypt(PLAINTEXT, aad=AAD)

    with pytest.raises(DecryptionError, match=r"'k1'.*not in the keyring"):
        Keyring.from_config(entry("k2")).decrypt(token, aad=AAD)


def test_the_first_key_is_the_primary_one() -> None:
    ring = Keyring.from_config(f" {entry('new')} , {entry('old')} ")

    assert ring.primary_key_id == "new"
    assert ring.key_id_of(ring.encrypt(PLAINTEXT, aad=AAD)) == "new"


SHORT_KEY = base64.b64encode(b"sixteen byte key").decode()
LONG_KEY = base64.b64encode(os.urandom(33)).decode()
GOOD_KEY = base64.b64encode(os.urandom(32)).decode()


@pytest.mark.parametrize(
    ("config", "secret_text", "expected"),
    [
        (f"k1:{SHORT_KEY}", SHORT_KEY, "16 bytes"),
        (f"k1:{LONG_KEY}", LONG_KEY, "33 bytes"),
        ("k1:not*base64!", "not*base64!", "not valid base64"),
        (f"k1:{GOOD_KEY[:-3]}", GOOD_KEY[:-3], "not valid base64"),
        (f"k1:{GOOD_KEY},k1:{GOOD_KEY}", GOOD_KEY, "more than once"),
        ("", "", "no encryption keys"),
        ("  ", "", "no encryption keys"),
        (f"k1:{GOOD_KEY},", GOOD_KEY, "empty"),
        (GOOD_KEY, GOOD_KEY, "no key id"),
        (f"bad id!:{GOOD_KEY}", GOOD_KEY, "invalid key id"),
        (f"{'x' * 33}:{GOOD_KEY}", GOOD_KEY, "invalid key id"),
        (f"k\n1:{GOOD_KEY}", GOOD_KEY, "invalid key id"),
        (f":{GOOD_KEY}", GOOD_KEY, "invalid key id"),
    ],
    ids=[
        "short key",
        "long key",
        "bad base64",
        "truncated base64",
        "duplicate id",
        "empty list",
        "blank list",
        "stray comma",
        "no key id",
        "bad key id",
        "key id too long",
        "key id with newline",
        "empty key id",
    ],
)
def test_it_refuses_a_bad_configuration_without_revealing_the_key(
    config: str, secret_text: str, expected: str
) -> None:
    with pytest.raises(KeyConfigurationError, match=expected) as caught:
        Keyring.from_config(config)

    message = str(caught.value)
    if secret_text:
        assert secret_text not in message
        assert secret_text[:8] not in message
    # Nothing chained either: a logged traceback must not carry the key text along.
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__ or caught.value.__context__ is None


def test_it_refuses_a_raw_key_of_the_wrong_size() -> None:
    with pytest.raises(KeyConfigurationError, match="16 bytes"):
        Keyring([("k1", b"0123456789abcdef")])
    with pytest.raises(KeyConfigurationError, match="empty"):
        Keyring([])


def test_errors_are_all_crypto_errors() -> None:
    assert issubclass(KeyConfigurationError, CryptoError)
    assert issubclass(DecryptionError, CryptoError)


def test_the_keyring_repr_and_str_show_ids_but_no_key_material() -> None:
    key = os.urandom(32)
    ring = Keyring.from_config(f"{entry('k2')},{entry('k1', key)}")

    for text in (repr(ring), str(ring), f"{ring}", repr([ring])):
        assert "k2" in text
        assert "k1" in text
        assert base64.b64encode(key).decode() not in text
        assert key.hex() not in text
        assert repr(key) not in text
    assert not hasattr(ring, "__dict__")


def test_a_keyring_cannot_be_pickled(ring: Keyring) -> None:
    with pytest.raises(TypeError):
        pickle.dumps(ring)


def test_generate_key_entry_makes_a_usable_unique_key() -> None:
    first, second = generate_key_entry(), generate_key_entry("ops-2025")

    assert second.startswith("ops-2025:")
    assert first.split(":")[1] != second.split(":")[1]
    ring = Keyring.from_config(f"{second},{first}")
    assert ring.primary_key_id == "ops-2025"
    assert ring.decrypt(ring.encrypt(PLAINTEXT, aad=AAD), aad=AAD) == PLAINTEXT


def test_generate_key_entry_refuses_an_invalid_key_id() -> None:
    with pytest.raises(KeyConfigurationError):
        generate_key_entry("has space")


def test_the_crypto_module_does_not_import_django() -> None:
    project = Path(__file__).resolve().parents[2]
    code = (
        "import sys; import breakglass.crypto; "
        "sys.exit(any(name == 'django' or name.startswith('django.') for name in sys.modules))"
    )

    result = subprocess.run([sys.executable, "-c", code], cwd=project, check=False)

    assert result.returncode == 0
