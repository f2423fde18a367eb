"""What a local process runs for an image: the `--function IMAGE=PATH` mapping of the process runtime.

`PATH` is either a **directory** (a function folder: its `main.py` runs with this Python, or else its
executable `run` file) or a **command** (shell-split, run as is). Images are matched exactly first, then
without their tag (`acme/greeter:v1` falls back to `acme/greeter`), so one mapping can serve every tag.
A function's `cmd` replaces the command. Programs run in the mapped directory, commands in the directory
the mapping was given in (the working directory, or the config file's).
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dirigent.errors import InvalidInput
from dirigent.sdk.folder import MAIN, command_for


@dataclass(frozen=True, slots=True)
class Program:
    """A command line and the directory it runs in."""

    argv: tuple[str, ...]
    cwd: Path


class ProgramMap:
    """Image names → programs."""

    def __init__(self, mapping: Mapping[str, str], *, base: Path | None = None) -> None:
        """`mapping` values are directories or commands; relative directories are taken from `base`
        (the config file's folder; default: the working directory)."""
        base = (base or Path.cwd()).resolve()
        #: image → (the directory it runs in, its command; None: the folder's own)
        self._programs: dict[str, tuple[Path, str | None]] = {}
        for image, target in mapping.items():
            directory = base / target
            if directory.is_dir():
                self._programs[image] = (directory.resolve(), None)
            elif target.strip():
                self._programs[image] = (base, target)
            else:
                raise InvalidInput(f"function mapping for image '{image}' is empty")

    def program_for(self, image: str, cmd: str | None = None) -> Program:
        """The program for `image`, with `cmd` replacing its command when given.

        Raises `InvalidInput` when `image` is not mapped or its directory has nothing to run.
        """
        found = self._find(image)
        if found is None:
            known = ", ".join(sorted(self._programs)) or "none"
            raise InvalidInput(
                f"image '{image}' has no local program: run it with --function {image}=DIR-OR-COMMAND "
                f"(or the config's [functions] table; mapped: {known}), or reach it at a URL with "
                "--service ID=URL"
            )
        directory, command = found
        if cmd or command:
            return Program(tuple(shlex.split(cmd or command or "")), directory)
        return Program(folder_command(directory), directory)

    def _find(self, image: str) -> tuple[Path, str | None] | None:
        if image in self._programs:
            return self._programs[image]
        name, _, tag = image.rpartition(":")
        if name and "/" not in tag:
            return self._programs.get(name)
        return None


def folder_command(directory: Path) -> tuple[str, ...]:
    """How a function folder runs: `main.py` as the SDK runs it, else an executable `run`."""
    if (directory / MAIN).is_file():
        return tuple(command_for(directory))
    run = directory / "run"
    if run.is_file() and os.access(run, os.X_OK):
        return (str(run.resolve()),)
    raise InvalidInput(f"function folder {directory} has neither main.py nor an executable 'run'")


def parse_mapping(entries: list[str]) -> dict[str, str]:
    """`IMAGE=PATH` options as a mapping; raises `InvalidInput` naming a malformed one."""
    mapping: dict[str, str] = {}
    for entry in entries:
        image, sep, target = entry.partition("=")
        if not sep or not image.strip() or not target.strip():
            raise InvalidInput(f"--function wants IMAGE=DIR-OR-COMMAND, got {entry!r}")
        mapping[image.strip()] = target.strip()
    return mapping
