"""Troubleshooting T16-T28: step 3, the Source API exchanges the user's token.

Each case is made on purpose (a Management API change, a crafted request, or a Source API
configured wrongly) and checked where a user would look: what the identity provider
answers the exchange, what it logs, what the Source API answers its own caller, and that
the flow works again once the cause is gone. Exchanges driven through the Source API use
a user token it has never seen, so its cache of Target API tokens cannot hide the case.
"""

import base64
import json

import pytest
from backend_client import assert_flow_works, call_api, call_source, exchange, login, refresh
from demo_tenant import (
    ACCESS_TOKEN_TYPE,
    ALICE,
    BOB,
    SOURCE_API,
    SOURCE_CLIENT,
    TARGET_API,
    TOKEN_EXCHANGE,
    WEB_APP,
)
from expectations import assert_bearer_error, assert_log_entry, assert_problem, assert_token_error
from joserfc import jwt
from joserfc.jwk import RSAKey
from tenant_admin import exchanges_since, log_marker, logs_since, rate_limit_window, set_rate_limit

EMAIL, ALICE_ID = ALICE
BOB_ID = BOB[1]
FAILED = "failed_on_behalf_of_token_exchange"
SUCCEEDED = "success_on_behalf_of_token_exchange"
IDP = "identity-provider"
NOT_ALLOWED = f"Grant type '{TOKEN_EXCHANGE}' not allowed for the client."
NOT_PAIRED = f"Client source-api ({SOURCE_API}) is not paired with {TARGET_API}: add a Source API/Target API pairing"
NO_CONSENT = "The target API does not allow skipping user consent"
MISSING_AUDIENCE = "Missing required parameter: audience"
WRONG_AUDIENCE = "subject_token audience does not match the requesting API"


def fresh_token(stack, email: str = EMAIL) -> str:
    """A user access token the Source API has not seen: no cached Target API token answers for it."""
    return login(stack, email)["access_token"]


def assert_logged_refusal(stack, marker, description: str, client_id: str = "source-api", **fields) -> dict:
    """The one failed exchange logged since ``marker``, and what it says."""
    [entry] = logs_since(stack, marker, type=FAILED)
    return assert_log_entry(entry, description, TOKEN_EXCHANGE, client_id=client_id, **fields)


def assert_refused_through_source_api(stack, user_token: str, error: str, description: str, **logged) -> None:
    """The Source API's caller gets a 502 problem naming the provider's refusal, which is logged."""
    marker = log_marker(stack)

    answer = call_source(stack, "/api/contacts", user_token)

    assert_problem(answer, 502, step=3, upstream=IDP, error=error, description=description)
    assert_logged_refusal(stack, marker, description, **logged)
    assert exchanges_since(stack, marker, ALICE_ID) == []


def assert_exchanged_now(stack, user_token: str) -> dict:
    """The Source API answers with a Target API token it has just exchanged (nothing was
    cached from a refusal before)."""
    answer = call_source(stack, "/api/contacts", user_token)
    assert answer.status_code == 200, answer.text
    assert answer.json()["via"]["target_token"] == "exchange", answer.json()
    return answer.json()


def assert_not_exchanged(stack, marker) -> None:
    """The identity provider saw no exchange at all since ``marker``."""
    assert logs_since(stack, marker, type=FAILED) == []
    assert logs_since(stack, marker, type=SUCCEEDED) == []


# -- T16 the caller may not use token exchange ----------------------------------------------


def test_T16_token_exchange_not_enabled_for_the_source_api(stack, management, tenant_as_found):
    user_token = fresh_token(stack)
    switched_off = management.patch(
        "/resource-servers/source-api", {"token_exchange": {"enabled": False, "client_id": "source-api"}}
    )
    assert switched_off["token_exchange"] == {"enabled": False, "client_id": "source-api"}

    assert_refused_through_source_api(stack, user_token, "unauthorized_client", NOT_ALLOWED)
    marker = log_marker(stack)
    assert_token_error(exchange(stack, user_token), 403, "unauthorized_client", NOT_ALLOWED)
    assert_logged_refusal(stack, marker, NOT_ALLOWED)

    management.patch("/resource-servers/source-api", {"token_exchange": {"enabled": True, "client_id": "source-api"}})
    assert_exchanged_now(stack, user_token)
    assert_flow_works(stack)


