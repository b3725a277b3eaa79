"""target-api: GET/POST /api/contacts for the token's user only, per scope (step 4)."""

from __future__ import annotations

import sqlite3

import pytest
from conftest import ALICE, AUDIENCE, BOB, INTERNAL, SEED, SOURCE_AUDIENCE

from obo_testing import TokenFactory
from target_api import create_app
from target_api.contacts import ContactBook

ALICE_SEED = [
    {"name": "Carol Chen", "email": "carol@example.com"},
    {"name": "Dan Diaz", "email": "dan@example.com"},
    {"name": "Erin Evans", "email": "erin@example.com"},
]
BOB_SEED = [
    {"name": "Frank Fischer", "email": "frank@example.com"},
    {"name": "Grace Gupta", "email": "grace@example.com"},
]
READ_WRITE = "read:contacts write:contacts"


def test_healthz_needs_no_token(client):
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.get_json() == {"status": "ok"}


@pytest.mark.parametrize(("sub", "contacts"), [(ALICE, ALICE_SEED), (BOB, BOB_SEED)])
def test_each_user_sees_only_their_own_contacts(client, bearer, sub, contacts):
    answer = client.get("/api/contacts", headers=bearer(sub=sub))
    assert answer.status_code == 200
    assert answer.get_json() == {"owner": sub, "contacts": contacts}


def test_keys_come_from_the_back_channel_address(client, bearer, network):
    assert client.get("/api/contacts", headers=bearer()).status_code == 200
    assert [call.url for call in network.calls] == [
        INTERNAL + ".well-known/openid-configuration",
        INTERNAL + ".well-known/jwks.json",
    ]


def test_T10_no_token_is_401_with_a_bare_challenge(client):
    answer = client.get("/api/contacts")
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == f'Bearer realm="{AUDIENCE}"'


def test_T29_a_source_api_token_sent_straight_here_is_refused(client, factory):
    token = factory.issue(aud=SOURCE_AUDIENCE, scope="openid read:profile read:contacts")
    answer = client.get("/api/contacts", headers={"Authorization": "Bearer " + token})
    assert answer.status_code == 401
    assert answer.get_json() == {
        "error": "invalid_token",
        "error_description": "The access token was not issued for this API",
    }
    assert 'error="invalid_token"' in answer.headers["WWW-Authenticate"]


def test_T14_a_token_signed_with_a_rotated_key_is_accepted_after_one_refetch(client, bearer, factory, network):
    assert client.get("/api/contacts", headers=bearer()).status_code == 200
    factory.rotate("idp-key-2")
    assert client.get("/api/contacts", headers=bearer()).status_code == 200
    assert len([call for call in network.calls if call.url.endswith("jwks.json")]) == 2


def test_T13_a_token_from_a_key_the_provider_does_not_publish_is_refused(client, factory):
    stranger = TokenFactory(audience=AUDIENCE, scope="read:contacts", kid="idp-key-1")
    answer = client.get("/api/contacts", headers={"Authorization": "Bearer " + stranger.issue(sub=ALICE)})
    assert answer.status_code == 401
    assert answer.get_json()["error_description"] == "The access token signature is invalid"


def test_T30_read_scope_only_cannot_post(client, bearer):
    answer = client.post(
        "/api/contacts", json={"name": "Zoe", "email": "zoe@example.com"}, headers=bearer(scope="read:contacts")
    )
    assert answer.status_code == 403
    assert answer.get_json()["error"] == "insufficient_scope"
    challenge = answer.headers["WWW-Authenticate"]
    assert 'error="insufficient_scope"' in challenge
    assert 'scope="write:contacts"' in challenge


def test_T30_write_scope_only_cannot_read(client, bearer):
    answer = client.get("/api/contacts", headers=bearer(scope="write:contacts"))
    assert answer.status_code == 403
    assert 'scope="read:contacts"' in answer.headers["WWW-Authenticate"]


