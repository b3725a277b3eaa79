"""The logged-out home page tells what the logout revoked at the provider (T39), demo tools only."""

from __future__ import annotations

import pytest

from web_app import create_app

from .browser import Browser
from .fakes import FakeManagementApi

LOGOUT_ID = "logout-request-1"


@pytest.fixture
def management(idp):
    return FakeManagementApi(idp)


def logged_in(settings, idp, demo_tools: str) -> Browser:
    app = create_app(settings.model_copy(update={"demo_tools": demo_tools}))
    app.config["TESTING"] = True
    browser = Browser(app.test_client(), idp)
    browser.log_in()
    return browser


def log_out(browser: Browser):
    token = browser.csrf_token("/")
    return browser.client.post("/logout", data={"csrf_token": token}, headers={"X-Request-Id": LOGOUT_ID})


def srrt(request_id: str, derived: int) -> dict:
    return {
        "log_id": "a" * 24,
        "type": "srrt",
        "client_id": "web-app",
        "details": {"request_id": request_id, "derived_grants_revoked": derived},
    }


def test_after_logout_the_home_page_names_the_revoked_grants_once(settings, idp, source_api, management):
    management.logs = [srrt("another-request", 5), srrt(LOGOUT_ID, 2)]
    browser = logged_in(settings, idp, "on")

    assert log_out(browser).status_code == 302
    page = browser.client.get("/").text

    assert "You are logged out." in page
    assert "revoked with it 2 grant(s) exchanged from this login" in page
    assert "<code>details.derived_grants_revoked: 2</code>" in page
    assert 'href="/troubleshooting#t39"' in page
    assert "logs?type=srrt" in page
    assert "You are logged out." not in browser.client.get("/").text  # told once


def test_without_its_log_entry_or_the_demo_tools_nothing_is_claimed(settings, idp, source_api, management):
    management.logs = [srrt("another-request", 5)]
    browser = logged_in(settings, idp, "on")
    log_out(browser)
    assert "You are logged out." not in browser.client.get("/").text

    management.logs = [srrt(LOGOUT_ID, 2)]
    browser = logged_in(settings, idp, "off")
    log_out(browser)
    assert "You are logged out." not in browser.client.get("/").text
