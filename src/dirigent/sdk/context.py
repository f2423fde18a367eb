"""What a handler gets besides its input: the call's id, temp dir, deadline, log, variables, cancel.

A sync handler (`def`) gets a `Context`, whose variable methods block; it runs in a worker thread,
so blocking there keeps the server free to take cancels. An async handler (`async def`) gets an
`AsyncContext`, whose variable methods are awaited. Everything else is shared.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args

from dirigent.sdk.errors import SidecarError
from dirigent.sdk.sidecar import SidecarClient

Scope = Literal["instance", "workflow", "namespace"]
SCOPES: tuple[Scope, ...] = get_args(Scope)
TEXT_MIME = "text/plain; charset=utf-8"
BYTES_MIME = "application/octet-stream"

T = TypeVar("T")


class Cancellation:
    """Set once, when the engine sends `DELETE /` for the call; readable from any thread.

    Create and `set` it on the event loop of the server.
    """

    def __init__(self) -> None:
        self._flag = threading.Event()
        self._event = asyncio.Event()

    def set(self) -> None:
        self._flag.set()
        self._event.set()

    def is_set(self) -> bool:
        return self._flag.is_set()

    async def wait(self) -> None:
        await self._event.wait()

    def wait_blocking(self, timeout: float | None) -> bool:
        return self._flag.wait(timeout)


@dataclass(frozen=True, slots=True)
class Invocation:
    """What one call's context is made of. `sidecar` is None in development mode."""

    action_id: str
    temp_dir: Path
    deadline: datetime | None
    cancellation: Cancellation
    log: Callable[[str], None]
    sidecar: SidecarClient | None
    loop: asyncio.AbstractEventLoop


class BaseContext:
    """The parts of a context that are the same for sync and async handlers."""

    def __init__(self, invocation: Invocation) -> None:
        self._invocation = invocation

    @property
    def action_id(self) -> str:
        """The call's `Direktiv-ActionID` (`development` for a call without one in dev mode)."""
        return self._invocation.action_id

    @property
    def temp_dir(self) -> Path:
        """The call's `Direktiv-TempDir`: the `files` of the function definition are in it.

        For a call without the header (by hand), a fresh directory made for the call, with the
        same `out/` layout, removed after the answer.
        """
        return self._invocation.temp_dir

    @property
    def deadline(self) -> datetime | None:
        """When the engine will cancel the call (`Direktiv-Deadline`); None if not sent."""
        return self._invocation.deadline

    @property
    def cancelled(self) -> bool:
        """True once the engine sent `DELETE /` for this call: stop and answer soon.

        The engine waits 10 s for the answer, then abandons the call and discards any answer.
        """
        return self._invocation.cancellation.is_set()

    def log(self, message: object) -> None:
        """Add `str(message)` to the instance log; never blocks, never fails the call.

        Lines reach the sidecar in order before the call is answered. In development mode
        (action id `development`) they are printed on stdout instead.
        """
        self._invocation.log(str(message))

    def out_dir(self, scope: Scope = "instance") -> Path:
        """`temp_dir/out/<scope>`: each file or directory left there becomes a variable of that
        scope, named after it, when the call ends (directories as tar.gz)."""
        if scope not in SCOPES:
            raise ValueError(f"scope must be one of {', '.join(SCOPES)}, not {scope!r}")
        return self._invocation.temp_dir / "out" / scope

    def _sidecar(self) -> SidecarClient:
        if self._invocation.sidecar is None:
            raise SidecarError(
                "variables need Dirigent's sidecar, and a development call has none; call the "
                "function with `dirigent function call` or serve it with `dirigent function serve`"
            )
        return self._invocation.sidecar


class AsyncContext(BaseContext):
    """The context of an `async def` handler: variable methods are awaited."""

    async def get_var(self, key: str, *, scope: Scope = "instance") -> bytes:
        """The bytes of variable `key` of `scope`; `b""` when it does not exist.

        Raises `SidecarError` when the sidecar refuses (e.g. a bad key) or cannot be reached.
        """
        return await self._sidecar().get_var(self.action_id, scope, key)

    async def set_var(
        self,
        key: str,
        value: bytes | str,
        *,
        scope: Scope = "instance",
        mime_type: str | None = None,
    ) -> None:
        """Store `value` as variable `key` of `scope`; an empty value deletes the variable.

        A `str` is stored as UTF-8 (MIME type `text/plain; charset=utf-8` unless given), bytes as
        they are (`application/octet-stream` unless given). Raises `SidecarError`.
        """
        data, mime = _encode(value, mime_type)
        await self._sidecar().set_var(self.action_id, scope, key, data, mime)

    async def delete_var(self, key: str, *, scope: Scope = "instance") -> None:
        """Delete variable `key` of `scope` (nothing happens if it does not exist)."""
        await self._sidecar().set_var(self.action_id, scope, key, b"", BYTES_MIME)

    async def wait_cancelled(self) -> None:
        """Return once the call is cancelled (race it with your work, or use `cancelled`)."""
        await self._invocation.cancellation.wait()


class Context(BaseContext):
    """The context of a `def` handler (run in a worker thread): variable methods block."""

    def get_var(self, key: str, *, scope: Scope = "instance") -> bytes:
        """As `AsyncContext.get_var`, blocking."""
        return self._block(self._sidecar().get_var(self.action_id, scope, key))

    def set_var(
        self,
        key: str,
        value: bytes | str,
        *,
        scope: Scope = "instance",
        mime_type: str | None = None,
    ) -> None:
        """As `AsyncContext.set_var`, blocking."""
        data, mime = _encode(value, mime_type)
        self._block(self._sidecar().set_var(self.action_id, scope, key, data, mime))

    def delete_var(self, key: str, *, scope: Scope = "instance") -> None:
        """As `AsyncContext.delete_var`, blocking."""
        self._block(self._sidecar().set_var(self.action_id, scope, key, b"", BYTES_MIME))

    def wait_cancelled(self, timeout: float | None = None) -> bool:
        """Block until the call is cancelled or `timeout` seconds pass; True if cancelled.

        A sleep that ends early on cancel: `if ctx.wait_cancelled(5): return ...`.
        """
        return self._invocation.cancellation.wait_blocking(timeout)

    def _block(self, coroutine: Coroutine[Any, Any, T]) -> T:
        # The sidecar client lives on the server's loop; the handler's thread waits for it there.
        return asyncio.run_coroutine_threadsafe(coroutine, self._invocation.loop).result()


def _encode(value: bytes | str, mime_type: str | None) -> tuple[bytes, str]:
    if isinstance(value, str):
        return value.encode(), mime_type or TEXT_MIME
    return bytes(value), mime_type or BYTES_MIME
