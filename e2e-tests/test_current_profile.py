"""The tutorial's five steps under the provider's current On-Behalf-Of profile.

The tenant is switched to ``token_exchange_profile: current`` through the Management API
(and put back after each test), the Source API's client gets the Client Credentials grant
for its actor token, and Source APIs of their own speak the profile:
``SOURCE_API_EXCHANGE_PROFILE=current`` with ``SOURCE_API_SEND_ACTOR_TOKEN=true``
(delegation: the Target API token names the Source API in ``act``) or without it
(impersonation). The suite's own Source API stays legacy.

1. the user's tokens are those of the legacy profile (login does not depend on it);
2. the Source API takes the user's token;
3. the exchange sends ``requested_token_type`` and the actor token, and gets an access
   token only: no ID token, no refresh token, even when ``openid offline_access`` is asked;
4. the Target API names the Source API as ``actor``; with ``TARGET_API_REQUIRE_ACTOR`` it
   refuses a token that names none;
5. a refreshed user token of the same login gets the login's cached Target API token, and
   the Source API, holding no Target API refresh token, exchanges again near expiry
   instead of refreshing.

The twins, under the current profile, of the legacy cases whose answer changes (T40-T44
have their own reproductions in docs/troubleshooting.md, which the suite runs):

- T07 (step 5, second leg): no Target API refresh token whatever is asked: the Source API
  exchanges again where legacy refreshes (test_step5_refresh);
- T16: the API's Token Exchange Settings are not looked at: switched off, the exchange
  still works; the web app's client is refused as not a Custom API client (T40's answer);
- T23: an expired subject token is 401, not 400; a Source API more lenient than the
  provider still answers its caller 401 invalid_token;
- T24, T25: an unsigned token, one from another issuer, one for another API: 401, not 400;
- T26: a missing subject_token_type is named as missing, not "Unsupported";
- T27: an actor token is taken (steps 3, 4); actor_token_type alone is refused as such;
- T39: a revoked login's token is 401, not 400; the Source API answers 401 invalid_token.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
import requests
from backend_client import call_api, exchange, login, post_token, refresh, signing_keys, verify
from demo_tenant import (
    ACCESS_TOKEN_TYPE,
    ALICE,
    SOURCE_API,
    SOURCE_CLIENT,
    TARGET_API,
    TIMEOUT,
    TOKEN_EXCHANGE,
    WEB_APP,
)
from expectations import assert_bearer_error, assert_log_entry, assert_token_error
from forged_tokens import ProviderKey
from joserfc import jwt
from joserfc.jwk import RSAKey
from tenant_admin import exchanges_since, log_marker, logs_since

EMAIL, ALICE_ID = ALICE
FAILED = "failed_on_behalf_of_token_exchange"


def trace(stack) -> dict[str, str]:
    return {"X-Obo-Trace": "1", "X-Obo-Operator": stack.operator_secret}


NOT_CUSTOM_API = (
    "Only a Custom API client (app_type resource_server, with a resource_server_identifier) "
    "may use On-Behalf-Of token exchange"
)
REVOKED = "subject_token revoked: the login it belongs to was revoked (logout or refresh token reuse)"
NO_ACTOR = "This API accepts only delegated tokens: the token names no actor (act)"


# -- the tenant and the services under the current profile ---------------------------------


@pytest.fixture
def current(management, tenant_as_found):
    """The tenant under the current profile, the Source API's client able to get its actor token."""
    settings = management.patch("/tenants/settings", {"token_exchange_profile": "current"})
    assert settings["token_exchange_profile"] == "current"
    client = management.patch("/clients/source-api", {"grant_types": ["refresh_token", "client_credentials"]})
    assert "client_credentials" in client["grant_types"]
    return management


@pytest.fixture(scope="module")
def delegating_source_api(stack):
    """A Source API that sends requested_token_type and its own actor token."""
    with stack.another(
        "source-api", SOURCE_API_EXCHANGE_PROFILE="current", SOURCE_API_SEND_ACTOR_TOKEN="true"
    ) as source_api:
        yield source_api


