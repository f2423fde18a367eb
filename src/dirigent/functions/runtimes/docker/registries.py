"""Registry logins for pulls: which of a namespace's registries an image comes from, and the header
that carries the login to the engine.

A namespace keeps logins by registry URL (`https://ghcr.io`, `ghcr.io`, `https://index.docker.io/v1/`,
...) with `user:token` values. An image's registry is the first part of its name when that looks like
a host (it has a `.` or a `:`, or is `localhost`); otherwise it is Docker Hub. A login matches when its
URL names the same host (and port); Docker Hub's several names count as one.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import orjson

DOCKER_HUB = "docker.io"
#: Docker Hub's names: `docker login` stores it as `https://index.docker.io/v1/`.
_HUB_NAMES = frozenset(
    {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}
)
_HUB_SERVER = "https://index.docker.io/v1/"


class RegistryCredentials(Protocol):
    """A namespace's registry logins (the server's `Vault` is one)."""

    async def registry_logins(self, namespace: str) -> Mapping[str, str]:
        """`user:token` by registry URL."""
        ...


@dataclass(frozen=True, slots=True)
class RegistryLogin:
    server: str
    username: str
    password: str = ""

    def header(self) -> str:
        """The `X-Registry-Auth` value: URL-safe base64 of the engine's auth document."""
        document = {
            "username": self.username,
            "password": self.password,
            "serveraddress": self.server,
        }
        return base64.urlsafe_b64encode(orjson.dumps(document)).decode()


def registry_of(image: str) -> str:
    """The registry host (and port) `image` is pulled from, lower case."""
    first, slash, _ = image.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        host = first.lower()
        return DOCKER_HUB if host in _HUB_NAMES else host
    return DOCKER_HUB


def login_for(image: str, logins: Mapping[str, str]) -> RegistryLogin | None:
    """The login among `logins` (`user:token` by registry URL) for the registry of `image`."""
    wanted = registry_of(image)
    for url, value in sorted(logins.items()):
        if _host_of(url) == wanted:
            username, _, password = value.partition(":")
            return RegistryLogin(
                _HUB_SERVER if wanted == DOCKER_HUB else wanted, username, password
            )
    return None


def pull_reference(image: str) -> str:
    """`image` with the tag `latest` added when it names neither a tag nor a digest.

    (Without one, the engine would pull every tag of the repository.)
    """
    if "@" in image:
        return image
    last = image.rpartition("/")[2]
    return image if ":" in last else f"{image}:latest"


def _host_of(url: str) -> str:
    """The host (and port) a registry URL names, lower case, Docker Hub as `docker.io`."""
    parts = urlsplit(url if "://" in url else f"//{url}")
    host = parts.netloc.lower().rpartition("@")[2]
    return DOCKER_HUB if host in _HUB_NAMES else host
