"""A standard OpenID Connect client library, which knows nothing of this project, against mock-idp.

Authlib's requests client discovers the server and logs Alice in with PKCE through the
real login and consent pages; then it does what the demo's web app and Source API do:
userinfo, refresh with rotation, and the On-Behalf-Of token exchange.
"""

import secrets
from types import SimpleNamespace

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from backend_client import fetch_jwks, refresh, verify
from browser_user import authorize
from demo_tenant import (
    ACCESS_TOKEN_TYPE,
    ALICE,
    LOGIN_SCOPE,
    SOURCE_API,
    SOURCE_CLIENT,
    TARGET_API,
    TIMEOUT,
    TOKEN_EXCHANGE,
    WEB_APP,
)
from expectations import assert_invalid_grant

EMAIL, ALICE_ID = ALICE


@pytest.fixture(scope="module")
def discovery(stack) -> dict:
    response = requests.get(stack.issuer + ".well-known/openid-configuration", timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def jwks(discovery):
    return fetch_jwks(discovery["jwks_uri"])


@pytest.fixture(scope="module")
def web_app(stack):
    return OAuth2Session(
        **WEB_APP,
        token_endpoint_auth_method="client_secret_post",
        scope=LOGIN_SCOPE,
        redirect_uri=stack.callback,
        code_challenge_method="S256",
    )


@pytest.fixture(scope="module")
def source_api():
    return OAuth2Session(**SOURCE_CLIENT, token_endpoint_auth_method="client_secret_post")


@pytest.fixture(scope="module")
def login(stack, discovery, web_app):
    """Alice's login of this module. prompt=consent: the consent page shows whatever
    earlier tests consented to, so this test does not depend on their order."""
    return log_in(stack, discovery, web_app)


def log_in(stack, discovery, web_app) -> SimpleNamespace:
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(16)
    url, state = web_app.create_authorization_url(
        discovery["authorization_endpoint"], code_verifier=verifier, nonce=nonce, audience=SOURCE_API, prompt="consent"
    )
    authorization = authorize(requests.Session(), url, EMAIL)
    assert authorization.location.startswith(stack.callback + "?"), authorization
    assert authorization.params["state"] == state  # as the client must check before redeeming
    token = web_app.fetch_token(discovery["token_endpoint"], code=authorization.params["code"], code_verifier=verifier)
    return SimpleNamespace(pages=authorization.pages, nonce=nonce, token=dict(token))


def exchange(source_api, discovery, subject_token: str, scope: str) -> dict:
    return source_api.fetch_token(
        discovery["token_endpoint"],
        grant_type=TOKEN_EXCHANGE,
        subject_token=subject_token,
        subject_token_type=ACCESS_TOKEN_TYPE,
        audience=TARGET_API,
        scope=scope,
    )


def test_discovery_names_this_issuer_and_what_the_flow_needs(stack, discovery):
    assert discovery["issuer"] == stack.issuer
    for endpoint in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"):
        assert discovery[endpoint].startswith(stack.issuer), endpoint
    assert discovery["code_challenge_methods_supported"] == ["S256"]
    assert "RS256" in discovery["id_token_signing_alg_values_supported"]
    assert TOKEN_EXCHANGE in discovery["grant_types_supported"]


def test_login_with_consent_returns_tokens_that_verify(stack, login, jwks):
    assert login.pages == ["login", "consent"]
    token = login.token
    assert (token["token_type"], token["expires_in"], token["scope"]) == ("Bearer", 86400, LOGIN_SCOPE)
    assert token["refresh_token"]

    access = verify(token["access_token"], jwks, typ="at+jwt").claims
    assert access["iss"] == stack.issuer
    assert access["sub"] == ALICE_ID
    assert access["aud"] == [SOURCE_API, stack.userinfo]
    assert access["client_id"] == access["azp"] == "web-app"
    assert access["scope"] == LOGIN_SCOPE

    identity = verify(token["id_token"], jwks, typ="JWT").claims
    assert identity["iss"] == stack.issuer
    assert identity["aud"] == "web-app"
    assert identity["sub"] == ALICE_ID
    assert identity["nonce"] == login.nonce
    assert (identity["email"], identity["name"]) == (EMAIL, "Alice Adams")


def test_userinfo_answers_for_the_access_token(discovery, web_app, login):
    response = web_app.get(discovery["userinfo_endpoint"], timeout=TIMEOUT)

    assert response.status_code == 200, response.text
    assert response.json() == {
        "sub": ALICE_ID,
        "name": "Alice Adams",
        "given_name": "Alice",
        "family_name": "Adams",
        "nickname": "alice",
        "email": EMAIL,
        "email_verified": True,
    }


def test_refresh_rotates_and_the_rotated_token_is_refused(stack, discovery, web_app, jwks):
    # A login of its own: reusing the rotated token revokes the whole login (T34), and with
    # it what is exchanged from its access token (T39), which the tests below exchange.
    old = log_in(stack, discovery, web_app).token["refresh_token"]
    new = web_app.refresh_token(discovery["token_endpoint"], refresh_token=old)

    assert new["refresh_token"] != old
    assert new["scope"] == LOGIN_SCOPE
    access = verify(new["access_token"], jwks, typ="at+jwt").claims
    assert (access["sub"], access["aud"][0]) == (ALICE_ID, SOURCE_API)
    verify(new["id_token"], jwks, typ="JWT")
    assert_invalid_grant(refresh(stack, old))


def test_token_exchange_gives_the_source_api_a_target_api_token(stack, discovery, source_api, login, jwks):
    exchanged = exchange(source_api, discovery, login.token["access_token"], "read:contacts")

    assert exchanged["issued_token_type"] == ACCESS_TOKEN_TYPE
    assert (exchanged["token_type"], exchanged["expires_in"]) == ("Bearer", 86400)
    assert exchanged["scope"] == "read:contacts"
    assert "refresh_token" not in exchanged
    assert "id_token" not in exchanged
    claims = verify(exchanged["access_token"], jwks, typ="at+jwt").claims
    assert claims["iss"] == stack.issuer
    assert claims["aud"] == TARGET_API
    assert claims["sub"] == verify(login.token["access_token"], jwks, typ="at+jwt").claims["sub"] == ALICE_ID
    assert claims["client_id"] == claims["azp"] == "source-api"
    assert claims["scope"] == "read:contacts"
    assert claims["exp"] - claims["iat"] == 86400


def test_exchange_with_openid_and_offline_access_then_refresh(stack, discovery, source_api, login, jwks):
    scope = "openid offline_access read:contacts"
    exchanged = exchange(source_api, discovery, login.token["access_token"], scope)

    assert exchanged["scope"] == scope
    access = verify(exchanged["access_token"], jwks, typ="at+jwt").claims
    assert access["aud"] == [TARGET_API, stack.userinfo]
    identity = verify(exchanged["id_token"], jwks, typ="JWT").claims
    assert (identity["sub"], identity["aud"]) == (ALICE_ID, "source-api")
    assert exchanged["refresh_token"]

    # The Source API keeps its Target API access alive with its own client.
    refreshed = source_api.refresh_token(discovery["token_endpoint"], refresh_token=exchanged["refresh_token"])

    assert refreshed["refresh_token"] != exchanged["refresh_token"]
    assert refreshed["scope"] == scope
    access = verify(refreshed["access_token"], jwks, typ="at+jwt").claims
    assert (access["sub"], access["aud"][0], access["client_id"]) == (ALICE_ID, TARGET_API, "source-api")
