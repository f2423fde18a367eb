"""The client's one way to talk to a Dirigent server: JSON requests, raw bodies, Server-Sent Events.

Everything here is async; `call` is the sync facade the commands use (one `asyncio.run`, one aiohttp
session per command). Failures become `ClientError`s whose text is what the user reads after `error:`:
the server's `{"Code", "Message"}` (`ApiError`), or a connection failure (`Unreachable`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

import aiohttp
from yarl import URL

from dirigent.types import JSON

T = TypeVar("T")

#: Plain requests; streams (`events`) have no total limit.
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=120, connect=10)
STREAM_TIMEOUT = aiohttp.ClientTimeout(total=None, connect=10, sock_read=None)

Params = Mapping[str, str | int]


class ClientError(Exception):
    """A failure to show as `error: <message>` with exit status 1."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ApiError(ClientError):
    """The server answered with an error: its HTTP status and its `{"Code", "Message"}` body."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class Unreachable(ClientError):
    """Nothing answers at the server URL."""

    def __init__(self, url: str, reason: str | None = None) -> None:
        if reason is None:
            super().__init__(f"no Dirigent server at {url} (start one with: dirigent server)")
        else:
            super().__init__(f"cannot reach the Dirigent server at {url}: {reason}")
        self.url = url


@dataclass(frozen=True)
class Server:
    """Where the server is (`http://host:port`, no trailing slash) and the bearer token, if any."""

    url: str
    token: str | None = None

    @classmethod
    def of(cls, url: str, token: str | None) -> Server:
        """Accept `host:port` and trailing slashes as well as a full URL."""
        url = url.strip().rstrip("/")
        if "://" not in url:
            url = "http://" + url
        return cls(url, token or None)


@dataclass(frozen=True)
class Reply:
    """A successful answer: status, headers, the raw body."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> JSON:
        """The body as JSON; an empty body is `{}`."""
        if not self.body.strip():
            return {}
        try:
            return json.loads(self.body)
        except ValueError:
            raise ClientError(
                f"the server sent something that is not JSON: {self.body[:80]!r}"
            ) from None


@dataclass(frozen=True)
class Event:
    """One Server-Sent Event: its `event:` name ("message" when none) and its `data:` text.

    Dirigent's streams name their events (`log`, `status`), end with an `end` event, and report a
    failure after the start as an `error` event."""

    name: str
    data: str

    def json(self) -> JSON:
        """The data as JSON, or the text itself when it is not JSON."""
        try:
            return json.loads(self.data)
        except ValueError:
            return self.data

    def check(self) -> Event:
        """The event itself, unless it is an `error` event: that is the server's failure after the
        stream began, with the usual `{"Code", "Message"}` as data; raised as `ApiError`."""
        if self.name == "error":
            raise _api_error(500, "stream failed", self.data.encode())
        return self


def path(*segments: str) -> str:
    """`/api/namespaces/{ns}/...` from segments, each escaped (so a name cannot add a path part).

    A segment that starts with `/` is a literal route part: `path("/api/namespaces", ns, "/workflows/")`.
    """
    parts: list[str] = []
    for segment in segments:
        parts.append(segment if segment.startswith("/") else "/" + quote(segment, safe=""))
    return "".join(parts)


