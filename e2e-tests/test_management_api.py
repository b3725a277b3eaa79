"""The Management API against mock-idp under gunicorn with two workers.

A change made through the API is stored with the tenant in SQLite: every worker uses it
from its next request, and it survives a restart until POST /api/v2/tenants/settings/reset.
Every test here leaves the tenant in the state it found it in (``tenant_as_found``).
"""

import time

import pytest
import requests
from backend_client import exchange, fetch_jwks, login_tokens, refresh, verify
from demo_tenant import BOB, SOURCE_API, TOKEN_EXCHANGE
from tenant_admin import log_marker, logs_since, rate_limit_window, set_rate_limit, tenant_state

EMAIL, BOB_ID = BOB
ATTEMPTS = 8  # requests on fresh connections, so that both workers answer some of them
LIMIT = 5


pytestmark = pytest.mark.usefixtures("tenant_as_found")


@pytest.fixture
def bob(stack) -> dict:
    """Bob's tokens for the Source API, from a login of his own."""
    tokens, _ = login_tokens(stack, requests.Session(), EMAIL)
    return tokens


def exchanges(stack, subject_token: str) -> list[tuple[int, str | None]]:
    """Status and error of ATTEMPTS exchanges, each on a new connection (any worker answers)."""
    outcomes = []
    for _ in range(ATTEMPTS):
        response = exchange(stack, subject_token)
        outcomes.append((response.status_code, response.json().get("error")))
    return outcomes


# -- a change applies to every worker at once ------------------------------------------


@pytest.mark.parametrize(
    ("path", "switch_off", "switch_on", "refusal"),
    [
        pytest.param(
            "/resource-servers/target-api",
            {"skip_consent_for_verifiable_first_party_clients": False},
            {"skip_consent_for_verifiable_first_party_clients": True},
            "consent_required",
            id="target-api-consent",
        ),
        pytest.param(
            "/resource-servers/source-api",
            {"token_exchange": {"enabled": False, "client_id": "source-api"}},
            {"token_exchange": {"enabled": True, "client_id": "source-api"}},
            "unauthorized_client",
            id="source-api-token-exchange",
        ),
    ],
)
def test_a_change_applies_to_every_worker_at_once(stack, management, bob, path, switch_off, switch_on, refusal):
    assert management.patch(path, switch_off).items() >= switch_off.items()

    assert exchanges(stack, bob["access_token"]) == [(403, refusal)] * ATTEMPTS

    assert management.patch(path, switch_on).items() >= switch_on.items()

    assert exchanges(stack, bob["access_token"]) == [(200, None)] * ATTEMPTS


def test_a_deleted_pairing_is_gone_for_every_worker_until_it_is_created_again(stack, management, bob):
    pairings = management.get("/api-pairings")
    assert [p["id"] for p in pairings] == ["source-api:target-api"]
    deleted = management.call("DELETE", "/api-pairings/source-api:target-api")
    assert deleted.status_code == 204, deleted.text

    assert exchanges(stack, bob["access_token"]) == [(403, "access_denied")] * ATTEMPTS

    body = {"source": "source-api", "target": "target-api", "scopes": ["read:contacts"]}
    created = management.call("POST", "/api-pairings", body)
    assert created.status_code == 201, created.text
    assert management.get("/api-pairings") == pairings

    assert exchanges(stack, bob["access_token"]) == [(200, None)] * ATTEMPTS


# -- rate limits are counted across the workers ----------------------------------------


def until_limited(attempt) -> list[requests.Response]:
    """Call ``attempt`` until it answers 429, at most LIMIT + 1 times."""
    responses = [attempt()]
    while responses[-1].status_code != 429 and len(responses) <= LIMIT:
        responses.append(attempt())
    return responses


def assert_limited(response: requests.Response, window: int) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["error"] == "too_many_requests"
    assert response.headers["X-RateLimit-Limit"] == str(LIMIT)
    assert response.headers["X-RateLimit-Remaining"] == "0"
    now = int(time.time())
    assert int(response.headers["X-RateLimit-Reset"]) == now - now % window + window
    assert 1 <= int(response.headers["Retry-After"]) <= window


