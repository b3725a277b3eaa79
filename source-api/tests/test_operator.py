"""DELETE /operator/target-token-cache: the demo panel's reset of the Target API token cache."""

from __future__ import annotations

import pytest
from conftest import ALICE, TARGET_URL, grants

from source_api import create_app

CACHE = "/operator/target-token-cache"
OPERATOR = {"Authorization": "Bearer demo-operator-secret"}


@pytest.fixture
def target(network):
    network.route("GET", TARGET_URL + "/api/contacts", lambda call: (200, {"owner": ALICE, "contacts": []}))
    return network


def contacts(client, token):
    return client.get("/api/contacts", headers={"Authorization": f"Bearer {token}"})


def test_the_cache_is_forgotten_and_the_next_call_exchanges_again(client, factory, target):
    token = factory.issue(sub=ALICE)
    contacts(client, token)
    contacts(client, factory.issue(sub="someone-else"))
    answer = client.delete(CACHE, headers=OPERATOR)
    assert answer.status_code == 200
    assert answer.get_json() == {"forgotten": 2}
    assert contacts(client, token).get_json()["via"]["target_token"] == "exchange"
    assert grants(target) == ["exchange", "exchange", "exchange"]
    assert client.delete(CACHE, headers=OPERATOR).get_json() == {"forgotten": 1}


def test_a_kid_the_jwks_cache_missed_is_looked_for_again(app, client):
    jwks = app.extensions["source_api"].jwks
    jwks._misses["brought-back-by-a-keys-reset"] = 0.0
    client.delete(CACHE, headers=OPERATOR)
    assert jwks._misses == {}


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong-secret"}, {"Authorization": "Basic ZGVtbzpkZW1v"}]
)
def test_without_the_operator_secret_it_is_401_and_nothing_is_forgotten(client, factory, target, headers):
    token = factory.issue(sub=ALICE)
    contacts(client, token)
    answer = client.delete(CACHE, headers=headers)
    assert answer.status_code == 401
    assert answer.get_json()["error"] == "unauthorized"
    assert contacts(client, token).get_json()["via"]["target_token"] == "cache"


def test_the_secret_is_the_configured_one(settings, network):
    client = create_app(settings.model_copy(update={"operator_secret": "workshop-2"})).test_client()
    assert client.delete(CACHE, headers=OPERATOR).status_code == 401
    assert client.delete(CACHE, headers={"Authorization": "Bearer workshop-2"}).get_json() == {"forgotten": 0}


def test_with_the_demo_tools_off_it_is_404(settings, network):
    client = create_app(settings.model_copy(update={"demo_tools": "off"})).test_client()
    assert client.delete(CACHE, headers=OPERATOR).status_code == 404


def test_only_delete_is_answered(client):
    assert client.get(CACHE, headers=OPERATOR).status_code == 405


def test_the_limits_are_the_configured_budget(settings, network):
    app = create_app(settings.model_copy(update={"user_exchange_limit": 7, "user_exchange_window": 30}))
    answer = app.test_client().get("/operator/limits", headers=OPERATOR)
    assert answer.status_code == 200
    assert answer.get_json() == {"user_exchange_limit": 7, "user_exchange_window": 30}


def test_the_limits_need_the_operator_secret(client):
    answer = client.get("/operator/limits", headers={"Authorization": "Bearer wrong-secret"})
    assert answer.status_code == 401
    assert "user_exchange_limit" not in answer.text
