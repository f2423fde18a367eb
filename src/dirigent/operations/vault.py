"""Secrets and registry credentials, encrypted at rest with Fernet (AES-128-CBC + HMAC-SHA256).

cryptography (about 6 MB of a server's memory) is loaded when a value is first sealed or opened; keys
are made and checked without it.
"""

from __future__ import annotations

import base64
import binascii
import os
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from dirigent.errors import Internal, InvalidInput
from dirigent.store.base import SealedKind, Store

if TYPE_CHECKING:
    from cryptography.fernet import Fernet


def load_key(key: str, data_dir: Path) -> bytes:
    """The configured key, or the one kept in `data_dir/secret.key` (made on first use, owner-only)."""
    if key:
        if not _is_fernet_key(key.encode()):
            raise InvalidInput("secret_key must be 32 url-safe base64-encoded bytes")
        return key.encode()
    path = data_dir / "secret.key"
    if path.exists():
        stored = path.read_bytes().strip()
        if not _is_fernet_key(stored):
            raise InvalidInput(f"{path} must hold 32 url-safe base64-encoded bytes")
        return stored
    data_dir.mkdir(parents=True, exist_ok=True)
    fresh = base64.urlsafe_b64encode(os.urandom(32))  # as Fernet.generate_key()
    path.touch(mode=0o600)
    path.write_bytes(fresh)
    return fresh


def _is_fernet_key(key: bytes) -> bool:
    """Whether `Fernet(key)` takes `key`: 32 bytes, url-safe base64-encoded."""
    try:
        return len(base64.urlsafe_b64decode(key)) == 32
    except binascii.Error:
        return False


class Vault:
    """Seals values before the store sees them; the plain text never reaches the store or a log."""

    def __init__(self, store: Store, key: bytes) -> None:
        self._store = store
        self._key = key

    @cached_property
    def _fernet(self) -> Fernet:
        from cryptography.fernet import Fernet  # here: loaded by the first secret

        return Fernet(self._key)

    async def put(self, kind: SealedKind, namespace: str, name: str, value: str) -> None:
        await self._store.set_sealed(kind, namespace, name, self._fernet.encrypt(value.encode()))

    async def get(self, kind: SealedKind, namespace: str, name: str) -> str | None:
        sealed = await self._store.get_sealed(kind, namespace, name)
        if sealed is None:
            return None
        from cryptography.fernet import InvalidToken  # here: loaded by the first secret

        try:
            return self._fernet.decrypt(sealed).decode()
        except InvalidToken:
            raise Internal(f"{kind} '{name}' cannot be decrypted with this server's key") from None

    async def get_secret(self, namespace: str, name: str) -> str | None:
        """The runtime's SecretSource."""
        return await self.get("secret", namespace, name)

    async def registry_logins(self, namespace: str) -> dict[str, str]:
        """The function runtime's RegistryCredentials: `user:token` by registry URL."""
        logins = {}
        for url in await self._store.list_sealed("registry", namespace):
            login = await self.get("registry", namespace, url)
            if login is not None:
                logins[url] = login
        return logins
