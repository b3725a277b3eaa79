"""Step 1: the authorization code flow with PKCE, and the cases T01-T09 it decides."""

import pytest

from .conftest import api_named, client_named
from .flows import ALICE_ID, CALLBACK, ISSUER, SOURCE_API, Flows, query_of


def test_login_returns_validated_tokens_for_the_source_api(flows):
    code, verifier, params = flows.authorization_code()
    response = flows.redeem(code, verifier)

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 86400
    assert body["scope"] == "openid profile email offline_access read:profile read:contacts"
    assert body["refresh_token"]

    access = flows.claims(body["access_token"])
    assert access["iss"] == ISSUER
    assert access["sub"] == ALICE_ID
    assert access["aud"] == [SOURCE_API, ISSUER + "userinfo"]
    assert access["client_id"] == access["azp"] == "web-app"
    assert access["exp"] - access["iat"] == 86400
    assert access["jti"]
    assert access["scope"] == body["scope"]

    identity = flows.claims(body["id_token"], typ="JWT")
    assert identity["aud"] == "web-app"
    assert identity["nonce"] == params["nonce"]
    assert identity["email"] == "alice@example.com"
    assert identity["exp"] - identity["iat"] == 36000

    log = flows.logs(type="seacft")[0]
    assert (log["client_id"], log["user_id"], log["audience"]) == ("web-app", ALICE_ID, SOURCE_API)
    assert flows.logs(type="s")[0]["user_id"] == ALICE_ID


def test_no_refresh_token_without_offline_access(flows):
    body = flows.login_tokens(scope="openid read:profile")
    assert "refresh_token" not in body
    assert body["scope"] == "openid read:profile"


def test_scopes_the_api_does_not_define_are_not_granted(flows):
    body = flows.login_tokens(scope="openid read:profile delete:everything")
    assert body["scope"] == "openid read:profile"


def test_without_openid_there_is_no_id_token_and_no_userinfo_audience(flows):
    body = flows.login_tokens(scope="read:profile")
    assert "id_token" not in body
    assert flows.claims(body["access_token"])["aud"] == SOURCE_API


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "http://localhost:3000/callback/",
        "http://localhost:3001/callback",
        "https://localhost:3000/callback",
        "http://evil.example/callback",
    ],
)
def test_T01_unlisted_redirect_uri_gets_an_error_page_and_no_redirect(flows, redirect_uri):
    params, _ = flows.authorize_params(redirect_uri=redirect_uri)
    response = flows.browser.get("/authorize", query_string=params)

    assert response.status_code == 400
    assert "Location" not in response.headers
    assert redirect_uri in response.text
    log = flows.last_log()
    assert log["type"] == "f"
    assert redirect_uri in log["description"]


def test_T01_unknown_client_gets_an_error_page(flows):
    params, _ = flows.authorize_params(client_id="nobody")
    response = flows.browser.get("/authorize", query_string=params)
    assert response.status_code == 400
    assert "Location" not in response.headers


def test_T02_redirect_uri_must_equal_the_one_sent_to_authorize(flows):
    code, verifier, _ = flows.authorization_code()
    response = flows.redeem(code, verifier, redirect_uri="http://localhost:3000/other")

    assert response.status_code == 403
    assert response.json["error"] == "invalid_grant"
    assert flows.last_log()["type"] == "feacft"


@pytest.mark.parametrize("verifier", ["wrong-" + "v" * 50, None, "short"])
def test_T03_wrong_or_missing_code_verifier(flows, verifier):
    code, _, _ = flows.authorization_code()
    response = flows.redeem(code, verifier)

    assert response.status_code == 403
    assert response.json == {"error": "invalid_grant", "error_description": "Failed to verify code verifier"}
    log = flows.last_log()
    assert (log["type"], log["description"]) == ("feacft", "Failed to verify code verifier")


@pytest.mark.parametrize(
    "overrides",
    [
        {"code_challenge": None, "code_challenge_method": None},
        {"code_challenge_method": "plain"},
        {"code_challenge_method": None},
    ],
)
def test_T04_pkce_s256_is_required(flows, overrides):
    params, _ = flows.authorize_params(**overrides)
    response = flows.browser.get("/authorize", query_string=params)

    assert response.status_code == 302
    assert response.location.startswith(CALLBACK)
    returned = query_of(response.location)
    assert returned["error"] == "invalid_request"
    assert returned["state"] == params["state"]
    assert flows.last_log()["type"] == "f"


