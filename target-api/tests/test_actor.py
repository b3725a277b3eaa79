"""Who acted for the user: a delegated token's ``act`` (RFC 8693 4.1) in the answer, and
TARGET_API_REQUIRE_ACTOR, which accepts delegated tokens only."""

from __future__ import annotations

import pytest
from conftest import ALICE

from target_api import create_app

DELEGATED = {"sub": "source-api", "act": {"sub": "front-api"}}


def test_a_delegated_token_names_the_actor_and_the_chain(client, bearer):
    answer = client.get("/api/contacts", headers=bearer(act=DELEGATED))
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["owner"] == ALICE
    assert body["actor"] == "source-api"
    assert body["actor_chain"] == ["source-api", "front-api"]


def test_an_impersonation_token_names_no_actor(client, bearer):
    body = client.get("/api/contacts", headers=bearer()).get_json()
    assert "actor" not in body
    assert "actor_chain" not in body


@pytest.fixture
def strict(network, settings):
    return create_app(settings.model_copy(update={"require_actor": True})).test_client()


def test_an_actor_can_be_required(strict, bearer):
    refused = strict.get("/api/contacts", headers=bearer())
    assert refused.status_code == 403
    assert refused.get_json()["error"] == "access_denied"
    assert "names no actor" in refused.get_json()["error_description"]
    added = strict.post(
        "/api/contacts",
        headers=bearer(scope="write:contacts"),
        json={"name": "Zoe", "email": "zoe@example.com"},
    )
    assert added.status_code == 403
    assert strict.get("/api/contacts", headers=bearer(act={"sub": "source-api"})).status_code == 200


def test_the_scope_is_checked_before_the_actor(strict):
    assert strict.get("/api/contacts").status_code == 401
