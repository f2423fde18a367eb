"""The function's side of the sidecar: `/log` and `/var` on `localhost:8889` (contract §4).

`SidecarClient` makes the requests. `ActionLog` is the log of one call: `write` may be called
from any thread (sync handlers run in threads) and never blocks; lines are posted one after another, in order, and `drain`
waits until all are delivered, so the SDK answers a call only after its log lines arrived.
"""

from __future__ import annotations

import asyncio
import sys
from collections import deque

import aiohttp

from dirigent.sdk.errors import SidecarError

#: How long one request to the sidecar may take.
REQUEST_TIMEOUT = 10.0


class SidecarClient:
    """HTTP client of the sidecar at `url` (e.g. `http://localhost:8889`), over one session.

    Use it on one event loop; `aclose` it when done.
    """

    def __init__(self, url: str) -> None:
        self._url = url
        self._session: aiohttp.ClientSession | None = None

    async def post_log(self, action_id: str, message: str) -> None:
        """Add `message` to the log of `action_id`'s instance; raises `SidecarError`."""
        await self._request(
            "POST", "/log", {"aid": action_id}, message.encode(), "text/plain; charset=utf-8"
        )

    async def get_var(self, action_id: str, scope: str, key: str) -> bytes:
        """The bytes of variable `key` in `scope`; empty for a missing one. Raises `SidecarError`."""
        return await self._request("GET", "/var", _var_query(action_id, scope, key))

    async def set_var(
        self, action_id: str, scope: str, key: str, data: bytes, mime_type: str
    ) -> None:
        """Store `data` as variable `key` of `scope`; empty data deletes it. Raises `SidecarError`."""
        await self._request("POST", "/var", _var_query(action_id, scope, key), data, mime_type)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _request(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        body: bytes | None = None,
        content_type: str | None = None,
    ) -> bytes:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
            )
        headers = {"Content-Type": content_type} if content_type else {}
        try:
            async with self._session.request(
                method, self._url + path, params=query, data=body, headers=headers
            ) as response:
                data = await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SidecarError(
                f"the sidecar at {self._url} cannot be reached: {str(exc) or type(exc).__name__}"
            ) from None
        if response.status != 200:
            text = data.decode("utf-8", errors="replace").strip()
            what = f"{method} {path}" + (f" of {query['key']!r}" if "key" in query else "")
            raise SidecarError(f"the sidecar answered {response.status} to {what}: {text}")
        return data


def _var_query(action_id: str, scope: str, key: str) -> dict[str, str]:
    return {"aid": action_id, "scope": scope, "key": key}


class ActionLog:
    """The log lines of one call, posted to the sidecar in order.

    A line the sidecar refuses is reported on stderr; it never fails the call.
    """

    def __init__(
        self, loop: asyncio.AbstractEventLoop, client: SidecarClient, action_id: str
    ) -> None:
        self._loop = loop
        self._client = client
        self._action_id = action_id
        self._pending: deque[str] = deque()
        self._sender: asyncio.Task[None] | None = None

    def write(self, message: str) -> None:
        """Queue `message` (any thread; does not block)."""
        if _on_loop(self._loop):
            self._put(message)
        else:
            self._loop.call_soon_threadsafe(self._put, message)

    async def drain(self) -> None:
        """Wait until every line written so far has been posted (or given up on)."""
        while self._sender is not None and not self._sender.done():
            await asyncio.shield(self._sender)

    def _put(self, message: str) -> None:
        self._pending.append(message)
        if self._sender is None or self._sender.done():
            self._sender = self._loop.create_task(self._send())

    async def _send(self) -> None:
        while self._pending:
            message = self._pending.popleft()
            try:
                await self._client.post_log(self._action_id, message)
            except SidecarError as error:
                print(
                    f"log line of action {self._action_id} not delivered: {error}", file=sys.stderr
                )


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