def test_the_exchange_rate_limit_holds_across_the_workers(stack, management, bob):
    # The Source API client's counter may hold exchanges of other tests in this minute.
    # One exchange under a 60 s window moves it to a window that began within the last
    # minute; the test's window began 15 minutes ago or more, so it counts from 1.
    set_rate_limit(management, "token_exchange", 1000, window=60)
    assert exchange(stack, bob["access_token"]).status_code == 200
    window = rate_limit_window()
    set_rate_limit(management, "token_exchange", LIMIT, window)
    marker = log_marker(stack)

    responses = until_limited(lambda: exchange(stack, bob["access_token"]))

    assert [r.status_code for r in responses] == [200] * LIMIT + [429], [r.text for r in responses]
    assert_limited(responses[-1], window)
    [entry] = logs_since(stack, marker, type="api_limit", client_id="source-api")
    assert entry["details"]["grant_type"] == TOKEN_EXCHANGE
    assert f"the limit is {LIMIT}" in entry["description"]


def test_the_refresh_rate_limit_holds_across_the_workers_for_one_login(stack, management):
    window = rate_limit_window()
    set_rate_limit(management, "refresh_token", LIMIT, window)
    first, _ = login_tokens(stack, requests.Session(), EMAIL)
    second, _ = login_tokens(stack, requests.Session(), EMAIL)
    marker = log_marker(stack)
    chain = [first["refresh_token"]]

    def refresh_newest():
        response = refresh(stack, chain[-1])
        if response.status_code == 200:
            chain.append(response.json()["refresh_token"])
        return response

    responses = until_limited(refresh_newest)

    # Each refresh rotates the token; the ones rotated from it share its counter.
    assert [r.status_code for r in responses] == [200] * LIMIT + [429], [r.text for r in responses]
    assert len(set(chain)) == LIMIT + 1
    assert_limited(responses[-1], window)
    [entry] = logs_since(stack, marker, type="api_limit", client_id="web-app", user_id=BOB_ID)
    assert (entry["audience"], entry["details"]["grant_type"]) == (SOURCE_API, "refresh_token")
    # The limit is per login: Bob's other login still refreshes.
    assert refresh(stack, second["refresh_token"]).status_code == 200


# -- signing key rotation ----------------------------------------------------------------


def test_tokens_from_before_a_rotation_still_verify_and_new_ones_carry_the_new_kid(stack, management, bob):
    jwks_uri = stack.jwks_uri
    old_kid = verify(bob["access_token"], fetch_jwks(jwks_uri), typ="at+jwt").header["kid"]
    assert next((k["kid"], k["current"]) for k in management.get("/keys/signing")) == (old_kid, True)

    rotated = management.call("POST", "/keys/signing/rotate")

    assert rotated.status_code == 201, rotated.text
    new_kid = rotated.json()["kid"]
    assert new_kid != old_kid
    keys = fetch_jwks(jwks_uri)
    assert [key.kid for key in keys.keys] == [new_kid, old_kid]
    # Signed before the rotation, verified with the JWKS fetched after it.
    assert verify(bob["access_token"], keys, typ="at+jwt").claims["sub"] == BOB_ID
    assert verify(bob["id_token"], keys, typ="JWT").claims["sub"] == BOB_ID

    # New tokens, from either worker: a refresh, and an exchange of the old access token.
    refreshed = refresh(stack, bob["refresh_token"])
    exchanged = exchange(stack, bob["access_token"])
    for response in (refreshed, exchanged):
        assert response.status_code == 200, response.text
        assert verify(response.json()["access_token"], keys, typ="at+jwt").header["kid"] == new_kid
    assert verify(refreshed.json()["id_token"], keys, typ="JWT").header["kid"] == new_kid

    listed = management.get("/keys/signing")
    assert [(k["kid"], k["current"], k["previous"]) for k in listed[:2]] == [
        (new_kid, True, False),
        (old_kid, False, True),
    ]


# -- kept across a restart until reset ---------------------------------------------------


def test_changes_survive_a_restart_and_reset_restores_the_file(stack, management, restart_mock_idp):
    original = tenant_state(management)
    management.patch("/resource-servers/target-api", {"skip_consent_for_verifiable_first_party_clients": False})
    management.patch("/tenants/settings", {"friendly_name": "Workshop tenant"})

    restart_mock_idp()

    # The management token was signed before the restart: it still verifies.
    target = management.get("/resource-servers/target-api")
    assert target["skip_consent_for_verifiable_first_party_clients"] is False
    assert management.get("/tenants/settings")["friendly_name"] == "Workshop tenant"
    tokens, _ = login_tokens(stack, requests.Session(), EMAIL)
    assert exchanges(stack, tokens["access_token"]) == [(403, "consent_required")] * ATTEMPTS

    reset = management.call("POST", "/tenants/settings/reset")

    assert reset.status_code == 200, reset.text
    assert tenant_state(management) == original
    assert exchanges(stack, tokens["access_token"]) == [(200, None)] * ATTEMPTS
