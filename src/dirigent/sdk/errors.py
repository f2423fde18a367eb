"""The errors a function author raises, and the error code of input that fails validation."""

from __future__ import annotations

#: The code of the catchable error a handler's input validation raises (see `function`).
INPUT_INVALID = "input.invalid"


class FunctionError(Exception):
    """A catchable error for the calling workflow: answered with `Direktiv-ErrorCode: code`.

    Workflows catch it by `code` (e.g. `catch: [{error: "greeter.*"}]`). Any other exception a
    handler raises is a crash instead (only `Direktiv-ErrorMessage`): the instance ends with
    `direktiv.internal.error`, and no `catch` of that workflow sees it.
    """

    def __init__(self, code: str, message: str = "") -> None:
        if not isinstance(code, str) or not code.strip():
            raise ValueError("a FunctionError needs a non-empty code, e.g. 'greeter.input'")
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message


class SidecarError(Exception):
    """The sidecar refused a `/var` request or could not be reached.

    Not caught by the SDK: raised out of a handler, it crashes the call (the function cannot do
    its job without its variables).
    """
