"""Step 5: refresh with rotation, reuse detection and down-scoping (T06, T17, T33-T36)."""

import pytest

from mock_idp import clock
from mock_idp.tokens import digest

from .conftest import client_named
from .flows import ALICE_ID, SOURCE_API, SOURCE_CLIENT, WEB_APP, Flows


@pytest.fixture
def login(flows):
    return flows.login_tokens()


def test_refresh_rotates_and_returns_new_tokens(flows, login):
    response = flows.refresh(login["refresh_token"])

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json
    assert body["refresh_token"] != login["refresh_token"]
    assert body["scope"] == login["scope"]
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 86400
    identity = flows.claims(body["id_token"], typ="JWT")
    assert identity["sub"] == ALICE_ID
    assert "nonce" not in identity
    assert flows.claims(body["access_token"])["aud"][0] == SOURCE_API
    log = flows.last_log()
    assert (log["type"], log["user_id"], log["client_id"]) == ("sertft", ALICE_ID, "web-app")

    again = flows.refresh(body["refresh_token"])
    assert again.status_code == 200


def test_down_scoping_narrows_the_access_token_but_not_the_refresh_token(flows, login):
    narrow = flows.refresh(login["refresh_token"], scope="openid read:profile")
    assert narrow.status_code == 200
    assert narrow.json["scope"] == "openid read:profile"
    assert flows.claims(narrow.json["access_token"])["scope"] == "openid read:profile"

    full = flows.refresh(narrow.json["refresh_token"])
    assert full.json["scope"] == login["scope"]


def test_non_rotating_client_keeps_its_refresh_token(make_app):
    flows = Flows(
        make_app(lambda doc: client_named(doc, "web-app")["refresh_token"].update(rotation_type="non-rotating"))
    )
    token = flows.login_tokens()["refresh_token"]
    first = flows.refresh(token)
    assert first.status_code == 200
    assert "refresh_token" not in first.json
    assert flows.refresh(token).status_code == 200


def test_T06_refresh_token_grant_not_enabled(make_app):
    flows = Flows(make_app(lambda doc: client_named(doc, "web-app").update(grant_types=["authorization_code"])))
    body = flows.login_tokens()
    assert "refresh_token" not in body
    response = flows.refresh("anything")
    assert response.status_code == 403
    assert response.json == {
        "error": "unauthorized_client",
        "error_description": "Grant type 'refresh_token' not allowed for the client.",
    }
    assert flows.last_log()["type"] == "fertft"


def test_T06_source_api_client_without_refresh_token_grant(make_app):
    flows = Flows(make_app(lambda doc: client_named(doc, "source-api").update(grant_types=[])))
    response = flows.refresh("anything", client=SOURCE_CLIENT)
    assert response.status_code == 403
    assert response.json["error"] == "unauthorized_client"


def test_T17_wrong_client_secret_on_refresh(flows, login):
    response = flows.refresh(login["refresh_token"], client={"client_id": "web-app", "client_secret": "nope-nope"})
    assert response.status_code == 401
    assert response.json == {"error": "access_denied", "error_description": "Unauthorized"}
    assert flows.last_log()["type"] == "fertft"


@pytest.mark.parametrize("token", ["unknown-token", ""])
def test_T33_unknown_refresh_token(flows, token):
    response = flows.refresh(token)
    assert response.status_code == 403
    assert response.json == {
        "error": "invalid_grant",
        "error_description": "Unknown or invalid refresh token.",
    }
    assert flows.last_log()["type"] == "fertft"


def test_missing_refresh_token_parameter(flows):
    response = flows.backend.post("/oauth/token", data={"grant_type": "refresh_token", **WEB_APP})
    assert response.status_code == 400
    assert response.json["error"] == "invalid_request"


def test_T33_revoked_refresh_token(flows, login):
    revoked = flows.backend.post(
        "/oauth/revoke",
        data={"token": login["refresh_token"], "client_id": "web-app", "client_secret": "web-app-secret"},
    )
    assert revoked.status_code == 200
    assert flows.last_log()["type"] == "srrt"
    response = flows.refresh(login["refresh_token"])
    assert response.status_code == 403
    assert response.json["error_description"] == "Unknown or invalid refresh token."


def test_T33_expired_refresh_token(flows, login, clock_at):
    clock_at(2592000 + 60)
    response = flows.refresh(login["refresh_token"])
    assert response.status_code == 403
    assert response.json["error_description"] == "Unknown or invalid refresh token."


def test_T34_reuse_of_a_rotated_token_revokes_the_family(flows, login):
    rotated = flows.refresh(login["refresh_token"]).json["refresh_token"]

    reuse = flows.refresh(login["refresh_token"])
    assert reuse.status_code == 403
    assert reuse.json["error"] == "invalid_grant"
    log = flows.last_log()
    assert (log["type"], log["user_id"]) == ("ferrt", ALICE_ID)

    # The newest token of that login is revoked too.
    assert flows.refresh(rotated).status_code == 403


def test_T34_reuse_does_not_touch_other_logins(flows, login):
    other = flows.login_tokens()["refresh_token"]
    flows.refresh(login["refresh_token"])
    flows.refresh(login["refresh_token"])
    assert flows.refresh(other).status_code == 200


def test_T35_refresh_token_of_another_client(flows, login):
    response = flows.refresh(login["refresh_token"], client=SOURCE_CLIENT)
    assert response.status_code == 403
    assert response.json["error"] == "invalid_grant"
    assert flows.last_log()["type"] == "fertft"
    assert flows.refresh(login["refresh_token"]).status_code == 200


def test_T35_target_refresh_token_used_by_the_application(flows, login):
    target = flows.exchange(login["access_token"], scope="offline_access read:contacts").json
    response = flows.refresh(target["refresh_token"])
    assert response.status_code == 403
    assert response.json["error"] == "invalid_grant"


def test_T36_refresh_asking_for_more_scope(flows):
    token = flows.login_tokens(scope="openid offline_access read:profile")["refresh_token"]
    response = flows.refresh(token, scope="openid read:profile read:contacts")
    assert response.status_code == 400
    assert response.json["error"] == "invalid_scope"
    assert "read:contacts" in response.json["error_description"]
    assert flows.last_log()["type"] == "fertft"
    assert flows.refresh(token).status_code == 200


def test_a_token_written_after_its_family_was_revoked_is_born_revoked(flows, login):
    # The interleaving of a reuse race: the loser revokes the family before the winner
    # has written the token it rotated to.
    storage = flows.app.extensions["mock_idp"].storage
    family = storage.refresh_token(digest(login["refresh_token"]))["family_id"]
    storage.revoke_family(family, clock.now())
    row = dict(storage.refresh_token(digest(login["refresh_token"])))
    row.update(token_hash="late-winner", revoked_at=None, rotated_at=None)
    storage.save_refresh_token(**row)
    assert storage.refresh_token("late-winner")["revoked_at"] is not None


def test_a_token_written_after_its_code_was_replayed_is_born_revoked(flows):
    code, verifier, _ = flows.authorization_code()
    storage = flows.app.extensions["mock_idp"].storage
    storage.revoke_tokens_of_code(digest(code), clock.now())
    body = flows.redeem(code, verifier).json
    assert flows.refresh(body["refresh_token"]).status_code == 403
