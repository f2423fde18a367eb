"""The HTTP answers of a function (contract §3), as the 2021 Go helper sends them.

Errors are HTTP 200 with the error headers. Direktiv 2021 read the headers whatever the status and
ignored the body; Dirigent reads them first too, and later helpers added real status codes only
*together with* the headers. So 200 plus headers is the one form every engine reads the same way.
The JSON body `{"errorCode", "errorMessage"}` (what the 2022 helpers send) is for people with curl;
engines ignore it.
"""

from __future__ import annotations

import unicodedata
from typing import Any

import pydantic_core
from aiohttp import web

ERROR_CODE_HEADER = "Direktiv-ErrorCode"
ERROR_MESSAGE_HEADER = "Direktiv-ErrorMessage"
JSON_TYPE = "application/json"
#: The longest header value sent, in UTF-8 bytes: clients refuse header lines over 8 KiB.
MAX_HEADER_VALUE = 4096


class OutputError(Exception):
    """The handler returned something that cannot be sent as JSON."""


def success(output: Any) -> web.Response:
    """`output` as compact JSON; `bytes` as they are (the engine stores non-JSON as base64).

    Pydantic models, dataclasses, dates, UUIDs, ... are encoded as pydantic encodes them. Raises
    `OutputError` for a value that cannot be encoded.
    """
    if isinstance(output, bytes | bytearray | memoryview):
        return web.Response(body=bytes(output), content_type="application/octet-stream")
    try:
        body = pydantic_core.to_json(output)
    except pydantic_core.PydanticSerializationError as error:
        raise OutputError(f"the handler's output cannot be encoded as JSON: {error}") from None
    return web.Response(body=body, content_type=JSON_TYPE)


def error(code: str, message: str) -> web.Response:
    """A catchable error: both headers, status 200."""
    return _error_answer(code, message)


def crash(message: str) -> web.Response:
    """A crash: only `Direktiv-ErrorMessage`, status 200 (the instance ends, uncatchable)."""
    return _error_answer(None, message)


def _error_answer(code: str | None, message: str) -> web.Response:
    headers = {ERROR_MESSAGE_HEADER: header_value(message)}
    document: dict[str, str] = {"errorMessage": message}
    if code is not None:
        headers = {ERROR_CODE_HEADER: header_value(code), **headers}
        document = {"errorCode": code, **document}
    return web.Response(
        body=pydantic_core.to_json(document), content_type=JSON_TYPE, headers=headers
    )


def header_value(text: str) -> str:
    """`text` fit for a header: control characters (line breaks too) become spaces, and it is
    cut to `MAX_HEADER_VALUE` UTF-8 bytes (marked with `…`). The full text is in the body."""
    clean = "".join(" " if unicodedata.category(c) == "Cc" else c for c in text).strip()
    encoded = clean.encode()
    if len(encoded) <= MAX_HEADER_VALUE:
        return clean
    ellipsis = "…"
    cut = encoded[: MAX_HEADER_VALUE - len(ellipsis.encode())]
    return cut.decode(errors="ignore") + ellipsis
