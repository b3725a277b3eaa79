"""The login form throttles wrong passwords, and logout ends the session on the server,
against the running stack over HTTP (the real login form, two identity provider workers)."""

from __future__ import annotations

import requests
from backend_client import authorize_url
from browser_user import authorize, provider_logout, query_of, submit_password
from demo_tenant import BOB, PASSWORD, TIMEOUT
from tenant_admin import Management

EMAIL, BOB_ID = BOB


def _submit_login(stack, password: str) -> requests.Response:
    return submit_password(requests.Session(), authorize_url(stack)[0], EMAIL, password)


def _refusals(management: Management) -> list[dict]:
    return [e for e in management.logs(type="f", user_id=BOB_ID) if e["details"].get("reason") == "too_many_attempts"]


def test_wrong_passwords_block_the_account_until_the_management_api_unblocks_it(stack, management):
    refused_before = len(_refusals(management))
    blocked_before = len(management.logs(type="limit_wc", user_id=BOB_ID))
    try:
        for _ in range(6):
            response = _submit_login(stack, "not-the-password")
            assert response.status_code in (401, 429), response.text
        response = _submit_login(stack, PASSWORD)
        assert response.status_code == 429, response.text
        assert "Too many failed attempts" in response.text
        assert "try again after" in response.text
        assert int(response.headers["Retry-After"]) > 0
        assert len(_refusals(management)) > refused_before
        assert len(management.logs(type="limit_wc", user_id=BOB_ID)) == blocked_before + 1
    finally:
        unblocked = Management(stack).call("DELETE", "/user-blocks", identifier=EMAIL)
        assert unblocked.status_code == 204, unblocked.text
    authorization = authorize(requests.Session(), authorize_url(stack)[0], EMAIL)
    assert "code" in authorization.params, authorization


def test_a_browser_that_logged_in_before_is_not_slowed_by_guessing_elsewhere(stack, management):
    owner = requests.Session()
    assert "code" in authorize(owner, authorize_url(stack)[0], EMAIL).params  # its device cookie
    try:
        for _ in range(6):  # another browser guesses bob's password
            assert _submit_login(stack, "not-the-password").status_code in (401, 429)
        stranger = _submit_login(stack, PASSWORD)
        assert stranger.status_code == 429, stranger.text  # a browser new to bob waits
        assert int(stranger.headers["Retry-After"]) <= 120  # seconds, not a quarter of an hour
        # The owner's browser is not slowed: a fresh login (prompt=login) goes through.
        again = authorize(owner, authorize_url(stack, prompt="login")[0], EMAIL)
        assert "code" in again.params, again
    finally:
        assert Management(stack).call("DELETE", "/user-blocks", identifier=EMAIL).status_code == 204


def test_a_session_cookie_copied_before_logout_gets_login_required(stack):
    browser = requests.Session()
    assert "code" in authorize(browser, authorize_url(stack)[0], EMAIL).params
    copied = requests.Session()
    copied.cookies.update(browser.cookies)

    def silent(session: requests.Session) -> dict[str, str]:
        response = session.get(authorize_url(stack, prompt="none")[0], allow_redirects=False, timeout=TIMEOUT)
        assert response.status_code == 302, response.text
        return query_of(response.headers["Location"])

    assert "code" in silent(copied)  # the copy works while the session lasts
    assert provider_logout(stack, browser).status_code == 200  # asked, and confirmed
    assert silent(copied).get("error") == "login_required"
