"""Measure the instances list of the UI with 100,000 instances (run by hand, not a test):

    .venv/bin/python -m tests.ui.measure_instances [--count 100000] [--data-dir DIR]

Fills an SQLite store with ended instances of one workflow (every 10th failed) straight through
the store's interface, starts `dirigent server` on it, and times in Chromium how long the
instances page takes to show its first page, the last page, and the failed ones; and the API
answers behind them. Prints the figures and adds them to tests/ui/artifacts/timings.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson

from dirigent.engine import Instance
from dirigent.engine.instance import Status
from dirigent.errors import WorkflowError
from dirigent.store import open_store
from dirigent.store.records import StoredInstance, WorkflowRecord
from tests.api.support import ECHO, start_server
from tests.ui.browser import CHROMIUM, CHROMIUM_ARGS, VIEWPORT, record_timing

NAMESPACE = "default"
BATCH = 500


async def fill(data_dir: Path, count: int) -> None:
    store = await open_store(f"sqlite:///{data_dir / 'dirigent.db'}")
    try:
        now = datetime.now(UTC)
        await store.create_namespace(NAMESPACE, now)
        await store.create_workflow(
            WorkflowRecord(NAMESPACE, "echo", 0, ECHO.encode(), True, "", now, now)
        )
        for start in range(0, count, BATCH):
            await asyncio.gather(
                *(store.create_instance(stored(i, now), ()) for i in range(start, start + BATCH))
            )
    finally:
        await store.aclose()


def stored(index: int, now: datetime) -> StoredInstance:
    begun = now - timedelta(seconds=index)
    failed = index % 10 == 0
    instance = Instance(
        id=f"{NAMESPACE}/echo/i{index:07d}",
        namespace=NAMESPACE,
        workflow="echo",
        revision=0,
        input={"n": index},
        data={"n": index},
        created_at=begun,
        status=Status.FAILED if failed else Status.COMPLETE,
        state="only",
        error=WorkflowError("demo.failed", "every tenth fails") if failed else None,
        output={"n": index},
        ended_at=begun + timedelta(milliseconds=5),
    )
    error = instance.error
    return StoredInstance(
        id=instance.id,
        namespace=NAMESPACE,
        workflow="echo",
        status=instance.status.value,
        record=orjson.dumps(instance.to_json()),
        revision=0,
        invoked_by="api",
        created_at=begun,
        ended_at=instance.ended_at,
        error_code=error.code if error else None,
        error_message=error.message if error else None,
    )


def api_times(url: str, count: int) -> dict[str, float]:
    paths = {
        "API first page": f"/api/instances/{NAMESPACE}?limit=50",
        "API last page": f"/api/instances/{NAMESPACE}?limit=50&offset={count - 50}",
        "API failed, first page": f"/api/instances/{NAMESPACE}?limit=50&status=failed",
    }
    times = {}
    with httpx.Client(base_url=url, timeout=60) as client:
        for name, path in paths.items():
            client.get(path)  # warm
            started = time.perf_counter()
            for _ in range(5):
                assert client.get(path).status_code == 200
            times[name] = (time.perf_counter() - started) * 1000 / 5
    return times


def page_times(url: str, count: int) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    times = {}
    shown = "document.querySelector('.pager .range')?.textContent.startsWith({start!r})"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_context(viewport=VIEWPORT).new_page()
        page.goto(f"{url}/ui/#/ns/{NAMESPACE}/instances")
        page.wait_for_function(shown.format(start="1–50 of"), timeout=60_000)
        times["UI instances page (from navigation start)"] = page.evaluate("performance.now()")
        for name, click, start in [
            ("UI last page", ".pager button:has-text('Last')", f"{count - 49:,}–"),
            ("UI failed filter", '.chips [data-status="failed"]', "1–50 of"),
        ]:
            before = page.evaluate("performance.now()")
            page.click(click)
            page.wait_for_function(shown.format(start=start), timeout=60_000)
            times[name] = page.evaluate("performance.now()") - before
        browser.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="dirigent-measure-"))
    if not (data_dir / "dirigent.db").exists():
        started = time.perf_counter()
        asyncio.run(fill(data_dir, args.count))
        print(f"filled {args.count} instances in {time.perf_counter() - started:.1f} s")
    server = start_server(data_dir)
    try:
        figures = {**api_times(server.url, args.count), **page_times(server.url, args.count)}
    finally:
        server.stop()
    for name, milliseconds in figures.items():
        record_timing(f"{name}, {args.count:,} instances", milliseconds)
    print(json.dumps({k: round(v, 1) for k, v in figures.items()}, indent=2))


if __name__ == "__main__":
    main()
