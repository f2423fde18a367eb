"""`dirigent function new`: a function folder to start from (handler, test, image, README)."""

from __future__ import annotations

import re
from importlib import metadata, resources
from pathlib import Path
from string import Template

from dirigent.errors import Conflict, InvalidInput

#: Function names: usable as a folder, an image name and a function id in a workflow.
NAME = re.compile(r"^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")
#: Each file made, and the template it comes from.
FILES = {
    "main.py": "main.py.tmpl",
    "test_main.py": "test_main.py.tmpl",
    "requirements.txt": "requirements.txt.tmpl",
    "Dockerfile": "Dockerfile.tmpl",
    ".dockerignore": "dockerignore.tmpl",
    "README.md": "README.md.tmpl",
}


def create_function_folder(name: str, folder: Path) -> list[Path]:
    """Make `folder` with a function called `name` in it; return the files made.

    Raises `InvalidInput` for a bad name (lowercase letters, digits and `-`, starting with a
    letter, at most 63 characters) and `Conflict` when `folder` exists; nothing is written then.
    """
    if not NAME.match(name):
        raise InvalidInput(
            f"{name!r} is not a function name: use lowercase letters, digits and '-', "
            "start with a letter, end with a letter or digit, at most 63 characters"
        )
    if folder.exists():
        raise Conflict(f"{folder} already exists; choose another name or --dir")
    values = {"name": name, "version": metadata.version("dirigent")}
    contents = {file: _render(template, values) for file, template in FILES.items()}
    folder.mkdir(parents=True)
    made = []
    for file, text in contents.items():
        path = folder / file
        path.write_text(text)
        made.append(path)
    return made


def _render(template: str, values: dict[str, str]) -> str:
    source = resources.files("dirigent.sdk").joinpath("templates", template).read_text()
    return Template(source).substitute(values)
