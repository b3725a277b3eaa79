from urllib.parse import urlsplit

import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc.jwk import RSAKey

from web_app import create_app
from web_app.settings import Settings

from .browser import Browser, query_of
from .conftest import INTERNAL_IDP
from .fakes import ISSUER

CALLBACK = "http://localhost:3000/callback"


def test_login_sends_the_browser_to_the_issuers_authorization_endpoint_with_pkce_state_nonce_audience(browser):
    location = browser.start_login()

    assert location.startswith(ISSUER + "authorize?")
    params = query_of(location)
    assert params["response_type"] == "code"
    assert params["client_id"] == "web-app"
    assert params["redirect_uri"] == CALLBACK
    assert params["scope"] == "openid profile email offline_access read:profile read:contacts"
    assert params["audience"] == "https://source-api.example.com"
    assert params["code_challenge_method"] == "S256"
    assert len(params["code_challenge"]) == 43
    assert params["state"]
    assert params["nonce"]


def test_the_code_is_redeemed_at_the_back_channel_address_with_the_verifier_and_client_secret_post(
    browser, network, idp
):
    location = browser.start_login()
    challenge = query_of(location)["code_challenge"]

    browser.callback(browser.authorize(location))

    (token_request,) = network.calls_to_path("/oauth/token")
    assert token_request.url == INTERNAL_IDP + "oauth/token"
    form = query_of("?" + token_request.body.decode())
    assert form["grant_type"] == "authorization_code"
    assert (form["client_id"], form["client_secret"]) == ("web-app", "web-app-secret")
    assert form["redirect_uri"] == CALLBACK
    assert create_s256_code_challenge(form["code_verifier"]) == challenge
    assert "Authorization" not in token_request.headers
    assert all(urlsplit(r.url).netloc == "idp-internal.test" for r in network.calls)  # discovery, JWKS too


def test_after_login_the_home_page_greets_the_user_and_the_cookie_is_only_a_session_id(logged_in):
    home = logged_in.client.get("/")
    assert "Hello, Alice Adams" in home.text
    cookie = logged_in.client.get_cookie("web_app_session")
    assert cookie.http_only
    assert cookie.same_site == "Lax"
    assert len(cookie.value) < 64


def test_the_session_id_changes_at_login(browser):
    location = browser.start_login()
    before = browser.client.get_cookie("web_app_session").value
    browser.callback(browser.authorize(location))
    assert browser.client.get_cookie("web_app_session").value != before


def test_the_profile_shows_the_id_token_claims(logged_in):
    page = logged_in.client.get("/profile")
    assert page.status_code == 200
    for text in ("auth0|alice", "alice@example.com", "Alice Adams", "http://idp.test/"):
        assert text in page.text


@pytest.mark.parametrize("query", [{}, {"code": "abc"}, {"code": "abc", "state": "made-up"}, {"state": ""}])
def test_a_callback_without_the_state_of_a_login_started_here_is_refused_without_a_token_request(
    browser, network, query
):
    browser.start_login()
    page = browser.client.get("/callback", query_string=query)

    assert page.status_code == 400
    assert "does not belong to a login started here" in page.text
    assert network.calls_to_path("/oauth/token") == []


def test_a_callback_replayed_is_refused(browser, network):
    callback = browser.authorize(browser.start_login())
    browser.callback(callback)
    again = browser.callback(callback)
    assert again.status_code == 400
    assert len(network.calls_to_path("/oauth/token")) == 1


@pytest.mark.parametrize(
    "garbage",
    [
        {"code": "x" * 5000},
        {"code": "\u00e9\u0000"},
        {"code": ""},
        {"error": "x" * 5000, "error_description": "<script>alert(1)</script>"},
    ],
)
def test_garbage_at_the_callback_gets_a_clear_4xx_page(browser, garbage):
    state = query_of(browser.start_login())["state"]
    page = browser.client.get("/callback", query_string={"state": state, **garbage})
    assert 400 <= page.status_code < 500
    assert "Traceback" not in page.text
    assert "<script>" not in page.text


