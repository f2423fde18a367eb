"""A function folder: `main.py` (serving a handler with `serve`) and whatever it imports.

`command_for` and `environment_for` are how anything that runs a folder (`dirigent function
serve|call`, runtimes) starts it: the Python running Dirigent, unbuffered, on `main.py`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from dirigent.errors import InvalidInput
from dirigent.sdk.settings import DEV_ENV, HOST_ENV, PORT_ENV, SIDECAR_PORT_ENV

#: The file of a folder that is run.
MAIN = "main.py"


def main_file(folder: Path) -> Path:
    """The absolute path of `folder`'s `main.py`; raises `InvalidInput` if there is none."""
    main = folder / MAIN
    if not folder.is_dir():
        raise InvalidInput(f"{folder} is not a folder (a function folder holds a {MAIN})")
    if not main.is_file():
        raise InvalidInput(f"{folder} has no {MAIN} (make one with: dirigent function new NAME)")
    return main.resolve()


def function_name(folder: Path) -> str:
    """The function's name: its folder's name (`.` is the current folder's)."""
    return folder.resolve().name


def command_for(folder: Path) -> list[str]:
    """The command line that runs the function in `folder`; run it with `folder` as working
    directory and the environment of `environment_for`. Raises `InvalidInput`."""
    return [sys.executable, "-u", str(main_file(folder))]


def environment_for(
    *, port: int, sidecar_port: int, host: str = "127.0.0.1", dev: bool = False
) -> dict[str, str]:
    """The variables telling a folder's function where to listen and where its sidecar is.

    Add them to the environment it inherits. Without them it listens on 0.0.0.0:8080 and uses
    the sidecar on localhost:8889, as an image does.
    """
    return {
        HOST_ENV: host,
        PORT_ENV: str(port),
        SIDECAR_PORT_ENV: str(sidecar_port),
        DEV_ENV: "1" if dev else "0",
    }
