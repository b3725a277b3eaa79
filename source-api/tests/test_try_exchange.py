"""The inspector's "try it": /demo/token-exchange and /demo/refresh."""

from __future__ import annotations

import pytest
from conftest import ALICE, INTERNAL, OPERATOR_SECRET, TARGET_AUDIENCE, grants

from source_api import create_app
from source_api.token_exchange import ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE

EXCHANGE = "/demo/token-exchange"
REFRESH = "/demo/refresh"


def bearer(token: str) -> dict:
    """The user's token beside the operator secret, as the web app sends them."""
    return {"Authorization": f"Bearer {token}", "X-Obo-Operator": OPERATOR_SECRET}


@pytest.mark.parametrize("operator", [None, "", OPERATOR_SECRET + "x"])
def test_a_token_holder_without_the_operator_secret_finds_nothing(client, network, token, operator):
    headers = {"Authorization": f"Bearer {token}"} | ({"X-Obo-Operator": operator} if operator is not None else {})
    assert client.get(EXCHANGE, headers=headers).status_code == 404
    assert client.post(EXCHANGE, headers=headers, json={"audience": TARGET_AUDIENCE}).status_code == 404
    assert token_calls(network) == []


def token_calls(network):
    return network.calls_to("POST", INTERNAL + "oauth/token")


@pytest.fixture
def token(factory):
    return factory.issue(sub=ALICE)


def test_the_defaults_are_what_the_source_api_sends(client, token):
    answer = client.get(EXCHANGE, headers=bearer(token))
    assert answer.status_code == 200
    assert answer.get_json() == {
        "audience": TARGET_AUDIENCE,
        "scope": "read:contacts offline_access",
        "requested_token_type": "",
        "resource": "",
        "actor_token": "none",
        "profile": "legacy",
    }


def test_an_exchange_is_sent_with_the_users_token_and_the_server_side_credentials(client, network, token):
    answer = client.post(EXCHANGE, headers=bearer(token), json={"audience": TARGET_AUDIENCE, "scope": "read:contacts"})

    assert answer.status_code == 200
    sent = token_calls(network)[-1].data
    assert sent == {
        "grant_type": TOKEN_EXCHANGE,
        "subject_token": token,
        "subject_token_type": ACCESS_TOKEN_TYPE,
        "client_id": "source-api",
        "client_secret": "source-api-secret",
        "audience": TARGET_AUDIENCE,
        "scope": "read:contacts",
    }
    body = answer.get_json()
    assert body["status"] == 200
    assert body["answer"]["access_token"] == "target-at-1"
    assert body["answer"]["refresh_token"] == "(kept by the Source API for the refresh)"
    assert body["sent"]["client_secret"] == "********"
    assert body["sent"]["subject_token"] == "(your access token)"
    assert "source-api-secret" not in answer.get_data(as_text=True)
    assert token not in answer.get_data(as_text=True)


def test_the_providers_refusal_is_the_answer(client, network, token, token_endpoint):
    refusal = {"error": "access_denied", "error_description": "Service not enabled within domain: https://x/"}
    network.route("POST", INTERNAL + "oauth/token", lambda call: (403, refusal))

    answer = client.post(EXCHANGE, headers=bearer(token), json={"audience": "https://x/"})

    assert answer.status_code == 200  # the try worked; the provider refused
    assert answer.get_json()["status"] == 403
    assert answer.get_json()["answer"] == refusal
    assert answer.get_json()["request_id"] == answer.headers["X-Request-Id"]


def test_empty_values_are_not_sent(client, network, token):
    client.post(EXCHANGE, headers=bearer(token), json={"audience": "", "scope": "", "resource": ""})
    assert {"audience", "scope", "resource", "requested_token_type"} & set(token_calls(network)[-1].data) == set()


