"""State mock-idp keeps in SQLite: shared by its gunicorn workers and kept across restarts.

The tenant log is read through the Management API (GET /api/v2/logs).
"""

import threading

import requests
from backend_client import fetch_jwks, login_tokens, refresh, signing_keys, verify
from demo_tenant import BOB
from expectations import assert_invalid_grant

EMAIL, BOB_ID = BOB


def reuse_entries(management) -> dict[str, dict]:
    """Bob's "Refresh Token Reuse Detected" entries for the web app, by log id."""
    entries = management.logs(type="ferrt", client_id="web-app", user_id=BOB_ID)
    for entry in entries:
        assert (entry["type"], entry["client_id"], entry["user_id"]) == ("ferrt", "web-app", BOB_ID)
    return {entry["log_id"]: entry for entry in entries}


# -- shared by the workers -------------------------------------------------------------


def test_refresh_token_keeps_rotating_on_fresh_connections(stack):
    # Each request is a new TCP connection, so either worker may answer it: each must
    # know what the other rotated.
    tokens, _ = login_tokens(stack, requests.Session(), EMAIL)
    keys = signing_keys(stack)
    seen = {tokens["refresh_token"]}
    current = tokens["refresh_token"]
    for _ in range(12):
        response = refresh(stack, current)
        assert response.status_code == 200, response.text
        current = response.json()["refresh_token"]
        assert current not in seen
        seen.add(current)
        assert verify(response.json()["access_token"], keys, typ="at+jwt").claims["sub"] == BOB_ID


def test_reuse_of_a_rotated_token_is_detected_and_logged(stack, management):
    tokens, _ = login_tokens(stack, requests.Session(), EMAIL)
    chain = [tokens["refresh_token"]]
    for _ in range(4):
        response = refresh(stack, chain[-1])
        assert response.status_code == 200, response.text
        chain.append(response.json()["refresh_token"])
    before = reuse_entries(management)

    assert_invalid_grant(refresh(stack, chain[1]))

    # Reuse revokes the whole login, including its newest token, for every worker.
    assert_invalid_grant(refresh(stack, chain[-1]))
    assert len(reuse_entries(management).keys() - before.keys()) == 1


def test_concurrent_uses_of_one_refresh_token_let_exactly_one_through(stack, management):
    tokens, _ = login_tokens(stack, requests.Session(), EMAIL)
    before = reuse_entries(management)
    attempts = 6  # fewer than the 2 workers x 4 threads, so all are handled at once
    start = threading.Barrier(attempts)
    responses = [None] * attempts

    def use(index):
        start.wait()
        responses[index] = refresh(stack, tokens["refresh_token"])

    threads = [threading.Thread(target=use, args=(i,)) for i in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    refused = [response for response in responses if response.status_code != 200]
    assert len(refused) == attempts - 1, [response.text for response in responses]
    for response in refused:
        assert_invalid_grant(response)
    assert reuse_entries(management).keys() - before.keys()


# -- kept across a restart -------------------------------------------------------------


def test_tokens_keys_consent_session_and_logs_survive_a_restart(stack, management, restart_mock_idp):
    browser = requests.Session()
    # prompt=consent: Bob consents in this test, whichever test logged him in before.
    tokens, first = login_tokens(stack, browser, EMAIL, prompt="consent")
    assert first.pages == ["login", "consent"]
    jwks_uri = stack.jwks_uri
    kids = {key.kid for key in fetch_jwks(jwks_uri).keys}
    logs = {entry["log_id"]: entry for entry in management.logs()}
    assert any((e["type"], e["user_id"]) == ("seacft", BOB_ID) for e in logs.values())

    restart_mock_idp()

    response = refresh(stack, tokens["refresh_token"])
    assert response.status_code == 200, response.text
    keys = fetch_jwks(jwks_uri)
    assert {key.kid for key in keys.keys} == kids
    assert verify(tokens["access_token"], keys, typ="at+jwt").claims["sub"] == BOB_ID

    # A new browser must log in again, but the consent given before is remembered.
    _, fresh = login_tokens(stack, requests.Session(), EMAIL)
    assert fresh.pages == ["login"]
    # The old browser's login session survives too: its signing secret is stored.
    _, same = login_tokens(stack, browser, EMAIL)
    assert same.pages == []

    # The management token was signed before the restart: the keys survived too.
    after = {entry["log_id"]: entry for entry in management.logs()}
    assert {log_id: after.get(log_id) for log_id in logs} == logs
