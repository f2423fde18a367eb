"""Fixtures of the browser tests: Chromium (once per module), a page per test that fails the test
on any uncaught script error, and a server with the logger function.

Without Chromium or Playwright the browser tests skip with one line saying why; under CI=true they
fail instead (see `browser.require_browser`).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.api.support import RunningServer
from tests.ui.browser import CHROMIUM, CHROMIUM_ARGS, VIEWPORT, require_browser, ui_server

#: How long Playwright waits for an element, a navigation or an expectation (ms): generous, as the
#: machine may be busy with other tests.
WAIT_MS = 15_000


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Chromium, started once for a test module (and stopped at its end, so no browser outlives
    the module's tests)."""
    require_browser()
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=WAIT_MS)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    """A fresh browser page (its own storage); an uncaught script error fails the test."""
    context = chromium.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield page
    finally:
        context.close()
    assert not errors, f"script errors on the page: {errors}"


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server (SQLite) whose `logger` function is the logger test function."""
    with ui_server(tmp_path_factory.mktemp("ui")) as server:
        yield server


@pytest.fixture
def api(live_server: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        yield client


@pytest.fixture
def namespace(api: httpx.Client) -> Iterator[str]:
    """A fresh namespace for one test, deleted afterwards."""
    name = f"ui-{secrets.token_hex(4)}"
    assert api.post(f"/api/namespaces/{name}").status_code == 200
    yield name
    api.delete(f"/api/namespaces/{name}")
