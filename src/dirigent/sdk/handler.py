"""`@function`: a handler `(input, ctx) -> output` with its input validation.

The input is the call's JSON body. When the handler declares what it expects, with
`@function(input_model=Model)` or a type annotation on its first parameter (a pydantic model, a
dataclass, `dict[str, int]`, ... anything pydantic validates), the body is validated into that type
before the handler runs; input that does not fit is a catchable error (code `input.invalid` unless
`input_error` says otherwise) whose message names each bad field.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, get_type_hints, overload

import orjson
from pydantic import TypeAdapter, ValidationError

from dirigent.sdk.errors import INPUT_INVALID, FunctionError

Handler = Callable[[Any, Any], Any]

_UNVALIDATED = (inspect.Parameter.empty, Any, object)


@dataclass(frozen=True, slots=True)
class Function:
    """A handler ready to serve: how to read its input, and whether it is a coroutine function.

    Calling it calls the handler itself (for unit tests of the logic).
    """

    handler: Handler
    input_type: TypeAdapter[Any] | None
    input_error: str
    is_async: bool

    @property
    def name(self) -> str:
        return getattr(self.handler, "__name__", "handler")

    def read_input(self, body: bytes) -> Any:
        """The handler's input from a request body; raises `FunctionError(input_error, ...)`.

        An empty body is `None` (JSON null): calls by hand often send nothing.
        """
        raw = body or b"null"
        if self.input_type is None:
            try:
                return orjson.loads(raw)
            except orjson.JSONDecodeError as error:
                raise FunctionError(self.input_error, f"input is not JSON: {error}") from None
        try:
            return self.input_type.validate_json(raw)
        except ValidationError as error:
            raise FunctionError(self.input_error, describe(error)) from None

    def __call__(self, input: Any, ctx: Any) -> Any:
        return self.handler(input, ctx)


@overload
def function(handler: Handler, /) -> Function: ...


@overload
def function(
    *, input_model: Any = None, input_error: str = INPUT_INVALID
) -> Callable[[Handler], Function]: ...


def function(
    handler: Handler | None = None,
    /,
    *,
    input_model: Any = None,
    input_error: str = INPUT_INVALID,
) -> Function | Callable[[Handler], Function]:
    """Make `handler(input, ctx)` a function: `@function` or `@function(input_model=..., ...)`.

    `input_model` (default: the annotation of the handler's first parameter, if any) is what the
    input is validated into; `input_error` is the error code of input that does not fit.
    Raises `TypeError` for a handler that cannot be called with two positional arguments.
    """

    def wrap(handler: Handler) -> Function:
        return make_function(handler, input_model=input_model, input_error=input_error)

    return wrap if handler is None else wrap(handler)


def make_function(
    handler: Handler | Function, *, input_model: Any = None, input_error: str = INPUT_INVALID
) -> Function:
    """`handler` as a `Function` (as is if it already is one); see `function`."""
    if isinstance(handler, Function):
        return handler
    if not callable(handler):
        raise TypeError(f"a handler must be a function, not {type(handler).__name__}")
    signature = inspect.signature(handler)
    try:
        signature.bind(None, None)
    except TypeError:
        raise TypeError(
            f"handler {getattr(handler, '__name__', handler)!r} must take two arguments, "
            f"(input, ctx); its signature is {signature}"
        ) from None
    expected = input_model if input_model is not None else _input_annotation(handler, signature)
    return Function(
        handler=handler,
        input_type=None if _unvalidated(expected) else TypeAdapter(expected),
        input_error=input_error,
        is_async=inspect.iscoroutinefunction(handler),
    )


def describe(error: ValidationError) -> str:
    """`invalid input: name: Field required; age: Input should be a valid integer`."""
    problems = []
    for problem in error.errors(include_url=False):
        where = ".".join(str(part) for part in problem["loc"]) or "input"
        problems.append(f"{where}: {problem['msg']}")
    return "invalid input: " + "; ".join(problems)


def _input_annotation(handler: Handler, signature: inspect.Signature) -> Any:
    first = next(iter(signature.parameters.values()))
    if first.annotation is inspect.Parameter.empty:
        return None
    # Resolves string annotations (`from __future__ import annotations`) in the handler's module.
    try:
        return get_type_hints(handler).get(first.name)
    except NameError as error:
        raise TypeError(
            f"the input annotation of the handler cannot be resolved: {error}"
        ) from None


def _unvalidated(expected: Any) -> bool:
    return expected is None or any(expected is plain for plain in _UNVALIDATED)
