"""Step 5: refresh tokens, on both legs.

First leg: the web app refreshes the user's tokens with its refresh token (rotation,
reuse detection, down-scoping). Second leg: the Source API renews its Target API token
with the refresh token it got from the exchange, instead of exchanging again.
"""

import pytest
from backend_client import call_source, login, refresh, signing_keys, verify
from demo_tenant import ALICE, BOB, LOGIN_SCOPE, SOURCE_API, TARGET_API
from expectations import assert_invalid_grant
from tenant_admin import Management, exchanges_since, log_marker, logs_since

EMAIL, ALICE_ID = ALICE


# -- first leg: the web app's refresh token ---------------------------------------------


def test_a_refresh_returns_new_tokens_for_the_same_user(stack):
    tokens = login(stack)
    marker = log_marker(stack)

    response = refresh(stack, tokens["refresh_token"])

    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == LOGIN_SCOPE
    assert body["expires_in"] == tokens["expires_in"]
    assert body["access_token"] != tokens["access_token"]
    assert body["refresh_token"] != tokens["refresh_token"]
    keys = signing_keys(stack)
    access = verify(body["access_token"], keys, typ="at+jwt").claims
    assert (access["sub"], access["aud"][0], access["scope"]) == (ALICE_ID, SOURCE_API, LOGIN_SCOPE)
    identity = verify(body["id_token"], keys, typ="JWT").claims
    assert (identity["sub"], identity["aud"]) == (ALICE_ID, "web-app")
    # The new access token is good for step 2.
    me = call_source(stack, "/api/me", body["access_token"])
    assert me.status_code == 200, me.text
    assert me.json()["sub"] == ALICE_ID
    (entry,) = logs_since(stack, marker, type="sertft", user_id=ALICE_ID)
    assert (entry["client_id"], entry["audience"]) == ("web-app", SOURCE_API)


def test_a_rotated_refresh_token_is_refused_and_its_reuse_revokes_the_login(stack):
    tokens = login(stack)
    first = refresh(stack, tokens["refresh_token"])
    assert first.status_code == 200, first.text
    second = refresh(stack, first.json()["refresh_token"])
    assert second.status_code == 200, second.text
    newest = second.json()["refresh_token"]
    marker = log_marker(stack)

    # The original token was rotated: using it again is refused, and detected as reuse.
    assert_invalid_grant(refresh(stack, tokens["refresh_token"]))
    (reuse,) = logs_since(stack, marker, type="ferrt", user_id=ALICE_ID)
    assert reuse["client_id"] == "web-app"

    # Every refresh token of that login is revoked, the newest one too.
    assert_invalid_grant(refresh(stack, newest))


def test_a_refresh_may_ask_for_fewer_scopes(stack):
    tokens = login(stack)

    response = refresh(stack, tokens["refresh_token"], scope="openid read:profile")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["scope"] == "openid read:profile"
    narrow = body["access_token"]
    assert verify(narrow, signing_keys(stack), typ="at+jwt").claims["scope"] == "openid read:profile"
    assert call_source(stack, "/api/me", narrow).status_code == 200
    contacts = call_source(stack, "/api/contacts", narrow)
    assert contacts.status_code == 403, contacts.text
    assert contacts.json()["scope"] == "read:contacts"
    # The new refresh token still holds the login's scope.
    again = refresh(stack, body["refresh_token"])
    assert again.status_code == 200, again.text
    assert again.json()["scope"] == LOGIN_SCOPE


def test_a_refresh_cannot_ask_for_more_scopes(stack):
    tokens = login(stack, scope="openid offline_access read:profile")
    marker = log_marker(stack)

    response = refresh(stack, tokens["refresh_token"], scope="openid offline_access read:profile read:contacts")

    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_scope"
    assert "read:contacts" in response.json()["error_description"]
    assert "access_token" not in response.json()
    (failure,) = logs_since(stack, marker, type="fertft", user_id=ALICE_ID)
    assert failure["client_id"] == "web-app"
    # The refused request did not use the refresh token up.
    granted = refresh(stack, tokens["refresh_token"])
    assert granted.status_code == 200, granted.text
    assert granted.json()["scope"] == "openid offline_access read:profile"


# -- second leg: the Source API's Target API refresh token ------------------------------


@pytest.mark.usefixtures("tenant_as_found")
@pytest.mark.parametrize("user", [ALICE, BOB], ids=["alice", "bob"])
def test_the_source_api_renews_its_target_token_with_its_refresh_token(stack, user):
    email, user_id = user
    # Target API tokens that live 60 s are within the Source API's 60-second renew margin
    # from the moment they are issued: the next call must renew.
    changed = Management(stack).patch("/resource-servers/target-api", {"token_lifetime": 60})
    assert changed["token_lifetime"] == 60
    user_token = login(stack, email)["access_token"]
    marker = log_marker(stack)

    answers = [call_source(stack, "/api/contacts", user_token) for _ in range(3)]

    for response in answers:
        assert response.status_code == 200, response.text
        assert response.json()["owner"] == user_id
    vias = [response.json()["via"] for response in answers]
    assert [via["target_token"] for via in vias] == ["exchange", "refresh", "refresh"]
    for via in vias:
        assert via["expires_at"] - via["obtained_at"] == 60
        assert via["refresh_token"] is True
    # One exchange, then a refresh by the Source API's own client for each renewal; the
    # third call worked, so the Source API kept the rotated refresh token.
    (exchanged,) = exchanges_since(stack, marker, user_id)
    refreshes = logs_since(stack, marker, type="sertft", user_id=user_id)
    assert len(refreshes) == 2, refreshes
    for entry in refreshes:
        assert (entry["client_id"], entry["audience"]) == ("source-api", TARGET_API)
        assert entry["details"]["grant_type"] == "refresh_token"
        assert entry["details"]["issued"]["expires_in"] == 60
        assert entry["details"]["issued"]["scope"] == exchanged["details"]["issued"]["scope"]
    assert not logs_since(stack, marker, type="fertft")
    assert not logs_since(stack, marker, type="ferrt")
