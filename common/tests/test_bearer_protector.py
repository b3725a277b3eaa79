"""BearerProtector and require_scope on a tiny Flask app: the RFC 6750 answers (T10-T14, T30)."""

from __future__ import annotations

import pytest
import requests
from conftest import JWKS_URL
from flask import Flask, jsonify

from obo_common import BearerProtector, current_claims, json_errors, require_scope
from obo_testing import AUDIENCE, SUBJECT


@pytest.fixture
def app(validator) -> Flask:
    app = Flask(__name__)
    BearerProtector(validator).init_app(app)

    @app.get("/things")
    @require_scope("read:things")
    def things():
        return jsonify(sub=current_claims["sub"])

    @app.post("/things")
    @require_scope("write:things")
    def add_thing():
        return jsonify(added=True), 201

    json_errors.init_app(app)
    return app


@pytest.fixture
def client(app):
    return app.test_client()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_a_valid_token_reaches_the_view_with_its_claims(client, factory):
    answer = client.get("/things", headers=bearer(factory.issue()))
    assert answer.status_code == 200
    assert answer.get_json() == {"sub": SUBJECT}


def test_the_bearer_scheme_is_case_insensitive(client, factory):
    answer = client.get("/things", headers={"Authorization": "bearer " + factory.issue()})
    assert answer.status_code == 200


def test_T10_no_authorization_header_is_401_with_a_bare_challenge(client):
    answer = client.get("/things")
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == f'Bearer realm="{AUDIENCE}"'
    assert "error=" not in answer.headers["WWW-Authenticate"]
    assert "error" not in answer.get_json()
    assert answer.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "Token abc", "abc"])
def test_T10_a_malformed_authorization_header_is_400_invalid_request(client, header):
    answer = client.get("/things", headers={"Authorization": header})
    assert answer.status_code == 400
    assert answer.get_json()["error"] == "invalid_request"
    assert 'error="invalid_request"' in answer.headers["WWW-Authenticate"]
    assert answer.headers["WWW-Authenticate"].startswith(f'Bearer realm="{AUDIENCE}"')


@pytest.mark.parametrize(
    ("make_token", "description"),
    [
        (lambda f: "not-a-jwt", "The access token is malformed"),
        (lambda f: f.issue(alg="none"), "The access token must be signed with RS256"),
        (lambda f: f.issue(aud="https://source-api.example.com"), "The access token was not issued for this API"),
        (lambda f: f.issue(exp=int(f.clock()) - 3600), "The access token expired"),
        (lambda f: f.issue(kid="unknown"), "The access token is signed with an unknown key"),
    ],
    ids=["malformed", "alg-none", "other-audience", "expired", "unknown-kid"],
)
def test_T11_T12_T13_a_bad_token_is_401_invalid_token_with_the_reason(client, factory, make_token, description):
    answer = client.get("/things", headers=bearer(make_token(factory)))
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == (
        f'Bearer realm="{AUDIENCE}", error="invalid_token", error_description="{description}"'
    )
    assert answer.get_json() == {"error": "invalid_token", "error_description": description}
    assert answer.headers["Cache-Control"] == "no-store"


def test_T30_a_token_without_the_scope_is_403_naming_the_scope(client, factory):
    answer = client.post("/things", headers=bearer(factory.issue(scope="read:things")))
    assert answer.status_code == 403
    challenge = answer.headers["WWW-Authenticate"]
    assert challenge.startswith(f'Bearer realm="{AUDIENCE}", error="insufficient_scope"')
    assert challenge.endswith('scope="write:things"')
    body = answer.get_json()
    assert body["error"] == "insufficient_scope"
    assert body["scope"] == "write:things"


def test_T30_the_scope_is_checked_per_endpoint(client, factory):
    token = factory.issue(scope="write:things")
    assert client.post("/things", headers=bearer(token)).status_code == 201
    assert client.get("/things", headers=bearer(token)).status_code == 403


def test_T14_JWKS_unreachable_and_key_not_cached_is_503_with_retry_after(client, network, factory):
    network.route("GET", JWKS_URL, requests.ConnectionError("refused"))
    answer = client.get("/things", headers=bearer(factory.issue()))
    assert answer.status_code == 503
    assert answer.headers["Retry-After"].isdigit()
    assert answer.get_json()["error"] == "temporarily_unavailable"
    # not a token problem: the challenge carries no invalid_token
    assert "invalid_token" not in answer.headers["WWW-Authenticate"]


def test_T32_with_the_key_cached_an_outage_does_not_matter(client, network, factory):
    assert client.get("/things", headers=bearer(factory.issue())).status_code == 200
    network.route("GET", JWKS_URL, requests.ConnectionError("refused"))
    assert client.get("/things", headers=bearer(factory.issue())).status_code == 200


def test_each_app_uses_its_own_protector(validator, factory):
    from obo_common import AccessTokenValidator

    other = AccessTokenValidator(validator.issuer, "https://other-api.example.com", validator.jwks)
    apps = []
    for protector in (BearerProtector(validator), BearerProtector(other)):
        app = Flask(__name__)
        protector.init_app(app)
        app.add_url_rule("/x", view_func=require_scope("read:things")(lambda: "ok"))
        apps.append(app.test_client())
    token = factory.issue()
    assert apps[0].get("/x", headers=bearer(token)).status_code == 200
    assert apps[1].get("/x", headers=bearer(token)).status_code == 401


@pytest.mark.parametrize("header", ["Bearer a b", "Bearer  ", "Bearer\ttoken extra"])
def test_T10_a_bearer_header_with_more_than_one_token_is_malformed(client, header):
    response = client.get("/things", headers={"Authorization": header})
    assert response.status_code == 400
    assert response.json["error"] == "invalid_request"


@pytest.mark.parametrize("scope", [123, ["read:things"], {"read:things": True}, True])
def test_a_scope_claim_that_is_not_a_string_is_an_invalid_token_never_a_500(client, factory, scope):
    answer = client.get("/things", headers=bearer(factory.issue(scope=scope)))
    assert answer.status_code == 401, answer.get_data(as_text=True)
    assert 'error="invalid_token"' in answer.headers["WWW-Authenticate"]
    assert "The access token has an invalid scope claim" in answer.headers["WWW-Authenticate"]
