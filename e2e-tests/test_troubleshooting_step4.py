"""Troubleshooting T29-T32: step 4, the Source API calls the Target API, and outages.

T29 and T30 are crafted requests and a token with too little scope. T31 and T32 are real
faults: the Target API or the identity provider is stopped (connections are refused) or
paused (connections are accepted and never answered; the Source API gives up after its
2-second read timeout in this suite, the web app after its 10-second one). Every process
is started or resumed again in a ``finally`` block.
"""

import re

import pytest
import requests
from backend_client import assert_flow_works, call_api, call_source, call_target, exchange, login
from browser_user import authorize
from demo_tenant import ALICE, LOGIN_SCOPE, SOURCE_API, TARGET_API, TIMEOUT
from expectations import assert_bearer_error, assert_problem
from tenant_admin import exchanges_since, log_marker, logs_since

EMAIL, ALICE_ID = ALICE
IDP = "identity-provider"
NEW_CONTACT = {"name": "Zoe Zimmer", "email": "zoe@example.com"}
NAME_ONLY = {"name": "Zoe Zimmer"}
WRITER_SCOPE = LOGIN_SCOPE + " write:contacts"  # what POST /api/contacts at the Source API needs
INCOMPLETE = {"error": "invalid_request", "error_description": "Send JSON {name, email}."}


def contacts_via_source_api(stack, user_token: str, via: str) -> dict:
    answer = call_source(stack, "/api/contacts", user_token)
    assert answer.status_code == 200, answer.text
    assert answer.json()["via"]["target_token"] == via, answer.json()
    return answer.json()


# -- T29 the user's own token at the Target API -----------------------------------------------


def test_T29_the_source_apis_own_token_sent_straight_to_the_target_api(stack):
    tokens = login(stack)

    refused = call_target(stack, "/api/contacts", tokens["access_token"])

    assert_bearer_error(refused, 401, "invalid_token", TARGET_API, "The access token was not issued for this API")
    # What the Source API must send instead: a token exchanged for the Target API.
    exchanged = exchange(stack, tokens["access_token"])
    assert exchanged.status_code == 200, exchanged.text
    accepted = call_target(stack, "/api/contacts", exchanged.json()["access_token"])
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["owner"] == ALICE_ID, accepted.text
    assert_flow_works(stack)


# -- T30 the target token lacks the endpoint's scope -------------------------------------------------


def test_T30_the_target_token_lacks_the_scope_of_the_endpoint(stack, management, tenant_as_found):
    # The login grants the Source API's write:contacts, so the Source API takes the call.
    user_token = login(stack, scope=WRITER_SCOPE)["access_token"]
    description = "The Target API token lacks a scope this call needs"

    # The Source API asks for read:contacts only (all the pairing selects): POST needs write:contacts.
    answer = call_source(stack, "/api/contacts", user_token, method="POST", json=NEW_CONTACT)
    assert_bearer_error(answer, 403, "insufficient_scope", SOURCE_API, description, scope="write:contacts")
    # The Target API's own answer to such a token.
    target_token = exchange(stack, user_token).json()["access_token"]
    direct = call_target(stack, "/api/contacts", target_token, method="POST", json=NEW_CONTACT)
    assert_bearer_error(direct, 403, "insufficient_scope", TARGET_API, scope="write:contacts")
    listed = call_target(stack, "/api/contacts", target_token).json()["contacts"]
    assert NEW_CONTACT not in listed

    # The fix: select write:contacts in the pairing and ask for it in the exchange. The
    # body sent is incomplete on purpose: the Target API checks it only once the scope is
    # granted, and answers 400 instead of writing a contact.
    management.patch("/api-pairings/source-api:target-api", {"scopes": ["read:contacts", "write:contacts"]})
    widened = exchange(stack, user_token, scope="read:contacts write:contacts")
    assert widened.status_code == 200, widened.text
    incomplete = call_target(stack, "/api/contacts", widened.json()["access_token"], method="POST", json=NAME_ONLY)
    assert (incomplete.status_code, incomplete.json()) == (400, INCOMPLETE), incomplete.text
    assert_flow_works(stack)


def test_T30_a_source_api_asking_for_the_write_scope_passes_the_call_on(stack, management, tenant_as_found):
    user_token = login(stack, scope=WRITER_SCOPE)["access_token"]
    management.patch("/api-pairings/source-api:target-api", {"scopes": ["read:contacts", "write:contacts"]})
    scope = "read:contacts write:contacts offline_access"

    with stack.another("source-api", SOURCE_API_EXCHANGE_SCOPE=scope) as source_api:
        answer = call_api(source_api.url + "/api/contacts", user_token, "POST", json=NAME_ONLY)

    # Not a 403: the Target API took the token and refused only the incomplete contact.
    assert (answer.status_code, answer.json()) == (400, INCOMPLETE), answer.text
    assert_flow_works(stack)


# -- T31 the Target API down or too slow -------------------------------------------------------------


