"""Secrets and registry credentials, encrypted at rest with Fernet (AES-128-CBC + HMAC-SHA256)."""

from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from dirigent.errors import Internal, InvalidInput
from dirigent.store.base import SealedKind, Store


def load_key(key: str, data_dir: Path) -> bytes:
    """The configured key, or the one kept in `data_dir/secret.key` (made on first use, owner-only)."""
    if key:
        try:
            Fernet(key.encode())
        except ValueError:
            raise InvalidInput("secret_key must be 32 url-safe base64-encoded bytes") from None
        return key.encode()
    path = data_dir / "secret.key"
    if path.exists():
        return path.read_bytes().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    fresh = Fernet.generate_key()
    path.touch(mode=0o600)
    path.write_bytes(fresh)
    return fresh


class Vault:
    """Seals values before the store sees them; the plain text never reaches the store or a log."""

    def __init__(self, store: Store, key: bytes) -> None:
        self._store = store
        self._fernet = Fernet(key)

    async def put(self, kind: SealedKind, namespace: str, name: str, value: str) -> None:
        await self._store.set_sealed(kind, namespace, name, self._fernet.encrypt(value.encode()))

    async def get(self, kind: SealedKind, namespace: str, name: str) -> str | None:
        sealed = await self._store.get_sealed(kind, namespace, name)
        if sealed is None:
            return None
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
