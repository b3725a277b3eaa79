"""Troubleshooting T01-T09, step 1 (request tokens), against the four running services.

Each case is made on purpose: a crafted /authorize or token request, or a tenant setting
changed through the Management API (always with ``tenant_as_found``). Each test checks
the answer (status, ``error``, ``error_description``), the tenant log entry, the web app's
page where the web app meets the case, and that the flow works once the cause is gone.

Not tested here, and why: an authorization code that expired (its lifetime is 300 s and
is set when the identity provider starts; mock-idp's unit test
``test_T05_an_expired_code_fails`` moves its clock), and a code_verifier sent for a login
without a challenge (/authorize refuses every login without one: T04).
"""

from __future__ import annotations

import secrets
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit, urlunsplit

import pytest
import requests
from backend_client import assert_flow_works, authorize_url, call_source, login, redeem_code, refresh
from browser_user import (
    authorize,
    guide_links,
    page_form,
    page_text,
    query_of,
    web_app_authorize_url,
    web_app_call,
    web_app_post,
    web_app_sign_in,
)
from demo_tenant import ALICE, LOGIN_SCOPE, PASSWORD, TIMEOUT
from expectations import assert_token_error
from tenant_admin import log_marker, logs_since

EMAIL, ALICE_ID = ALICE
GRANT_REFUSED = "Grant type '{}' not allowed for the client."
UNKNOWN_REFRESH_TOKEN = "Unknown or invalid refresh token."


# -- helpers ---------------------------------------------------------------------------------


def code_for(stack, browser: requests.Session | None = None, **changes) -> tuple[str, str]:
    """Log Alice in at the real pages; the authorization code and its verifier."""
    url, verifier, state = authorize_url(stack, **changes)
    authorization = authorize(browser or requests.Session(), url, EMAIL)
    assert authorization.params.get("state") == state, authorization
    assert "code" in authorization.params, authorization
    return authorization.params["code"], verifier


def redirected_error(stack, response_or_location, state: str | None = None) -> dict[str, str]:
    """The error the identity provider sent back to the web app's callback."""
    location = response_or_location
    if isinstance(response_or_location, requests.Response):
        assert response_or_location.status_code == 302, response_or_location.text
        location = response_or_location.headers["Location"]
    assert location.startswith(stack.callback + "?"), location
    params = query_of(location)
    assert "code" not in params, params
    if state is not None:
        assert params.get("state") == state, params
    return params


def only_entry(stack, marker, **filters) -> dict:
    """The one tenant log entry matching ``filters`` written since ``marker``."""
    entries = logs_since(stack, marker, **filters)
    assert len(entries) == 1, entries
    return entries[0]


def assert_web_app_page(page: requests.Response, status: int, title: str, *texts: str, case: str | None) -> str:
    """A web app error page: its status, title, texts, and the case it links to."""
    assert page.status_code == status, page.text
    assert page.headers["Content-Type"].startswith("text/html"), page.headers
    text = page_text(page)
    assert title in text, text
    for expected in texts:
        assert expected in text, text
    assert "Traceback" not in page.text
    if case is not None:
        assert case.lower() in guide_links(page), (case, guide_links(page))
    return text


def logged_in_browser(stack) -> requests.Session:
    browser = requests.Session()
    finished = web_app_sign_in(stack, browser)
    assert finished.status_code == 302, finished.text
    assert finished.headers["Location"] == "/", finished.text
    return browser


# -- T01 redirect_uri not an Allowed Callback URL -------------------------------------------


def _variant(stack, name: str) -> str:
    """The listed callback URL changed the way a misconfiguration changes it."""
    parts = urlsplit(stack.callback)
    if name == "trailing-slash":
        return stack.callback + "/"
    if name == "other-port":
        return urlunsplit(parts._replace(netloc=f"{parts.hostname}:{parts.port + 1}"))
    if name == "https":
        return urlunsplit(parts._replace(scheme="https"))
    return urlunsplit(parts._replace(netloc=f"127.0.0.1:{parts.port}"))


@pytest.mark.parametrize("variant", ["trailing-slash", "other-port", "https", "other-host"])
def test_T01_an_unlisted_redirect_uri_gets_an_error_page_and_no_redirect(stack, variant):
    unlisted = _variant(stack, variant)
    url, _, _ = authorize_url(stack, redirect_uri=unlisted)
    marker = log_marker(stack)

    page = requests.get(url, allow_redirects=False, timeout=TIMEOUT)

    assert page.status_code == 400, page.text
    assert "Location" not in page.headers, page.headers
    assert page.headers["Content-Type"].startswith("text/html"), page.headers
    text = page_text(page)
    assert "Something is wrong with this login request" in text, text
    description = f"Redirect URI {unlisted} is not supported by client."
    assert "invalid_request" in text, text
    assert description in text, text
    entry = only_entry(stack, marker, type="f")
    assert (entry["description"], entry["client_id"], entry["user_id"]) == (description, "web-app", None), entry
    assert entry["details"] == {"error": "invalid_request", "redirect_uri": unlisted}, entry
    # The listed URL, character for character, still works.
    assert_flow_works(stack)


