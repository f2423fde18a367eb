"""`dirigent.sdk.testing.call`: a handler through its real server, a real sidecar and the caller."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pydantic import BaseModel

from dirigent.sdk import AsyncContext, Context, FunctionError, function
from dirigent.sdk.testing import FunctionCrashed, call


class Order(BaseModel):
    item: str
    count: int = 1


@function
def shop(input: Order, ctx: Context) -> dict[str, Any]:
    ctx.log(f"ordering {input.count} {input.item}")
    stock = int(ctx.get_var("stock", scope="workflow") or b"0")
    if input.count > stock:
        raise FunctionError("shop.stock", f"only {stock} left")
    ctx.set_var("stock", str(stock - input.count), scope="workflow")
    (ctx.out_dir() / "receipt").write_text(f"{input.count} {input.item}")
    note = ctx.temp_dir / "note"
    return {"left": stock - input.count, "note": note.read_text() if note.exists() else None}


def test_a_call_gives_output_logs_and_variables() -> None:
    result = call(
        shop,
        Order(item="tea", count=2),
        variables={"workflow/stock": "5"},
        files={"note": b"thanks"},
    )
    assert result.output == {"left": 3, "note": "thanks"}
    assert result.logs == ["ordering 2 tea"]
    assert result.variables == {
        "instance/note": b"thanks",
        "instance/receipt": b"2 tea",
        "workflow/stock": b"3",
    }


def test_a_function_error_is_raised_as_function_error() -> None:
    with pytest.raises(FunctionError) as raised:
        call(shop, {"item": "tea", "count": 9}, variables={"workflow/stock": b"1"})
    assert (raised.value.code, raised.value.message) == ("shop.stock", "only 1 left")


def test_invalid_input_is_raised_as_function_error() -> None:
    with pytest.raises(FunctionError) as raised:
        call(shop, {"count": 1})
    assert raised.value.code == "input.invalid"
    assert raised.value.message == "invalid input: item: Field required"


def test_a_crash_is_raised_as_function_crashed() -> None:
    def handle(input: Any, ctx: Context) -> Any:
        return 1 / 0

    with pytest.raises(FunctionCrashed, match="ZeroDivisionError: division by zero"):
        call(handle, {})


def test_the_deadline_cancels_a_slow_handler() -> None:
    @function
    async def handle(input: Any, ctx: AsyncContext) -> Any:
        await ctx.wait_cancelled()
        return "stopped"

    with pytest.raises(FunctionError) as raised:
        call(handle, {}, timeout=0.2)
    assert raised.value.code == "direktiv.cancels.timeout"


async def test_from_an_async_test_it_runs_in_a_thread() -> None:
    with pytest.raises(RuntimeError, match=r"asyncio\.to_thread"):
        call(shop, {"item": "tea"})
    result = await asyncio.to_thread(call, shop, {"item": "tea"}, variables={"workflow/stock": "1"})
    assert result.output["left"] == 0
