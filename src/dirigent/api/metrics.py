"""`GET /metrics`: this server process's metrics in the Prometheus text exposition format.

Not under `/api` (where Prometheus looks by default); it needs a token off loopback like every other
route. What is counted: `dirigent.operations.metrics`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from dirigent.api.deps import ServerDep
from dirigent.operations.metrics import CONTENT_TYPE

router = APIRouter(tags=["server"])

_TEXT: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The metrics (Prometheus text format 0.0.4)",
        "content": {"text/plain; version=0.0.4": {"schema": {"type": "string"}}},
    }
}


@router.get("/metrics", response_class=Response, responses=_TEXT)
async def prometheus_metrics(server: ServerDep) -> Response:
    """What this server process has seen since it started, for Prometheus: instances started and
    finished (by status and error code), state and function call durations (histograms), and the
    instances, queued triggers and calls it holds now (gauges)."""
    return Response(server.metrics.render_prometheus(), media_type=CONTENT_TYPE)
