"""Logout: revoking a login's grant ends the login session it came from, and a GET to
/v2/logout ends a live session at once only with a valid id_token_hint; otherwise the
person confirms in a form with a CSRF token."""

from __future__ import annotations

import sqlite3

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from mock_idp.storage import Storage

from .flows import ALICE_ID, ISSUER, WEB_APP, Flows, query_of

RETURN_TO = "http://localhost:3000/"
BOB = "bob@example.com"


def _silent(flows, client=None):
    params, _ = flows.authorize_params(prompt="none")
    return query_of((client or flows.browser).get("/authorize", query_string=params).location)


def _revoke(flows, refresh_token):
    response = flows.backend.post("/oauth/revoke", data={"token": refresh_token, **WEB_APP})
    assert response.status_code == 200, response.text


def _logouts(flows) -> int:
    return len(flows.logs("slo"))


# -- revoking the grant ends the login session -------------------------------------------


def test_revoking_the_login_refresh_token_ends_its_login_session(flows):
    tokens = flows.login_tokens()
    cookie = flows.browser.get_cookie("idp_session")
    copy = flows.app.test_client()
    copy.set_cookie("idp_session", cookie.value, domain=cookie.domain)
    assert "code" in _silent(flows)

    _revoke(flows, tokens["refresh_token"])

    assert _silent(flows).get("error") == "login_required"
    assert _silent(flows, copy).get("error") == "login_required"  # every copy of the cookie


def test_refresh_token_reuse_ends_the_login_session(flows):
    first = flows.login_tokens()["refresh_token"]
    assert flows.refresh(first).status_code == 200
    assert flows.refresh(first).status_code == 403  # reuse (T34): the family is revoked
    assert _silent(flows).get("error") == "login_required"


def test_revoking_another_sessions_grant_leaves_this_session(flows, app):
    other = Flows(app)
    _revoke(other, other.login_tokens()["refresh_token"])
    flows.login_tokens()
    assert _silent(other).get("error") == "login_required"
    assert "code" in _silent(flows)


def test_after_the_grant_is_revoked_a_logout_returns_at_once(flows):
    _revoke(flows, flows.login_tokens()["refresh_token"])
    before = _logouts(flows)
    response = flows.browser.get(
        "/v2/logout", query_string={"client_id": "web-app", "post_logout_redirect_uri": RETURN_TO}
    )
    assert response.status_code == 302, response.text
    assert response.location == RETURN_TO
    assert _logouts(flows) == before + 1
    assert flows.last_log()["user_id"] == ALICE_ID  # the log still says whose session it was
    assert flows.browser.get_cookie("idp_session") is None  # the cookie is cleared


def test_without_a_session_a_logout_returns_at_once(flows):
    response = flows.browser.get("/v2/logout", query_string={"client_id": "web-app", "returnTo": RETURN_TO})
    assert response.status_code == 302
    assert response.location == RETURN_TO


# -- a live session and no valid hint: the person is asked ----------------------------


def test_a_get_with_a_live_session_and_no_hint_asks_and_keeps_the_session(flows):
    flows.authorization_code()
    before = _logouts(flows)
    page = flows.browser.get("/v2/logout", query_string={"client_id": "web-app", "returnTo": RETURN_TO})
    assert page.status_code == 200
    assert "Location" not in page.headers
    assert "Log out of On-Behalf-Of Demo?" in page.text
    assert "Web App" in page.text
    assert 'method="post"' in page.text
    assert 'name="csrf_token"' in page.text
    assert "code" in _silent(flows)
    assert _logouts(flows) == before


def test_confirming_with_the_csrf_token_ends_the_session_and_returns(flows):
    flows.authorization_code()
    page = flows.browser.get("/v2/logout", query_string={"client_id": "web-app", "returnTo": RETURN_TO, "state": "s&1"})
    response = flows.confirm_logout(page)
    assert response.status_code == 302, response.text
    assert response.location == RETURN_TO + "?state=s%261"
    assert (flows.last_log()["type"], flows.last_log()["user_id"]) == ("slo", ALICE_ID)
    assert _silent(flows).get("error") == "login_required"


def test_confirming_without_the_csrf_token_is_refused_and_keeps_the_session(flows):
    flows.authorization_code()
    page = flows.browser.get("/v2/logout", query_string={"client_id": "web-app", "returnTo": RETURN_TO})
    response = flows.confirm_logout(page, csrf=False)
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "code" in _silent(flows)


def test_a_cross_site_post_without_the_form_is_refused(flows):
    flows.authorization_code()
    response = flows.browser.post("/v2/logout", data={"decision": "logout", "return_to": RETURN_TO})
    assert response.status_code == 400
    assert "code" in _silent(flows)


def test_cancelling_keeps_the_session(flows):
    flows.authorization_code()
    page = flows.browser.get("/v2/logout", query_string={"client_id": "web-app", "returnTo": RETURN_TO})
    response = flows.confirm_logout(page, decision="cancel")
    assert response.status_code == 200
    assert "still logged in" in response.text
    assert "code" in _silent(flows)


