"""Every main page of the UI in a real browser, with a screenshot of each in tests/ui/artifacts/;
the token prompt; and the measured load times (recorded in artifacts/timings.json, not asserted)."""

from __future__ import annotations

import gzip
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.support import ECHO, NAP, RunningServer, push, wait_for_status
from tests.ui.browser import record_timing, screenshot, ui_server
from tests.ui.workflows import BRANCHING, big_workflow

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect

STATIC = Path(__file__).resolve().parents[2] / "src/dirigent/ui/static"

FAILING = """\
id: failing
description: Always fails.
states:
  - id: boom
    type: error
    error: demo.boom
    message: it went boom
"""


def ui(server: RunningServer, fragment: str) -> str:
    return f"{server.url}/ui/#{fragment}"


def run(api: httpx.Client, ns: str, workflow: str, times: int = 1) -> list[str]:
    """Start `times` instances, then wait for them all to end; their ids."""
    path = f"/api/namespaces/{ns}/workflows/{workflow}/execute"
    ids = [api.post(path, json={"n": i}).json()["instanceId"] for i in range(times)]
    for instance_id in ids:
        wait_for_status(api, instance_id, {"complete", "failed"})
    return ids


@pytest.fixture(scope="module")
def populated(live_server: RunningServer) -> Iterator[str]:
    """A namespace with workflows that ran: complete, failed, and waiting instances (made once
    for the module; the tests only read it)."""
    namespace = f"ui-{secrets.token_hex(4)}"
    with httpx.Client(base_url=live_server.url, timeout=30) as api:
        assert api.post(f"/api/namespaces/{namespace}").status_code == 200
        for yaml in (BRANCHING, ECHO, FAILING, NAP):
            push(api, namespace, yaml)
        run(api, namespace, "logged", 3)
        run(api, namespace, "echo", 52)
        run(api, namespace, "failing", 2)
        waiting = api.post(f"/api/namespaces/{namespace}/workflows/nap/execute").json()
        wait_for_status(api, waiting["instanceId"], {"pending"})
        yield namespace
        api.delete(f"/api/namespaces/{namespace}")


def test_workflows_list(page: Any, live_server: RunningServer, populated: str) -> None:
    page.goto(ui(live_server, f"/ns/{populated}/workflows"))
    rows = page.locator("table.workflows tbody tr")
    expect(rows).to_have_count(4)
    logged = page.locator('tr[data-workflow="logged"]')
    expect(logged.locator(".last .badge")).to_have_text("complete")
    expect(logged.locator(".rate")).to_contain_text("100 %")
    expect(page.locator('tr[data-workflow="failing"] .rate')).to_contain_text("0 %")
    expect(page.locator('tr[data-workflow="nap"] .last .badge')).to_have_text("pending")
    screenshot(page, "workflows")
    # Toggling from the list (and back: the module's other tests read this namespace).
    logged.locator(".switch").click()
    expect(page.locator(".toast").last).to_have_text("logged is inactive")
    expect(logged.get_by_label("active: logged")).not_to_be_checked()
    logged.locator(".switch").click()
    expect(page.locator(".toast").last).to_have_text("logged is active")


def test_instances_list_filters_and_pages(
    page: Any, live_server: RunningServer, populated: str
) -> None:
    page.goto(ui(live_server, f"/ns/{populated}/instances"))
    expect(page.locator(".count")).to_have_text("58 instances")
    expect(page.locator("table.instances tbody tr")).to_have_count(50)
    expect(page.locator(".pager .range")).to_have_text("1–50 of 58")
    screenshot(page, "instances")
    page.locator(".pager").get_by_role("button", name="Next ›").click()
    expect(page.locator(".pager .range")).to_have_text("51–58 of 58")
    expect(page.locator("table.instances tbody tr")).to_have_count(8)

    page.locator('.chips [data-status="failed"]').click()
    expect(page.locator(".count")).to_have_text("2 instances")
    statuses = page.locator("table.instances tbody tr")
    expect(statuses).to_have_count(2)
    for row in statuses.all():
        expect(row).to_have_attribute("data-status", "failed")
        expect(row.locator(".error-cell")).to_contain_text("demo.boom")
    # The filter is in the address: a reload keeps it.
    page.reload()
    expect(page.locator(".count")).to_have_text("2 instances")
    page.get_by_label("workflow filter").select_option("echo")
    expect(page.locator(".count")).to_have_text("0 instances")
    page.locator('.chips [data-status="all"]').click()
    expect(page.locator(".count")).to_have_text("52 instances")


def test_secrets_and_registries(
    page: Any, live_server: RunningServer, api: httpx.Client, namespace: str
) -> None:
    page.goto(ui(live_server, f"/ns/{namespace}/secrets"))
    page.get_by_label("secret name").fill("apikey")
    page.get_by_label("secret value").fill("s3cr3t")
    page.get_by_role("button", name="Save").click()
    expect(page.locator('tr[data-name="apikey"]')).to_be_visible()
    assert api.get(f"/api/namespaces/{namespace}/secrets/").json() == {
        "secrets": [{"name": "apikey"}]
    }
    assert "s3cr3t" not in page.content()
    screenshot(page, "secrets")
    page.locator('tr[data-name="apikey"]').get_by_role("button", name="Delete").click()
    page.locator("dialog").get_by_role("button", name="Delete").click()
    expect(page.locator('tr[data-name="apikey"]')).to_have_count(0)

    page.goto(ui(live_server, f"/ns/{namespace}/registries"))
    page.get_by_label("registry URL").fill("https://registry.example.com")
    page.get_by_label("registry user").fill("me")
    page.get_by_label("registry token").fill("t0ken")
    page.get_by_role("button", name="Save").click()
    expect(page.locator('tr[data-name="https://registry.example.com"]')).to_be_visible()
    screenshot(page, "registries")