def test_a_posted_contact_is_listed_afterwards_for_its_owner_only(client, bearer):
    answer = client.post(
        "/api/contacts", json={"name": "  Zoe Zhang ", "email": "zoe@example.com"}, headers=bearer(scope=READ_WRITE)
    )
    assert answer.status_code == 201
    assert answer.get_json() == {"name": "Zoe Zhang", "email": "zoe@example.com"}
    contacts = client.get("/api/contacts", headers=bearer()).get_json()["contacts"]
    assert contacts == [*ALICE_SEED, {"name": "Zoe Zhang", "email": "zoe@example.com"}]
    assert client.get("/api/contacts", headers=bearer(sub=BOB)).get_json()["contacts"] == BOB_SEED


def test_a_posted_contact_survives_a_new_app_on_the_same_database_which_does_not_seed_again(client, bearer, settings):
    new = {"name": "Zoe Zhang", "email": "zoe@example.com"}
    assert client.post("/api/contacts", json=new, headers=bearer(scope=READ_WRITE)).status_code == 201
    restarted = create_app(settings).test_client()  # on the same fake network
    assert restarted.get("/api/contacts", headers=bearer()).get_json()["contacts"] == [*ALICE_SEED, new]
    assert restarted.get("/api/contacts", headers=bearer(sub=BOB)).get_json()["contacts"] == BOB_SEED


def test_the_owner_is_the_token_subject_not_anything_in_the_body(client, bearer):
    answer = client.post(
        "/api/contacts",
        json={"name": "Mallory", "email": "m@example.com", "owner": BOB},
        headers=bearer(scope=READ_WRITE),
    )
    assert answer.status_code == 400
    assert client.get("/api/contacts", headers=bearer(sub=BOB)).get_json()["contacts"] == BOB_SEED


@pytest.mark.parametrize(
    "kwargs",
    [
        {"data": "name=Zoe&email=zoe@example.com", "content_type": "application/x-www-form-urlencoded"},
        {"data": "{not json", "content_type": "application/json"},
        {"data": b"\xff\xfe\x00", "content_type": "application/json"},
        {"data": '{"name": "Zoe", "email": "zoe@example.com"}', "content_type": "text/plain"},
        {"json": None},
        {"json": ["Zoe", "zoe@example.com"]},
        {"json": "Zoe"},
        {"json": {"name": "Zoe"}},
        {"json": {"email": "zoe@example.com"}},
        {"json": {"name": "Zoe", "email": "zoe@example.com", "owner": "someone"}},
        {"json": {"name": "", "email": "zoe@example.com"}},
        {"json": {"name": "   ", "email": "zoe@example.com"}},
        {"json": {"name": "Z" * 101, "email": "zoe@example.com"}},
        {"json": {"name": 42, "email": "zoe@example.com"}},
        {"json": {"name": None, "email": "zoe@example.com"}},
        {"json": {"name": "Zoe", "email": "not-an-email"}},
        {"json": {"name": "Zoe", "email": "zoe@@example.com"}},
        {"json": {"name": "Zoe", "email": "zoe zhang@example.com"}},
        {"json": {"name": "Zoe", "email": "@example.com"}},
        {"json": {"name": "Zoe", "email": ["zoe@example.com"]}},
        {"json": {"name": "Zoe", "email": "z" * 65 + "@example.com"}},
    ],
    ids=[
        "form",
        "broken-json",
        "not-utf8",
        "json-as-text",
        "null",
        "list",
        "string",
        "no-email",
        "no-name",
        "extra-field",
        "empty-name",
        "blank-name",
        "long-name",
        "number-name",
        "null-name",
        "bad-email",
        "double-at",
        "space-in-email",
        "no-local-part",
        "list-email",
        "long-local-part",
    ],
)
def test_garbage_is_400_and_stores_nothing(client, bearer, kwargs):
    answer = client.post("/api/contacts", headers=bearer(scope=READ_WRITE), **kwargs)
    assert answer.status_code == 400
    assert answer.get_json()["error"] == "invalid_request"
    assert client.get("/api/contacts", headers=bearer()).get_json()["contacts"] == ALICE_SEED


