"""Write Dirigent functions in Python: a handler, the contract's HTTP server, and its context.

    from dirigent.sdk import Context, FunctionError, function, serve

    @function
    def handle(input: dict, ctx: Context) -> dict:
        ctx.log("working")
        return {"ok": True}

    if __name__ == "__main__":
        serve(handle)

See `docs/sdk.md`. `dirigent.sdk.testing.call` runs a handler through its real server in tests;
`dirigent.sdk.folder.command_for` is how a function folder is started.
"""

from dirigent.sdk.context import AsyncContext, Context, Scope
from dirigent.sdk.errors import INPUT_INVALID, FunctionError, SidecarError
from dirigent.sdk.handler import Function, function
from dirigent.sdk.server import serve

__all__ = [
    "INPUT_INVALID",
    "AsyncContext",
    "Context",
    "Function",
    "FunctionError",
    "Scope",
    "SidecarError",
    "function",
    "serve",
]