@pytest.mark.parametrize(
    ("error", "status", "case"),
    [("access_denied", 403, "t08"), ("login_required", 400, "t09"), ("invalid_request", 400, "t04")],
)
def test_an_error_sent_back_to_the_callback_is_explained(browser, error, status, case):
    state = query_of(browser.start_login())["state"]
    page = browser.client.get("/callback", query_string={"state": state, "error": error, "error_description": "why"})
    assert page.status_code == status
    assert f'href="/troubleshooting#{case}"' in page.text
    assert error in page.text
    assert "why" in page.text
    assert "Step 1: Request tokens" in page.text


@pytest.mark.parametrize(
    ("description", "case"),
    [("Failed to verify code verifier", "t03"), ("Invalid authorization code", "t05")],
)
def test_a_code_the_token_endpoint_refuses_is_explained(browser, idp, description, case):
    idp.fail("authorization_code", 403, "invalid_grant", description)
    page = browser.callback(browser.authorize(browser.start_login()))
    assert page.status_code == 400
    assert f'href="/troubleshooting#{case}"' in page.text
    assert description in page.text
    assert "Hello" not in browser.client.get("/").text


@pytest.mark.parametrize(
    ("change", "case"),
    [
        ({"nonce": "another-login"}, "t13"),
        ({"aud": "another-client"}, "t13"),
        ({"iss": "http://evil.test/"}, "t13"),
        ({"exp": 1000}, "t15"),  # expired: the clocks disagree
    ],
)
def test_an_id_token_that_does_not_validate_is_not_kept(browser, idp, change, case):
    idp.id_token_changes = change
    page = browser.callback(browser.authorize(browser.start_login()))
    assert page.status_code == 502
    assert "The ID token was rejected" in page.text
    assert f'href="/troubleshooting#{case}"' in page.text
    assert browser.client.get("/profile").status_code == 401


def test_an_id_token_signed_by_another_key_is_not_kept(browser, idp):
    idp.sign_with = RSAKey.generate_key(2048, parameters={"kid": "fake-1"})
    page = browser.callback(browser.authorize(browser.start_login()))
    assert page.status_code == 502
    assert browser.client.get("/profile").status_code == 401


def test_the_identity_provider_down_at_login_is_a_503_page(browser, network):
    network.down.add(INTERNAL_IDP.rstrip("/"))
    page = browser.client.get("/login")
    assert page.status_code == 503
    assert "The identity provider cannot be reached" in page.text
    assert 'href="/troubleshooting#t32"' in page.text


def test_the_identity_provider_too_slow_at_login_is_a_504_page(browser, network):
    network.slow.add(INTERNAL_IDP.rstrip("/"))
    page = browser.client.get("/login")
    assert page.status_code == 504
    assert 'href="/troubleshooting#t32"' in page.text


def test_the_identity_provider_too_slow_at_the_callback_is_a_504_page(browser, network):
    callback = browser.authorize(browser.start_login())
    network.slow.add(INTERNAL_IDP.rstrip("/"))
    page = browser.callback(callback)
    assert page.status_code == 504
    assert "did not answer in time" in page.text
    assert 'href="/troubleshooting#t32"' in page.text


def test_every_call_to_the_identity_provider_carries_the_request_id_and_a_timeout(browser, network):
    page = browser.callback(browser.authorize(browser.start_login()))
    request_id = page.headers["X-Request-Id"]
    token_calls = network.calls_to_path("/oauth/token") + network.calls_to_path("/.well-known/jwks.json")
    assert token_calls
    assert all(r.headers.get("X-Request-Id") == request_id for r in token_calls)
    assert all(r.timeout and r.headers.get("X-Request-Id") for r in network.calls)  # discovery too


def test_logout_needs_the_csrf_token(logged_in):
    page = logged_in.client.post("/logout")
    assert page.status_code == 400
    assert "The form was refused" in page.text
    assert "Hello" in logged_in.client.get("/").text


