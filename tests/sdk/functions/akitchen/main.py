"""An async SDK function: `log` logs `lines`; `vars` counts in variable `count`; `wait` prints
`WAITING <action id>`, awaits the cancel (up to `within` seconds), logs and answers whether it came."""

import asyncio
from typing import Any

from dirigent.sdk import AsyncContext, FunctionError, function, serve


@function
async def handle(input: dict[str, Any], ctx: AsyncContext) -> Any:
    do = input.get("do")
    if do == "log":
        for line in input["lines"]:
            ctx.log(line)
        return {"logged": len(input["lines"])}
    if do == "vars":
        count = int(await ctx.get_var("count") or b"0") + 1
        await ctx.set_var("count", str(count))
        await ctx.delete_var("gone")
        return {"count": count}
    if do == "wait":
        print(f"WAITING {ctx.action_id}", flush=True)
        try:
            async with asyncio.timeout(input.get("within", 20)):
                await ctx.wait_cancelled()
        except TimeoutError:
            pass
        ctx.log(f"cancelled: {ctx.cancelled}")
        return {"cancelled": ctx.cancelled}
    raise FunctionError("akitchen.unknown", f"nothing to do for {do!r}")


if __name__ == "__main__":
    serve(handle)