def test_T01_the_web_apps_callback_removed_from_the_tenant_stops_its_login(stack, management, tenant_as_found):
    listed = management.get("/clients/web-app")["callbacks"]
    assert stack.callback in listed, listed
    management.patch("/clients/web-app", {"callbacks": ["https://app.example.com/callback"]})
    browser = requests.Session()
    marker = log_marker(stack)

    page = browser.get(web_app_authorize_url(stack, browser), allow_redirects=False, timeout=TIMEOUT)

    assert page.status_code == 400, page.text
    assert "Location" not in page.headers, page.headers
    assert f"Redirect URI {stack.callback} is not supported by client." in page_text(page)
    entry = only_entry(stack, marker, type="f", client_id="web-app")
    assert entry["details"]["redirect_uri"] == stack.callback, entry

    management.patch("/clients/web-app", {"callbacks": listed})
    assert web_app_call(stack, logged_in_browser(stack)).status_code == 200
    assert_flow_works(stack)


# -- T02 redirect_uri of the token request differs ------------------------------------------


def test_T02_the_token_requests_redirect_uri_must_equal_the_authorize_one(stack):
    code, verifier = code_for(stack)
    marker = log_marker(stack)

    refused = redeem_code(stack, code, verifier, redirect_uri=stack.callback + "/")

    description = "Invalid 'redirect_uri' in request."
    assert_token_error(refused, 403, "invalid_grant", description)
    entry = only_entry(stack, marker, type="feacft")
    assert (entry["description"], entry["client_id"], entry["user_id"]) == (description, "web-app", ALICE_ID)
    # The failed attempt used the code up, as the docs say: log in again.
    assert_token_error(redeem_code(stack, code, verifier), 403, "invalid_grant", "Invalid authorization code")
    assert_flow_works(stack)


# -- T03 PKCE code_verifier wrong or missing ------------------------------------------------


@pytest.mark.parametrize("verifier_sent", ["wrong", "missing", "another-logins"])
def test_T03_a_wrong_or_missing_code_verifier_is_refused(stack, verifier_sent):
    code, verifier = code_for(stack)
    sent = {"wrong": verifier[:-1] + ("A" if verifier[-1] != "A" else "B"), "missing": None}
    sent["another-logins"] = secrets.token_urlsafe(48)
    marker = log_marker(stack)

    refused = redeem_code(stack, code, sent[verifier_sent])

    description = "Failed to verify code verifier"
    assert_token_error(refused, 403, "invalid_grant", description)
    entry = only_entry(stack, marker, type="feacft")
    assert (entry["description"], entry["client_id"], entry["user_id"]) == (description, "web-app", ALICE_ID)
    assert_flow_works(stack)


# -- T04 PKCE missing or not S256 -----------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "description"),
    [
        (
            {"code_challenge": None, "code_challenge_method": None},
            "Missing required parameter: code_challenge (PKCE is required)",
        ),
        ({"code_challenge_method": "plain"}, "code_challenge_method must be S256"),
        ({"code_challenge_method": None}, "code_challenge_method must be S256"),
    ],
    ids=["no-challenge", "plain", "no-method"],
)
def test_T04_a_login_without_an_S256_challenge_is_sent_back_with_invalid_request(stack, changes, description):
    url, _, state = authorize_url(stack, **changes)
    marker = log_marker(stack)

    authorization = authorize(requests.Session(), url, EMAIL)

    assert authorization.pages == [], authorization  # refused before any page is shown
    params = redirected_error(stack, authorization.location, state)
    assert (params["error"], params["error_description"]) == ("invalid_request", description)
    entry = only_entry(stack, marker, type="f")
    assert (entry["description"], entry["client_id"]) == (description, "web-app"), entry
    assert entry["details"] == {"error": "invalid_request", "redirect_uri": stack.callback}, entry
    assert_flow_works(stack)


