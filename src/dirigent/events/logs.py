"""Log-to-event (a workflow's `logEvent` setting): each `log:` output of an instance as a CloudEvent.

The event: type `direktiv.instanceLog`, source the workflow id, subject the instance id, the
extension `logger` (the setting's value) and `instance`, and as data `{"instance", "state", "msg"}`.
Its id is derived from the instance, its visit and the line's position in the step, so a step that
runs again after a crash sends the same event, which the intake keeps once.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from dirigent.types import JSONObject

INSTANCE_LOG = "direktiv.instanceLog"
_LOG_IDS = uuid.UUID("0b6f1de4-2a58-4d55-8f0e-3e9b4b2f7c11")


def instance_log_event(
    instance_id: str,
    workflow: str,
    visit: int,
    position: int,
    state: str | None,
    message: str,
    logger: str,
    now: datetime,
) -> JSONObject:
    """The `direktiv.instanceLog` event of one `log:` line of instance `instance_id`."""
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid5(_LOG_IDS, f"{instance_id}:{visit}:{position}")),
        "type": INSTANCE_LOG,
        "source": workflow,
        "subject": instance_id,
        "time": now.isoformat(),
        "logger": logger,
        "instance": instance_id,
        "datacontenttype": "application/json",
        "data": {"instance": instance_id, "state": state, "msg": message},
    }
