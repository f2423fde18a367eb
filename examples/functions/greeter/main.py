"""The examples' greeter, written with the Dirigent SDK: `{"name": "Ada"}` → `{"greeting": "Hello, Ada!"}`.

A missing name is the catchable error `greeter.input` (examples/greeting retries it once, then catches it).
Run it alone with `dirigent function serve examples/functions/greeter`.
"""

from __future__ import annotations

from typing import Any

from dirigent.sdk import Context, FunctionError, function, serve


@function
def handle(input: dict[str, Any], ctx: Context) -> dict[str, str]:
    name = input.get("name")
    if not isinstance(name, str) or not name:
        raise FunctionError("greeter.input", "Missing 'name' property in JSON input.")
    ctx.log(f"greeting {name}")
    return {"greeting": f"Hello, {name}!"}


if __name__ == "__main__":
    serve(handle)
