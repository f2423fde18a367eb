"""A sync SDK function that does what its input's `do` says, to test the SDK against the contract.

`echo` answers the input; `fail` raises FunctionError(code, message); `crash` raises RuntimeError;
`log` logs each of `lines`; `vars` counts in variable `count` of `scope` and deletes `gone`;
`files` reads `data` from the temp dir and leaves out files; `info` answers the call's context;
`bytes` answers raw bytes; `unencodable` answers an object that is not JSON; `wait` prints
`WAITING <action id>` and waits up to `within` seconds for a cancel, then logs and answers
whether it was cancelled.
"""

from pathlib import Path
from typing import Any

from dirigent.sdk import Context, FunctionError, function, serve


@function
def handle(input: dict[str, Any], ctx: Context) -> Any:
    do = input.get("do")
    if do == "echo":
        return input
    if do == "fail":
        raise FunctionError(input["code"], input["message"])
    if do == "crash":
        raise RuntimeError("kaboom")
    if do == "log":
        for line in input["lines"]:
            ctx.log(line)
        return {"logged": len(input["lines"])}
    if do == "vars":
        scope = input.get("scope", "instance")
        count = int(ctx.get_var("count", scope=scope) or b"0") + 1
        ctx.set_var("count", str(count), scope=scope)
        ctx.set_var("blob", b"\x00\x01", scope=scope, mime_type="application/x-test")
        ctx.delete_var("gone", scope=scope)
        return {"count": count, "missing": ctx.get_var("never-set").decode()}
    if do == "files":
        data = (ctx.temp_dir / "data").read_text()
        (ctx.out_dir() / "result").write_text(data.upper())
        folder = ctx.out_dir("workflow") / "report"
        folder.mkdir()
        (folder / "a.txt").write_text("a")
        return {"data": data, "temp_dir": str(ctx.temp_dir)}
    if do == "info":
        return {
            "action_id": ctx.action_id,
            "temp_dir": str(ctx.temp_dir),
            "temp_dir_exists": Path(ctx.temp_dir, "out", "namespace").is_dir(),
            "deadline": ctx.deadline.isoformat() if ctx.deadline else None,
            "cancelled": ctx.cancelled,
        }
    if do == "bytes":
        return b"\x00\xffraw"
    if do == "unencodable":
        return {"value": object()}
    if do == "wait":
        print(f"WAITING {ctx.action_id}", flush=True)
        cancelled = ctx.wait_cancelled(input.get("within", 20))
        ctx.log(f"cancelled: {cancelled}")
        return {"cancelled": ctx.cancelled}
    raise FunctionError("kitchen.unknown", f"nothing to do for {do!r}")


if __name__ == "__main__":
    serve(handle)
