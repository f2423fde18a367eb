"""Which server process a container belongs to, so that a restarted server removes only the leftovers
of servers that are gone, never the pods of another server sharing the engine.

An owner is `<boot id>/<pid>/<start time>`: the process's id and its start time in clock ticks since
boot (so a reused pid is a different owner), and the kernel's boot id (so a pid and start time seen
again after a reboot are too). The engine is local (see `engine`), so its containers' owners are
processes of this machine.
"""

from __future__ import annotations

import os
from pathlib import Path

_BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


def this_process() -> str:
    """The owner id of this process."""
    return of_process(os.getpid()) or f"unknown/{os.getpid()}/0"


def is_alive(owner: str) -> bool:
    """Whether the process `owner` names still runs (on this machine, since this boot)."""
    parts = owner.split("/")
    return len(parts) == 3 and parts[1].isdigit() and of_process(int(parts[1])) == owner


def of_process(pid: int) -> str | None:
    """The owner id of process `pid`, None if there is no such process."""
    try:
        boot = _BOOT_ID.read_text().strip()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Fields after the command name (which may hold spaces and parentheses); start time is field 22.
    fields = stat.rpartition(")")[2].split()
    return f"{boot}/{pid}/{fields[19]}" if len(fields) > 19 else None