def test_T04_the_web_app_shows_a_login_without_pkce_and_links_to_T04(stack):
    browser = requests.Session()
    url = web_app_authorize_url(stack, browser)
    parts = urlsplit(url)
    params = {k: v[0] for k, v in parse_qs(parts.query).items() if k not in ("code_challenge", "code_challenge_method")}

    page = web_app_sign_in(stack, browser, url=urlunsplit(parts._replace(query=urlencode(params))))

    assert_web_app_page(
        page,
        400,
        "The identity provider did not log you in",
        "invalid_request",
        "Missing required parameter: code_challenge (PKCE is required)",
        case="T04",
    )
    assert web_app_call(stack, logged_in_browser(stack)).status_code == 200


# -- T05 authorization code used twice ------------------------------------------------------


def test_T05_a_code_used_twice_is_refused_and_what_it_issued_is_revoked(stack):
    code, verifier = code_for(stack)
    first = redeem_code(stack, code, verifier)
    assert first.status_code == 200, first.text
    tokens = first.json()
    marker = log_marker(stack)

    again = redeem_code(stack, code, verifier)

    assert_token_error(again, 403, "invalid_grant", "Invalid authorization code")
    entry = only_entry(stack, marker, type="feacft")
    assert (entry["description"], entry["client_id"]) == ("Invalid authorization code", "web-app"), entry
    # The refresh token issued from the code is revoked; the access token, a JWT, is not.
    assert_token_error(refresh(stack, tokens["refresh_token"]), 403, "invalid_grant", UNKNOWN_REFRESH_TOKEN)
    assert only_entry(stack, marker, type="fertft")["description"] == UNKNOWN_REFRESH_TOKEN
    assert call_source(stack, "/api/me", tokens["access_token"]).status_code == 200
    assert_flow_works(stack)


def test_T05_a_reloaded_callback_is_refused_by_the_web_app_without_a_token_request(stack):
    browser = requests.Session()
    authorization = authorize(browser, web_app_authorize_url(stack, browser), EMAIL)
    first = browser.get(authorization.location, allow_redirects=False, timeout=TIMEOUT)
    assert first.status_code == 302, first.text
    marker = log_marker(stack)

    reloaded = browser.get(authorization.location, allow_redirects=False, timeout=TIMEOUT)

    assert_web_app_page(reloaded, 400, "This login answer does not belong to a login started here", case=None)
    assert logs_since(stack, marker, type="feacft") == []
    assert logs_since(stack, marker, type="seacft") == []
    # The login that did go through is unharmed.
    assert web_app_call(stack, browser).status_code == 200


# -- T06 grant type not enabled for the client ----------------------------------------------


def test_T06_refresh_token_grant_off_for_the_application(stack, management, tenant_as_found):
    tokens = login(stack)
    browser = logged_in_browser(stack)
    management.patch("/clients/web-app", {"grant_types": ["authorization_code"]})
    marker = log_marker(stack)

    refused = refresh(stack, tokens["refresh_token"])
    page = web_app_post(stack, browser, "/refresh")

    description = GRANT_REFUSED.format("refresh_token")
    assert_token_error(refused, 403, "unauthorized_client", description)
    entries = logs_since(stack, marker, type="fertft", client_id="web-app")
    assert [entry["description"] for entry in entries] == [description] * 2, entries
    assert_web_app_page(
        page, 502, "The identity provider refused to refresh the tokens", "unauthorized_client", description, case="T06"
    )

    management.patch("/clients/web-app", {"grant_types": ["authorization_code", "refresh_token"]})
    assert refresh(stack, tokens["refresh_token"]).status_code == 200
    assert web_app_post(stack, browser, "/refresh").status_code == 200
    assert_flow_works(stack)


def test_T06_authorization_code_grant_off_for_the_application(stack, management, tenant_as_found):
    code, verifier = code_for(stack)  # a code issued while the grant was still on
    management.patch("/clients/web-app", {"grant_types": ["refresh_token"]})
    marker = log_marker(stack)

    refused = redeem_code(stack, code, verifier)
    url, _, state = authorize_url(stack)
    authorization = authorize(requests.Session(), url, EMAIL)
    page = web_app_sign_in(stack, requests.Session())

    description = GRANT_REFUSED.format("authorization_code")
    assert_token_error(refused, 403, "unauthorized_client", description)
    assert only_entry(stack, marker, type="feacft")["description"] == description
    # A login started after the switch is refused at /authorize already, before any page.
    assert authorization.pages == []
    params = redirected_error(stack, authorization.location, state)
    assert params["error"] == "unauthorized_client", params
    refusals = logs_since(stack, marker, type="f", client_id="web-app")
    assert len(refusals) == 2, refusals  # this request and the web app's
    assert all(entry["details"]["error"] == "unauthorized_client" for entry in refusals), refusals
    assert_web_app_page(page, 400, "The identity provider did not log you in", "unauthorized_client", case=None)

    management.patch("/clients/web-app", {"grant_types": ["authorization_code", "refresh_token"]})
    assert web_app_call(stack, logged_in_browser(stack)).status_code == 200
    assert_flow_works(stack)


