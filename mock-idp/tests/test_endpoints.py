"""Discovery, JWKS, userinfo, revocation, logout and health."""

import pytest

from .flows import ALICE_ID, CALLBACK, ISSUER, WEB_APP


def test_discovery_describes_this_server(flows):
    doc = flows.browser.get("/.well-known/openid-configuration").json
    assert doc["issuer"] == ISSUER
    assert doc["authorization_endpoint"] == ISSUER + "authorize"
    assert doc["token_endpoint"] == ISSUER + "oauth/token"
    assert doc["jwks_uri"] == ISSUER + ".well-known/jwks.json"
    assert doc["userinfo_endpoint"] == ISSUER + "userinfo"
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert "urn:ietf:params:oauth:grant-type:token-exchange" in doc["grant_types_supported"]
    assert set(doc["token_endpoint_auth_methods_supported"]) == {"client_secret_post", "client_secret_basic"}
    assert {"openid", "offline_access", "read:contacts"} <= set(doc["scopes_supported"])


def test_issuer_does_not_follow_the_host_header(flows):
    doc = flows.browser.get("/.well-known/openid-configuration", headers={"Host": "mock-idp:9000"}).json
    assert doc["issuer"] == ISSUER


def test_jwks_publishes_public_keys_named_by_thumbprint(flows):
    keys = flows.browser.get("/.well-known/jwks.json").json["keys"]
    assert len(keys) == 1
    key = keys[0]
    assert key["kty"] == "RSA"
    assert key["alg"] == "RS256"
    assert key["use"] == "sig"
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)
    from joserfc.jwk import RSAKey

    assert RSAKey.import_key(key).thumbprint() == key["kid"]


def test_userinfo_returns_the_users_claims(flows):
    token = flows.login_tokens()["access_token"]
    response = flows.backend.get("/userinfo", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json["sub"] == ALICE_ID
    assert response.json["email"] == "alice@example.com"
    assert response.json["name"] == "Alice Adams"


def test_userinfo_without_a_token(flows):
    response = flows.backend.get("/userinfo")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == f'Bearer realm="{ISSUER}userinfo"'


@pytest.mark.parametrize(
    "header", ["Basic abc", "Bearer a b", "Bearer a,b", 'Bearer "abc"', "Bearer abc=def", "Bearer x.y.z\u00e9"]
)
def test_userinfo_with_a_malformed_header(flows, header):
    """RFC 6750 section 3.1: a malformed request is 400 invalid_request, whatever the token;
    a Bearer credential is a b64token (section 2.1), which holds no space, comma or quote."""
    response = flows.backend.get("/userinfo", headers={"Authorization": header})
    assert response.status_code == 400
    assert 'error="invalid_request"' in response.headers["WWW-Authenticate"]
    assert response.json["error"] == "invalid_request"


def test_userinfo_refuses_a_token_not_issued_for_it(flows):
    token = flows.login_tokens(scope="read:profile")["access_token"]
    response = flows.backend.get("/userinfo", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    response = flows.backend.get("/userinfo", headers={"Authorization": "Bearer x.y.z"})
    assert response.status_code == 401


def test_revoking_a_refresh_token_of_another_client_is_refused(flows):
    token = flows.login_tokens()["refresh_token"]
    response = flows.backend.post(
        "/oauth/revoke",
        data={"token": token, "client_id": "source-api", "client_secret": "source-api-secret"},
    )
    assert response.status_code == 403
    assert flows.refresh(token).status_code == 200


def test_revocation_needs_client_authentication(flows):
    token = flows.login_tokens()["refresh_token"]
    response = flows.backend.post("/oauth/revoke", data={"token": token, "client_id": "web-app"})
    assert response.status_code == 401
    assert flows.refresh(token).status_code == 200


def test_revoking_an_unknown_token_is_not_an_error(flows):
    response = flows.backend.post("/oauth/revoke", data={"token": "unknown", **WEB_APP})
    assert response.status_code == 200


@pytest.mark.parametrize("hint", ["access_token", "bogus", "refresh_token"])
def test_a_hint_is_only_a_hint_and_the_refresh_token_is_revoked_whatever_it_says(flows, hint):
    token = flows.login_tokens()["refresh_token"]
    assert (
        flows.backend.post("/oauth/revoke", data={"token": "unknown", "token_type_hint": hint, **WEB_APP}).status_code
        == 200
    )
    response = flows.backend.post("/oauth/revoke", data={"token": token, "token_type_hint": hint, **WEB_APP})
    assert response.status_code == 200
    assert flows.refresh(token).status_code == 403


@pytest.mark.parametrize("data", [{}, {"token": ""}])
def test_revocation_without_a_token_is_a_bad_request(flows, data):
    response = flows.backend.post("/oauth/revoke", data={**data, **WEB_APP})
    assert response.status_code == 400
    assert response.json == {"error": "invalid_request", "error_description": "Missing required parameter: token"}


def test_logout_ends_the_session_and_returns_to_a_listed_url(flows):
    flows.authorization_code()
    response = flows.log_out(client_id="web-app", returnTo="http://localhost:3000/")  # confirmed
    assert response.status_code == 302
    assert response.location == "http://localhost:3000/"
    log = flows.last_log()
    assert (log["type"], log["user_id"]) == ("slo", ALICE_ID)

    params, _ = flows.authorize_params(prompt="none")
    response = flows.browser.get("/authorize", query_string=params)
    assert "login_required" in response.location


def test_logout_never_redirects_to_an_unlisted_url(flows):
    response = flows.browser.get(
        "/v2/logout", query_string={"client_id": "web-app", "returnTo": "http://evil.example/"}
    )
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "http://evil.example/" in response.text


def test_health(flows):
    response = flows.browser.get("/healthz")
    assert response.status_code == 200
    assert response.json["status"] == "ok"


def test_pages_cannot_be_framed(flows):
    params, _ = flows.authorize_params()
    response = flows.browser.get("/authorize", query_string=params)
    assert response.headers["X-Frame-Options"] == "DENY"
    assert CALLBACK not in response.headers.get("Location", "")


def test_discovery_says_this_is_the_projects_mock(flows):
    # The app services turn DEMO_TOOLS=auto on only for a provider that says so.
    assert flows.browser.get("/.well-known/openid-configuration").json["obo_demo_provider"] is True


def test_discovery_names_the_logout_as_end_session_endpoint(flows):
    assert flows.browser.get("/.well-known/openid-configuration").json["end_session_endpoint"] == ISSUER + "v2/logout"


def test_logout_takes_the_rp_initiated_logout_parameters_and_gives_the_state_back(flows):
    id_token = flows.login_tokens()["id_token"]
    query = {
        "client_id": "web-app",
        "post_logout_redirect_uri": "http://localhost:3000/",
        "id_token_hint": id_token,
        "state": "af0ifjsldkj",
    }
    response = flows.browser.get("/v2/logout", query_string=query)
    assert response.status_code == 302
    assert response.location == "http://localhost:3000/?state=af0ifjsldkj"
    params, _ = flows.authorize_params(prompt="none")
    assert "login_required" in flows.browser.get("/authorize", query_string=params).location
