"""The whole tutorial in a real browser: Playwright driving Debian's Chromium.

Log in at the identity provider, consent, call the Source API, see the contacts and how
they were obtained, refresh the tokens, log out. The browser only ever sees the web app's
pages and its session cookie: no token reaches it.
"""

from __future__ import annotations

import base64
import binascii
import json
import re

import pytest
from browser_support import keep, needs_chromium, require_browser, submit_login
from demo_tenant import BOB, PASSWORD
from tenant_admin import Management, newest_log


def _is_a_jwt(value: str) -> bool:
    """Three dot-separated parts whose first is a JOSE header. A Flask session cookie has
    three parts too, its first a base64 JSON object (``eyJ...``), but no ``alg`` in it."""
    parts = value.split(".")
    if len(parts) != 3:
        return False
    try:
        header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    except (binascii.Error, ValueError):
        return False
    return isinstance(header, dict) and "alg" in header


sync_api = require_browser()
pytestmark = needs_chromium

EMAIL, BOB_ID = BOB


@pytest.fixture
def page(page, stack):
    # Bob's earlier consents are withdrawn, so this login shows the consent page.
    Management(stack).call("DELETE", "/grants", user_id=BOB_ID)
    return page


def test_log_in_consent_call_refresh_and_log_out(stack, page):
    web_app = stack["web-app"].url
    # Step 1 at the identity provider: its login page, then its consent page.
    submit_login(page, stack, EMAIL, PASSWORD)
    sync_api.expect(page.get_by_role("heading", name=re.compile("Authorize"))).to_be_visible()
    sync_api.expect(page.get_by_text("read:contacts")).to_be_visible()
    keep(page, "consent")
    page.get_by_role("button", name="Accept").click()

    # Back at the web app, logged in.
    page.wait_for_url(web_app + "/**")
    sync_api.expect(page.get_by_role("heading", name=re.compile("Hello, Bob"))).to_be_visible()
    assert newest_log(stack, type="seacft", user_id=BOB_ID)["client_id"] == "web-app"

    # Steps 2-4: the Source API exchanges and calls the Target API.
    page.get_by_role("link", name="Call the Source API").first.click()
    page.get_by_role("button", name=re.compile("Get my contacts")).click()
    sync_api.expect(page.get_by_text("frank@example.com")).to_be_visible()
    sync_api.expect(page.get_by_text("grace@example.com")).to_be_visible()
    sync_api.expect(page.get_by_text(re.compile("exchange", re.I)).first).to_be_visible()
    exchanged = newest_log(stack, type="success_on_behalf_of_token_exchange", user_id=BOB_ID)
    assert exchanged["client_id"] == "source-api"

    keep(page, "call")

    # Step 5, first leg: refresh now, from the home page.
    page.get_by_role("link", name="Home").first.click()
    page.get_by_role("button", name="Refresh tokens now").first.click()
    sync_api.expect(page.get_by_role("heading", name="Tokens refreshed")).to_be_visible()
    keep(page, "refreshed")
    assert newest_log(stack, type="sertft", user_id=BOB_ID)["client_id"] == "web-app"

    # No token ever reached the browser: not in a page, a cookie or local storage.
    cookies = page.context.cookies()
    assert [c["name"] for c in cookies if c["domain"] in ("localhost", ".localhost") and c["httpOnly"]]
    for cookie in cookies:
        assert not _is_a_jwt(cookie["value"]), cookie["name"]
    assert "eyJ" not in page.content()
    assert page.evaluate("() => JSON.stringify(window.localStorage)") == "{}"

    # Log out: back at the web app's home page, logged out, and the identity provider knows.
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(web_app + "/")
    sync_api.expect(page.get_by_role("link", name="Log in").first).to_be_visible()
    assert newest_log(stack, type="slo")["user_id"] == BOB_ID
    # What the logout revoked (T39), as the tenant log says: the grant of the exchange above.
    revoked = newest_log(stack, type="srrt", user_id=BOB_ID)["details"]["derived_grants_revoked"]
    assert revoked >= 1
    report = page.locator("#logout-report")
    sync_api.expect(report).to_contain_text(f"revoked with it {revoked} grant(s) exchanged from this login")
    sync_api.expect(report.get_by_role("link", name="T39")).to_have_attribute("href", "/troubleshooting#t39")