def test_an_email_with_a_trailing_newline_is_refused(client, bearer):
    answer = client.post(
        "/api/contacts", json={"name": "Zoe", "email": "zoe@example.com\n"}, headers=bearer(scope=READ_WRITE)
    )
    assert answer.status_code == 400


def test_a_huge_body_is_413_json_and_stores_nothing(client, bearer):
    answer = client.post(
        "/api/contacts",
        json={"name": "Z" * 20_000, "email": "zoe@example.com"},
        headers=bearer(scope=READ_WRITE),
    )
    assert answer.status_code == 413
    assert answer.is_json
    assert answer.get_json()["error"] == "request_entity_too_large"
    assert client.get("/api/contacts", headers=bearer()).get_json()["contacts"] == ALICE_SEED


def test_a_huge_body_without_a_token_is_401_not_read(client):
    answer = client.post("/api/contacts", data="x" * 20_000, content_type="application/json")
    assert answer.status_code == 401


def test_sql_in_a_contact_is_stored_as_text(client, bearer):
    new = {"name": "Robert'); DROP TABLE contacts;--", "email": "bobby@example.com"}
    assert client.post("/api/contacts", json=new, headers=bearer(scope=READ_WRITE)).status_code == 201
    assert client.get("/api/contacts", headers=bearer()).get_json()["contacts"][-1] == new


def test_the_request_id_is_echoed(client, bearer):
    answer = client.get("/api/contacts", headers={**bearer(), "X-Request-Id": "req-target-1"})
    assert answer.headers["X-Request-Id"] == "req-target-1"


def test_an_unknown_path_is_a_json_404(client):
    answer = client.get("/api/nothing")
    assert answer.status_code == 404
    assert answer.is_json


def test_a_user_never_seen_gets_sample_contacts_marked_as_such_and_kept(client, bearer, settings, network):
    stranger = "google-oauth2|1234567890"  # a user of another provider than the demo tenant's
    first = client.get("/api/contacts", headers=bearer(sub=stranger)).get_json()["contacts"]

    assert len(first) == 3
    assert all(contact["sample"] is True and contact["email"].endswith("@sample.example.com") for contact in first)
    assert client.get("/api/contacts", headers=bearer(sub=stranger)).get_json()["contacts"] == first
    restarted = create_app(settings).test_client()
    assert restarted.get("/api/contacts", headers=bearer(sub=stranger)).get_json()["contacts"] == first
    assert client.get("/api/contacts", headers=bearer(sub="auth0|someone-else")).get_json()["contacts"] != first


def test_sample_contacts_sit_beside_the_users_own_and_seeded_users_get_none(client, bearer):
    stranger = "auth0|new"
    client.get("/api/contacts", headers=bearer(sub=stranger))
    zoe = {"name": "Zoe", "email": "zoe@example.com"}
    added = client.post("/api/contacts", json=zoe, headers=bearer(sub=stranger, scope=READ_WRITE))
    assert added.status_code == 201
    contacts = client.get("/api/contacts", headers=bearer(sub=stranger)).get_json()["contacts"]
    assert [c.get("sample", False) for c in contacts] == [True, True, True, False]
    assert not any("sample" in c for c in client.get("/api/contacts", headers=bearer()).get_json()["contacts"])


def test_a_database_kept_from_before_samples_keeps_its_contacts_and_its_users(tmp_path):
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE contacts (id INTEGER PRIMARY KEY AUTOINCREMENT, owner TEXT NOT NULL, name TEXT NOT NULL,"
            " email TEXT NOT NULL); CREATE TABLE seeded (done INTEGER PRIMARY KEY); INSERT INTO seeded VALUES (1);"
            " INSERT INTO contacts (owner, name, email) VALUES ('auth0|kept', 'Kim Kent', 'kim@example.com');"
        )
    book = ContactBook(path, SEED)
    assert book.of("auth0|kept") == [{"name": "Kim Kent", "email": "kim@example.com"}]
    assert all(contact["sample"] for contact in book.of("auth0|new"))
