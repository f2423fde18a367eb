"""Routes of secrets and registries: list names, create `{"name", "data"}`, delete `{"name"}`.

Values go in and never come out. A registry's `name` is its URL and its `data` is `user:token`.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from dirigent.api.deps import ServerDep, route
from dirigent.api.shapes import Empty, RegistryList, RegistryOut, SecretList, SecretName
from dirigent.operations import secrets as ops

router = APIRouter(prefix="/api/namespaces/{namespace}", tags=["secrets and registries"])


class SealedIn(BaseModel):
    """A secret (`name` = key) or registry (`name` = URL, `data` = `user:token`) to store."""

    name: str = Field(description="The secret's key, or the registry URL")
    data: str = Field(description="The secret's value, or the registry's `user:token`")


class SealedName(BaseModel):
    name: str = Field(description="The secret's key, or the registry URL")


@route(router, "GET", "/secrets/")
async def list_secrets(server: ServerDep, namespace: str) -> SecretList:
    """The names of the namespace's secrets (never their values)."""
    names = await ops.list_sealed(server, "secret", namespace)
    return SecretList(secrets=[SecretName(name=n) for n in names])


@route(router, "POST", "/secrets/")
async def create_secret(server: ServerDep, namespace: str, secret: SealedIn) -> Empty:
    """Create or replace a secret; it is encrypted before it is stored."""
    await ops.set_sealed(server, "secret", namespace, secret.name, secret.data)
    return Empty()


@route(router, "DELETE", "/secrets/")
async def delete_secret(server: ServerDep, namespace: str, secret: SealedName) -> Empty:
    """Delete a secret; 404 if it does not exist."""
    await ops.delete_sealed(server, "secret", namespace, secret.name)
    return Empty()


@route(router, "GET", "/registries/")
async def list_registries(server: ServerDep, namespace: str) -> RegistryList:
    """The registry URLs of the namespace (never the credentials)."""
    names = await ops.list_sealed(server, "registry", namespace)
    return RegistryList(registries=[RegistryOut.of(n) for n in names])


@route(router, "POST", "/registries/")
async def create_registry(server: ServerDep, namespace: str, registry: SealedIn) -> Empty:
    """Create or replace the credentials (`user:token`) of a registry URL."""
    await ops.set_sealed(server, "registry", namespace, registry.name, registry.data)
    return Empty()


@route(router, "DELETE", "/registries/")
async def delete_registry(server: ServerDep, namespace: str, registry: SealedName) -> Empty:
    """Delete the credentials of a registry URL; 404 if there are none."""
    await ops.delete_sealed(server, "registry", namespace, registry.name)
    return Empty()
