"""What the function machinery needs from storage, and the names the contract fixes."""

from __future__ import annotations

import re
from typing import Protocol

from dirigent.store.base import LogSink, VariableStore


class FunctionStore(VariableStore, LogSink, Protocol):
    """Variables and instance logs: what a function may read and write through its call."""


#: Variable keys (function-contract.md §4); out files with other names are skipped.
VARIABLE_KEY = re.compile(r"^[a-zA-Z]([a-zA-Z0-9_-]*[a-zA-Z0-9])?$")

#: The error code of a `files` entry that cannot be written into the temp dir.
FILES_ERROR = "direktiv.function.files"
