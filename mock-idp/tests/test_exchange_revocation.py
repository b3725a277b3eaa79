"""Revoking a login reaches what was exchanged from it (T39, RFC 7009 2.1, RFC 9700 4.14.2)."""

import pytest

from .flows import SOURCE_CLIENT, WEB_APP

FAILED = "failed_on_behalf_of_token_exchange"
REVOKED = "subject_token revoked: the login it belongs to was revoked (logout or refresh token reuse)"


@pytest.fixture
def login(flows):
    tokens = flows.login_tokens()
    exchanged = flows.exchange(tokens["access_token"], scope="offline_access read:contacts").json
    assert "refresh_token" in exchanged
    return tokens, exchanged


def assert_cut_off(flows, tokens, exchanged):
    again = flows.exchange(tokens["access_token"])
    assert again.status_code == 400, again.json
    assert again.json == {"error": "invalid_request", "error_description": REVOKED}
    log = flows.last_log()
    assert (log["type"], log["details"]["reason"]) == (FAILED, "subject_grant_revoked")
    refreshed = flows.refresh(exchanged["refresh_token"], client=SOURCE_CLIENT)
    assert refreshed.status_code == 403, refreshed.json
    assert refreshed.json["error"] == "invalid_grant"


def test_access_tokens_name_their_grant(flows, login):
    tokens, exchanged = login
    grant = flows.claims(tokens["access_token"])["grant_id"]
    assert flows.claims(flows.refresh(tokens["refresh_token"]).json["access_token"])["grant_id"] == grant
    assert flows.claims(exchanged["access_token"])["grant_id"] != grant


def test_T39_revoking_the_login_revokes_what_was_exchanged(flows, login):
    tokens, exchanged = login
    response = flows.backend.post("/oauth/revoke", data={"token": tokens["refresh_token"], **WEB_APP})
    assert response.status_code == 200
    revocation = flows.logs("srrt")[0]
    assert revocation["details"]["derived_grants_revoked"] == 1
    assert_cut_off(flows, tokens, exchanged)


def test_T39_refresh_token_reuse_revokes_what_was_exchanged(flows, login):
    tokens, exchanged = login
    assert flows.refresh(tokens["refresh_token"]).status_code == 200
    assert flows.refresh(tokens["refresh_token"]).json["error"] == "invalid_grant"
    assert_cut_off(flows, tokens, exchanged)


def test_an_exchange_of_another_login_is_untouched(flows, login):
    tokens, _ = login
    other = flows.login_tokens()
    kept = flows.exchange(other["access_token"], scope="offline_access read:contacts").json
    flows.backend.post("/oauth/revoke", data={"token": tokens["refresh_token"], **WEB_APP})
    assert flows.exchange(other["access_token"]).status_code == 200
    assert flows.refresh(kept["refresh_token"], client=SOURCE_CLIENT).status_code == 200
