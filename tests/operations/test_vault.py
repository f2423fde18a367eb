"""The vault: the server's key (made, configured or stored) and values sealed with it."""

from __future__ import annotations

import base64
import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from dirigent.errors import Internal, InvalidInput
from dirigent.operations.vault import Vault, load_key
from dirigent.store import MemoryStore


def test_a_new_key_is_made_once_for_the_owner_only(tmp_path: Path) -> None:
    data = tmp_path / "data"
    key = load_key("", data)
    path = data / "secret.key"
    assert path.read_bytes() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(base64.urlsafe_b64decode(key)) == 32
    assert Fernet(key).decrypt(Fernet(key).encrypt(b"x")) == b"x"
    assert load_key("", data) == key


def test_a_configured_key_is_taken_as_it_is(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    assert load_key(key, tmp_path) == key.encode()
    assert not (tmp_path / "secret.key").exists()


@pytest.mark.parametrize(
    "key",
    [
        base64.urlsafe_b64encode(bytes(31)).decode(),
        base64.urlsafe_b64encode(bytes(33)).decode(),
        Fernet.generate_key().decode()[:-1],  # bad padding
        "not a key",
    ],
)
def test_a_configured_key_that_fernet_refuses_is_refused(key: str, tmp_path: Path) -> None:
    with pytest.raises(
        ValueError, match=r"^Fernet key must be 32 url-safe base64-encoded bytes\.$"
    ):
        Fernet(key.encode())  # the rule load_key follows
    with pytest.raises(InvalidInput) as refused:
        load_key(key, tmp_path)
    assert refused.value.message == "secret_key must be 32 url-safe base64-encoded bytes"


def test_a_stored_file_that_holds_no_key_is_refused(tmp_path: Path) -> None:
    (tmp_path / "secret.key").write_bytes(b"garbage\n")
    with pytest.raises(InvalidInput) as refused:
        load_key("", tmp_path)
    assert refused.value.message == (
        f"{tmp_path / 'secret.key'} must hold 32 url-safe base64-encoded bytes"
    )


async def test_values_are_sealed_in_the_store_and_opened_with_the_same_key() -> None:
    store = MemoryStore()
    await store.create_namespace("ns", datetime(2025, 1, 1, tzinfo=UTC))
    vault = Vault(store, Fernet.generate_key())
    await vault.put("secret", "ns", "token", "s3cret")
    sealed = await store.get_sealed("secret", "ns", "token")
    assert sealed is not None
    assert b"s3cret" not in sealed
    assert await vault.get_secret("ns", "token") == "s3cret"
    assert await vault.get_secret("ns", "missing") is None
    with pytest.raises(Internal) as wrong_key:
        await Vault(store, Fernet.generate_key()).get_secret("ns", "token")
    assert wrong_key.value.message == "secret 'token' cannot be decrypted with this server's key"


def test_cryptography_is_loaded_by_the_first_secret_only(tmp_path: Path) -> None:
    script = """
import asyncio, sys
from datetime import UTC, datetime
from pathlib import Path
from dirigent.operations.vault import Vault, load_key
from dirigent.store import MemoryStore

async def main():
    store = MemoryStore()
    await store.create_namespace("ns", datetime(2025, 1, 1, tzinfo=UTC))
    vault = Vault(store, load_key("", Path(sys.argv[1])))
    print("cryptography" in sys.modules)
    await vault.put("secret", "ns", "a", "b")
    print("cryptography" in sys.modules)

asyncio.run(main())
"""
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, check=True, text=True
    ).stdout
    assert out.split() == ["False", "True"]
