"""Identities shared by every store: what makes two variable references the same variable."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from dirigent.store.records import VariableRef

#: Sorts instances without a creation time (saved by the embedded engine) first.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def normalize(ref: VariableRef) -> VariableRef:
    """The reference with only the fields its scope uses set, so matching is exact.

    A `namespace` variable ignores `workflow` and `instance_id`; a `workflow` variable ignores
    `instance_id`. Identities are compared field by field, never by prefix: `ab` and `abc` are
    different workflows.
    """
    workflow, instance_id = scope_identity(ref.scope, ref.workflow, ref.instance_id)
    if workflow == ref.workflow and instance_id == ref.instance_id:
        return ref
    return replace(ref, workflow=workflow, instance_id=instance_id)


def scope_identity(scope: str, workflow: str, instance_id: str) -> tuple[str, str]:
    """The (workflow, instance_id) that take part in a variable's identity in `scope`."""
    if scope == "namespace":
        return "", ""
    if scope == "workflow":
        return workflow, ""
    return workflow, instance_id