def test_T16_exchange_made_with_the_applications_client_id(stack):
    user_token = fresh_token(stack)
    marker = log_marker(stack)

    refused = exchange(stack, user_token, **WEB_APP)

    assert_token_error(refused, 403, "unauthorized_client", NOT_ALLOWED)
    assert_logged_refusal(stack, marker, NOT_ALLOWED, client_id="web-app")
    # The Source API's own client is the one that may exchange.
    assert exchange(stack, user_token).status_code == 200
    assert_flow_works(stack)


# -- T17 the Source API's client secret -------------------------------------------------------


def test_T17_wrong_or_missing_client_secret_refuses_the_exchange(stack, management, tenant_as_found):
    user_token = fresh_token(stack)
    # The running Source API keeps sending the secret it was configured with.
    management.patch("/clients/source-api", {"client_secret": "not-the-source-apis-secret"})

    assert_refused_through_source_api(stack, user_token, "access_denied", "Unauthorized")
    for secret in (SOURCE_CLIENT["client_secret"], None):
        marker = log_marker(stack)
        refused = exchange(stack, user_token, client_secret=secret)
        assert_token_error(refused, 401, "access_denied", "Unauthorized")
        assert_logged_refusal(stack, marker, "Unauthorized")

    management.reset()
    assert_exchanged_now(stack, user_token)
    assert_flow_works(stack)


def test_T17_wrong_client_secret_refuses_the_source_apis_refresh(stack, management, tenant_as_found):
    # Target API tokens living less than the Source API's renew margin (60 s) are renewed
    # on the next call: with the Target API refresh token (step 5, second leg).
    management.patch("/resource-servers/target-api", {"token_lifetime": 30})
    user_token = fresh_token(stack)
    first = call_source(stack, "/api/contacts", user_token)
    assert first.status_code == 200, first.text
    assert first.json()["via"]["target_token"] == "exchange", first.text
    assert first.json()["via"]["refresh_token"] is True
    second = call_source(stack, "/api/contacts", user_token)
    assert second.status_code == 200, second.text
    assert second.json()["via"]["target_token"] == "refresh", second.text
    exchanged = exchange(stack, user_token, scope="read:contacts offline_access")
    assert exchanged.status_code == 200, exchanged.text
    management.patch("/clients/source-api", {"client_secret": "not-the-source-apis-secret"})

    marker = log_marker(stack)
    refused = refresh(stack, exchanged.json()["refresh_token"], SOURCE_CLIENT)
    assert_token_error(refused, 401, "access_denied", "Unauthorized")
    [entry] = logs_since(stack, marker, type="fertft")
    assert (entry["client_id"], entry["description"]) == ("source-api", "Unauthorized")

    # Through the Source API: its refresh is refused, then the exchange it falls back on.
    marker = log_marker(stack)
    answer = call_source(stack, "/api/contacts", user_token)
    assert_problem(answer, 502, step=3, upstream=IDP, error="access_denied", description="Unauthorized")
    logged = [e for e in logs_since(stack, marker) if e["type"] in ("fertft", FAILED, "sertft", SUCCEEDED)]
    assert [(e["type"], e["client_id"], e["description"]) for e in logged] == [
        (FAILED, "source-api", "Unauthorized"),
        ("fertft", "source-api", "Unauthorized"),
    ]

    management.reset()
    # The refused refresh left the Target API refresh token as it was.
    again = call_source(stack, "/api/contacts", user_token)
    assert again.status_code == 200, again.text
    assert again.json()["via"]["target_token"] == "refresh", again.text
    assert_flow_works(stack)


# -- T18 no pairing -----------------------------------------------------------------------------


def test_T18_no_pairing_between_the_source_api_and_the_target_api(stack, management, tenant_as_found):
    user_token = fresh_token(stack)
    deleted = management.call("DELETE", "/api-pairings/source-api:target-api")
    assert deleted.status_code == 204, deleted.text

    assert_refused_through_source_api(stack, user_token, "access_denied", NOT_PAIRED, audience=TARGET_API)
    marker = log_marker(stack)
    assert_token_error(exchange(stack, user_token), 403, "access_denied", NOT_PAIRED)
    assert_logged_refusal(stack, marker, NOT_PAIRED, audience=TARGET_API, user_id=ALICE_ID)

    body = {"source": "source-api", "target": "target-api", "scopes": ["read:contacts"]}
    assert management.call("POST", "/api-pairings", body).status_code == 201
    assert_exchanged_now(stack, user_token)
    assert_flow_works(stack)


