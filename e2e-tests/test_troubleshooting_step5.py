"""Troubleshooting T33-T37: step 5, refreshing tokens.

Both legs refresh at the same token endpoint: the web app with its refresh token from the
login, the Source API with the refresh token of its Target API tokens. Each case is a
request the identity provider must refuse, its tenant log entry, and a refresh that works
once the cause is gone.
"""

import requests
from backend_client import assert_flow_works, exchange, login, refresh
from demo_tenant import ALICE, SOURCE_API, SOURCE_CLIENT, TARGET_API, TIMEOUT, WEB_APP
from expectations import assert_log_entry, assert_token_error
from tenant_admin import log_marker, logs_since, rate_limit_window, set_rate_limit

EMAIL, ALICE_ID = ALICE
UNKNOWN = "Unknown or invalid refresh token."
REUSED = (
    "Refresh token reuse detected: every refresh token of this login, and of the exchanges made from it, was revoked"
)


def assert_refresh_refused(stack, marker, response, status: int, error: str, description: str, **logged) -> dict:
    """The refusal, and the one ``fertft`` entry logged for it since ``marker``."""
    body = assert_token_error(response, status, error, description)
    [entry] = logs_since(stack, marker, type="fertft")
    assert_log_entry(entry, description, "refresh_token", **logged)
    return body


def refreshed(stack, refresh_token: str, client: dict = WEB_APP) -> dict:
    response = refresh(stack, refresh_token, client)
    assert response.status_code == 200, response.text
    return response.json()


def target_api_tokens(stack) -> dict:
    """The Source API's Target API tokens for a new login of Alice, with a refresh token."""
    exchanged = exchange(stack, login(stack)["access_token"], scope="read:contacts offline_access")
    assert exchanged.status_code == 200, exchanged.text
    assert exchanged.json()["refresh_token"], exchanged.text
    return exchanged.json()


# -- T33 unknown, revoked --------------------------------------------------------------------


def test_T33_unknown_refresh_token(stack):
    marker = log_marker(stack)

    refused = refresh(stack, "v1.not-a-refresh-token-of-this-tenant")

    assert_refresh_refused(stack, marker, refused, 403, "invalid_grant", UNKNOWN, client_id="web-app", user_id=None)
    refreshed(stack, login(stack)["refresh_token"])
    assert_flow_works(stack)


def test_T33_revoked_refresh_token(stack):
    tokens = login(stack)
    marker = log_marker(stack)
    revoked = requests.post(
        stack.revocation_endpoint,
        data={"token": tokens["refresh_token"], "token_type_hint": "refresh_token", **WEB_APP},
        timeout=TIMEOUT,
    )
    assert revoked.status_code == 200, revoked.text
    [entry] = logs_since(stack, marker, type="srrt")
    assert (entry["client_id"], entry["user_id"], entry["audience"]) == ("web-app", ALICE_ID, SOURCE_API)
    marker = log_marker(stack)

    refused = refresh(stack, tokens["refresh_token"])

    assert_refresh_refused(stack, marker, refused, 403, "invalid_grant", UNKNOWN, client_id="web-app", user_id=ALICE_ID)
    # Logging in again gives a refresh token that works.
    refreshed(stack, login(stack)["refresh_token"])
    assert_flow_works(stack)


# -- T34 reuse of a rotated token --------------------------------------------------------------


def test_T34_a_rotated_refresh_token_used_again_revokes_the_family(stack):
    tokens = login(stack)
    first = refreshed(stack, tokens["refresh_token"])
    second = refreshed(stack, first["refresh_token"])
    marker = log_marker(stack)

    reused = refresh(stack, tokens["refresh_token"])

    assert_token_error(reused, 403, "invalid_grant", UNKNOWN)
    [entry] = logs_since(stack, marker, type="ferrt")
    assert (entry["client_id"], entry["user_id"], entry["description"]) == ("web-app", ALICE_ID, REUSED)
    assert logs_since(stack, marker, type="fertft") == []
    # The whole family is revoked: the newest token of that login, never used, too.
    marker = log_marker(stack)
    newest = refresh(stack, second["refresh_token"])
    assert_refresh_refused(stack, marker, newest, 403, "invalid_grant", UNKNOWN, user_id=ALICE_ID)
    # Another login is another family.
    refreshed(stack, login(stack)["refresh_token"])
    assert_flow_works(stack)


