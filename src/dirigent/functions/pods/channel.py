"""The engine's own channel into a pod: HTTP connections made inside the pod's network namespace.

A pod's program listens on *its* `localhost:8080`; the engine reaches it with sockets created in the pod's
namespace (see `netns`), so no host port is ever assumed free and pods cannot reach each other.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp.client_exceptions import ClientConnectorError
from aiohttp.connector import BaseConnector

from dirigent.functions.pods.netns import NetworkNamespace

if TYPE_CHECKING:
    from aiohttp.client_proto import ResponseHandler
    from aiohttp.client_reqrep import ClientRequest
    from aiohttp.tracing import Trace

#: The address every function listens on, inside its pod.
FUNCTION_URL = "http://localhost:8080/"
FUNCTION_ADDRESS = ("127.0.0.1", 8080)


class NamespaceConnector(BaseConnector):
    """Connects to `address` inside `namespace`, whatever host the URL names.

    Modelled on aiohttp's `UnixConnector`: only the way the socket is made differs.
    """

    def __init__(
        self, namespace: NetworkNamespace, address: tuple[str, int], **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self._namespace = namespace
        self._address = address

    async def _create_connection(
        self,
        req: ClientRequest,
        traces: list[Trace],
        timeout: aiohttp.ClientTimeout,  # noqa: ASYNC109 - aiohttp's signature
    ) -> ResponseHandler:
        loop = asyncio.get_running_loop()
        sock = await self._namespace.new_socket()
        try:
            async with asyncio.timeout(timeout.sock_connect):
                await loop.sock_connect(sock, self._address)
            _, protocol = await loop.create_connection(self._factory, sock=sock)
        except OSError as exc:
            sock.close()
            raise ClientConnectorError(req.connection_key, exc) from exc
        except BaseException:
            sock.close()
            raise
        return protocol


def open_pod_session(namespace: NetworkNamespace, *, keepalive: float) -> aiohttp.ClientSession:
    """A session whose every connection goes to the pod's `localhost:8080`.

    Unbounded, so that a cancel `DELETE` is never queued behind the calls it cancels.
    """
    return aiohttp.ClientSession(
        connector=NamespaceConnector(
            namespace, FUNCTION_ADDRESS, limit=0, keepalive_timeout=keepalive
        ),
        cookie_jar=aiohttp.DummyCookieJar(),
    )


async def wait_listening(namespace: NetworkNamespace, seconds: float) -> bool:
    """Whether the pod's `localhost:8080` accepts a connection within `seconds`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    delay = 0.005
    while True:
        sock = await namespace.new_socket()
        try:
            await loop.sock_connect(sock, FUNCTION_ADDRESS)
            return True
        except OSError:
            if loop.time() + delay > deadline:
                return False
        finally:
            sock.close()
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.1)
