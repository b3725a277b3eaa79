"""Logout through the running stack over HTTP: the web app's logout ends the identity
provider's session with no question asked (it revokes its refresh token first, which ends
the login session that token came from), while a plain GET of the provider's logout from
anywhere else only asks, and the session lives on until the person confirms."""

from __future__ import annotations

import requests
from backend_client import authorize_url
from browser_user import (
    authorize,
    logout_confirmation_asked,
    page_form,
    page_text,
    provider_logout,
    query_of,
    web_app_post,
    web_app_sign_in,
)
from demo_tenant import ALICE, BOB, TIMEOUT
from tenant_admin import newest_log


def _silent(stack, browser: requests.Session) -> dict[str, str]:
    """A prompt=none login request from this browser: what comes back to the callback."""
    response = browser.get(authorize_url(stack, prompt="none")[0], allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 302, response.text
    return query_of(response.headers["Location"])


def test_the_web_apps_logout_ends_the_provider_session_without_a_question(stack):
    web_app = stack["web-app"].url
    browser = requests.Session()
    assert web_app_sign_in(stack, browser).status_code == 302
    assert "code" in _silent(stack, browser)  # logged in at the identity provider

    leaving = web_app_post(stack, browser, "/logout", follow=False)

    # The web app revoked its refresh token, server to server: that alone ended the
    # provider's login session, before the browser gets there.
    assert leaving.status_code == 302, leaving.text
    to_provider = leaving.headers["Location"]
    assert to_provider.startswith(stack.issuer + "v2/logout?"), to_provider
    assert "id_token_hint" not in to_provider
    assert _silent(stack, browser).get("error") == "login_required"

    # So the provider's logout asks nothing: it clears its cookie and sends the browser back.
    back = browser.get(to_provider, allow_redirects=False, timeout=TIMEOUT)
    assert not logout_confirmation_asked(back), back.text
    assert back.status_code == 302, back.text
    assert back.headers["Location"] == web_app + "/"
    assert newest_log(stack, type="slo")["user_id"] == ALICE[1]
    home = browser.get(back.headers["Location"], timeout=TIMEOUT)
    assert "Log in" in page_text(home)
    assert _silent(stack, browser).get("error") == "login_required"


def test_a_plain_get_of_the_provider_logout_asks_and_the_session_survives_until_confirmed(stack):
    browser = requests.Session()
    assert "code" in authorize(browser, authorize_url(stack)[0], BOB[0]).params
    return_to = stack["web-app"].url + "/"

    # A link on some other site: the browser sends its cookie with a top-level GET.
    asked = browser.get(
        stack.issuer + "v2/logout",
        params={"client_id": "web-app", "post_logout_redirect_uri": return_to},
        headers={"Referer": "https://elsewhere.example/"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert logout_confirmation_asked(asked), asked.text
    assert "Log out of On-Behalf-Of Demo?" in page_text(asked)
    assert "Location" not in asked.headers
    assert "code" in _silent(stack, browser)

    # A cross-site POST has no CSRF token of this browser's session: refused.
    form = page_form(asked)
    forged = browser.post(form.action, data={"decision": "logout"}, allow_redirects=False, timeout=TIMEOUT)
    assert forged.status_code == 400, forged.text
    assert "code" in _silent(stack, browser)

    confirmed = browser.post(
        form.action, data={**form.inputs, "decision": "logout"}, allow_redirects=False, timeout=TIMEOUT
    )
    assert confirmed.status_code == 302, confirmed.text
    assert confirmed.headers["Location"] == return_to
    assert _silent(stack, browser).get("error") == "login_required"
    assert newest_log(stack, type="slo")["user_id"] == BOB[1]


def test_cancelling_the_question_keeps_the_session(stack):
    browser = requests.Session()
    assert "code" in authorize(browser, authorize_url(stack)[0], BOB[0]).params
    asked = provider_logout(stack, browser, confirm=False, client_id="web-app")
    assert logout_confirmation_asked(asked), asked.text
    form = page_form(asked)
    kept = browser.post(form.action, data={**form.inputs, "decision": "cancel"}, allow_redirects=False, timeout=TIMEOUT)
    assert kept.status_code == 200, kept.text
    assert "still logged in" in page_text(kept)
    assert "code" in _silent(stack, browser)
