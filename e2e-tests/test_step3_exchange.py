"""Step 3: the Source API exchanges the user's token for a Target API token.

That the exchange happened is read from the identity provider's tenant log (through the
Management API), not from what the Source API says about itself. The exchange is also
made directly, as the Source API's client, to check the token it gives.
"""

import pytest
from backend_client import call_source, exchange, login, signing_keys, verify
from demo_tenant import ACCESS_TOKEN_TYPE, ALICE, BOB, SOURCE_API, TARGET_API, TOKEN_EXCHANGE
from tenant_admin import Management, exchanges_since, log_marker, logs_since

NAMESPACE = "https://obo.example.com/"
SOURCE_API_EXCHANGE_SCOPE = "read:contacts offline_access"  # the Source API's default


def target_api_lifetime(stack) -> int:
    return Management(stack).get("/resource-servers/target-api")["token_lifetime"]


def set_target_api_lifetime(stack, seconds: int) -> None:
    changed = Management(stack).patch("/resource-servers/target-api", {"token_lifetime": seconds})
    assert changed["token_lifetime"] == seconds


@pytest.mark.parametrize("user", [ALICE, BOB], ids=["alice", "bob"])
def test_get_contacts_makes_the_source_api_exchange_the_users_token(stack, user):
    email, user_id = user
    tokens = login(stack, email)
    marker = log_marker(stack)

    response = call_source(stack, "/api/contacts", tokens["access_token"])

    assert response.status_code == 200, response.text
    (entry,) = exchanges_since(stack, marker, user_id)
    assert entry["client_id"] == "source-api"
    assert entry["audience"] == TARGET_API
    assert entry["details"]["grant_type"] == TOKEN_EXCHANGE
    assert entry["details"]["scope"] == SOURCE_API_EXCHANGE_SCOPE
    assert entry["details"]["issued"] == {
        "scope": SOURCE_API_EXCHANGE_SCOPE,
        "expires_in": target_api_lifetime(stack),
        "id_token": False,
        "refresh_token": True,  # offline_access, and the Target API allows offline access
    }
    assert not logs_since(stack, marker, type="failed_on_behalf_of_token_exchange")
    # What the Source API says agrees with the log.
    via = response.json()["via"]
    assert (via["target_token"], via["client_id"], via["audience"]) == ("exchange", "source-api", TARGET_API)
    assert via["scope"] == entry["details"]["issued"]["scope"]
    assert via["expires_at"] - via["obtained_at"] == entry["details"]["issued"]["expires_in"]
    assert via["refresh_token"] is True


@pytest.mark.usefixtures("tenant_as_found")
def test_the_target_api_token_lifetime_is_the_lifetime_of_the_next_exchange(stack):
    set_target_api_lifetime(stack, 4321)
    tokens = login(stack)  # a new user token: the Source API has no Target API token for it yet
    marker = log_marker(stack)

    response = call_source(stack, "/api/contacts", tokens["access_token"])

    assert response.status_code == 200, response.text
    (entry,) = exchanges_since(stack, marker, ALICE[1])
    assert entry["details"]["issued"]["expires_in"] == 4321
    via = response.json()["via"]
    assert via["target_token"] == "exchange"
    assert via["expires_at"] - via["obtained_at"] == 4321


def test_the_exchanged_token_is_the_users_for_the_target_api(stack):
    _, user_id = BOB
    tokens = login(stack, BOB[0])
    marker = log_marker(stack)

    response = exchange(stack, tokens["access_token"], scope="read:contacts")

    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert body["issued_token_type"] == ACCESS_TOKEN_TYPE
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == target_api_lifetime(stack)
    assert body["scope"] == "read:contacts"
    assert "refresh_token" not in body
    assert "id_token" not in body

    claims = verify(body["access_token"], signing_keys(stack), typ="at+jwt").claims
    assert claims["iss"] == stack.issuer
    assert claims["aud"] == TARGET_API
    assert claims["sub"] == user_id
    assert claims["scope"] == "read:contacts"
    assert claims["exp"] - claims["iat"] == body["expires_in"]
    assert claims["client_id"] == claims["azp"] == "source-api"
    assert "act" not in claims  # impersonation only
    # The sample rule's namespaced claims.
    assert claims[NAMESPACE + "exchanged_by"] == "source-api"
    assert claims[NAMESPACE + "source_api"] == SOURCE_API

    (entry,) = exchanges_since(stack, marker, user_id)
    assert (entry["client_id"], entry["audience"]) == ("source-api", TARGET_API)
    assert entry["details"]["issued"]["scope"] == "read:contacts"


@pytest.mark.usefixtures("tenant_as_found")
def test_a_direct_exchange_lives_as_long_as_the_target_api_says(stack):
    set_target_api_lifetime(stack, 900)
    tokens = login(stack)

    response = exchange(stack, tokens["access_token"])

    assert response.status_code == 200, response.text
    assert response.json()["expires_in"] == 900
    claims = verify(response.json()["access_token"], signing_keys(stack), typ="at+jwt").claims
    assert claims["exp"] - claims["iat"] == 900


def test_openid_and_offline_access_add_an_id_token_and_a_refresh_token(stack):
    tokens = login(stack)

    response = exchange(stack, tokens["access_token"], scope="openid offline_access read:contacts")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["scope"] == "openid offline_access read:contacts"
    assert body["refresh_token"]
    keys = signing_keys(stack)
    access = verify(body["access_token"], keys, typ="at+jwt").claims
    assert access["aud"] == [TARGET_API, stack.userinfo]
    identity = verify(body["id_token"], keys, typ="JWT").claims
    assert (identity["sub"], identity["aud"]) == (ALICE[1], "source-api")
    assert identity["exp"] - identity["iat"] == 36000
    # The sample rule gives the ID token the user's email.
    assert identity[NAMESPACE + "email"] == ALICE[0]


@pytest.mark.parametrize("scope", ["write:contacts", "read:contacts write:contacts", "read:profile"])
def test_a_scope_outside_the_pairing_fails_the_exchange(stack, scope):
    tokens = login(stack)
    marker = log_marker(stack)

    response = exchange(stack, tokens["access_token"], scope=scope)

    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_scope"
    assert "access_token" not in response.json()
    (failure,) = logs_since(stack, marker, type="failed_on_behalf_of_token_exchange")
    assert (failure["client_id"], failure["user_id"], failure["audience"]) == ("source-api", ALICE[1], TARGET_API)
    assert not exchanges_since(stack, marker, ALICE[1])