@pytest.mark.parametrize("fault", ["stopped", "paused"])
def test_T31_target_api_down_or_too_slow_keeps_the_cached_token(stack, fault):
    stack.controllable()
    target_api = stack["target-api"]
    user_token = login(stack)["access_token"]
    warm = contacts_via_source_api(stack, user_token, via="exchange")
    marker = log_marker(stack)

    with target_api.fault(fault):
        answer = call_source(stack, "/api/contacts", user_token)

    status = {"stopped": 502, "paused": 504}[fault]
    assert_problem(answer, status, step=4, upstream="target-api")
    # The Target API token was kept: no new exchange, the same token answers.
    again = contacts_via_source_api(stack, user_token, via="cache")
    assert (again["via"]["obtained_at"], again["via"]["expires_at"]) == (
        warm["via"]["obtained_at"],
        warm["via"]["expires_at"],
    )
    assert again["contacts"] == warm["contacts"]
    assert exchanges_since(stack, marker, ALICE_ID) == []
    assert logs_since(stack, marker, type="failed_on_behalf_of_token_exchange") == []
    assert_flow_works(stack)


# -- T32 the identity provider down or too slow --------------------------------------------------------


@pytest.mark.parametrize("fault", ["stopped", "paused"])
def test_T32_identity_provider_down_or_too_slow_at_the_source_api(stack, fault):
    stack.controllable()
    idp = stack["mock-idp"]
    cached = login(stack)["access_token"]
    contacts_via_source_api(stack, cached, via="exchange")
    new = login(stack)["access_token"]  # not seen by the Source API: it needs an exchange

    with idp.fault(fault):
        needs_exchange = call_source(stack, "/api/contacts", new)
        # The user's token is checked with the keys the Source API cached; the target token is cached.
        kept = call_source(stack, "/api/contacts", cached)

    if fault == "stopped":
        assert_problem(needs_exchange, 503, step=3, upstream=IDP)
        assert int(needs_exchange.headers["Retry-After"]) > 0
    else:
        assert_problem(needs_exchange, 504, step=3, upstream=IDP)
    assert kept.status_code == 200, kept.text
    assert kept.json()["via"]["target_token"] == "cache"
    # Back up: the token that could not be exchanged is exchanged now.
    contacts_via_source_api(stack, new, via="exchange")
    assert_flow_works(stack)


def web_app_login(stack, browser: requests.Session) -> str:
    """A login started at the web app, up to the identity provider's answer: the web app's
    callback URL with the code, not opened yet."""
    web_app = stack["web-app"].url
    started = browser.get(web_app + "/login", allow_redirects=False, timeout=TIMEOUT)
    assert started.status_code == 302, started.text
    authorization = authorize(browser, started.headers["Location"], EMAIL)
    assert authorization.location.startswith(web_app + "/callback?"), authorization
    return authorization.location


def finish_web_app_login(stack, browser: requests.Session, callback: str) -> str:
    """Open the callback, as the browser does; the web app redeems the code. Answers the
    home page's form token."""
    finished = browser.get(callback, allow_redirects=False, timeout=TIMEOUT)
    assert finished.status_code == 302, finished.text
    home = browser.get(stack["web-app"].url + "/", timeout=TIMEOUT)
    assert home.status_code == 200, home.text
    assert "Hello, Alice" in home.text, home.text
    return re.search(r'name="csrf_token" value="([^"]+)"', home.text).group(1)


def assert_error_page(page: requests.Response, status: int, title: str) -> None:
    """The web app's page for an identity provider outage, linking to T32, not a crash."""
    assert page.status_code == status, page.text
    assert page.headers["Content-Type"].startswith("text/html"), page.headers
    assert title in page.text, page.text
    assert "T32" in page.text, page.text
    assert "Something went wrong" not in page.text, page.text


def test_T32_identity_provider_down_at_the_web_app(stack):
    stack.controllable()
    idp = stack["mock-idp"]
    web_app = stack["web-app"].url
    logged_in = requests.Session()
    csrf_token = finish_web_app_login(stack, logged_in, web_app_login(stack, logged_in))
    logging_in = requests.Session()
    callback = web_app_login(stack, logging_in)

    with idp.fault("stopped"):
        # Step 1: the code cannot be redeemed. Step 5: the tokens cannot be refreshed.
        redeeming = logging_in.get(callback, allow_redirects=False, timeout=TIMEOUT)
        refreshing = logged_in.post(web_app + "/refresh", data={"csrf_token": csrf_token}, timeout=TIMEOUT)

    assert_error_page(redeeming, 503, "The identity provider cannot be reached")
    assert_error_page(refreshing, 503, "The identity provider cannot be reached")
    # Back up: the logged-in user refreshes, and a new login goes through.
    refreshed = logged_in.post(web_app + "/refresh", data={"csrf_token": csrf_token}, timeout=TIMEOUT)
    assert refreshed.status_code == 200, refreshed.text
    browser = requests.Session()
    finish_web_app_login(stack, browser, web_app_login(stack, browser))
    assert_flow_works(stack)


def test_T32_identity_provider_too_slow_at_the_web_app(stack):
    stack.controllable()
    idp = stack["mock-idp"]
    browser = requests.Session()
    callback = web_app_login(stack, browser)

    with idp.fault("paused"):
        # The web app waits 2 s for the token endpoint in this suite; this browser waits longer.
        redeeming = browser.get(callback, allow_redirects=False, timeout=TIMEOUT)

    assert_error_page(redeeming, 504, "The identity provider did not answer in time")
    browser = requests.Session()
    finish_web_app_login(stack, browser, web_app_login(stack, browser))
    assert_flow_works(stack)
