"""The web app's error page names the right troubleshooting case.

For each case a rule of web_app/troubleshooting_cases.py names, the case is made to happen
against the running services, through the web app as a browser drives it (requests
sessions; a browser may change the /authorize URL the web app sends it to, the back
channel it cannot touch). The page must name that case, with the title of its entry in
docs/troubleshooting.md, link to ``/troubleshooting#tNN`` and to no other entry: a rule
that names the wrong case fails here.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
import requests
from flow_http import guide_links, page_text, web_app_authorize_url, web_app_call, web_app_post, web_app_sign_in
from idp_http import ALICE, TIMEOUT, authorize

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "web-app"))
from web_app.troubleshooting_guide import by_case  # noqa: E402  (found through the path set just above)

GUIDE = by_case(ROOT / "docs" / "troubleshooting.md")
# RFC 7636's example challenge: an S256 challenge of a verifier the web app does not hold.
OTHER_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t2URcTBJp4AQ_AHc"


def changed_login(stack, browser: requests.Session, **changes: str | None) -> requests.Response:
    """Log in through the web app with its /authorize URL changed by the browser (None drops
    a parameter); the web app's answer to the callback."""
    parts = urlsplit(web_app_authorize_url(stack, browser))
    params = dict(parse_qsl(parts.query))
    params.update(changes)
    url = urlunsplit(parts._replace(query=urlencode({k: v for k, v in params.items() if v is not None})))
    return web_app_sign_in(stack, browser, url=url)


def logged_in(stack) -> requests.Session:
    browser = requests.Session()
    finished = web_app_sign_in(stack, browser)
    assert finished.status_code == 302, finished.text
    return browser


# -- how each case is made to happen: (stack, management) -> the web app's error page --------


def t20_audience_unknown_at_login(stack, management):
    return changed_login(stack, requests.Session(), audience="https://source-api.example.com/")


def t09_prompt_none_without_a_login(stack, management):
    return changed_login(stack, requests.Session(), prompt="none")


def t04_no_pkce(stack, management):
    return changed_login(stack, requests.Session(), code_challenge=None, code_challenge_method=None)


def t06_authorization_code_grant_off(stack, management):
    management.patch("/clients/web-app", {"grant_types": ["refresh_token"]})
    return web_app_sign_in(stack, requests.Session())


def t03_another_challenge(stack, management):
    return changed_login(stack, requests.Session(), code_challenge=OTHER_CHALLENGE)


def t13_another_nonce(stack, management):
    return changed_login(stack, requests.Session(), nonce="not-the-web-apps-nonce")


def t17_web_app_secret_changed_before_the_code(stack, management):
    management.patch("/clients/web-app", {"client_secret": "another-secret-of-at-least-32-characters"})
    return web_app_sign_in(stack, requests.Session())


def t06_refresh_token_grant_off(stack, management):
    browser = logged_in(stack)
    management.patch("/clients/web-app", {"grant_types": ["authorization_code"]})
    return web_app_post(stack, browser, "/refresh")


def t17_web_app_secret_changed_before_a_refresh(stack, management):
    browser = logged_in(stack)
    management.patch("/clients/web-app", {"client_secret": "another-secret-of-at-least-32-characters"})
    return web_app_post(stack, browser, "/refresh")


def t16_token_exchange_off(stack, management):
    browser = logged_in(stack)
    management.patch("/resource-servers/source-api", {"token_exchange": {"enabled": False, "client_id": "source-api"}})
    return web_app_call(stack, browser)


def t17_source_api_secret_changed(stack, management):
    browser = logged_in(stack)
    management.patch("/clients/source-api", {"client_secret": "another-secret-of-at-least-32-characters"})
    return web_app_call(stack, browser)


def t18_no_pairing(stack, management):
    browser = logged_in(stack)
    deleted = management.call("DELETE", "/api-pairings/source-api:target-api")
    assert deleted.status_code == 204, deleted.text
    return web_app_call(stack, browser)


def t21_scope_outside_the_pairing(stack, management):
    browser = logged_in(stack)
    management.patch("/api-pairings/source-api:target-api", {"scopes": ["write:contacts"]})
    return web_app_call(stack, browser)


def t22_no_skipping_consent(stack, management):
    browser = logged_in(stack)
    management.patch("/resource-servers/target-api", {"skip_consent_for_verifiable_first_party_clients": False})
    return web_app_call(stack, browser)


def t31_target_api_down(stack, management):
    stack.controllable()
    browser = logged_in(stack)
    with stack["target-api"].fault("stopped"):
        return web_app_call(stack, browser)


def t32_identity_provider_down(stack, management):
    stack.controllable()
    browser = requests.Session()
    authorization = authorize(browser, web_app_authorize_url(stack, browser), ALICE[0])
    with stack["mock-idp"].fault("stopped"):  # before the web app redeems the code
        return browser.get(authorization.location, allow_redirects=False, timeout=TIMEOUT * 3)


SCENARIOS: dict[str, tuple[str, Callable]] = {
    "T03 another code_challenge": ("T03", t03_another_challenge),
    "T04 no PKCE": ("T04", t04_no_pkce),
    "T06 at /authorize": ("T06", t06_authorization_code_grant_off),
    "T06 at a refresh": ("T06", t06_refresh_token_grant_off),
    "T09 prompt=none": ("T09", t09_prompt_none_without_a_login),
    "T13 another nonce": ("T13", t13_another_nonce),
    "T16 exchange off": ("T16", t16_token_exchange_off),
    "T17 code redemption": ("T17", t17_web_app_secret_changed_before_the_code),
    "T17 refresh": ("T17", t17_web_app_secret_changed_before_a_refresh),
    "T17 exchange": ("T17", t17_source_api_secret_changed),
    "T18 no pairing": ("T18", t18_no_pairing),
    "T20 at login": ("T20", t20_audience_unknown_at_login),
    "T21 scope outside the pairing": ("T21", t21_scope_outside_the_pairing),
    "T22 no skipping consent": ("T22", t22_no_skipping_consent),
    "T31 Target API down": ("T31", t31_target_api_down),
    "T32 identity provider down": ("T32", t32_identity_provider_down),
}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_error_page_names_the_case_and_links_to_its_entry(stack, management, tenant_as_found, scenario):
    case, make_it_happen = SCENARIOS[scenario]

    page = make_it_happen(stack, management)

    assert page.status_code >= 400, page.text
    assert "Traceback" not in page.text
    text = page_text(page)
    assert f"{case}: {GUIDE[case].title}" in text, text
    assert guide_links(page) == [case.lower()], guide_links(page)
