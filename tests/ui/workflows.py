"""Workflows the UI tests push, run and draw."""

from __future__ import annotations

#: Calls the logger test function (its log lines go through the sidecar), then branches.
BRANCHING = """\
id: logged
description: Calls the logger function, then decides.
functions:
  - id: logger
    image: test/logger
states:
  - id: prepare
    type: noop
    transform: 'jq(.count = 3)'
    transition: call
  - id: call
    type: action
    action:
      function: logger
      input: 'jq({late: false})'
    catch:
      - error: '*'
        transition: failed
    transition: decide
  - id: decide
    type: switch
    conditions:
      - condition: 'jq(.count > 2)'
        transition: big
      - condition: 'jq(.count > 0)'
        transition: small
    defaultTransition: failed
  - id: big
    type: noop
    transform: 'jq(.size = "big")'
  - id: small
    type: noop
  - id: failed
    type: error
    error: logged.failed
    message: it failed
"""

#: Waits a minute: to be cancelled.
NAP = """\
id: nap
description: Sleeps a minute.
states:
  - id: start
    type: noop
    transition: sleep
  - id: sleep
    type: delay
    duration: PT60S
"""


def big_workflow(count: int = 50) -> str:
    """`count` states in a chain with a switch every 5 (a side state that joins back), catches to
    one handler every 7, and a loop back: `id: big`, with more than `count` states in all."""
    lines = ["id: big", "description: Fifty-odd states.", "states:"]
    for i in range(count):
        after = f"s{i + 1}" if i + 1 < count else None
        if i % 5 == 4 and after:
            lines += [
                f"  - id: s{i}",
                "    type: switch",
                "    conditions:",
                "      - condition: 'jq(.n % 2 == 0)'",
                f"        transition: side{i}",
                f"    defaultTransition: {after}",
                f"  - id: side{i}",
                "    type: noop",
                "    transform: 'jq(.n += 1)'",
                f"    transition: {after}",
            ]
        elif i == 31:
            lines += [
                f"  - id: s{i}",
                "    type: switch",
                "    conditions:",
                "      - condition: 'jq(.n < 0)'",
                "        transition: s20",
                f"    defaultTransition: {after}",
            ]
        else:
            lines += [f"  - id: s{i}", "    type: noop", "    transform: 'jq(.n += 1)'"]
            if after:
                lines.append(f"    transition: {after}")
            if i % 7 == 3:
                lines += ["    catch:", "      - error: '*'", "        transition: handler"]
    lines += ["  - id: handler", "    type: error", "    error: big.failed", "    message: failed"]
    return "\n".join(lines) + "\n"
