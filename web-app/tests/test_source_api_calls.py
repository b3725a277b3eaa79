import pytest
from markupsafe import escape

from .fakes import SOURCE_API_URL

PROBLEM = {"Content-Type": "application/problem+json"}


def problem(status, step, upstream, error=None, description=None, title="The Source API could not get your data"):
    return {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": "what the Source API saw",
        "step": step,
        "upstream": upstream,
        "upstream_error": error,
        "upstream_error_description": description,
    }


def test_the_contacts_are_shown_with_how_they_were_obtained(logged_in, source_api):
    page = logged_in.post("/call", endpoint="contacts")

    assert page.status_code == 200
    assert "Carol Chen" in page.text
    assert "dan@example.com" in page.text
    assert "a fresh exchange" in page.text
    assert "token exchange as client source-api" in page.text
    assert "https://target-api.example.com" in page.text
    assert "read:contacts" in page.text


@pytest.mark.parametrize(
    ("kind", "text"),
    [("cache", "reused a Target API token from its cache"), ("refresh", "renewed it with its refresh token")],
)
def test_a_cached_or_refreshed_target_token_is_told_as_such(logged_in, source_api, kind, text):
    source_api.via_kind = kind
    assert text in logged_in.post("/call", endpoint="contacts").text


def test_the_source_apis_view_of_the_user_is_shown(logged_in):
    page = logged_in.post("/call", endpoint="me")
    assert page.status_code == 200
    assert "What the Source API sees" in page.text
    assert "auth0|alice" in page.text


def test_each_call_sends_the_bearer_token_the_request_id_and_a_timeout(logged_in, network, source_api):
    page = logged_in.post("/call", endpoint="contacts")

    (call,) = [r for r in network.calls if r.url == SOURCE_API_URL + "/api/contacts"]
    assert call.headers["Authorization"].startswith("Bearer at-")
    assert call.headers["X-Request-Id"] == page.headers["X-Request-Id"]
    assert call.timeout == (3.05, 20)


def test_an_expired_access_token_is_refreshed_once_and_the_call_retried_once(logged_in, idp, network, source_api):
    idp.expire_access_tokens()

    page = logged_in.post("/call", endpoint="contacts")

    assert page.status_code == 200
    assert "Carol Chen" in page.text
    assert "refreshed it once" in page.text
    assert len(network.calls_to_path("/oauth/token")) == 2  # the login, and one refresh
    assert [c.path for c in source_api.calls] == ["/api/contacts", "/api/contacts"]


@pytest.mark.parametrize(
    "description",
    [
        "The access token is signed with an unknown key",
        "The identity provider refused the access token: subject_token signature could not be verified",
    ],
)
def test_a_token_refused_for_a_retired_key_is_refreshed_and_the_page_says_T14_not_expired(
    logged_in, source_api, description
):
    challenge = f'Bearer error="invalid_token", error_description="{description}"'
    source_api.answer_next(401, {"error": "invalid_token"}, {"WWW-Authenticate": challenge})

    page = logged_in.post("/call", endpoint="contacts")

    assert page.status_code == 200
    assert "Carol Chen" in page.text
    assert "refreshed it once" in page.text
    assert "had expired" not in page.text
    assert "retired by a key rotation" in page.text
    assert 'href="/troubleshooting#t14"' in page.text


def test_an_expired_token_is_still_said_to_have_expired(logged_in, idp):
    idp.expire_access_tokens()
    page = logged_in.post("/call", endpoint="contacts")
    assert "Your access token had expired" in page.text
    assert "#t14" not in page.text


def test_a_token_still_refused_after_the_refresh_sends_the_user_to_log_in_again(logged_in, idp, network, source_api):
    challenge = {"WWW-Authenticate": 'Bearer error="invalid_token", error_description="The access token expired"'}
    for _ in range(3):
        source_api.answer_next(401, {"error": "invalid_token"}, challenge)

    page = logged_in.post("/call", endpoint="contacts")

    assert page.status_code == 401
    assert "log in again" in page.text
    assert 'href="/login"' in page.text
    assert 'href="/troubleshooting#t12"' in page.text
    assert "The access token expired" in page.text
    assert len(source_api.calls) == 2
    assert len(network.calls_to_path("/oauth/token")) == 2
    assert logged_in.client.get("/profile").status_code == 401


def test_a_refresh_token_that_no_longer_works_sends_the_user_to_log_in_again(logged_in, idp, source_api):
    idp.expire_access_tokens()
    idp.refresh_tokens.clear()

    page = logged_in.post("/call", endpoint="contacts")

    assert page.status_code == 401
    assert 'href="/troubleshooting#t12"' in page.text
    assert "invalid_grant" in page.text
    assert len(source_api.calls) == 1
    assert logged_in.client.get("/profile").status_code == 401


def test_without_a_refresh_token_the_user_logs_in_again(browser, idp, source_api):
    idp.offline_access = False
    browser.log_in()
    idp.expire_access_tokens()

    page = browser.post("/call", endpoint="contacts")

    assert page.status_code == 401
    assert "no refresh token" in page.text
    assert len(source_api.calls) == 1


