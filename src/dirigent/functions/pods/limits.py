"""The `size` of a function as resource limits, and cgroups that enforce them on local processes.

`small`, `medium`, `large` are 256 / 512 / 1024 MB of memory and 1 / 1 / 2 CPUs (function-contract.md §8).
Local pods get a cgroup of their own where one can be made (cgroup v2, or v1's memory and cpu
controllers); where none can (no root, a read-only cgroup tree), pods run without limits and `Cgroup.make`
returns None, which the runtime reports once.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

MB = 1024 * 1024
CPU_PERIOD_US = 100_000
_ROOT = Path("/sys/fs/cgroup")


@dataclass(frozen=True, slots=True)
class ResourceLimits:
    memory_bytes: int
    cpus: float

    @classmethod
    def for_size(cls, size: str) -> ResourceLimits:
        memory_mb, cpus = {"small": (256, 1.0), "medium": (512, 1.0), "large": (1024, 2.0)}[size]
        return cls(memory_mb * MB, cpus)


class Cgroup:
    """One cgroup (v2) or a pair of them (v1 memory + cpu) holding a pod's processes."""

    def __init__(self, directories: list[Path]) -> None:
        self.directories = directories

    @classmethod
    def make(cls, name: str, limits: ResourceLimits) -> Cgroup | None:
        """A new cgroup `name` with `limits`, under this process's own; None if none can be made."""
        unified = _own(_ROOT, "")
        if unified is not None and (unified / "cgroup.subtree_control").exists():
            return cls._make_v2(unified, name, limits)
        memory, cpu = _own(_ROOT / "memory", "memory"), _own(_ROOT / "cpu", "cpu")
        if memory is None or cpu is None:
            return None
        try:
            made = cls([memory / name, cpu / name])
            for directory in made.directories:
                directory.mkdir(exist_ok=True)
            (memory / name / "memory.limit_in_bytes").write_text(str(limits.memory_bytes))
            (cpu / name / "cpu.cfs_period_us").write_text(str(CPU_PERIOD_US))
            (cpu / name / "cpu.cfs_quota_us").write_text(str(int(limits.cpus * CPU_PERIOD_US)))
        except OSError:
            made.remove()
            return None
        return made

    @classmethod
    def _make_v2(cls, parent: Path, name: str, limits: ResourceLimits) -> Cgroup | None:
        made = cls([parent / name])
        try:
            made.directories[0].mkdir(exist_ok=True)
            (parent / name / "memory.max").write_text(str(limits.memory_bytes))
            (parent / name / "cpu.max").write_text(
                f"{int(limits.cpus * CPU_PERIOD_US)} {CPU_PERIOD_US}"
            )
        except OSError:
            made.remove()
            return None
        return made

    def add(self, pid: int) -> None:
        """Move process `pid` into the cgroup (its children follow it)."""
        for directory in self.directories:
            with contextlib.suppress(OSError):  # the process may be gone already
                (directory / "cgroup.procs").write_text(str(pid))

    def remove(self) -> None:
        """Remove the cgroup; it must hold no process (the pod is stopped first)."""
        for directory in self.directories:
            with contextlib.suppress(OSError):
                directory.rmdir()


def _own(mount: Path, controller: str) -> Path | None:
    """This process's cgroup directory in the hierarchy mounted at `mount`, if writable."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers.split(",") == ([controller] if controller else [""]):
            directory = mount / path.lstrip("/")
            if directory.is_dir() and os.access(directory, os.W_OK):
                return directory
    return None
