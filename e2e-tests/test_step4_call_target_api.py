"""Step 4: the Source API calls the Target API with the exchanged token.

The Target API takes only tokens issued for itself, answers with the contacts of the
token's user, and enforces each endpoint's scope.
"""

import pytest
from backend_client import call_source, call_target, exchange, login
from demo_tenant import ALICE, BOB, LOGIN_SCOPE, TARGET_API
from tenant_admin import Management

# Seeded from target-api/contacts.yaml; tests may add contacts, never remove them.
SEEDED = {
    ALICE[1]: {"carol@example.com", "dan@example.com", "erin@example.com"},
    BOB[1]: {"frank@example.com", "grace@example.com"},
}
TARGET_REALM = f'realm="{TARGET_API}"'
WRITER_SCOPE = LOGIN_SCOPE + " write:contacts"  # what POST /api/contacts at the Source API needs


def exchanged_token(stack, user_token: str, scope: str = "read:contacts") -> str:
    response = exchange(stack, user_token, scope=scope)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def emails(body: dict) -> set[str]:
    return {contact["email"] for contact in body["contacts"]}


def test_the_source_api_answers_with_each_users_own_contacts(stack):
    answers = {}
    for email, user_id in (ALICE, BOB):
        response = call_source(stack, "/api/contacts", login(stack, email)["access_token"])
        assert response.status_code == 200, response.text
        answers[user_id] = response.json()

    for user_id, body in answers.items():
        assert body["owner"] == user_id
        assert emails(body) >= SEEDED[user_id]
        assert all(contact.keys() == {"name", "email"} for contact in body["contacts"])
    assert not emails(answers[ALICE[1]]) & SEEDED[BOB[1]]
    assert not emails(answers[BOB[1]]) & SEEDED[ALICE[1]]


def test_the_source_api_passes_on_what_the_target_api_answers_for_the_user(stack):
    tokens = login(stack, BOB[0])

    through_source = call_source(stack, "/api/contacts", tokens["access_token"])
    direct = call_target(stack, "/api/contacts", exchanged_token(stack, tokens["access_token"]))

    assert through_source.status_code == direct.status_code == 200, (through_source.text, direct.text)
    body = through_source.json()
    assert body.pop("via")["audience"] == TARGET_API
    assert body == direct.json()


def test_the_target_api_refuses_the_users_source_api_token(stack):
    tokens = login(stack)

    response = call_target(stack, "/api/contacts", tokens["access_token"])

    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_token"
    assert "not issued for this API" in response.json()["error_description"]
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith(f'Bearer {TARGET_REALM}, error="invalid_token"'), challenge


def test_the_target_api_refuses_a_call_without_a_token(stack):
    response = call_target(stack, "/api/contacts", None)

    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"] == f"Bearer {TARGET_REALM}"


@pytest.mark.parametrize("user", [ALICE, BOB], ids=["alice", "bob"])
def test_the_target_api_accepts_an_exchanged_token_and_answers_for_its_user(stack, user):
    email, user_id = user
    token = exchanged_token(stack, login(stack, email)["access_token"])

    response = call_target(stack, "/api/contacts", token)

    assert response.status_code == 200, response.text
    assert response.json()["owner"] == user_id
    assert emails(response.json()) >= SEEDED[user_id]


def test_the_target_api_refuses_to_write_with_a_read_only_token(stack):
    token = exchanged_token(stack, login(stack)["access_token"])
    contact = {"name": "Read Only", "email": "read-only@example.com"}

    response = call_target(stack, "/api/contacts", token, method="POST", json=contact)

    assert response.status_code == 403, response.text
    assert response.json()["error"] == "insufficient_scope"
    assert response.json()["scope"] == "write:contacts"
    assert response.headers["WWW-Authenticate"].endswith('scope="write:contacts"')
    listed = call_target(stack, "/api/contacts", token)
    assert contact["email"] not in emails(listed.json())


def test_the_source_api_passes_up_the_target_apis_insufficient_scope(stack):
    # The login grants the Source API's write:contacts, but the Source API's exchanged
    # token carries read:contacts only (the pairing's scope).
    tokens = login(stack, scope=WRITER_SCOPE)
    contact = {"name": "Through Source", "email": "through-source@example.com"}

    response = call_source(stack, "/api/contacts", tokens["access_token"], method="POST", json=contact)

    assert response.status_code == 403, response.text
    assert response.json()["error"] == "insufficient_scope"
    assert response.json()["scope"] == "write:contacts"
    assert response.headers["WWW-Authenticate"].endswith('scope="write:contacts"')
    listed = call_source(stack, "/api/contacts", tokens["access_token"])
    assert contact["email"] not in emails(listed.json())


@pytest.mark.usefixtures("tenant_as_found")
def test_with_write_contacts_the_target_api_gets_past_the_scope_check(stack):
    Management(stack).patch("/api-pairings/source-api:target-api", {"scopes": ["read:contacts", "write:contacts"]})
    token = exchanged_token(stack, login(stack)["access_token"], scope="read:contacts write:contacts")

    # An invalid contact: the scope check passes, the body check refuses, nothing is stored.
    response = call_target(stack, "/api/contacts", token, method="POST", json={"name": "No Email"})

    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"