def test_the_identity_provider_down_during_the_refresh_keeps_the_user_logged_in(logged_in, idp, network):
    idp.expire_access_tokens()
    network.down.update(network.hosts)
    network.down.discard(SOURCE_API_URL)

    page = logged_in.post("/call", endpoint="contacts")

    assert page.status_code == 503
    assert 'href="/troubleshooting#t32"' in page.text
    assert "Step 5: Refresh tokens" in page.text
    assert logged_in.client.get("/profile").status_code == 200


@pytest.mark.parametrize(
    ("status", "step", "upstream", "error", "description", "case"),
    [
        (502, 3, "identity-provider", "unauthorized_client",
         "Grant type 'urn:ietf:params:oauth:grant-type:token-exchange' not allowed for the client.", "t16"),
        (502, 3, "identity-provider", "access_denied", "Unauthorized", "t17"),
        (502, 3, "identity-provider", "access_denied", "Client source-api is not paired with x", "t18"),
        (502, 3, "identity-provider", "access_denied", "Service not enabled within domain: https://x/", "t20"),
        (502, 3, "identity-provider", "invalid_scope", "Scope not selected in the API pairing: write:contacts", "t21"),
        (502, 3, "identity-provider", "consent_required", "The target API does not allow skipping user consent", "t22"),
        (502, 3, "identity-provider", "too_many_requests", "Rate limit exceeded", "t28"),
        (502, 4, "target-api", None, "connection refused", "t31"),
        (504, 4, "target-api", None, "read timed out", "t31"),
        (503, 3, "identity-provider", None, "connection refused", "t32"),
        (504, 3, "identity-provider", None, "read timed out", "t32"),
    ],
)  # fmt: skip
def test_a_failure_behind_the_source_api_is_a_page_naming_step_error_and_case(
    logged_in, source_api, status, step, upstream, error, description, case
):
    headers = {**PROBLEM, "Retry-After": "7"} if status == 503 else PROBLEM
    source_api.answer_next(status, problem(status, step, upstream, error, description), headers)

    page = logged_in.post("/call", endpoint="contacts")

    assert page.status_code == status
    assert f'href="/troubleshooting#{case}"' in page.text
    assert f"Step {step}: " in page.text
    assert escape(description) in page.text
    assert (error or "") in page.text
    assert "what the Source API saw" in page.text
    if status == 503:
        assert page.headers["Retry-After"] == "7"
        assert "Try again in 7 seconds" in page.text


def test_a_missing_scope_is_a_403_page(logged_in, source_api):
    body = {"error": "insufficient_scope", "error_description": "needs read:contacts", "scope": "read:contacts"}
    source_api.answer_next(403, body)

    page = logged_in.post("/call", endpoint="contacts")

    assert page.status_code == 403
    assert 'href="/troubleshooting#t30"' in page.text
    assert "needs the scope &#39;read:contacts&#39;" in page.text


def test_a_malformed_request_reported_by_the_source_api_is_explained(logged_in, source_api):
    source_api.answer_next(400, {"error": "invalid_request", "error_description": "Malformed Authorization header"})
    page = logged_in.post("/call", endpoint="contacts")
    # The web app always sends one well-formed Bearer header: no entry explains this answer.
    assert page.status_code == 502
    assert "The Source API says the request was malformed" in page.text
    assert "Malformed Authorization header" in page.text


def test_an_unexpected_answer_of_the_source_api_is_a_502_page(logged_in, source_api):
    source_api.answer_next(500, {"oops": True})
    page = logged_in.post("/call", endpoint="contacts")
    assert page.status_code == 502
    assert "The Source API answered HTTP 500" in page.text


def test_the_source_api_down_is_a_503_page(logged_in, network):
    network.down.add(SOURCE_API_URL)
    page = logged_in.post("/call", endpoint="contacts")
    assert page.status_code == 503
    assert "The Source API cannot be reached" in page.text


def test_the_source_api_too_slow_is_a_504_page(logged_in, network):
    network.slow.add(SOURCE_API_URL)
    page = logged_in.post("/call", endpoint="contacts")
    assert page.status_code == 504
    assert "The Source API did not answer in time" in page.text


def test_a_call_without_the_csrf_token_is_refused(logged_in, source_api):
    page = logged_in.client.post("/call", data={"endpoint": "contacts"})
    assert page.status_code == 400
    assert "The CSRF token is missing" in page.text
    assert source_api.calls == []


def test_a_forged_form_is_refused(logged_in, source_api):
    page = logged_in.post("/call", endpoint="../admin")
    assert page.status_code == 400
    assert "The form was not understood" in page.text
    assert source_api.calls == []


def test_a_form_from_another_session_is_refused(logged_in, app, source_api):
    token = logged_in.csrf_token()
    stranger = app.test_client()
    page = stranger.post("/call", data={"csrf_token": token, "endpoint": "contacts"})
    assert page.status_code == 400
    assert "The CSRF session token is missing" in page.text
    assert source_api.calls == []


def test_calling_without_being_logged_in_asks_to_log_in(client, source_api):
    page = client.get("/call")
    assert page.status_code == 401
    assert "You are not logged in" in page.text
    assert 'href="/login"' in page.text
