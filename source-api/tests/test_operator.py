"""DELETE /operator/target-token-cache: the demo panel's reset of the Target API token cache."""

from __future__ import annotations

import pytest
from conftest import ALICE, INTERNAL, OPERATOR_SECRET, TARGET_URL, grants

from obo_testing import FakeNetwork, serve_identity_provider
from source_api import create_app
from source_api.settings import Settings

CACHE = "/operator/target-token-cache"
OPERATOR = {"Authorization": f"Bearer {OPERATOR_SECRET}"}


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


def test_with_auto_another_provider_on_loopback_gets_no_operator_endpoint(settings, factory, token_endpoint):
    # A provider at the same local issuer whose discovery does not say it is the mock.
    with FakeNetwork().installed() as network:
        idp = serve_identity_provider(network, factory, internal_url=INTERNAL)
        idp.demo_provider = False
        network.route("POST", idp.token_endpoint, token_endpoint)
        client = create_app(settings.model_copy(update={"demo_tools": "auto"})).test_client()
        assert client.delete(CACHE, headers=OPERATOR).status_code == 404


@pytest.mark.parametrize("demo_tools", ["auto", "on"])
def test_the_published_operator_secret_is_refused(settings, demo_tools):
    with pytest.raises(ValueError, match="published default"):
        Settings(**{**settings.model_dump(), "demo_tools": demo_tools, "operator_secret": "demo-operator-secret"})


def test_an_unset_operator_secret_is_read_from_its_file(settings, network, tmp_path):
    (tmp_path / "operator-secret").write_text("shared-with-the-web-app\n")
    update = {"operator_secret": None, "operator_secret_file": tmp_path / "operator-secret"}
    client = create_app(settings.model_copy(update=update)).test_client()
    assert client.delete(CACHE, headers={"Authorization": "Bearer shared-with-the-web-app"}).status_code == 200