@pytest.mark.parametrize(
    "body",
    [
        None,
        ["audience"],
        {"subject_token": "someone-elses-token"},
        {"client_secret": "guess"},
        {"audience": 42},
        {"audience": "a\nb"},
        {"scope": "x" * 513},
        {"actor_token": "eyJhbGciOi.forged.token"},
    ],
)
def test_bad_input_is_a_400_and_nothing_is_sent(client, network, token, body):
    answer = client.post(EXCHANGE, headers=bearer(token), json=body)
    assert answer.status_code == 400
    assert answer.get_json()["error"] == "invalid_request"
    assert answer.get_json()["error_description"]
    assert grants(network) == []


def test_without_a_valid_token_it_is_401(client, network):
    assert client.post(EXCHANGE, headers={"X-Obo-Operator": OPERATOR_SECRET}, json={}).status_code == 401
    assert client.post(EXCHANGE, headers=bearer("not-a-token"), json={}).status_code == 401
    assert grants(network) == []


def test_outside_the_demo_configuration_the_routes_do_not_exist(settings, network, token):
    client = create_app(settings.model_copy(update={"demo_tools": "off"})).test_client()
    assert client.post(EXCHANGE, headers=bearer(token), json={}).status_code == 404
    assert client.get(EXCHANGE, headers=bearer(token)).status_code == 404
    assert client.post(REFRESH, headers=bearer(token), json={}).status_code == 404
    assert grants(network) == []


def test_tried_exchanges_spend_the_users_exchange_budget(settings, network, token):
    client = create_app(settings.model_copy(update={"user_exchange_limit": 1})).test_client()
    assert client.post(EXCHANGE, headers=bearer(token), json={}).status_code == 200
    answer = client.post(EXCHANGE, headers=bearer(token), json={})
    assert answer.status_code == 429
    assert answer.headers["Retry-After"]
    assert grants(network) == ["exchange"]


def test_the_actor_token_is_the_source_apis_own_and_never_shown(settings, network, token):
    current = settings.model_copy(update={"exchange_profile": "current", "send_actor_token": True})
    client = create_app(current).test_client()

    answer = client.post(EXCHANGE, headers=bearer(token), json={"actor_token": "source-api"})

    calls = token_calls(network)
    assert [call.data["grant_type"] for call in calls] == ["client_credentials", TOKEN_EXCHANGE]
    assert calls[-1].data["actor_token"] == "target-at-1"  # the client-credentials token
    assert answer.get_json()["sent"]["actor_token"] == "(the Source API's own client-credentials token)"
    assert "target-at-1" not in str(answer.get_json()["sent"])


def test_a_refresh_needs_a_tried_exchange_first(client, network, token):
    answer = client.post(REFRESH, headers=bearer(token), json={})
    assert answer.status_code == 400
    assert "try an exchange" in answer.get_json()["error_description"]
    assert grants(network) == []


def test_a_refresh_uses_the_refresh_token_of_the_tried_exchange(client, network, token, token_endpoint):
    client.post(EXCHANGE, headers=bearer(token), json={"scope": "read:contacts offline_access"})
    token_endpoint.refresh_token = "target-rt-2"  # rotated by the refresh

    first = client.post(REFRESH, headers=bearer(token), json={"scope": "read:contacts"})
    client.post(REFRESH, headers=bearer(token), json={})

    refreshes = [call.data for call in token_calls(network) if call.data["grant_type"] == "refresh_token"]
    assert [(r["refresh_token"], r.get("scope")) for r in refreshes] == [
        ("target-rt-1", "read:contacts"),
        ("target-rt-2", None),
    ]
    assert refreshes[0]["client_secret"] == "source-api-secret"
    body = first.get_json()
    assert body["grant"] == "refresh"
    assert body["sent"]["refresh_token"] == "(kept by the Source API for the refresh)"
    assert body["answer"]["access_token"] == "target-at-2"


def test_another_users_tried_refresh_token_is_not_used(client, network, factory, token):
    client.post(EXCHANGE, headers=bearer(token), json={})
    bob = factory.issue(sub="auth0|bob")
    assert client.post(REFRESH, headers=bearer(bob), json={}).status_code == 400
