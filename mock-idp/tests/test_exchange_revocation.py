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


def test_T39_a_login_revoked_while_the_exchange_runs_leaves_nothing_of_the_new_grant(flows, monkeypatch):
    # The login is revoked after the exchange checked it and before its grant is stored:
    # the new grant, its link and its refresh token are stored with the success entry, in
    # one transaction that finds the login revoked, so none of them is stored or answered.
    tokens = flows.login_tokens()
    storage = flows.app.extensions["mock_idp"].storage
    assert flows.backend.post("/oauth/revoke", data={"token": tokens["refresh_token"], **WEB_APP}).status_code == 200
    monkeypatch.setattr(type(storage), "grant_revoked", lambda self, family_id: False)  # the check ran before
    refresh_tokens = storage.query("SELECT COUNT(*) AS n FROM refresh_tokens")[0]["n"]

    response = flows.exchange(tokens["access_token"], scope="offline_access read:contacts")

    assert response.status_code == 400, response.json
    assert response.json == {"error": "invalid_request", "error_description": REVOKED}
    log = flows.last_log()
    assert (log["type"], log["details"]["reason"]) == (FAILED, "subject_grant_revoked")
    assert flows.logs("success_on_behalf_of_token_exchange") == []
    assert storage.query("SELECT COUNT(*) AS n FROM derived_grants")[0]["n"] == 0
    assert storage.query("SELECT COUNT(*) AS n FROM refresh_tokens")[0]["n"] == refresh_tokens


def test_an_exchange_stores_its_grant_and_its_log_entry_with_one_commit(flows):
    tokens = flows.login_tokens()
    connection = flows.app.extensions["mock_idp"].storage._connection()
    statements: list[str] = []
    connection.set_trace_callback(statements.append)
    try:
        exchanged = flows.exchange(tokens["access_token"], scope="offline_access read:contacts")
    finally:
        connection.set_trace_callback(None)
    assert exchanged.status_code == 200, exchanged.json
    writes = [sql.split(" (")[0] for sql in statements if sql.startswith(("BEGIN", "COMMIT", "INSERT"))]
    assert writes == [
        "INSERT INTO rate_limits",  # counted before the checks, on its own (T28)
        "BEGIN IMMEDIATE",
        "INSERT OR IGNORE INTO derived_grants",
        "INSERT INTO refresh_tokens",
        "INSERT INTO logs",
        "COMMIT",
    ]
