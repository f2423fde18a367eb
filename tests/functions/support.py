"""Helpers for the function tests: a call to a running test function, and the owner it runs for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from dirigent.functions import FunctionCall, new_action_id
from dirigent.spec.functions import FunctionFile
from dirigent.store.records import InstanceRef

OWNER = InstanceRef(namespace="ns", workflow="wf", instance_id="inst-1")
STATE = "greet"


def function_call(
    url: str,
    value: Any = None,
    *,
    deadline_in: float = 30.0,
    files: tuple[FunctionFile, ...] = (),
    owner: InstanceRef = OWNER,
    action_id: str | None = None,
) -> FunctionCall:
    """A call of the function at `url` with input `value` (as compact JSON)."""
    return FunctionCall(
        action_id=action_id or new_action_id(),
        url=url,
        input=orjson.dumps(value if value is not None else {}),
        deadline=datetime.now(UTC) + timedelta(seconds=deadline_in),
        owner=owner,
        state=STATE,
        files=files,
    )


def exists(path: Path) -> bool:
    """Whether `path` exists (a quick look at the disk; fine to block in a test)."""
    return path.exists()


#: What a fresh temp dir holds (relative paths, sorted).
SKELETON = ["out", "out/instance", "out/namespace", "out/workflow"]


def listing(path: Path) -> list[str]:
    """Everything under `path`, as sorted relative paths (links not followed)."""
    return sorted(str(found.relative_to(path)) for found in path.rglob("*"))


def leftovers(root: Path) -> list[str]:
    """The entries of a temp root other than empty skeletons (spares, or dirs of calls in flight).

    Once the caller has removed what finished calls left, this is empty.
    """
    return sorted(entry.name for entry in root.iterdir() if listing(entry) != SKELETON)
