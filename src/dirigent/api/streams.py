"""Server-Sent Events: a stream of shapes as `text/event-stream`, ending with an `end` event.

Each event is `event: <name>`, optionally `id: <n>` (a client resumes with `Last-Event-ID`), and
`data: <JSON>`. A failure after the stream began is an `error` event with the `{"Code", "Message"}`
body; a comment line is sent while nothing happens, so proxies keep the connection open.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from fastapi.responses import StreamingResponse

from dirigent.api.errors import status_of
from dirigent.api.shapes import ErrorBody, Shape
from dirigent.errors import DirigentError

#: Seconds of silence after which a keep-alive comment is sent.
KEEP_ALIVE_SECONDS = 15.0

#: One event: its name, its id (None for none) and its data.
Event = tuple[str, int | None, Shape]
#: What makes the data of the final `end` event.
Closing = Callable[[], Awaitable[Shape]]


def format_event(name: str, data: str, event_id: int | None = None) -> bytes:
    lines = [f"event: {name}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.extend(f"data: {line}" for line in data.splitlines() or [""])
    return ("\n".join(lines) + "\n\n").encode()


async def _encode(events: AsyncIterator[Event], end: Closing | None) -> AsyncIterator[bytes]:
    queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=64)

    async def produce() -> None:
        try:
            async for name, event_id, shape in events:
                await queue.put(format_event(name, shape.model_dump_json(), event_id))
            if end is not None:
                await queue.put(format_event("end", (await end()).model_dump_json()))
        except DirigentError as error:
            body = ErrorBody(Code=status_of(error), Message=error.message)
            await queue.put(format_event("error", body.model_dump_json()))
        finally:
            await queue.put(None)

    producer = asyncio.create_task(produce())
    try:
        while True:
            try:
                chunk = await asyncio.wait_for(queue.get(), KEEP_ALIVE_SECONDS)
            except TimeoutError:
                yield b": keep-alive\n\n"
                continue
            if chunk is None:
                return
            yield chunk
    finally:
        producer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await producer


def event_stream(events: AsyncIterator[Event], end: Closing | None = None) -> StreamingResponse:
    """Stream `events`, then an `end` event with the shape `end()` gives (if given)."""
    return StreamingResponse(
        _encode(events, end),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