def test_T05_a_code_used_twice_fails_and_revokes_what_it_issued(flows):
    code, verifier, _ = flows.authorization_code()
    first = flows.redeem(code, verifier)
    assert first.status_code == 200

    second = flows.redeem(code, verifier)
    assert second.status_code == 403
    assert second.json == {"error": "invalid_grant", "error_description": "Invalid authorization code"}
    assert flows.last_log()["type"] == "feacft"

    refreshed = flows.refresh(first.json["refresh_token"])
    assert refreshed.status_code == 403
    assert refreshed.json["error"] == "invalid_grant"


def test_T05_an_expired_code_fails(flows, clock_at):
    code, verifier, _ = flows.authorization_code()
    clock_at(300 + 60)  # a minute past the lifetime, however long the login took
    response = flows.redeem(code, verifier)
    assert response.status_code == 403
    assert response.json["error_description"] == "Invalid authorization code"


def test_T05_a_code_is_bound_to_its_client(make_app):
    def second_app(doc):
        doc["clients"].append(dict(client_named(doc, "web-app"), name="Other", client_id="other-app"))

    flows = Flows(make_app(second_app))
    code, verifier, _ = flows.authorization_code()
    response = flows.redeem(code, verifier, client={"client_id": "other-app", "client_secret": "web-app-secret"})
    assert response.status_code == 403
    assert response.json["error_description"] == "Invalid authorization code"


def test_T06_authorization_code_grant_not_enabled(make_app):
    def disable(doc):
        client_named(doc, "web-app")["grant_types"] = ["refresh_token"]

    flows = Flows(make_app(disable))
    params, _ = flows.authorize_params()
    response = flows.browser.get("/authorize", query_string=params)
    assert response.status_code == 302
    assert query_of(response.location)["error"] == "unauthorized_client"

    response = flows.redeem("any-code", "v" * 43)
    assert response.status_code == 403
    assert response.json == {
        "error": "unauthorized_client",
        "error_description": "Grant type 'authorization_code' not allowed for the client.",
    }
    assert flows.last_log()["type"] == "feacft"


def test_T07_offline_access_not_allowed_by_the_api(make_app):
    def no_offline(doc):
        api_named(doc, SOURCE_API)["allow_offline_access"] = False

    flows = Flows(make_app(no_offline))
    body = flows.login_tokens()
    assert "refresh_token" not in body
    assert "offline_access" not in body["scope"].split()
    assert flows.last_log()["type"] == "seacft"


def test_T08_declined_consent_redirects_with_access_denied(flows):
    params, _ = flows.authorize_params()
    response = flows.log_in(params)
    page = flows.browser.get(response.location)
    assert "Authorize" in page.text
    assert "read:contacts" in page.text

    response = flows.consent(page, decision="deny")
    assert response.status_code == 302
    returned = query_of(response.location)
    assert returned["error"] == "access_denied"
    assert returned["state"] == params["state"]
    log = flows.last_log()
    assert (log["type"], log["user_id"]) == ("f", ALICE_ID)


def test_consent_is_remembered_per_user_client_and_api(flows):
    flows.authorization_code()
    params, _ = flows.authorize_params()
    response = flows.browser.get("/authorize", query_string=params)
    assert response.status_code == 302
    assert "code" in query_of(response.location)


def test_T09_prompt_none_without_a_session_is_login_required(flows):
    params, _ = flows.authorize_params(prompt="none")
    response = flows.browser.get("/authorize", query_string=params)
    assert response.status_code == 302
    assert query_of(response.location)["error"] == "login_required"
    assert flows.last_log()["type"] == "f"


def test_T09_prompt_none_when_consent_is_still_needed(flows):
    params, _ = flows.authorize_params()
    flows.log_in(params)
    params, _ = flows.authorize_params(prompt="none")
    response = flows.browser.get("/authorize", query_string=params)
    assert response.status_code == 302
    assert query_of(response.location)["error"] == "consent_required"


def test_prompt_login_asks_again_even_with_a_session(flows):
    flows.authorization_code()
    params, _ = flows.authorize_params(prompt="login")
    response = flows.browser.get("/authorize", query_string=params)
    assert response.status_code == 200
    assert "Log in" in response.text
    response = flows.log_in(params)
    response = flows.browser.get(response.location)
    assert response.status_code == 302
    assert "code" in query_of(response.location)


def test_unknown_audience_is_refused_with_the_providers_words(flows):
    params, _ = flows.authorize_params(audience="https://source-api.example.com/")
    response = flows.browser.get("/authorize", query_string=params)
    returned = query_of(response.location)
    assert returned["error"] == "access_denied"
    assert returned["error_description"] == "Service not enabled within domain: https://source-api.example.com/"