def test_logout_clears_the_session_revokes_the_refresh_token_and_goes_to_the_provider(
    logged_in, network, idp, source_api
):
    (access_token,) = idp.access_tokens  # the one issued at login
    with logged_in.client.session_transaction() as session:
        id_token = session["tokens"]["id_token"]
    response = logged_in.post("/logout")

    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(ISSUER + "oidc/logout?")  # discovery's end_session_endpoint
    query = query_of(location)
    # The login's ID token as the hint (RP-Initiated Logout 1.0): the provider ends its
    # session without asking, and knows the request comes from this client.
    assert query.keys() == {"id_token_hint", "client_id", "post_logout_redirect_uri"}
    assert query["id_token_hint"] == id_token
    assert query["client_id"] == "web-app"
    assert query["post_logout_redirect_uri"] == "http://localhost:3000/"
    assert logged_in.client.get_cookie("web_app_session") is None
    assert "Log in" in logged_in.client.get("/").text
    assert len(network.calls_to_path("/oauth/revoke")) == 1
    assert not idp.refresh_tokens
    # Every Source API replica drops the Target API tokens it cached for this login.
    assert source_api.logins_ended == [access_token]


def test_logout_ends_the_session_when_the_source_api_cannot_be_told(logged_in, network, idp, source_api, caplog):
    source_api.answer_next(503, {"title": "down"})
    response = logged_in.post("/logout")
    assert response.status_code == 302
    assert "Log in" in logged_in.client.get("/").text
    assert len(network.calls_to_path("/oauth/revoke")) == 1
    assert "cached tokens of this login not dropped: HTTP 503" in caplog.text


def test_a_login_without_an_id_token_logs_out_without_a_hint(logged_in):
    with logged_in.client.session_transaction() as session:
        session["tokens"] = {name: value for name, value in session["tokens"].items() if name != "id_token"}
    location = logged_in.post("/logout").headers["Location"]
    assert query_of(location).keys() == {"client_id", "post_logout_redirect_uri"}


def _logged_out_at(settings, idp, **changes) -> str:
    """Where the browser goes at logout, for an app built with ``changes`` to its settings."""
    app = create_app(settings.model_copy(update=changes))
    app.config["TESTING"] = True
    browser = Browser(app.test_client(), idp)
    browser.log_in()
    response = browser.post("/logout")
    assert response.status_code == 302
    return response.headers["Location"]


def test_logout_keeps_a_query_the_end_session_endpoint_already_has(settings, idp):
    idp.end_session_endpoint = ISSUER + "logout?tenant=demo"
    location = _logged_out_at(settings, idp)
    assert location.startswith(ISSUER + "logout?tenant=demo&id_token_hint=")
    assert query_of(location)["tenant"] == "demo"


def test_without_an_end_session_endpoint_logout_only_ends_the_apps_session(settings, idp):
    idp.end_session_endpoint = None
    assert _logged_out_at(settings, idp) == "http://localhost:3000/"  # idp.test is not the provider's


def test_without_an_end_session_endpoint_the_providers_own_logout_when_told_so(settings, idp):
    idp.end_session_endpoint = None
    location = _logged_out_at(settings, idp, logout_fallback="v2-logout")
    # The provider's legacy logout takes returnTo and no hint: the ID token stays out of it.
    assert location == ISSUER + "v2/logout?client_id=web-app&returnTo=http%3A%2F%2Flocalhost%3A3000%2F"


@pytest.mark.parametrize(
    ("issuer", "fallback", "expected"),
    [
        ("https://tenant.eu.auth0.com/", "auto", "https://tenant.eu.auth0.com/v2/logout"),
        ("https://login.example.com/", "auto", None),
        ("https://login.example.com/", "v2-logout", "https://login.example.com/v2/logout"),
        ("https://tenant.eu.auth0.com/", "none", None),
        ("https://auth0.com.example.org/", "auto", None),
    ],
)
def test_the_providers_own_logout_is_known_by_its_tenant_domain(issuer, fallback, expected):
    assert Settings(issuer=issuer, logout_fallback=fallback).legacy_logout_url == expected
