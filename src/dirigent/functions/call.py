"""Calling a function: one HTTP POST per action attempt (function-contract.md §2, §3, §5, §6)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import aiohttp
from multidict import CIMultiDictProxy

from dirigent.errors import Code, WorkflowError
from dirigent.functions.answer import error_headers, interpret_answer
from dirigent.functions.base import FunctionStore
from dirigent.functions.sidecar import Sidecar
from dirigent.functions.tempdir import TempDirs, collect_outputs
from dirigent.ids import random_hex
from dirigent.store.records import InstanceRef
from dirigent.types import JSON

if TYPE_CHECKING:  # a type only: no import-time dependency on the definition models
    from dirigent.spec.functions import FunctionFile

MiB = 1024 * 1024
ACTION_ID_HEADER = "Direktiv-ActionID"
TEMP_DIR_HEADER = "Direktiv-TempDir"
DEADLINE_HEADER = "Direktiv-Deadline"
#: Node servers drop idle connections after 5 s; dropping ours first avoids reusing a dying one.
KEEPALIVE_TIMEOUT = 4.0

_Answer = tuple[int, CIMultiDictProxy[str], bytes]


def new_action_id() -> str:
    """A fresh, unguessable action id (128 random bits as hex); never `development`."""
    return random_hex(16)


def format_deadline(deadline: datetime) -> str:
    """`deadline` as RFC 3339 in UTC with milliseconds, e.g. `2021-08-01T12:00:00.000Z`."""
    return deadline.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Channel(Protocol):
    """A way into a pod other than plain TCP to the call's URL (see `dirigent.functions.pods`)."""

    @property
    def session(self) -> aiohttp.ClientSession:
        """Where the POST and the cancel `DELETE` go."""
        ...

    def stopping(self) -> None:
        """A call through this channel is being cancelled: send it no new calls for now."""
        ...

    def stopped(self, answered: bool) -> None:
        """The cancelled call ended: it `answered` within the grace, or the pod must be replaced."""
        ...


@dataclass(frozen=True, slots=True)
class FunctionCall:
    """One attempt of an action: what to send, where, until when, and on whose behalf.

    `action_id` must be fresh per attempt (see `new_action_id`); `deadline` must be aware.
    """

    action_id: str
    url: str
    input: bytes
    deadline: datetime
    owner: InstanceRef
    state: str
    files: tuple[FunctionFile, ...] = ()
    channel: Channel | None = None

    def __post_init__(self) -> None:
        if self.deadline.utcoffset() is None:
            raise ValueError("FunctionCall.deadline must be timezone-aware")


@dataclass(slots=True)
class _Flight:
    """A call in progress; `error` is set when it is cancelled or its deadline passes.

    `exchange` is the timeout scope around the POST while it runs: without a deadline until the
    call is stopped, then the end of the cancel grace.
    """

    call: FunctionCall
    error: WorkflowError | None = None
    posting: bool = False
    telling: asyncio.Task[None] | None = None
    exchange: asyncio.Timeout | None = None


