"""The workflows the benchmarks run, as YAML text, and the jq programs they share with the floor."""

from __future__ import annotations

from typing import Literal

#: The action chain's input template and transform (the floor runs the same programs).
ACTION_INPUT = "{i: .i, lane: .lane}"
ACTION_TRANSFORM = "{i: (.return.i + 1), lane: .lane}"
#: The pure chains' jq: a switch condition that always holds, a transform that counts.
SWITCH_CONDITION = ".i >= 0"
TRANSFORM = ".i += 1"
#: The small JSON each step of the peers' 3-step workflow posts.
PEER_PAYLOAD = {"message": "hello", "n": 1}

PureKind = Literal["noop", "switch", "transform"]
PURE_KINDS: tuple[PureKind, ...] = ("noop", "switch", "transform")

_ECHO = "functions:\n  - id: echo\n    image: bench/echo\n"


def pure_chain(kind: PureKind, states: int) -> str:
    """`pure-<kind>-<states>`: `states` states of `kind` in a row (a transform is a noop with one)."""
    lines = [f"id: pure-{kind}-{states}", "states:"]
    for i in range(states):
        following = f"s{i + 1}" if i < states - 1 else None
        if kind == "switch":
            lines += [f"  - id: s{i}", "    type: switch", "    conditions:"]
            lines.append(f"      - condition: 'jq({SWITCH_CONDITION})'")
            if following:
                lines.append(f"        transition: {following}")
            continue
        lines += [f"  - id: s{i}", "    type: noop"]
        if kind == "transform":
            lines.append(f"    transform: 'jq({TRANSFORM})'")
        if following:
            lines.append(f"    transition: {following}")
    return "\n".join(lines) + "\n"


def action_chain(states: int) -> str:
    """`actions-<states>`: `states` action states calling the echo, each counting `.i` up."""
    lines = [f"id: actions-{states}", _ECHO.rstrip("\n"), "states:"]
    for i in range(states):
        lines += [
            f"  - id: s{i}",
            "    type: action",
            "    action:",
            "      function: echo",
            f"      input: 'jq({ACTION_INPUT})'",
            f"    transform: 'jq({ACTION_TRANSFORM})'",
        ]
        if i < states - 1:
            lines.append(f"    transition: s{i + 1}")
    return "\n".join(lines) + "\n"


def foreach_fanout(width: int) -> str:
    """`foreach-<width>`: one foreach state calling the echo once per element of `width`."""
    return (
        f"id: foreach-{width}\n{_ECHO}states:\n  - id: all\n    type: foreach\n"
        f"    array: 'jq([range({width}) | {{i: .}}])'\n"
        "    action:\n      function: echo\n      input: 'jq({i: .i})'\n"
    )


def parallel_fanout(width: int) -> str:
    """`parallel-<width>`: one parallel state of `width` actions calling the echo."""
    actions = "".join(
        f"      - function: echo\n        input: 'jq({{i: {i}}})'\n" for i in range(width)
    )
    return (
        f"id: parallel-{width}\n{_ECHO}states:\n  - id: all\n    type: parallel\n"
        f"    actions:\n{actions}"
    )


def peer_steps(steps: int = 3) -> str:
    """`steps-<steps>`: `steps` action states, each posting `PEER_PAYLOAD` to the echo."""
    lines = [f"id: steps-{steps}", _ECHO.rstrip("\n"), "states:"]
    for i in range(steps):
        lines += [
            f"  - id: s{i}",
            "    type: action",
            "    action:",
            "      function: echo",
            f"      input: {{message: {PEER_PAYLOAD['message']}, n: {PEER_PAYLOAD['n']}}}",
        ]
        if i < steps - 1:
            lines.append(f"    transition: s{i + 1}")
    return "\n".join(lines) + "\n"


def slow_action() -> str:
    """`slow`: one action calling the slow function (it answers after a long time)."""
    return (
        "id: slow\nfunctions:\n  - id: slow\n    image: bench/slow\nstates:\n"
        "  - id: wait\n    type: action\n    timeout: PT2H\n"
        "    action:\n      function: slow\n      input: {}\n"
    )


def delay_hour() -> str:
    """`delay`: one delay state of an hour."""
    return "id: delay\nstates:\n  - id: wait\n    type: delay\n    duration: PT1H\n"
