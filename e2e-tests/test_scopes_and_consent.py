"""Scopes and consent (docs/apis.md, "Scopes and consent"): the user consents to every
API scope at the Source API's login; the Target API is reached only through the exchange.

The web app's client cannot log a user in for the Target API, whose "skip consent for
first-party clients" (a requirement of the exchange) would otherwise hand it
``write:contacts`` unasked; and the Source API adds a contact only for a login that
granted its own ``write:contacts``.
"""

import requests
from backend_client import authorize_url, call_source, login
from browser_user import authorize
from demo_tenant import ALICE, LOGIN_SCOPE, SOURCE_API, TARGET_API
from expectations import assert_bearer_error
from tenant_admin import exchanges_since, log_marker, logs_since

EMAIL, ALICE_ID = ALICE
NEW_CONTACT = {"name": "Yves Young", "email": "yves@example.com"}
TARGET_REFUSED = f"Client web-app is not authorized to access {TARGET_API} for a user"


def test_the_web_app_cannot_get_a_target_api_token_at_authorize(stack):
    marker = log_marker(stack)
    url, _, state = authorize_url(stack, audience=TARGET_API, scope="openid read:contacts write:contacts")

    authorization = authorize(requests.Session(), url, EMAIL)

    assert authorization.location.startswith(stack.callback + "?"), authorization
    assert authorization.params == {"error": "access_denied", "error_description": TARGET_REFUSED, "state": state}
    assert authorization.pages == []  # refused before any login or consent page
    (entry,) = logs_since(stack, marker, type="f")
    assert (entry["description"], entry["audience"]) == (TARGET_REFUSED, TARGET_API)


def test_a_read_only_login_cannot_add_a_contact_through_the_source_api(stack):
    tokens = login(stack)  # the usual login: read:profile read:contacts
    assert "write:contacts" not in tokens["scope"].split()
    marker = log_marker(stack)

    answer = call_source(stack, "/api/contacts", tokens["access_token"], method="POST", json=NEW_CONTACT)

    assert_bearer_error(answer, 403, "insufficient_scope", SOURCE_API, scope="write:contacts")
    # Refused by the Source API itself: nothing was exchanged for it.
    assert exchanges_since(stack, marker, ALICE_ID) == []
    listed = call_source(stack, "/api/contacts", tokens["access_token"]).json()["contacts"]
    assert NEW_CONTACT not in listed


def test_the_write_scope_is_consented_to_at_the_source_apis_login(stack):
    browser = requests.Session()
    login_scope_url, _, _ = authorize_url(stack)
    assert authorize(browser, login_scope_url, EMAIL).params.get("code")  # the usual consent, remembered

    url, _, _ = authorize_url(stack, scope=LOGIN_SCOPE + " write:contacts")
    authorization = authorize(browser, url, EMAIL)

    # Logged in already, but a scope not consented to yet: the consent page again.
    assert authorization.pages == ["consent"], authorization.pages
    assert "Add to your contacts" in authorization.responses[0].text
    assert authorization.params.get("code"), authorization
