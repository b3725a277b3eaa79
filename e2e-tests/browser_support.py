"""A real browser for the end-to-end tests: Playwright driving Debian's Chromium.

Test modules that use it start with ``sync_api = browser_support.require_browser()`` and
``pytestmark = browser_support.needs_chromium``, so the suite says why it skips them on a
machine without Chromium; ``browser`` and ``page`` fixtures come from conftest.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from workshop.chromium import CHROMIUM, CHROMIUM_ARGS, VIEWPORT  # noqa: F401  (the tests import them from here)

# Set E2E_SCREENSHOTS to a folder to keep pictures of the pages the tests go through.
SCREENSHOTS = Path(os.environ["E2E_SCREENSHOTS"]) if os.environ.get("E2E_SCREENSHOTS") else None

needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and not shutil.which("chromium"),
    reason=f"Debian's chromium is not installed ({CHROMIUM}); `apt-get install chromium`, as .ci/run does",
)


def require_browser():
    return pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")


def keep(page, name: str) -> None:
    if SCREENSHOTS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def submit_login(page, stack, email: str, password: str) -> None:
    """Press the web app's Log in and submit the identity provider's login form."""
    page.goto(stack["web-app"].url + "/")
    page.get_by_role("link", name="Log in").first.click()
    page.wait_for_url(re.compile(re.escape(stack.issuer) + "authorize"))
    page.fill("#email", email)
    page.fill("#password", password)
    page.get_by_role("button", name="Continue").click()


def log_in(page, stack, email: str, password: str) -> None:
    """Log in to the web app through the identity provider's pages, accepting consent if asked."""
    sync_api = require_browser()
    web_app = stack["web-app"].url
    submit_login(page, stack, email, password)
    page.wait_for_url(re.compile(f"({re.escape(web_app)}/|{re.escape(stack.issuer)}).*"))
    if page.url.startswith(stack.issuer):
        page.get_by_role("button", name="Accept").click()
    page.wait_for_url(web_app + "/**")
    sync_api.expect(page.get_by_role("heading", name=re.compile("Hello"))).to_be_visible()