class FunctionCaller:
    """Calls functions over HTTP per the function contract, over one pool of connections.

    `call` raises `WorkflowError` for every failure a workflow can see. While a call runs, its
    action id is registered with the sidecar (if any); `/log` accepts late lines for
    `log_grace` seconds after it. The attempt's temp dir exists from before the POST until the
    answer is read; it is removed in the background after (see `wait_removed`).

    Stopping a call (`cancel`, or its own deadline) sends `DELETE /` with the action id, waits
    up to `cancel_grace` seconds for the POST to return, abandons it (closing its connection)
    and raises the stop's error; an answer that still comes is discarded.
    """

    def __init__(
        self,
        store: FunctionStore,
        *,
        max_input: int = 4 * MiB,
        max_output: int = 4 * MiB,
        max_variable: int = 64 * MiB,
        cancel_grace: float = 10.0,
        log_grace: float = 5.0,
        temp_root: Path | None = None,
        sidecar: Sidecar | None = None,
        max_connections: int = 1024,
        connect_timeout: float = 10.0,
    ) -> None:
        self._store = store
        self._max_input = max_input
        self._max_output = max_output
        self._max_variable = max_variable
        self._cancel_grace = cancel_grace
        self._log_grace = log_grace
        self._dirs = TempDirs(temp_root)
        self._sidecar = sidecar
        self._max_connections = max_connections
        self._connect_timeout = connect_timeout
        self._flights: dict[str, _Flight] = {}
        self._http: aiohttp.ClientSession | None = None
        self._control: aiohttp.ClientSession | None = None

    async def call(self, call: FunctionCall) -> JSON:
        """POST `call.input` to the function and return the value of its answer.

        Raises `WorkflowError`:
        * `direktiv.function.input`: input over the limit (nothing is sent);
        * `direktiv.function.files`: a `files` entry cannot be written (nothing is sent);
        * the function's own error code, or a crash for an error message without a code;
        * `direktiv.function.failed`: function unreachable, connection lost, non-2xx answer
          without error headers, answer over the limit;
        * when stopped: the error given to `cancel`, or `direktiv.cancels.timeout` for the
          deadline.

        Raises `ValueError` if a call with the same action id is already in progress.
        """
        if len(call.input) > self._max_input:
            raise WorkflowError(
                Code.FUNCTION_INPUT,
                f"function input is {len(call.input)} bytes, more than the limit of "
                f"{self._max_input} bytes",
            )
        if call.action_id in self._flights:
            raise ValueError(f"action id {call.action_id!r} is already being called")
        loop = asyncio.get_running_loop()
        deadline_at = loop.time() + (call.deadline - datetime.now(UTC)).total_seconds()
        if deadline_at <= loop.time():
            raise _deadline_error(call)
        # In flight from here, so that a cancel during the preparation is not lost.
        flight = _Flight(call)
        self._flights[call.action_id] = flight
        tempdir: str | None = None
        try:
            if call.files:
                tempdir = await self._dirs.prepare(call.files, call.owner, self._store)
            else:
                tempdir = self._dirs.take()
            if flight.error is not None:
                raise flight.error  # cancelled before the POST: nothing to tell the function
            if self._sidecar is not None:
                self._sidecar.register(call.action_id, call.owner, call.state)
            status, headers, body = await self._answer(flight, tempdir, deadline_at)
            await collect_outputs(
                tempdir,
                self._store,
                owner=call.owner,
                state=call.state,
                action_id=call.action_id,
                max_variable=self._max_variable,
            )
            return interpret_answer(status, headers, body)
        finally:
            del self._flights[call.action_id]
            if self._sidecar is not None:
                self._sidecar.unregister(call.action_id, self._log_grace)
            if tempdir is not None:
                self._dirs.release(tempdir)

    async def cancel(self, action_id: str, error: WorkflowError | None = None) -> None:
        """Stop the call of `action_id`; its `call` raises `error`.

        Without `error`, `direktiv.cancels.timeout`. Returns at once: the `DELETE /` goes out in
        the background. Cancelling a call that is not in progress does nothing; a later
        cancel's error replaces an earlier one (the engine decides the final code).
        """
        flight = self._flights.get(action_id)
        if flight is None:
            return
        default = flight.error or WorkflowError(Code.CANCELS_TIMEOUT, "the call was cancelled")
        self._stop(flight, error or default)

    async def wait_removed(self) -> None:
        """Wait until the temp dirs of finished calls are removed."""
        await self._dirs.wait_removed()

    async def aclose(self) -> None:
        """Close all connections and remove the temp dirs (and the root if made here)."""
        await self._dirs.aclose()
        for session in (self._http, self._control):
            if session is not None:
                await session.close()
        self._http = self._control = None

    # The exchange

    async def _answer(self, flight: _Flight, tempdir: str, deadline_at: float) -> _Answer:
        """The function's answer, unless the call is stopped first: then its error is raised.

        The exchange runs in this task (no task and no wait of its own per call); a stop does not
        interrupt it but bounds it by the cancel grace (`_stop`), after which it is abandoned.
        """
        alarm = asyncio.get_running_loop().call_at(deadline_at, self._expire, flight)
        answered = True
        try:
            try:
                async with asyncio.timeout(None) as flight.exchange:
                    flight.posting = True
                    try:
                        answer = await self._exchange(flight.call, tempdir)
                    except WorkflowError:
                        if flight.error is None:
                            raise
            except TimeoutError:
                # Only the scope raises it (`_exchange` turns the client's errors into
                # WorkflowError): the grace after a stop ran out.
                if flight.error is None:
                    raise
                answered = False
            finally:
                flight.exchange = None
            if flight.error is not None:
                channel = flight.call.channel
                if channel is not None:
                    channel.stopped(answered=answered)
                raise flight.error
            return answer
        finally:
            alarm.cancel()
            telling = flight.telling
            if telling is not None and not telling.done():
                telling.cancel()
                await asyncio.wait((telling,))

    async def _exchange(self, call: FunctionCall, tempdir: str) -> _Answer:
        headers = {
            ACTION_ID_HEADER: call.action_id,
            TEMP_DIR_HEADER: tempdir,
            DEADLINE_HEADER: format_deadline(call.deadline),
            "Content-Type": "application/json",
        }
        try:
            session = call.channel.session if call.channel is not None else self._session()
            async with session.post(
                call.url, data=call.input, headers=headers, allow_redirects=False
            ) as response:
                code, message = error_headers(response.headers)
                # The body of an error answer is ignored, so it is not read.
                body = b"" if code or message else await self._read_body(response)
                return response.status, response.headers, body
        except aiohttp.ClientError as exc:
            raise WorkflowError(
                Code.FUNCTION_FAILED,
                f"function at {call.url} failed: {str(exc) or type(exc).__name__}",
            ) from None

    async def _read_body(self, response: aiohttp.ClientResponse) -> bytes:
        """The body, read to one byte past the limit at most: a large answer is never buffered."""
        limit = self._max_output
        if response.content_length is not None and response.content_length > limit:
            raise _too_large(limit)
        chunks: list[bytes] = []
        size = 0
        while chunk := await response.content.read(limit + 1 - size):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
        return b"".join(chunks)

    # Stopping

    def _stop(self, flight: _Flight, error: WorkflowError) -> None:
        flight.error = error
        scope = flight.exchange
        if scope is not None and scope.when() is None:  # the first stop while the POST runs
            channel = flight.call.channel
            if channel is not None:
                channel.stopping()
            scope.reschedule(asyncio.get_running_loop().time() + self._cancel_grace)
        if flight.posting and flight.telling is None:
            flight.telling = asyncio.create_task(self._tell(flight.call))

    def _expire(self, flight: _Flight) -> None:
        """The call's deadline passed while its POST runs."""
        if flight.error is None:
            self._stop(flight, _deadline_error(flight.call))

    async def _tell(self, call: FunctionCall) -> None:
        """Send `DELETE /` with the action id; failures are ignored (the grace ends the call)."""
        session = call.channel.session if call.channel is not None else self._control_session()
        try:
            async with session.delete(
                call.url,
                headers={ACTION_ID_HEADER: call.action_id},
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=self._cancel_grace),
            ) as response:
                await response.read()
        except (aiohttp.ClientError, TimeoutError):
            pass

    # Resources

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=self._max_connections,
                    limit_per_host=0,
                    keepalive_timeout=KEEPALIVE_TIMEOUT,
                ),
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=self._connect_timeout),
                # Functions must not see each other's cookies.
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._http

    def _control_session(self) -> aiohttp.ClientSession:
        # Cancels get their own connections: the pool may be full of the calls being cancelled.
        if self._control is None:
            self._control = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0, force_close=True),
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._control


def _deadline_error(call: FunctionCall) -> WorkflowError:
    return WorkflowError(
        Code.CANCELS_TIMEOUT,
        f"function did not answer before its deadline {format_deadline(call.deadline)}",
    )


def _too_large(limit: int) -> WorkflowError:
    return WorkflowError(
        Code.FUNCTION_FAILED, f"function answer is larger than the limit of {limit} bytes"
    )
