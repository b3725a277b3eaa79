"""Logout through the running stack over HTTP: the web app's logout ends the identity
provider's session with no question asked (it revokes its refresh token first, which ends
the login session that token came from, and sends the login's ID token as
``id_token_hint``, which alone ends a live one), while a plain GET of the provider's logout
from anywhere else only asks, and the session lives on until the person confirms."""

from __future__ import annotations

import requests
from backend_client import authorize_url, login_tokens
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
    assert query_of(to_provider).keys() == {"id_token_hint", "client_id", "post_logout_redirect_uri"}
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


def test_a_valid_id_token_hint_alone_ends_a_live_session_without_a_question(stack):
    # A login without offline_access: no refresh token to revoke, so the session is live
    # when the browser arrives, and the hint is what the provider goes by.
    browser = requests.Session()
    tokens, _ = login_tokens(stack, browser, ALICE[0], scope="openid profile email read:profile")
    assert "refresh_token" not in tokens
    assert "code" in _silent(stack, browser)
    return_to = stack["web-app"].url + "/"
    end_session = requests.get(stack.issuer + ".well-known/openid-configuration", timeout=TIMEOUT).json()[
        "end_session_endpoint"
    ]

    back = browser.get(
        end_session,
        params={"id_token_hint": tokens["id_token"], "client_id": "web-app", "post_logout_redirect_uri": return_to},
        allow_redirects=False,
        timeout=TIMEOUT,
    )

    assert not logout_confirmation_asked(back), back.text
    assert back.status_code == 302, back.text
    assert back.headers["Location"] == return_to
    assert _silent(stack, browser).get("error") == "login_required"
    assert newest_log(stack, type="slo")["user_id"] == ALICE[1]


def test_an_access_token_as_the_hint_still_asks(stack):
    browser = requests.Session()
    tokens, _ = login_tokens(stack, browser, BOB[0], scope="openid read:profile")
    asked = provider_logout(stack, browser, confirm=False, client_id="web-app", id_token_hint=tokens["access_token"])
    assert logout_confirmation_asked(asked), asked.text
    assert "code" in _silent(stack, browser)