# -- T19, T20 the audience ------------------------------------------------------------------------


def test_T19_audience_missing(stack):
    # Only a crafted request: the Source API always sends one (an empty TARGET_API_AUDIENCE
    # means unset, i.e. the default identifier).
    user_token = fresh_token(stack)
    marker = log_marker(stack)

    refused = exchange(stack, user_token, audience=None)

    assert_token_error(refused, 400, "invalid_request", MISSING_AUDIENCE)
    assert_logged_refusal(stack, marker, MISSING_AUDIENCE)
    assert exchange(stack, user_token).status_code == 200
    assert_flow_works(stack)


AUDIENCES = pytest.mark.parametrize(
    "audience", [TARGET_API.replace("target", "traget"), TARGET_API + "/"], ids=["typo", "trailing-slash"]
)


@AUDIENCES
def test_T20_audience_names_no_api_of_the_tenant(stack, audience):
    description = f"Service not enabled within domain: {audience}"
    user_token = fresh_token(stack)
    marker = log_marker(stack)

    refused = exchange(stack, user_token, audience=audience)

    assert_token_error(refused, 403, "access_denied", description)
    assert_logged_refusal(stack, marker, description, audience=audience, user_id=ALICE_ID)
    assert exchange(stack, user_token).status_code == 200
    assert_flow_works(stack)


@AUDIENCES
def test_T20_audience_misspelt_in_the_source_apis_configuration(stack, audience):
    description = f"Service not enabled within domain: {audience}"
    user_token = fresh_token(stack)
    with stack.another("source-api", TARGET_API_AUDIENCE=audience) as source_api:
        marker = log_marker(stack)
        answer = call_api(source_api.url + "/api/contacts", user_token)
        assert_problem(answer, 502, step=3, upstream=IDP, error="access_denied", description=description)
        assert_logged_refusal(stack, marker, description, audience=audience, user_id=ALICE_ID)

    # Spelt right, as the suite's Source API has it.
    assert_exchanged_now(stack, user_token)
    assert_flow_works(stack)


# -- T21 scope outside the pairing ----------------------------------------------------------------


def test_T21_the_source_apis_scope_is_outside_the_narrowed_pairing(stack, management, tenant_as_found):
    description = "Scope not selected in the API pairing: read:contacts"
    user_token = fresh_token(stack)
    narrowed = management.patch("/api-pairings/source-api:target-api", {"scopes": []})
    assert narrowed["scopes"] == []

    # The Source API asks for "read:contacts offline_access".
    assert_refused_through_source_api(stack, user_token, "invalid_scope", description)
    marker = log_marker(stack)
    assert_token_error(exchange(stack, user_token), 400, "invalid_scope", description)
    assert_logged_refusal(stack, marker, description, audience=TARGET_API, user_id=ALICE_ID)

    management.patch("/api-pairings/source-api:target-api", {"scopes": ["read:contacts"]})
    assert_exchanged_now(stack, user_token)
    assert_flow_works(stack)


def test_T21_an_exchange_asking_for_a_scope_outside_the_pairing(stack):
    description = "Scope not selected in the API pairing: write:contacts"
    user_token = fresh_token(stack)
    marker = log_marker(stack)

    refused = exchange(stack, user_token, scope="read:contacts write:contacts")

    assert_token_error(refused, 400, "invalid_scope", description)
    assert_logged_refusal(stack, marker, description, audience=TARGET_API, user_id=ALICE_ID)
    granted = exchange(stack, user_token, scope="read:contacts")
    assert granted.status_code == 200, granted.text
    assert granted.json()["scope"] == "read:contacts", granted.text
    assert_flow_works(stack)


# -- T22 consent --------------------------------------------------------------------------------


def test_T22_the_target_api_does_not_allow_skipping_consent(stack, management, tenant_as_found):
    user_token = fresh_token(stack)
    management.patch("/resource-servers/target-api", {"skip_consent_for_verifiable_first_party_clients": False})

    assert_refused_through_source_api(stack, user_token, "consent_required", NO_CONSENT, user_id=ALICE_ID)
    marker = log_marker(stack)
    assert_token_error(exchange(stack, user_token), 403, "consent_required", NO_CONSENT)
    assert_logged_refusal(stack, marker, NO_CONSENT, audience=TARGET_API, user_id=ALICE_ID)

    management.patch("/resource-servers/target-api", {"skip_consent_for_verifiable_first_party_clients": True})
    assert_exchanged_now(stack, user_token)
    assert_flow_works(stack)


