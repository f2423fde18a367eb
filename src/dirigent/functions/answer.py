"""How a function's HTTP answer becomes a value or an error (function-contract.md §3)."""

from __future__ import annotations

import base64
from collections.abc import Mapping

import orjson

from dirigent.errors import Code, WorkflowError
from dirigent.types import JSON

ERROR_CODE_HEADER = "direktiv-errorcode"
ERROR_MESSAGE_HEADER = "direktiv-errormessage"

#: How much of a failed answer's body goes into the error message.
BODY_EXCERPT = 200


def error_headers(headers: Mapping[str, str]) -> tuple[str, str]:
    """The error code and message of an answer, read case-insensitively; "" when absent.

    Go servers canonicalise the names (`Direktiv-Errorcode`), so no spelling can be relied on.
    The scan works for any mapping, not only case-insensitive ones.
    """
    code = message = ""
    for name, value in headers.items():
        lowered = name.lower()
        if lowered == ERROR_CODE_HEADER:
            code = code or value
        elif lowered == ERROR_MESSAGE_HEADER:
            message = message or value
    return code, message


def interpret_answer(status: int, headers: Mapping[str, str], body: bytes) -> JSON:
    """The value of a function's answer, or the `WorkflowError` it stands for.

    * `Direktiv-ErrorCode` set: a catchable error with that code and message; status and body
      are ignored.
    * Only `Direktiv-ErrorMessage` set: a crash, `direktiv.internal.error`, not catchable.
    * Otherwise a 2xx answer is a value: the body parsed as JSON, else the standard base64 of
      its bytes (an empty body is `""`). The response Content-Type is never consulted.
    * Any other status is a catchable `direktiv.function.failed` naming the status and the
      body's start (Direktiv 2021 took such bodies as output; Dirigent does not).
    """
    code, message = error_headers(headers)
    if code:
        raise WorkflowError(code, message)
    if message:
        raise WorkflowError(Code.INTERNAL, message, catchable=False)
    if not 200 <= status < 300:
        excerpt = body[:BODY_EXCERPT].decode("utf-8", errors="replace")
        more = "…" if len(body) > BODY_EXCERPT else ""
        raise WorkflowError(
            Code.FUNCTION_FAILED,
            f"function answered HTTP {status} without an error code; body: {excerpt!r}{more}",
        )
    return parse_output(body)


def parse_output(body: bytes) -> JSON:
    """A successful body as a value: JSON if it parses, else the base64 of the raw bytes."""
    if not body:
        return ""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return base64.b64encode(body).decode("ascii")