def test_T06_the_web_apps_page_for_a_login_refused_at_authorize_links_to_T06(stack, management, tenant_as_found):
    management.patch("/clients/web-app", {"grant_types": ["refresh_token"]})
    page = web_app_sign_in(stack, requests.Session())
    assert_web_app_page(page, 400, "The identity provider did not log you in", case="T06")


def test_T06_refresh_token_grant_off_for_the_source_apis_client(stack, management, tenant_as_found):
    # Target API tokens living 30 s, less than the Source API's 60 s renewal margin: the
    # Source API renews its token on every call, with its refresh token when it holds one.
    management.patch("/resource-servers/target-api", {"token_lifetime": 30})
    user_token = login(stack)["access_token"]

    def via() -> dict:
        answer = call_source(stack, "/api/contacts", user_token)
        assert answer.status_code == 200, answer.text
        return answer.json()["via"]

    assert via()["target_token"] == "exchange"
    assert via()["target_token"] == "refresh"
    management.patch("/clients/source-api", {"grant_types": []})
    marker = log_marker(stack)

    renewed = via()

    # The refresh is refused; the Source API exchanges the user's token again instead, and
    # its caller gets the contacts.
    assert (renewed["target_token"], renewed["refresh_token"]) == ("exchange", False), renewed
    entry = only_entry(stack, marker, type="fertft", client_id="source-api")
    assert entry["description"] == GRANT_REFUSED.format("refresh_token"), entry
    assert len(logs_since(stack, marker, type="success_on_behalf_of_token_exchange", user_id=ALICE_ID)) == 1

    management.patch("/clients/source-api", {"grant_types": ["refresh_token"]})
    assert via()["refresh_token"] is True
    assert via()["target_token"] == "refresh"
    assert_flow_works(stack)


# -- T07 offline access not allowed ---------------------------------------------------------


def test_T07_no_refresh_token_when_the_source_api_does_not_allow_offline_access(stack, management, tenant_as_found):
    management.patch("/resource-servers/source-api", {"allow_offline_access": False})
    marker = log_marker(stack)

    tokens = login(stack)  # asks for offline_access
    browser = logged_in_browser(stack)
    home = browser.get(stack["web-app"].url + "/", timeout=TIMEOUT)
    page = web_app_post(stack, browser, "/refresh")

    assert "refresh_token" not in tokens, tokens.keys()
    assert tokens["scope"].split() == [s for s in LOGIN_SCOPE.split() if s != "offline_access"], tokens["scope"]
    entries = logs_since(stack, marker, type="seacft", user_id=ALICE_ID)
    assert len(entries) == 2, entries  # this login and the web app's
    for entry in entries:
        assert entry["details"]["issued"]["refresh_token"] is False, entry
        assert "offline_access" not in entry["details"]["issued"]["scope"].split(), entry
    assert "none: the app cannot renew the access token" in page_text(home)
    assert "t07" in guide_links(home)
    assert_web_app_page(page, 400, "There is no refresh token to use", case="T07")

    management.patch("/resource-servers/source-api", {"allow_offline_access": True})
    assert "refresh_token" in login(stack)
    assert_flow_works(stack)


def test_T07_no_target_api_refresh_token_when_the_target_api_does_not_allow_offline_access(
    stack, management, tenant_as_found
):
    management.patch("/resource-servers/target-api", {"allow_offline_access": False})
    user_token = login(stack)["access_token"]
    marker = log_marker(stack)

    answer = call_source(stack, "/api/contacts", user_token)

    assert answer.status_code == 200, answer.text
    via = answer.json()["via"]
    assert (via["target_token"], via["refresh_token"], via["scope"]) == ("exchange", False, "read:contacts"), via
    entry = only_entry(stack, marker, type="success_on_behalf_of_token_exchange", user_id=ALICE_ID)
    assert "offline_access" in entry["details"]["scope"].split(), entry  # asked for
    assert entry["details"]["issued"]["refresh_token"] is False, entry
    assert entry["details"]["issued"]["scope"] == "read:contacts", entry

    management.patch("/resource-servers/target-api", {"allow_offline_access": True})
    assert assert_flow_works(stack)["via"]["refresh_token"] is True


# -- T08 the user declines consent ----------------------------------------------------------