# -- T23-T25 the subject token -------------------------------------------------------------------


def test_T23_subject_token_expired(stack, management, tenant_as_found):
    # The provider's clock set a day and an hour back: it issues tokens that expired an
    # hour ago (Management API tokens keep the true time). Set back at once, so the tokens
    # this test's other calls get are not expired too.
    management.patch("/tenants/settings", {"clock_skew": -90000})
    try:
        expired = fresh_token(stack)
    finally:
        management.patch("/tenants/settings", {"clock_skew": 0})
    marker = log_marker(stack)

    # The Source API checks the user's token first: the caller gets its 401, no exchange.
    answer = call_source(stack, "/api/contacts", expired)
    assert_bearer_error(answer, 401, "invalid_token", SOURCE_API, "The access token expired")
    assert_not_exchanged(stack, marker)
    # The exchange itself, as the Source API's client would send it.
    refused = exchange(stack, expired)
    assert_token_error(refused, 400, "invalid_request", "subject_token expired")
    assert_logged_refusal(stack, marker, "subject_token expired")

    assert_flow_works(stack)


def test_T23_a_source_api_more_lenient_than_the_provider_passes_its_refusal_on(stack, management, tenant_as_found):
    # A Source API that allows 60 seconds of clock difference, and a token that expired 40
    # seconds ago: it takes the token; the identity provider (30 seconds) will not exchange it.
    with stack.another("source-api", TOKEN_LEEWAY="60") as lenient:
        management.patch("/tenants/settings", {"clock_skew": -(86400 + 40)})
        try:
            just_expired = fresh_token(stack)
        finally:
            management.patch("/tenants/settings", {"clock_skew": 0})
        marker = log_marker(stack)
        answer = call_api(lenient.url + "/api/contacts", just_expired)

    # The Source API tells its caller it is the user's token, so the web app refreshes.
    body = assert_bearer_error(answer, 401, "invalid_token", SOURCE_API)
    assert body["error_description"] == "The identity provider refused the access token: subject_token expired"
    assert_logged_refusal(stack, marker, "subject_token expired")
    assert_flow_works(stack)


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _tampered(token: str) -> str:
    """The same signature over claims changed to another user's."""
    header, _, signature = token.split(".")
    return ".".join((header, _b64({**_claims(token), "sub": BOB_ID}), signature))


def _unsigned(token: str) -> str:
    return ".".join((_b64({"alg": "none", "typ": "at+jwt"}), _b64(_claims(token)), ""))


def _from_another_issuer(token: str) -> str:
    """The same claims, signed by a key and an issuer that are not the tenant's."""
    key = RSAKey.generate_key(2048, parameters={"kid": "not-the-tenants-key"})
    claims = {**_claims(token), "iss": "https://attacker.example.com/"}
    return jwt.encode({"alg": "RS256", "typ": "at+jwt", "kid": key.kid}, claims, key)


@pytest.mark.parametrize(
    ("forge", "source_api_says"),
    [
        (_tampered, "The access token signature is invalid"),
        (_unsigned, "The access token must be signed with RS256"),
        (_from_another_issuer, "The access token is signed with an unknown key"),
    ],
    ids=["tampered", "unsigned", "another-issuer"],
)
def test_T24_forged_subject_token(stack, forge, source_api_says):
    user_token = fresh_token(stack)
    forged = forge(user_token)
    marker = log_marker(stack)

    answer = call_source(stack, "/api/contacts", forged)
    assert_bearer_error(answer, 401, "invalid_token", SOURCE_API, source_api_says)
    assert_not_exchanged(stack, marker)
    refused = exchange(stack, forged)
    body = assert_token_error(refused, 400, "invalid_request")
    assert body["error_description"].startswith("subject_token "), body
    assert_logged_refusal(stack, marker, body["error_description"], user_id=None)

    assert_exchanged_now(stack, user_token)