def test_events_page(
    page: Any, live_server: RunningServer, api: httpx.Client, namespace: str
) -> None:
    page.goto(ui(live_server, f"/ns/{namespace}/events"))
    page.get_by_label("event type").fill("com.example.hello")
    page.get_by_label("event data (JSON)").fill('{"a": 1}')
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".toast").last).to_have_text("Event com.example.hello sent")
    listed = api.get(f"/api/namespaces/{namespace}/events")
    if listed.status_code == 404:  # a server without event intake: the page says so
        expect(page.locator(".notice")).to_contain_text("does not keep events")
    else:
        expect(page.locator("table.events-table")).to_contain_text("com.example.hello")
    screenshot(page, "events")


def test_metrics_page(page: Any, live_server: RunningServer, populated: str) -> None:
    page.goto(ui(live_server, f"/ns/{populated}/metrics"))
    cards = page.locator(".metrics-card")
    expect(cards).to_have_count(4)
    expect(page.locator('.metrics-card[data-workflow="echo"] .ring-center')).to_have_text("100 %")
    expect(page.locator('.metrics-card[data-workflow="failing"] .ring-center')).to_have_text("0 %")
    expect(page.locator('.metrics-card[data-workflow="logged"] svg.bars')).to_be_visible()
    screenshot(page, "metrics")


def test_namespaces_page(page: Any, live_server: RunningServer, api: httpx.Client) -> None:
    name = f"ui-{secrets.token_hex(4)}"
    page.goto(ui(live_server, "/namespaces"))
    page.get_by_label("namespace name").fill(name)
    page.get_by_role("button", name="Create").click()
    expect(page).to_have_url(f"{live_server.url}/ui/#/ns/{name}/workflows")
    expect(page.get_by_label("namespace", exact=True)).to_have_value(name)
    assert api.get(f"/api/namespaces/{name}").status_code == 200
    page.goto(ui(live_server, "/namespaces"))
    screenshot(page, "namespaces")
    api.delete(f"/api/namespaces/{name}")


def test_the_ui_asks_for_a_token_when_the_server_wants_one(page: Any, tmp_path: Path) -> None:
    token = secrets.token_hex(8)
    env = {"DIRIGENT_REQUIRE_TOKEN": "true", "DIRIGENT_API_TOKENS": token}
    with ui_server(tmp_path, env=env) as server:
        page.goto(f"{server.url}/ui/")
        prompt = page.locator("dialog")
        expect(prompt).to_contain_text("asks for an API token")
        screenshot(page, "token")
        page.get_by_label("API token").fill("wrong")
        prompt.get_by_role("button", name="Use token").click()
        expect(page.locator("dialog")).to_contain_text("not valid")  # asked again
        page.get_by_label("API token").fill(token)
        page.locator("dialog").get_by_role("button", name="Use token").click()
        expect(page.locator("h1")).to_have_text("Workflows")
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        page.goto("about:blank")  # no connection left open to delay the server's stop


def test_the_page_weight_is_small() -> None:
    files = [p for p in STATIC.rglob("*") if p.is_file()]
    zipped = sum(len(gzip.compress(p.read_bytes())) for p in files)
    raw = sum(p.stat().st_size for p in files)
    record_timing("page weight", 0, files=len(files), bytes=raw, gzip_bytes=zipped)
    assert zipped < 300 * 1024


def test_measured_load_times(
    chromium: Any, live_server: RunningServer, api: httpx.Client, namespace: str
) -> None:
    """First load (cold cache) and an instance of a 50-state workflow; recorded, not asserted."""
    push(api, namespace, big_workflow(50))
    [instance_id] = run(api, namespace, "big")
    visits = api.get(f"/api/instances/{instance_id}/visits").json()["visits"]
    visited = len({v["state"] for v in visits})

    context = chromium.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    # Milliseconds from the start of the navigation to the moment the page shows its content.
    page.goto(ui(live_server, f"/ns/{namespace}/workflows"))
    first = page.wait_for_function(
        "document.querySelector('tr[data-workflow=big] .last .badge') && performance.now()"
    ).json_value()
    sent = page.evaluate(
        "performance.getEntriesByType('resource').reduce((s, e) => s + e.transferSize, 0)"
        " + performance.getEntriesByType('navigation')[0].transferSize"
    )
    record_timing("first load (workflows list, cold cache)", first, transferred_bytes=sent)

    random = instance_id.rsplit("/", 1)[1]
    page = context.new_page()  # a page of its own (files cached), so the clock starts at zero
    page.goto(ui(live_server, f"/ns/{namespace}/instances/big/{random}"))
    shown = page.wait_for_function(
        f"document.querySelectorAll('.graph-pane .node.visited').length === {visited}"
        f" && document.querySelectorAll('.log-pane .log-line').length === {len(visits)}"
        " && performance.now()"
    ).json_value()
    record_timing(
        "instance page, 50-state workflow (path and log shown, files cached)",
        shown,
        states=page.locator(".graph-pane .node").count(),
        visits=len(visits),
    )
    screenshot(page, "instance-50-states")
    context.close()
