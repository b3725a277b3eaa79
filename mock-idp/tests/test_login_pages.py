"""The login and consent pages: CSRF protection, wrong passwords, no secrets in logs."""

import pytest

from mock_idp.settings import Settings

from .flows import ALICE, PASSWORD, csrf_token


def test_login_without_csrf_token_is_refused(flows):
    params, _ = flows.authorize_params()
    page = flows.browser.get("/authorize", query_string=params)
    response = flows.browser.post(
        page.request.full_path, data={"action": "login", "email": ALICE, "password": PASSWORD}
    )
    assert response.status_code == 400
    assert "Log in" in response.text
    again = flows.browser.get("/authorize", query_string=params)
    assert "Log in" in again.text  # still not logged in


def test_wrong_password(flows):
    params, _ = flows.authorize_params()
    response = flows.log_in(params, password="not-the-password")
    assert response.status_code == 401
    assert "Wrong email or password." in response.text
    log = flows.last_log()
    assert (log["type"], log["description"], log["client_id"]) == ("f", "Wrong email or password.", "web-app")


def test_unknown_email_gets_the_same_answer(flows):
    params, _ = flows.authorize_params()
    response = flows.log_in(params, email="mallory@example.com")
    assert response.status_code == 401
    assert "Wrong email or password." in response.text


def test_consent_without_csrf_token_is_refused(flows):
    params, _ = flows.authorize_params()
    page = flows.browser.get(flows.log_in(params).location)
    response = flows.browser.post(page.request.full_path, data={"action": "consent", "decision": "accept"})
    assert response.status_code == 400
    assert "Location" not in response.headers


def test_consent_with_an_invalid_decision_is_refused(flows):
    params, _ = flows.authorize_params()
    page = flows.browser.get(flows.log_in(params).location)
    response = flows.browser.post(
        page.request.full_path,
        data={"action": "consent", "decision": "maybe", "csrf_token": csrf_token(page.text)},
    )
    assert response.status_code == 400


def test_no_password_secret_or_token_reaches_the_logs(flows):
    params, _ = flows.authorize_params()
    flows.log_in(params, password="a-wrong-Passw0rd")
    body = flows.login_tokens()
    flows.refresh(body["refresh_token"])
    flows.exchange(body["access_token"], client={"client_id": "source-api", "client_secret": "bad-secret-123"})
    text = repr(flows.logs(limit=1000))
    for secret in (
        PASSWORD,
        "a-wrong-Passw0rd",
        "web-app-secret",
        "bad-secret-123",
        body["access_token"],
        body["refresh_token"],
        body["id_token"],
    ):
        assert secret not in text


def test_pages_with_forms_are_never_cached(flows):
    params, _ = flows.authorize_params()
    assert flows.browser.get("/authorize", query_string=params).headers["Cache-Control"] == "no-store"
    assert flows.browser.get("/.well-known/jwks.json").headers["Cache-Control"] == "public, max-age=60"


@pytest.mark.parametrize(
    ("issuer", "setting", "secure"),
    [
        ("http://localhost:9000/", None, False),
        ("https://idp.example.com/", None, True),
        ("https://idp.example.com/", False, False),
    ],
)
def test_the_login_session_cookie_is_secure_under_an_https_issuer(issuer, setting, secure):
    assert Settings(issuer=issuer, secure_cookies=setting).session_cookie_secure is secure


def test_the_app_sets_the_cookie_flag_from_the_settings(app):
    assert app.config["SESSION_COOKIE_SECURE"] is False  # the tests' issuer is http://localhost:9000/