@pytest.mark.parametrize("which", ["target_api_token", "id_token"])
def test_T25_subject_token_issued_for_another_audience(stack, which):
    tokens = login(stack)
    target = exchange(stack, tokens["access_token"])
    assert target.status_code == 200, target.text
    subject = {"target_api_token": target.json()["access_token"], "id_token": tokens["id_token"]}[which]
    source_api_says = {
        "target_api_token": "The access token was not issued for this API",
        "id_token": "The token is not an access token (typ must be at+jwt)",
    }[which]
    marker = log_marker(stack)

    answer = call_source(stack, "/api/contacts", subject)
    assert_bearer_error(answer, 401, "invalid_token", SOURCE_API, source_api_says)
    assert_not_exchanged(stack, marker)
    refused = exchange(stack, subject)
    assert_token_error(refused, 400, "invalid_request", WRONG_AUDIENCE)
    assert_logged_refusal(stack, marker, WRONG_AUDIENCE)

    assert_exchanged_now(stack, tokens["access_token"])


# -- T26, T27 the form of the request -------------------------------------------------------------


@pytest.mark.parametrize(
    "subject_token_type",
    [None, "urn:ietf:params:oauth:token-type:id_token", "urn:ietf:params:oauth:token-type:jwt"],
    ids=["missing", "id_token", "jwt"],
)
def test_T26_subject_token_type_missing_or_not_an_access_token(stack, subject_token_type):
    description = "Unsupported subject_token_type"
    user_token = fresh_token(stack)
    marker = log_marker(stack)

    refused = exchange(stack, user_token, subject_token_type=subject_token_type)

    assert_token_error(refused, 400, "invalid_request", description)
    assert_logged_refusal(stack, marker, description)
    assert exchange(stack, user_token).status_code == 200
    assert_flow_works(stack)


@pytest.mark.parametrize("actor", ["actor_token", "actor_token_type"])
def test_T27_actor_token_sent(stack, actor):
    description = "actor_token is not supported: impersonation only"
    user_token = fresh_token(stack)
    delegation = {"actor_token": user_token, "actor_token_type": ACCESS_TOKEN_TYPE}
    if actor == "actor_token_type":
        delegation["actor_token"] = None
    marker = log_marker(stack)

    refused = exchange(stack, user_token, **delegation)

    assert_token_error(refused, 400, "invalid_request", description)
    assert_logged_refusal(stack, marker, description)
    assert exchange(stack, user_token).status_code == 200
    assert_flow_works(stack)


# -- T28 exchanging too often ------------------------------------------------------------------


def test_T28_exchange_rate_limit(stack, management, tenant_as_found):
    limit = 2
    # Move the Source API client's counter to a window that began in the last minute, then
    # count in a window that began 15 minutes ago or more: the count starts from 1.
    set_rate_limit(management, "token_exchange", limit=1000, window=60)
    assert exchange(stack, fresh_token(stack)).status_code == 200
    window = rate_limit_window()
    set_rate_limit(management, "token_exchange", limit=limit, window=window)
    user_tokens = [fresh_token(stack) for _ in range(limit + 1)]
    marker = log_marker(stack)

    answers = [call_source(stack, "/api/contacts", token) for token in user_tokens]

    assert [a.status_code for a in answers] == [200] * limit + [503], [a.text for a in answers]
    assert [a.json()["via"]["target_token"] for a in answers[:limit]] == ["exchange"] * limit
    limited = assert_problem(
        answers[-1],
        503,
        step=3,
        upstream=IDP,
        error="too_many_requests",
        description=answers[-1].json().get("upstream_error_description"),
    )
    assert limited["upstream_error_description"].startswith(f"Too many requests: the limit is {limit} in this window.")
    source_retry_after = int(answers[-1].headers["Retry-After"])
    assert 1 <= source_retry_after <= window
    # The identity provider's own answer to the Source API's client.
    refused = exchange(stack, user_tokens[-1])
    assert_token_error(refused, 429, "too_many_requests")
    assert refused.headers["X-RateLimit-Limit"] == str(limit)
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    reset = int(refused.headers["X-RateLimit-Reset"])
    assert reset % window == 0
    assert 1 <= int(refused.headers["Retry-After"]) <= source_retry_after
    entries = logs_since(stack, marker, type="api_limit")
    assert len(entries) == 2, entries
    for entry in entries:
        assert (entry["client_id"], entry["details"]["grant_type"]) == ("source-api", TOKEN_EXCHANGE), entry
        assert entry["description"].startswith(f"Too many requests: the limit is {limit} in this window."), entry
    # A cached Target API token needs no exchange: the limit does not touch its user.
    cached = call_source(stack, "/api/contacts", user_tokens[0])
    assert cached.status_code == 200, cached.text
    assert cached.json()["via"]["target_token"] == "cache", cached.text

    management.reset()
    assert_exchanged_now(stack, user_tokens[-1])
    assert_flow_works(stack)
