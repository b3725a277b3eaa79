"""Step 1: the application logs the user in with the authorization code flow and PKCE.

The browser goes through mock-idp's real login and consent forms; the code is redeemed
at the token endpoint as the web app redeems it. The tokens are checked as a relying
party checks them, against the published keys, and the tenant log is read through the
Management API.
"""

import secrets
from dataclasses import dataclass

import pytest
import requests
from backend_client import authorize_url, redeem_code, signing_keys, verify
from browser_user import authorize
from demo_tenant import ALICE, LOGIN_SCOPE, SOURCE_API, WEB_APP
from tenant_admin import Management, log_marker, logs_since

EMAIL, ALICE_ID = ALICE


@dataclass
class CodeLogin:
    """What the application holds between /authorize and the token request."""

    code: str
    verifier: str
    nonce: str
    pages: list[str]


def start_login(stack, scope: str = LOGIN_SCOPE) -> CodeLogin:
    """Alice at /authorize, through the login and consent pages, back with a code.

    prompt=consent: the consent page is shown whatever earlier tests consented to.
    """
    nonce = secrets.token_urlsafe(12)
    url, verifier, state = authorize_url(stack, scope=scope, nonce=nonce, prompt="consent")
    authorization = authorize(requests.Session(), url, EMAIL)
    # Back to the redirect_uri that was sent, with the same state and a code.
    assert authorization.location.startswith(stack.callback + "?"), authorization
    assert authorization.params.keys() == {"code", "state"}, authorization.params
    assert authorization.params["state"] == state
    return CodeLogin(authorization.params["code"], verifier, nonce, authorization.pages)


def redeem(stack, login: CodeLogin, **overrides) -> requests.Response:
    """The token request of step 1; ``overrides`` change or (with None) drop a parameter."""
    return redeem_code(stack, login.code, login.verifier, **overrides)


def source_api_lifetime(stack) -> int:
    return Management(stack).get("/resource-servers/source-api")["token_lifetime"]


def test_login_and_consent_pages_then_the_code_gives_the_tokens_of_step_1(stack):
    marker = log_marker(stack)

    login = start_login(stack)
    response = redeem(stack, login)

    assert login.pages == ["login", "consent"]
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert body.keys() == {"access_token", "id_token", "refresh_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == source_api_lifetime(stack)
    assert body["scope"] == LOGIN_SCOPE
    assert body["refresh_token"]

    keys = signing_keys(stack)
    access = verify(body["access_token"], keys, typ="at+jwt").claims
    assert access["iss"] == stack.issuer
    assert access["sub"] == ALICE_ID
    assert access["aud"] == [SOURCE_API, stack.userinfo]
    assert access["client_id"] == access["azp"] == WEB_APP["client_id"]
    assert access["scope"] == LOGIN_SCOPE
    assert access["exp"] - access["iat"] == body["expires_in"]

    identity = verify(body["id_token"], keys, typ="JWT").claims
    assert identity["iss"] == stack.issuer
    assert identity["aud"] == WEB_APP["client_id"]
    assert identity["sub"] == ALICE_ID
    assert identity["nonce"] == login.nonce
    assert (identity["email"], identity["name"]) == (EMAIL, "Alice Adams")

    # The tenant log: the login (s), then the code exchanged for tokens (seacft).
    entries = logs_since(stack, marker, user_id=ALICE_ID)
    assert [entry["type"] for entry in reversed(entries)] == ["s", "seacft"], entries
    seacft, success_login = entries
    assert (success_login["client_id"], success_login["audience"]) == ("web-app", SOURCE_API)
    assert (seacft["client_id"], seacft["audience"]) == ("web-app", SOURCE_API)
    assert seacft["details"]["grant_type"] == "authorization_code"
    assert seacft["details"]["issued"] == {
        "scope": LOGIN_SCOPE,
        "expires_in": body["expires_in"],
        "id_token": True,
        "refresh_token": True,
    }


@pytest.mark.parametrize(
    ("scope", "refresh_token"),
    [
        pytest.param("openid profile email offline_access read:profile", True, id="with-offline_access"),
        pytest.param("openid profile email read:profile", False, id="without-offline_access"),
    ],
)
def test_a_refresh_token_comes_only_with_offline_access(stack, scope, refresh_token):
    marker = log_marker(stack)

    response = redeem(stack, start_login(stack, scope))

    assert response.status_code == 200, response.text
    body = response.json()
    assert ("refresh_token" in body) is refresh_token
    assert body["scope"] == scope
    assert verify(body["access_token"], signing_keys(stack), typ="at+jwt").claims["scope"] == scope
    (seacft,) = logs_since(stack, marker, type="seacft", user_id=ALICE_ID)
    assert seacft["details"]["issued"]["refresh_token"] is refresh_token


@pytest.mark.usefixtures("tenant_as_found")
def test_no_refresh_token_when_the_source_api_does_not_allow_offline_access(stack):
    Management(stack).patch("/resource-servers/source-api", {"allow_offline_access": False})

    response = redeem(stack, start_login(stack))

    assert response.status_code == 200, response.text
    body = response.json()
    assert "refresh_token" not in body
    assert body["scope"] == LOGIN_SCOPE.replace("offline_access ", "")
    assert body["access_token"]
    assert body["id_token"]


@pytest.mark.parametrize(
    ("scope", "audience", "id_token"),
    [
        pytest.param("openid read:profile", "source-api+userinfo", True, id="openid"),
        pytest.param("read:profile", "source-api", False, id="no-openid"),
    ],
)
def test_the_access_token_is_for_the_source_api_and_userinfo_only_with_openid(stack, scope, audience, id_token):
    response = redeem(stack, start_login(stack, scope))

    assert response.status_code == 200, response.text
    body = response.json()
    expected = {"source-api": SOURCE_API, "source-api+userinfo": [SOURCE_API, stack.userinfo]}[audience]
    assert verify(body["access_token"], signing_keys(stack), typ="at+jwt").claims["aud"] == expected
    assert ("id_token" in body) is id_token


@pytest.mark.parametrize(
    ("overrides", "description"),
    [
        pytest.param({"redirect_uri": "http://localhost:1/callback"}, "redirect_uri", id="other-redirect_uri"),
        pytest.param({"redirect_uri": None}, "redirect_uri", id="no-redirect_uri"),
        pytest.param({"code_verifier": secrets.token_urlsafe(48)}, "code verifier", id="wrong-code_verifier"),
        pytest.param({"code_verifier": None}, "code verifier", id="no-code_verifier"),
    ],
)
def test_the_code_is_redeemed_only_with_the_same_redirect_uri_and_the_pkce_verifier(stack, overrides, description):
    marker = log_marker(stack)

    response = redeem(stack, start_login(stack), **overrides)

    assert response.status_code == 403, response.text
    assert response.json()["error"] == "invalid_grant"
    assert description in response.json()["error_description"]
    assert "access_token" not in response.json()
    entries = logs_since(stack, marker, user_id=ALICE_ID)
    assert [entry["type"] for entry in entries] == ["feacft", "s"], entries