# -- T35 the wrong client --------------------------------------------------------------------


def test_T35_the_applications_refresh_token_used_by_the_source_apis_client(stack):
    tokens = login(stack)
    marker = log_marker(stack)

    refused = refresh(stack, tokens["refresh_token"], SOURCE_CLIENT)

    assert_refresh_refused(stack, marker, refused, 403, "invalid_grant", UNKNOWN, client_id="source-api")
    # Refused, not revoked: its own client still refreshes with it.
    refreshed(stack, tokens["refresh_token"])
    assert_flow_works(stack)


def test_T35_the_source_apis_refresh_token_used_by_the_application(stack):
    target = target_api_tokens(stack)
    marker = log_marker(stack)

    refused = refresh(stack, target["refresh_token"], WEB_APP)

    assert_refresh_refused(stack, marker, refused, 403, "invalid_grant", UNKNOWN, client_id="web-app")
    renewed = refreshed(stack, target["refresh_token"], SOURCE_CLIENT)
    assert renewed["scope"] == "read:contacts offline_access"
    assert_flow_works(stack)


# -- T36 more scope than granted ----------------------------------------------------------------


def test_T36_a_refresh_asking_for_more_scope_than_was_granted(stack):
    tokens = login(stack, scope="openid profile offline_access read:profile")
    assert "read:contacts" not in tokens["scope"].split()
    marker = log_marker(stack)

    refused = refresh(stack, tokens["refresh_token"], scope="read:profile read:contacts")

    description = "Scope not granted to this refresh token: read:contacts"
    assert_refresh_refused(stack, marker, refused, 400, "invalid_scope", description, user_id=ALICE_ID)
    # The refusal did not rotate the token: asking for what was granted works.
    narrower = refresh(stack, tokens["refresh_token"], scope="read:profile")
    assert narrower.status_code == 200, narrower.text
    assert narrower.json()["scope"] == "read:profile"
    assert_flow_works(stack)


def test_T36_the_source_api_asking_for_more_scope_than_was_exchanged(stack):
    target = target_api_tokens(stack)
    marker = log_marker(stack)

    refused = refresh(stack, target["refresh_token"], SOURCE_CLIENT, scope="read:contacts write:contacts")

    description = "Scope not granted to this refresh token: write:contacts"
    assert_refresh_refused(
        stack, marker, refused, 400, "invalid_scope", description, client_id="source-api", audience=TARGET_API
    )
    assert refreshed(stack, target["refresh_token"], SOURCE_CLIENT)["scope"] == "read:contacts offline_access"


# -- T37 refreshing too often --------------------------------------------------------------------


def test_T37_the_same_refresh_token_family_refreshed_too_often(stack, management, tenant_as_found):
    limit = 3
    # The counter is per token family and address; a new login is a new family. A window
    # that began 15 minutes ago or more keeps every refresh of this test in one window.
    window = rate_limit_window()
    set_rate_limit(management, "refresh_token", limit=limit, window=window)
    tokens = login(stack)
    chain = [tokens["refresh_token"]]
    for _ in range(limit):
        chain.append(refreshed(stack, chain[-1])["refresh_token"])
    marker = log_marker(stack)

    limited = refresh(stack, chain[-1])

    body = assert_token_error(limited, 429, "too_many_requests")
    assert body["error_description"].startswith(f"Too many requests: the limit is {limit} in this window.")
    assert 1 <= int(limited.headers["Retry-After"]) <= window
    assert limited.headers["X-RateLimit-Limit"] == str(limit)
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert int(limited.headers["X-RateLimit-Reset"]) % window == 0
    [entry] = logs_since(stack, marker, type="api_limit")
    description = body["error_description"]
    assert_log_entry(entry, description, "refresh_token", client_id="web-app", user_id=ALICE_ID, audience=SOURCE_API)
    assert logs_since(stack, marker, type="fertft") == []
    # Another login is another family, with a count of its own.
    refreshed(stack, login(stack)["refresh_token"])

    # The limit back to the tenant file's: the limited token was not used up.
    management.reset()
    refreshed(stack, chain[-1])
    assert_flow_works(stack)