def decline_consent(stack, browser: requests.Session, url: str, email: str) -> tuple[str, list[str]]:
    """Log in at the real login page and press Decline on the real consent page."""
    pages: list[str] = []
    response = browser.get(url, allow_redirects=False, timeout=TIMEOUT)
    for _ in range(6):
        if response.is_redirect:
            target = urljoin(response.url, response.headers["Location"])
            if not target.startswith(stack.issuer):
                return target, pages
            response = browser.get(target, allow_redirects=False, timeout=TIMEOUT)
            continue
        assert response.status_code == 200, response.text
        form = page_form(response)
        page = form.inputs.get("action")
        pages.append(page)
        if page == "login":
            data = {**form.inputs, "email": email, "password": PASSWORD}
        else:
            assert page == "consent", form
            assert "deny" in form.buttons.get("decision", []), form
            data = {**form.inputs, "decision": "deny"}
        response = browser.post(form.action, data=data, allow_redirects=False, timeout=TIMEOUT)
    raise AssertionError(f"the login did not end; pages shown: {pages}")


def test_T08_declining_consent_sends_the_user_back_with_access_denied(stack, management):
    # Alice's consents are forgotten, so the web app's own login shows the consent page.
    forgotten = management.call("DELETE", "/grants", user_id=ALICE_ID)
    assert forgotten.status_code == 204, forgotten.text
    browser = requests.Session()
    url = web_app_authorize_url(stack, browser)
    marker = log_marker(stack)

    location, pages = decline_consent(stack, browser, url, EMAIL)
    page = browser.get(location, allow_redirects=False, timeout=TIMEOUT)

    assert pages == ["login", "consent"], pages
    params = redirected_error(stack, location, query_of(url)["state"])
    description = "User did not authorize the request"
    assert (params["error"], params["error_description"]) == ("access_denied", description)
    entry = only_entry(stack, marker, type="f")
    assert (entry["description"], entry["client_id"], entry["user_id"]) == (description, "web-app", ALICE_ID)
    assert entry["details"]["error"] == "access_denied", entry
    assert_web_app_page(page, 403, "The identity provider did not log you in", "access_denied", description, case="T08")
    assert management.get("/grants", user_id=ALICE_ID) == []  # declining consented to nothing

    # Accepting this time: Alice consents again and the flow works.
    assert web_app_call(stack, logged_in_browser(stack)).status_code == 200
    assert_flow_works(stack)


# -- T09 prompt=none while login or consent is needed ---------------------------------------


def test_T09_prompt_none_without_a_login_session_is_login_required(stack):
    browser = requests.Session()  # no session at the identity provider
    url = web_app_authorize_url(stack, browser) + "&prompt=none"
    marker = log_marker(stack)

    authorization = authorize(browser, url, EMAIL)
    page = browser.get(authorization.location, allow_redirects=False, timeout=TIMEOUT)

    assert authorization.pages == [], authorization  # no login page: prompt=none forbids it
    params = redirected_error(stack, authorization.location, query_of(url)["state"])
    description = "The user is not logged in"
    assert (params["error"], params["error_description"]) == ("login_required", description)
    entry = only_entry(stack, marker, type="f")
    assert (entry["description"], entry["client_id"], entry["user_id"]) == (description, "web-app", None)
    assert entry["details"]["error"] == "login_required", entry
    assert_web_app_page(page, 400, "The identity provider did not log you in", "login_required", case="T09")
    assert web_app_call(stack, logged_in_browser(stack)).status_code == 200


def test_T09_prompt_none_while_consent_is_needed_is_consent_required(stack, management, tenant_as_found):
    # A scope newly added to the Source API, which Alice never consented to.
    scopes = management.get("/resource-servers/source-api")["scopes"]
    management.patch(
        "/resource-servers/source-api", {"scopes": [*scopes, {"value": "read:calendar", "description": "Calendar"}]}
    )
    browser = requests.Session()
    code_for(stack, browser)  # logged in at the identity provider, consented to the usual scopes
    url, _, state = authorize_url(stack, prompt="none", scope=LOGIN_SCOPE + " read:calendar")
    marker = log_marker(stack)

    authorization = authorize(browser, url, EMAIL)

    assert authorization.pages == [], authorization
    params = redirected_error(stack, authorization.location, state)
    assert (params["error"], params["error_description"]) == ("consent_required", "Consent required")
    entry = only_entry(stack, marker, type="f")
    assert (entry["description"], entry["client_id"], entry["user_id"]) == ("Consent required", "web-app", ALICE_ID)
    assert entry["details"]["error"] == "consent_required", entry
    # Without the new scope the same silent login goes through: the session was there.
    code, verifier = code_for(stack, browser, prompt="none")
    assert redeem_code(stack, code, verifier).status_code == 200
    assert_flow_works(stack)