def test_a_confirmed_logout_never_redirects_to_an_unlisted_url(flows):
    flows.authorization_code()
    page = flows.browser.get("/v2/logout", query_string={"client_id": "web-app", "returnTo": "http://evil.example/"})
    response = flows.confirm_logout(page)
    assert response.status_code == 400
    assert "Location" not in response.headers


# -- id_token_hint ------------------------------------------------------------------------


def test_a_valid_hint_logs_out_at_once(flows):
    id_token = flows.login_tokens()["id_token"]
    response = flows.browser.get("/v2/logout", query_string={"id_token_hint": id_token, "returnTo": RETURN_TO})
    assert response.status_code == 302
    assert _silent(flows).get("error") == "login_required"


def test_an_expired_hint_still_logs_out_at_once(flows, clock_at):
    id_token = flows.login_tokens()["id_token"]
    clock_at(flows.claims(id_token, typ="JWT")["exp"] - flows.claims(id_token, typ="JWT")["iat"] + 60)
    response = flows.browser.get("/v2/logout", query_string={"id_token_hint": id_token, "returnTo": RETURN_TO})
    assert response.status_code == 302
    assert _silent(flows).get("error") == "login_required"


def _forged(flows, id_token: str) -> str:
    claims = flows.claims(id_token, typ="JWT")
    kid = jwt.decode(id_token, flows.app.extensions["mock_idp"].keys.published()).header["kid"]
    return jwt.encode({"alg": "RS256", "typ": "JWT", "kid": kid}, claims, RSAKey.generate_key(2048))


def _other_users_id_token(app) -> str:
    return Flows(app).login_tokens(BOB)["id_token"]


def _access_token_hint(flows, tokens) -> str:
    return tokens["access_token"]


@pytest.mark.parametrize(
    ("hint", "query"),
    [
        pytest.param(lambda flows, tokens: _forged(flows, tokens["id_token"]), {}, id="forged-signature"),
        pytest.param(lambda flows, tokens: _other_users_id_token(flows.app), {}, id="other-user"),
        pytest.param(lambda flows, tokens: tokens["id_token"], {"client_id": "source-api"}, id="other-client"),
        pytest.param(_access_token_hint, {}, id="access-token"),
        pytest.param(lambda flows, tokens: "not-a-jwt", {}, id="garbage"),
    ],
)
def test_an_invalid_hint_gets_the_confirmation(flows, hint, query):
    tokens = flows.login_tokens()
    page = flows.browser.get("/v2/logout", query_string={"id_token_hint": hint(flows, tokens), **query})
    assert page.status_code == 200
    assert "Log out of" in page.text
    assert "code" in _silent(flows)


def test_a_hint_of_another_issuer_gets_the_confirmation(flows, app):
    tokens = flows.login_tokens()
    claims = {**flows.claims(tokens["id_token"], typ="JWT"), "iss": "https://elsewhere.example/"}
    key = app.extensions["mock_idp"].keys.current()
    hint = jwt.encode({"alg": "RS256", "typ": "JWT", "kid": key.kid}, claims, key)
    page = flows.browser.get("/v2/logout", query_string={"id_token_hint": hint})
    assert "Log out of" in page.text
    assert "code" in _silent(flows)


# -- data from before ---------------------------------------------------------------------


def test_a_database_from_before_gets_the_login_session_column(tmp_path):
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE authorization_codes (code_hash TEXT PRIMARY KEY, client_id TEXT NOT NULL, "
            "user_id TEXT NOT NULL, redirect_uri TEXT NOT NULL, scope TEXT NOT NULL, audience TEXT, nonce TEXT, "
            "code_challenge TEXT, code_challenge_method TEXT, auth_time INTEGER NOT NULL, "
            "created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, used_at INTEGER, revoked_at INTEGER)"
        )
        db.execute(
            "INSERT INTO authorization_codes (code_hash, client_id, user_id, redirect_uri, scope, auth_time, "
            "created_at, expires_at) VALUES ('old', 'web-app', ?, ?, 'openid', 1, 1, 2)",
            (ALICE_ID, ISSUER),
        )
    storage = Storage(path)
    Storage(path)  # opening it again changes nothing
    row, _ = storage.use_code("old", 3)
    assert row is not None
    assert row["login_session_id"] is None


def test_an_oversized_logout_post_gets_a_page_and_keeps_the_session(flows):
    flows.authorization_code()
    response = flows.browser.post("/v2/logout", data=b"a" * 70_000, content_type="text/plain")
    assert response.status_code == 413
    assert response.content_type.startswith("text/html")
    assert "code" in _silent(flows)


@pytest.mark.parametrize("body", [b"[" * 5000 + b"]" * 5000, b"[1, 2]", b'"logout"'])
def test_a_json_logout_post_is_refused_and_keeps_the_session(flows, body):
    flows.authorization_code()
    response = flows.browser.post("/v2/logout", data=body, content_type="application/json")
    assert response.status_code == 400
    assert "code" in _silent(flows)
