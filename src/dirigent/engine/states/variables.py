"""Getter and setter states: read variables into `.var`, write template results as variables."""

from __future__ import annotations

import base64

import orjson

from dirigent.engine import effects as fx
from dirigent.engine.step import Turn
from dirigent.spec.states import GetterState, SetterState


def enter_getter(turn: Turn, state: GetterState) -> None:
    turn.instance.waiting_for_variables = True
    turn.emit(fx.ReadVariables(tuple((v.scope, v.key) for v in state.variables)))


def on_variables(
    turn: Turn, state: GetterState, values: tuple[tuple[bytes, str] | None, ...]
) -> None:
    turn.instance.waiting_for_variables = False
    found = turn.instance.data.get("var")
    # A new dict: the engine never mutates nested values, so a shallow copy of the data is a snapshot.
    target = dict(found) if isinstance(found, dict) else {}
    for variable, value in zip(state.variables, values, strict=True):
        if value is None:
            target[variable.key] = None
            continue
        data = value[0]
        try:
            target[variable.key] = orjson.loads(data) if data else None
        except orjson.JSONDecodeError:
            target[variable.key] = base64.b64encode(data).decode()
    turn.instance.data["var"] = target
    turn.complete(state.transition)


def enter_setter(turn: Turn, state: SetterState) -> None:
    writes: list[tuple[str, str, bytes | None, str]] = []
    for variable in state.variables:
        value = None if variable.value is None else variable.value.evaluate(turn.instance.data)
        if value is None:
            # Dirigent: storing null deletes the variable, as the 2021 docs promised.
            writes.append((variable.scope, variable.key, None, variable.mimeType))
        elif isinstance(value, str) and "json" not in variable.mimeType:
            writes.append((variable.scope, variable.key, value.encode(), variable.mimeType))
        else:
            writes.append((variable.scope, variable.key, orjson.dumps(value), variable.mimeType))
    turn.emit(fx.WriteVariables(tuple(writes)))
    turn.complete(state.transition)