class Api:
    """A Dirigent REST API reached through one aiohttp session."""

    def __init__(self, server: Server, session: aiohttp.ClientSession) -> None:
        self.server = server
        self._session = session

    def _url(self, route: str) -> URL:
        return URL(self.server.url + route, encoded=True)

    async def request(
        self,
        method: str,
        route: str,
        *,
        params: Params | None = None,
        json_body: JSON = None,
        body: bytes | None = None,
        content_type: str | None = None,
    ) -> Reply:
        """Send one request; a 2xx answer is returned, anything else raises `ApiError`."""
        headers = {"Content-Type": content_type} if content_type else {}
        data = body
        if json_body is not None:
            data = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        try:
            async with self._session.request(
                method,
                self._url(route),
                params=_query(params),
                data=data,
                headers=headers,
                timeout=REQUEST_TIMEOUT,
            ) as response:
                raw = await response.read()
                if response.status >= 400:
                    raise _api_error(response.status, response.reason, raw)
                return Reply(response.status, dict(response.headers), raw)
        except aiohttp.ClientConnectorError as error:
            raise _unreachable(self.server.url, error) from None
        except aiohttp.ClientError as error:
            raise Unreachable(self.server.url, str(error) or type(error).__name__) from None
        except TimeoutError:
            raise Unreachable(self.server.url, "no answer in time") from None

    async def get(self, route: str, params: Params | None = None) -> JSON:
        """GET a JSON document."""
        return (await self.request("GET", route, params=params)).json()

    async def get_all(self, route: str, key: str, *, page: int = 200) -> list[Any]:
        """Every item of a paged list (`?offset&limit`), page after page."""
        found: list[Any] = []
        previous: list[Any] = []
        while True:
            body = await self.get(route, {"offset": len(found), "limit": page})
            batch = items(body, key)
            if batch and batch == previous:
                return found  # the server ignores offset
            found.extend(batch)
            previous = batch
            total = body.get("total") if isinstance(body, dict) else None
            # A server that ignores limit answers with everything at once: stop there too.
            if len(batch) != page or (isinstance(total, int) and len(found) >= total):
                return found

    async def events(self, route: str, params: Params | None = None) -> AsyncIterator[Event]:
        """Follow a `text/event-stream` until the server ends it.

        Raises `ApiError` when the server refuses the stream (e.g. 404 from a server without the
        route: callers fall back to polling) before the first event."""
        try:
            async with self._session.get(
                self._url(route),
                params=_query(params),
                headers={"Accept": "text/event-stream"},
                timeout=STREAM_TIMEOUT,
            ) as response:
                if response.status >= 400:
                    raise _api_error(response.status, response.reason, await response.read())
                name = ""
                data: list[str] = []
                async for raw_line in response.content:
                    line = raw_line.decode("utf-8", "replace").rstrip("\r\n")
                    if not line:
                        if data:
                            yield Event(name or "message", "\n".join(data))
                        name, data = "", []
                    elif line.startswith(":"):
                        continue  # a comment: keep-alive
                    else:
                        field, _, value = line.partition(":")
                        value = value.removeprefix(" ")
                        if field == "event":
                            name = value
                        elif field == "data":
                            data.append(value)
                if data:
                    yield Event(name or "message", "\n".join(data))
        except aiohttp.ClientConnectorError as error:
            raise _unreachable(self.server.url, error) from None
        except aiohttp.ClientError as error:
            raise Unreachable(self.server.url, str(error) or type(error).__name__) from None


@asynccontextmanager
async def open_api(server: Server) -> AsyncIterator[Api]:
    """One session, with the bearer token on every request."""
    headers = {"Authorization": f"Bearer {server.token}"} if server.token else {}
    async with aiohttp.ClientSession(headers=headers) as session:
        yield Api(server, session)


def call(server: Server, operation: Callable[[Api], Awaitable[T]]) -> T:
    """The sync facade: run `operation` with a fresh `Api` to completion."""

    async def main() -> T:
        async with open_api(server) as api:
            return await operation(api)

    return asyncio.run(main())


def items(body: JSON, key: str) -> list[Any]:
    """The list in an answer: `body[key]`, else the one list among its values (`[]` when none).

    Lenient on purpose: list answers differ in their key between versions of the 2021 API."""
    if isinstance(body, list):
        return body
    if not isinstance(body, dict):
        return []
    found = body.get(key)
    if isinstance(found, list):
        return found
    lists = [value for value in body.values() if isinstance(value, list)]
    return lists[0] if len(lists) == 1 else []


def _query(params: Params | None) -> dict[str, str] | None:
    return {k: str(v) for k, v in params.items()} if params else None


def _api_error(status: int, reason: str | None, raw: bytes) -> ApiError:
    """`{"Code", "Message"}` (or FastAPI's `{"detail"}`, or plain text) as an `ApiError`."""
    message = ""
    code = status
    try:
        body: Any = json.loads(raw)
    except ValueError:
        body = None
    if isinstance(body, dict):
        if isinstance(body.get("Code"), int):
            code = body["Code"]
        found = body.get("Message", body.get("message", body.get("detail")))
        if isinstance(found, str):
            message = found
        elif found is not None:
            message = json.dumps(found)
    elif raw.strip() and len(raw) < 500:
        message = raw.decode("utf-8", "replace").strip()
    message = message or f"HTTP {status} {reason or ''}".rstrip()
    if status == 401:
        message += " (pass --token, or set DIRIGENT_TOKEN)"
    return ApiError(status, code, message)


def _unreachable(url: str, error: aiohttp.ClientConnectorError) -> Unreachable:
    """Refused (nothing listens: the usual case) or another failure worth naming (DNS, TLS)."""
    reason = str(error.os_error)
    if isinstance(error.os_error, ConnectionRefusedError) or "Connect call failed" in reason:
        return Unreachable(url)
    return Unreachable(url, reason or type(error).__name__)