@pytest.fixture(scope="module")
def impersonating_source_api(stack):
    """A Source API that sends requested_token_type, and no actor token."""
    with stack.another("source-api", SOURCE_API_EXCHANGE_PROFILE="current") as source_api:
        yield source_api


def contacts(source_api, user_token: str, **kwargs) -> requests.Response:
    return call_api(source_api.url + "/api/contacts", user_token, **kwargs)


def actor_token(stack) -> str:
    """The Source API's own client-credentials token for the Target API."""
    response = post_token(stack, grant_type="client_credentials", audience=TARGET_API, **SOURCE_CLIENT)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def current_exchange(stack, subject_token: str, **changes) -> requests.Response:
    """The exchange as the current profile wants it, by the Source API's client."""
    return exchange(stack, subject_token, **{"requested_token_type": ACCESS_TOKEN_TYPE, **changes})


def delegated_exchange(stack, subject_token: str, **changes) -> requests.Response:
    return current_exchange(
        stack, subject_token, actor_token=actor_token(stack), actor_token_type=ACCESS_TOKEN_TYPE, **changes
    )


def assert_logged_refusal(stack, marker, description: str, client_id: str = "source-api") -> dict:
    [entry] = logs_since(stack, marker, type=FAILED)
    return assert_log_entry(entry, description, TOKEN_EXCHANGE, client_id=client_id)


# -- the five steps ----------------------------------------------------------------------------


