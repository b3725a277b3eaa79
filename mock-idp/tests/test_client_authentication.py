"""Client authentication at the token and revocation endpoints: the client named in the
body must be the one of the Authorization header, and each client authenticates only the
way it is registered for (``token_endpoint_auth_method``)."""

from __future__ import annotations

import pytest

from .conftest import client_named
from .flows import ACCESS_TOKEN_TYPE, ISSUER, TARGET_API, TOKEN_EXCHANGE, Flows

MANAGEMENT = ("management", "management-secret")
CLIENT_CREDENTIALS = {"grant_type": "client_credentials", "audience": ISSUER + "api/v2/"}


def registered_for_basic(client_id):
    def change(document):
        client_named(document, client_id)["token_endpoint_auth_method"] = "client_secret_basic"

    return change


def assert_invalid_client(response, description: str) -> None:
    assert response.status_code == 401, response.json
    assert response.json == {"error": "invalid_client", "error_description": description}
    assert response.headers["WWW-Authenticate"].startswith('Basic error="invalid_client"')


def test_a_body_client_id_contradicting_the_basic_client_is_invalid_client_and_logged(make_app):
    flows = Flows(make_app(registered_for_basic("management")))
    response = flows.backend.post("/oauth/token", data={**CLIENT_CREDENTIALS, "client_id": "web-app"}, auth=MANAGEMENT)

    assert_invalid_client(response, "client_id does not name the client of the Authorization header")
    entry = flows.last_log()
    assert entry["type"] == "feccft"
    assert entry["client_id"] == "management"
    assert entry["details"]["reason"] == "client_id 'web-app' in the body; 'management' in the Authorization header"


def test_the_same_client_id_in_the_body_and_the_header_is_accepted(make_app):
    flows = Flows(make_app(registered_for_basic("management")))
    response = flows.backend.post(
        "/oauth/token", data={**CLIENT_CREDENTIALS, "client_id": "management"}, auth=MANAGEMENT
    )
    assert response.status_code == 200, response.json


def test_a_client_registered_for_client_secret_post_cannot_use_basic(flows):
    response = flows.backend.post("/oauth/token", data=CLIENT_CREDENTIALS, auth=MANAGEMENT)

    assert_invalid_client(response, "The client must authenticate with client_secret_post")
    entry = flows.last_log()
    assert entry["type"] == "feccft"
    assert entry["client_id"] == "management"
    assert entry["details"]["reason"] == "authenticated with client_secret_basic; registered for client_secret_post"


def test_a_client_registered_for_client_secret_basic_cannot_use_the_body(make_app):
    flows = Flows(make_app(registered_for_basic("management")))
    data = {**CLIENT_CREDENTIALS, "client_id": "management", "client_secret": "management-secret"}
    response = flows.backend.post("/oauth/token", data=data)
    assert_invalid_client(response, "The client must authenticate with client_secret_basic")
    assert flows.backend.post("/oauth/token", data=CLIENT_CREDENTIALS, auth=MANAGEMENT).status_code == 200


@pytest.mark.parametrize("registered", ["client_secret_post", "client_secret_basic"])
def test_the_revocation_endpoint_enforces_the_registered_method_too(make_app, registered):
    flows = Flows(make_app(registered_for_basic("web-app") if registered == "client_secret_basic" else None))
    by_post = flows.backend.post(
        "/oauth/revoke", data={"token": "x", "client_id": "web-app", "client_secret": "web-app-secret"}
    )
    by_basic = flows.backend.post("/oauth/revoke", data={"token": "x"}, auth=("web-app", "web-app-secret"))
    accepted, refused = (by_post, by_basic) if registered == "client_secret_post" else (by_basic, by_post)
    assert accepted.status_code == 200, accepted.json
    assert_invalid_client(refused, f"The client must authenticate with {registered}")


def test_an_exchange_with_basic_names_the_source_api_client(make_app):
    flows = Flows(make_app(registered_for_basic("source-api")))
    token = flows.login_tokens()["access_token"]
    data = {
        "grant_type": TOKEN_EXCHANGE,
        "subject_token": token,
        "subject_token_type": ACCESS_TOKEN_TYPE,
        "audience": TARGET_API,
        "client_id": "web-app",
    }
    response = flows.backend.post("/oauth/token", data=data, auth=("source-api", "source-api-secret"))
    assert_invalid_client(response, "client_id does not name the client of the Authorization header")
    assert flows.last_log()["type"] == "failed_on_behalf_of_token_exchange"
