"""How the CLI shows things to people: problems, log lines, errors."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # types only: `dirigent --help` must not load the language
    from dirigent.spec import Problem
    from dirigent.store.records import LogEntry


def print_problems(problems: Iterable[Problem]) -> None:
    for problem in problems:
        print(f"{problem.severity}: {problem}", file=sys.stderr)


def print_log(entry: LogEntry) -> None:
    """One instance log line on stderr: time, state, the action for function logs, the message."""
    where = entry.state or "-"
    if entry.action_id:
        where += f" {entry.action_id[:8]}"
    stamp = entry.time.strftime("%H:%M:%S.%f")[:-3]
    lines = entry.message.splitlines() or [""]
    print(f"{stamp} [{where}] {lines[0]}", file=sys.stderr)
    for line in lines[1:]:
        print(f"{' ' * len(stamp)}  {line}", file=sys.stderr)