@pytest.mark.usefixtures("current")
def test_the_five_steps_with_delegation(stack, delegating_source_api):
    # 1 the user's tokens: the login is the same under either profile
    tokens = login(stack)
    assert {"access_token", "id_token", "refresh_token"} <= set(tokens)
    user_claims = verify(tokens["access_token"], signing_keys(stack), typ="at+jwt").claims
    assert (user_claims["sub"], user_claims["aud"][0]) == (ALICE_ID, SOURCE_API)
    assert "act" not in user_claims
    marker = log_marker(stack)

    # 2 the Source API takes the user's token, and 3 exchanges it
    answer = contacts(delegating_source_api, tokens["access_token"], headers=trace(stack))

    assert answer.status_code == 200, answer.text
    body = answer.json()
    exchanged, call = body["trace"]
    assert (exchanged["step"], exchanged["cache"]) == ("3", "miss")
    form = exchanged["request"]["form"]
    assert form["requested_token_type"] == ACCESS_TOKEN_TYPE
    assert form["actor_token_type"] == ACCESS_TOKEN_TYPE
    # The Source API's own client-credentials token, shared by every user: not in the trace.
    assert form["actor_token"] == "********"
    # An access token only, though the Source API asks for offline_access.
    assert "offline_access" in form["scope"].split()
    issued = exchanged["response"]["body"]
    assert exchanged["response"]["status"] == 200
    assert issued["access_token"]
    assert "refresh_token" not in issued
    assert "id_token" not in issued
    assert issued["scope"] == "read:contacts"
    target_claims = verify(issued["access_token"], signing_keys(stack), typ="at+jwt").claims
    assert (target_claims["sub"], target_claims["aud"]) == (ALICE_ID, TARGET_API)
    assert target_claims["act"] == {"sub": "source-api"}
    (entry,) = exchanges_since(stack, marker, ALICE_ID)
    assert entry["client_id"] == "source-api"
    assert entry["details"]["issued"]["id_token"] is False
    assert entry["details"]["issued"]["refresh_token"] is False

    # 4 the Target API names who acted for the user
    assert call["response"]["status"] == 200
    assert call["request"]["headers"]["Authorization"] == f"Bearer {issued['access_token']}"
    assert body["owner"] == ALICE_ID
    assert (body["actor"], body["actor_chain"]) == ("source-api", ["source-api"])
    assert body["via"]["target_token"] == "exchange"
    assert body["via"]["refresh_token"] is False

    # 5 the user's token refreshed: the same login (grant_id), so the login's cached Target
    # API token answers the same, with no new exchange
    refreshed = refresh(stack, tokens["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text
    again = contacts(delegating_source_api, refreshed.json()["access_token"])
    assert again.status_code == 200, again.text
    assert (again.json()["owner"], again.json()["actor"]) == (ALICE_ID, "source-api")
    assert again.json()["via"]["target_token"] == "cache"
    assert len(exchanges_since(stack, marker, ALICE_ID)) == 1


@pytest.mark.usefixtures("current")
def test_without_an_actor_token_the_target_api_names_no_actor(stack, impersonating_source_api):
    user_token = login(stack)["access_token"]

    answer = contacts(impersonating_source_api, user_token, headers=trace(stack))

    assert answer.status_code == 200, answer.text
    body = answer.json()
    form = body["trace"][0]["request"]["form"]
    assert form["requested_token_type"] == ACCESS_TOKEN_TYPE
    assert "actor_token" not in form
    assert "actor" not in body
    assert "actor_chain" not in body
    assert body["via"]["refresh_token"] is False


@pytest.mark.usefixtures("current")
def test_the_exchange_issues_an_access_token_only_and_act_only_when_delegated(stack):
    user_token = login(stack)["access_token"]
    keys = signing_keys(stack)

    for make, act in ((current_exchange, None), (delegated_exchange, {"sub": "source-api"})):
        response = make(stack, user_token, scope="openid offline_access read:contacts")

        assert response.status_code == 200, response.text
        body = response.json()
        assert body["issued_token_type"] == ACCESS_TOKEN_TYPE
        assert body["scope"] == "read:contacts"  # openid and offline_access are dropped
        assert "id_token" not in body
        assert "refresh_token" not in body
        claims = verify(body["access_token"], keys, typ="at+jwt").claims
        assert (claims["aud"], claims["client_id"]) == (TARGET_API, "source-api")
        assert claims.get("act") == act


@pytest.mark.usefixtures("current")
def test_a_target_api_that_requires_an_actor_refuses_an_impersonation_token(stack):
    user_token = login(stack)["access_token"]
    delegated = delegated_exchange(stack, user_token)
    impersonating = current_exchange(stack, user_token)
    assert delegated.status_code == impersonating.status_code == 200

    with stack.another("target-api", TARGET_API_REQUIRE_ACTOR="true") as strict:
        accepted = call_api(strict.url + "/api/contacts", delegated.json()["access_token"])
        refused = call_api(strict.url + "/api/contacts", impersonating.json()["access_token"])

    assert accepted.status_code == 200, accepted.text
    assert (accepted.json()["owner"], accepted.json()["actor"]) == (ALICE_ID, "source-api")
    assert refused.status_code == 403, refused.text
    assert refused.json() == {"error": "access_denied", "error_description": NO_ACTOR}


def test_T07_twin_the_source_api_exchanges_again_instead_of_refreshing(stack, current, delegating_source_api):
    # Target API tokens that live 60 s are within the Source API's 60-second renew margin:
    # each call renews. Under legacy the renewals are refreshes (test_step5_refresh).
    assert current.patch("/resource-servers/target-api", {"token_lifetime": 60})["token_lifetime"] == 60
    user_token = login(stack)["access_token"]
    marker = log_marker(stack)

    answers = [contacts(delegating_source_api, user_token) for _ in range(3)]

    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert answer.json()["actor"] == "source-api"
    vias = [answer.json()["via"] for answer in answers]
    assert [via["target_token"] for via in vias] == ["exchange"] * 3
    assert {via["refresh_token"] for via in vias} == {False}
    assert len(exchanges_since(stack, marker, ALICE_ID)) == 3
    assert not logs_since(stack, marker, type="sertft", client_id="source-api")


# -- the twins of legacy cases whose answer changes ------------------------------------------


def test_T16_twin_the_apis_token_exchange_settings_are_not_looked_at(stack, current):
    switched_off = current.patch(
        "/resource-servers/source-api", {"token_exchange": {"enabled": False, "client_id": "source-api"}}
    )
    assert switched_off["token_exchange"]["enabled"] is False
    user_token = login(stack)["access_token"]

    assert current_exchange(stack, user_token).status_code == 200
    # The web app's client is no Custom API client (legacy: "Grant type ... not allowed").
    marker = log_marker(stack)
    refused = current_exchange(stack, user_token, **WEB_APP)
    assert_token_error(refused, 403, "unauthorized_client", NOT_CUSTOM_API)
    assert_logged_refusal(stack, marker, NOT_CUSTOM_API, client_id="web-app")


def test_T23_twin_an_expired_subject_token_is_401(stack, current):
    current.patch("/tenants/settings", {"clock_skew": -90000})  # tokens that expired an hour ago
    try:
        expired = login(stack)["access_token"]
    finally:
        current.patch("/tenants/settings", {"clock_skew": 0})
    marker = log_marker(stack)

    refused = current_exchange(stack, expired)

    assert_token_error(refused, 401, "invalid_request", "subject_token expired")
    assert_logged_refusal(stack, marker, "subject_token expired")


def test_T23_twin_a_lenient_source_api_still_answers_invalid_token(stack, current):
    with stack.another("source-api", SOURCE_API_EXCHANGE_PROFILE="current", TOKEN_LEEWAY="60") as lenient:
        current.patch("/tenants/settings", {"clock_skew": -(86400 + 40)})  # expired 40 s ago
        try:
            just_expired = login(stack)["access_token"]
        finally:
            current.patch("/tenants/settings", {"clock_skew": 0})
        marker = log_marker(stack)
        answer = contacts(lenient, just_expired)

    body = assert_bearer_error(answer, 401, "invalid_token", SOURCE_API)
    assert body["error_description"] == "The identity provider refused the access token: subject_token expired"
    assert_logged_refusal(stack, marker, "subject_token expired")


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _unsigned(token: str) -> str:
    return ".".join((_b64({"alg": "none", "typ": "at+jwt"}), _b64(_claims(token)), ""))


def _from_another_issuer(token: str) -> str:
    key = RSAKey.generate_key(2048, parameters={"kid": "not-the-tenants-key"})
    claims = {**_claims(token), "iss": "https://attacker.example.com/"}
    return jwt.encode({"alg": "RS256", "typ": "at+jwt", "kid": key.kid}, claims, key)


@pytest.mark.usefixtures("current")
@pytest.mark.parametrize("forge", [_unsigned, _from_another_issuer], ids=["unsigned", "another-issuer"])
def test_T24_twin_a_forged_subject_token_is_401(stack, forge):
    forged = forge(login(stack)["access_token"])
    marker = log_marker(stack)

    refused = current_exchange(stack, forged)

    body = assert_token_error(refused, 401, "invalid_request")
    assert body["error_description"].startswith("subject_token "), body
    assert_logged_refusal(stack, marker, body["error_description"])


@pytest.mark.usefixtures("current")
def test_T25_twin_a_subject_token_for_another_api_is_401(stack):
    user_token = login(stack)["access_token"]
    target_token = current_exchange(stack, user_token).json()["access_token"]
    marker = log_marker(stack)

    refused = current_exchange(stack, target_token)

    description = "subject_token audience does not match the requesting API"
    assert_token_error(refused, 401, "invalid_request", description)
    assert_logged_refusal(stack, marker, description)


@pytest.mark.usefixtures("current")
def test_T26_twin_a_missing_subject_token_type_is_named(stack):
    user_token = login(stack)["access_token"]
    marker = log_marker(stack)

    refused = current_exchange(stack, user_token, subject_token_type=None)

    description = "Missing required parameter: subject_token_type"  # legacy: "Unsupported subject_token_type"
    assert_token_error(refused, 400, "invalid_request", description)
    assert_logged_refusal(stack, marker, description)


@pytest.mark.usefixtures("current")
def test_T27_twin_an_actor_token_type_without_an_actor_token(stack):
    user_token = login(stack)["access_token"]
    marker = log_marker(stack)

    refused = current_exchange(stack, user_token, actor_token_type=ACCESS_TOKEN_TYPE)

    description = "actor_token_type was sent without actor_token"  # legacy: impersonation only
    assert_token_error(refused, 400, "invalid_request", description)
    assert_logged_refusal(stack, marker, description)
    assert delegated_exchange(stack, user_token).status_code == 200


@pytest.mark.usefixtures("current")
def test_T39_twin_a_revoked_logins_token_is_401(stack, delegating_source_api):
    tokens = login(stack)
    revoked = requests.post(
        stack.revocation_endpoint, data={"token": tokens["refresh_token"], **WEB_APP}, timeout=TIMEOUT
    )
    assert revoked.status_code == 200, revoked.text
    marker = log_marker(stack)

    # This Source API has never seen the token: no cached Target API token answers for it.
    answer = contacts(delegating_source_api, tokens["access_token"])

    assert answer.status_code == 401, answer.text
    assert "subject_token revoked" in answer.headers["WWW-Authenticate"], answer.headers
    refused = current_exchange(stack, tokens["access_token"])
    assert_token_error(refused, 401, "invalid_request", REVOKED)
    assert len(logs_since(stack, marker, type=FAILED)) == 2


# -- delegation edge cases (RFC 8693 4.1, 4.4), with tokens signed by the tenant's key ---------


def _resigned(stack, token: str, **claims) -> str:
    """The user's token with ``claims`` added, signed with the provider's current key."""
    if not stack["mock-idp"].controllable:
        pytest.skip("needs the identity provider's key: not with E2E_EXTERNAL")
    key = ProviderKey.read(Path(stack["mock-idp"].service.env["MOCK_IDP_DATABASE"]))
    return key.token({}, {**_claims(token), **claims})


@pytest.mark.usefixtures("current")
def test_may_act_naming_another_client_refuses_an_impersonation_too(stack):
    user = login(stack)["access_token"]
    marker = log_marker(stack)

    refused = current_exchange(stack, _resigned(stack, user, may_act={"sub": "another-api"}))

    description = "The subject_token's may_act does not allow source-api to act"
    assert_token_error(refused, 403, "access_denied", description)
    assert assert_logged_refusal(stack, marker, description)["details"]["reason"] == "actor_not_permitted"
    allowed = current_exchange(stack, _resigned(stack, user, may_act={"sub": "source-api"}))
    assert allowed.status_code == 200, allowed.text


@pytest.mark.usefixtures("current")
@pytest.mark.parametrize("may_act", ["source-api", ["source-api"]])
def test_a_may_act_that_is_not_an_object_lets_no_one_act(stack, may_act):
    subject = _resigned(stack, login(stack)["access_token"], may_act=may_act)
    description = "The subject_token's may_act is not a JSON object: no party may act on it"
    assert_token_error(current_exchange(stack, subject), 403, "access_denied", description)
    assert_token_error(delegated_exchange(stack, subject), 403, "access_denied", description)


def test_a_carried_chain_deeper_than_the_tenants_limit_is_refused(stack, current):
    current.patch("/tenants/settings", {"token_exchange_delegation_depth": 1})
    user = login(stack)["access_token"]
    deep = _resigned(stack, user, act={"sub": "front-api", "act": {"sub": "edge-api"}})
    marker = log_marker(stack)

    refused = current_exchange(stack, deep)

    description = "Delegation chain too deep: the token would name 2 actor(s), the tenant allows 1"
    assert_token_error(refused, 400, "invalid_request", description)
    assert assert_logged_refusal(stack, marker, description)["details"]["reason"] == "delegation_depth"
    carried = current_exchange(stack, _resigned(stack, user, act={"sub": "front-api"}))
    assert carried.status_code == 200, carried.text
    assert _claims(carried.json()["access_token"])["act"] == {"sub": "front-api"}


@pytest.mark.usefixtures("current")
def test_an_act_that_is_not_an_object_is_refused_not_dropped(stack):
    subject = _resigned(stack, login(stack)["access_token"], act="front-api")
    refused = current_exchange(stack, subject)
    assert_token_error(refused, 400, "invalid_request", "subject_token has an act claim that is not a JSON object")
