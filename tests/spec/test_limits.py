"""Warnings for states that give function calls more time than the platform allows."""

from __future__ import annotations

from datetime import timedelta

from dirigent.spec import load_workflow
from dirigent.spec.limits import long_call_warnings

FLOW = """\
id: long
functions:
- {id: f, image: acme/f}
states:
- id: quick
  type: action
  action: {function: f}
  timeout: PT10M
  transition: slow
- id: slow
  type: parallel
  actions:
  - {function: f}
  timeout: PT2H
"""


def test_a_timeout_over_the_limit_is_a_warning_at_its_line() -> None:
    warnings = long_call_warnings(load_workflow(FLOW, "long.yaml"), timedelta(minutes=15))
    assert [(str(w), w.severity) for w in warnings] == [
        (
            "long.yaml:14:12: states[1].timeout: function calls are stopped after 900 s "
            "(the server's max_function_seconds), before this timeout",
            "warning",
        )
    ]


def test_timeouts_within_the_limit_give_no_warning() -> None:
    assert long_call_warnings(load_workflow(FLOW, "long.yaml"), timedelta(hours=2)) == []
