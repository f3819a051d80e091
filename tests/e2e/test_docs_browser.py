"""Issue 21: the admins' console works on a network without internet — in a real browser.

Headless Chromium (Debian's, driven by Playwright) against the running system, with every
request to a host other than this machine aborted and recorded: /docs renders the operations,
signs in with the password flow and runs "Try it out"; /redoc renders in system fonts; the
dashboard draws its charts and says 北京时间. No page may even try to reach another host.

One test, few page loads: the system is the session's (started once for every e2e test).
.ci/run installs Chromium; where there is none (a laptop) the test skips and says why.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Route, expect, sync_playwright

from .conftest import PASSWORD, System

CHROMIUM = Path(os.environ.get("DOORSTEP_TEST_CHROMIUM", "/usr/bin/chromium"))
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
TIMEOUT_MS = 30_000
REDOCLY_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"

REQUIRED = os.environ.get("DOORSTEP_TEST_REQUIRE_BROWSER") == "1"  # .ci/run, once it has installed it

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists() and not REQUIRED,
        reason=f"no Chromium at {CHROMIUM}: `apt-get install chromium` (.ci/run does) to run the browser test",
    ),
]


@pytest.fixture
def blocked() -> list[str]:
    """Every URL the browser tried to reach on another host (each one aborted)."""
    return []


@pytest.fixture
def page(blocked: list[str]) -> Iterator[Page]:
    def only_this_machine(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).scheme in {"http", "https", "ws", "wss"} and urlsplit(url).hostname not in LOOPBACK:
            blocked.append(url)
            route.abort("blockedbyclient")
        else:
            route.continue_()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        try:
            # UTC in the browser: the dashboard's Beijing time must come from the server.
            context = browser.new_context(locale="zh-CN", timezone_id="UTC")
            context.set_default_timeout(TIMEOUT_MS)
            context.route("**/*", only_this_machine)
            yield context.new_page()
        finally:
            browser.close()


# Only the one backend: the pages do not change with the database, and a browser run costs seconds.
@pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
def test_docs_redoc_and_dashboard_work_with_every_other_host_blocked(
    system: System, page: Page, blocked: list[str]
) -> None:
    expect.set_options(timeout=TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    refused: list[str] = []  # what the pages' Content-Security-Policy stopped before any request
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    base = system.url()

    # Swagger UI: the merged document's operations, signed in with the password flow, Try it out.
    page.goto(f"{base}/docs")
    items_path = '.opblock-summary-path[data-path="/api/v1/catalog/items"]'
    expect(page.locator(f".opblock-get {items_path}")).to_be_visible()
    assert page.locator(".opblock").count() > 30
    assert not blocked, f"/docs tried to reach other hosts: {blocked}"
    page.locator(".auth-wrapper .authorize").click()
    dialog = page.locator(".modal-ux")
    oauth2 = dialog.locator(".auth-container", has=page.locator("#oauth_username"))
    oauth2.locator("#oauth_username").fill("chaoyang.worker")
    oauth2.locator("#oauth_password").fill(PASSWORD)
    oauth2.locator(".auth-btn-wrapper .authorize").click()
    # Signed in, the scheme's form gives way to "Authorized" and a Logout button.
    expect(dialog.locator(".auth-btn-wrapper button", has_text="Logout")).to_have_count(1)
    dialog.locator(".close-modal").click()
    operation = page.locator(".opblock-get", has=page.locator(items_path))
    operation.locator(".opblock-summary").first.click()
    operation.locator(".try-out__btn").click()
    operation.locator(".execute").click()
    status = operation.locator(".live-responses-table tr.response td.response-col_status").first
    expect(status).to_have_text(re.compile(r"^\s*200"))
    assert "Authorization: Bearer" in operation.locator(".curl").inner_text()

    # A service's own page (another origin): the same files, served by the service itself.
    page.goto(f"{system.url('catalog')}/redoc")
    expect(page.locator('[data-section-id^="operation/"]').first).to_be_attached()
    page.goto(f"{system.url('catalog')}/docs")
    expect(page.locator('.opblock-summary-path[data-path="/api/v1/catalog/items"]').first).to_be_visible()
    assert not blocked, f"the catalog's docs tried to reach other hosts: {blocked}"

    # ReDoc: the same document, its operations listed, in the system's fonts (no web font).
    page.goto(f"{base}/redoc")
    expect(page.locator(".api-content h1").first).to_be_visible()
    assert page.locator('[data-section-id^="operation/"]').count() > 30
    assert not blocked, f"/redoc tried to reach other hosts: {blocked}"
    font = page.locator(".api-content h1").first.evaluate("e => getComputedStyle(e).fontFamily")
    assert "system-ui" in font and "Montserrat" not in font, font

    # The dashboard: a county admin signs in; six inline-SVG charts, times in Beijing time.
    page.goto(f"{base}/api/v1/reports/dashboard")
    page.locator("#username").fill("county.admin")
    page.locator("#password").fill(PASSWORD)
    page.locator("#login button").click()
    expect(page.locator("#panel svg")).to_have_count(6)
    expect(page.locator("#generated-at")).to_contain_text("北京时间")

    assert not blocked, f"the dashboard tried to reach other hosts: {blocked}"
    # ReDoc's sidebar credit always asks cdn.redoc.ly for a logo: the policy refuses it in the
    # browser (no request is made) and ReDoc leaves the image out. Nothing else may be refused.
    assert all(REDOCLY_LOGO in line for line in refused), refused
    assert not errors, f"script errors on the pages: {errors}"
