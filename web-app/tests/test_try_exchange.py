"""The inspector's "try it" (/inspector/try) against a fake Source API and Management API."""

from __future__ import annotations

import pytest
from flask import jsonify, request

from obo_testing import TokenFactory
from web_app import create_app
from web_app.try_exchange import case_number

from .browser import Browser
from .fakes import ISSUER, OPERATOR_SECRET, FakeManagementApi

TARGET_AUDIENCE = "https://target-api.example.com"
DEFAULTS = {
    "audience": TARGET_AUDIENCE,
    "scope": "read:contacts offline_access",
    "requested_token_type": "",
    "resource": "",
    "actor_token": "none",
    "profile": "legacy",
}
T20 = {
    "error": "access_denied",
    "error_description": "Service not enabled within domain: https://target-api.example.co",
}
TARGET_TOKEN = TokenFactory.raw(
    {"alg": "RS256", "typ": "at+jwt", "kid": "k1"},
    {"iss": ISSUER, "sub": "auth0|alice", "aud": TARGET_AUDIENCE, "scope": "read:contacts", "exp": 1_900_000_000},
)


class TriedAtTheSourceApi:
    """The Source API's /demo routes, added to the fake: what was posted, canned reports."""

    def __init__(self, source_api):
        self.posted: list[tuple[str, dict, str]] = []
        self.reports: list[tuple[int, dict]] = []
        self.operator: list[str | None] = []
        app = source_api.app

        @app.get("/demo/token-exchange")
        def defaults():
            return jsonify(DEFAULTS)

        @app.post("/demo/token-exchange", endpoint="try_exchange")
        @app.post("/demo/refresh", endpoint="try_refresh")
        def tried():
            self.posted.append((request.path, request.get_json(), request.headers.get("Authorization", "")))
            self.operator.append(request.headers.get("X-Obo-Operator"))
            status, body = self.reports.pop(0) if self.reports else (200, self.report(403, T20))
            return jsonify(body), status

    @staticmethod
    def report(status: int, answer: dict, grant: str = "token-exchange") -> dict:
        sent = {"grant_type": "urn:ietf:params:oauth:grant-type:token-exchange", "client_secret": "********"}
        return {"grant": grant, "sent": sent, "status": status, "answer": answer, "request_id": "tried-1"}


@pytest.fixture
def tried(source_api):
    return TriedAtTheSourceApi(source_api)


@pytest.fixture
def management(idp):
    return FakeManagementApi(idp)


@pytest.fixture
def demo_app(settings, idp, tried, management):
    app = create_app(settings.model_copy(update={"demo_tools": "on"}))
    app.config["TESTING"] = True
    return app


@pytest.fixture
def attendee(demo_app, idp):
    browser = Browser(demo_app.test_client(), idp)
    browser.log_in()
    return browser


def send(browser: Browser, path: str = "/inspector/try/exchange", **data):
    token = browser.csrf_token("/inspector/try")
    return browser.client.post(path, data={"csrf_token": token, **data})


def test_the_form_starts_with_what_the_source_api_sends_and_the_inspector_links_it(attendee):
    page = attendee.client.get("/inspector/try")
    assert page.status_code == 200
    assert f'value="{TARGET_AUDIENCE}"' in page.text
    assert 'value="read:contacts offline_access"' in page.text
    assert "source-api-secret" not in page.text
    assert 'href="/inspector/try"' in attendee.client.get("/inspector").text


def test_a_changed_audience_shows_the_refusal_its_case_and_its_log_entry(attendee, tried, management, idp):
    management.logs = [
        {"type": "fsa", "description": "another request", "client_id": "web-app", "details": {"request_id": "other"}},
        {
            "type": "failed_on_behalf_of_token_exchange",
            "description": T20["error_description"],
            "client_id": "source-api",
            "details": {"request_id": "tried-1"},
        },
    ]
    page = send(attendee, audience="https://target-api.example.co", scope="read:contacts", actor_token="none")

    assert page.status_code == 200, page.text
    path, posted, authorization = tried.posted[-1]
    assert path == "/demo/token-exchange"
    assert posted == {
        "audience": "https://target-api.example.co",
        "scope": "read:contacts",
        "requested_token_type": "",
        "resource": "",
        "actor_token": "none",
    }
    assert authorization == f"Bearer {list(idp.access_tokens)[-1]}"  # the user's own
    assert tried.operator[-1] == OPERATOR_SECRET  # the Source API answers "try it" to the operator only
    assert "HTTP 403" in page.text
    assert 'href="/troubleshooting#t20"' in page.text
    assert "failed_on_behalf_of_token_exchange" in page.text
    assert "another request" not in page.text


def test_an_issued_token_is_shown_decoded(attendee, tried):
    answer = {"access_token": TARGET_TOKEN, "token_type": "Bearer", "scope": "read:contacts"}
    tried.reports.append((200, TriedAtTheSourceApi.report(200, answer)))
    page = send(attendee, audience=TARGET_AUDIENCE, scope="read:contacts")
    assert page.status_code == 200
    assert "The token, decoded" in page.text
    assert "auth0|alice" in page.text
    assert "troubleshooting#" not in page.text.split('id="tried"')[1].split('id="exchange"')[0]


def test_a_refresh_is_tried_with_its_scope(attendee, tried):
    answer = {"error": "invalid_scope", "error_description": "Scope not granted to this refresh token: write:contacts"}
    tried.reports.append((200, TriedAtTheSourceApi.report(400, answer, grant="refresh")))
    page = send(attendee, "/inspector/try/refresh", scope="write:contacts")
    assert page.status_code == 200
    assert tried.posted[-1][:2] == ("/demo/refresh", {"scope": "write:contacts"})
    assert 'href="/troubleshooting#t36"' in page.text


def test_without_a_csrf_token_nothing_is_sent(attendee, tried):
    page = attendee.client.post("/inspector/try/exchange", data={"audience": "https://x/"})
    assert page.status_code == 400
    assert "The form was refused" in page.text
    assert tried.posted == []


@pytest.mark.parametrize(
    "data",
    [{"audience": "a\x01b"}, {"scope": "x" * 513}, {"actor_token": "eyJhbGciOiJub25lIn0.e30."}],
)
def test_bad_input_is_a_400_that_names_the_field_and_sends_nothing(attendee, tried, data):
    page = send(attendee, **data)
    assert page.status_code == 400
    assert "Not sent." in page.text
    assert f"<code>{next(iter(data))}</code>" in page.text
    assert tried.posted == []


def test_a_value_the_source_api_refuses_is_a_400_with_its_reason(attendee, tried):
    tried.reports.append((400, {"error": "invalid_request", "error_description": "No Target API refresh token"}))
    page = send(attendee, "/inspector/try/refresh", scope="")
    assert page.status_code == 400
    assert "No Target API refresh token" in page.text


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (429, {"title": "Too many token exchanges for this user", "detail": "try again in 30 seconds", "step": 3}),
        (503, {"title": "Upstream unavailable", "detail": "cannot be reached", "step": 3}),
        (500, {"error": "server_error"}),
        (404, {"error": "not_found"}),
    ],
)
def test_a_source_api_failure_is_a_page_that_says_so(attendee, tried, status, body):
    tried.reports.append((status, body))
    page = send(attendee, audience=TARGET_AUDIENCE)
    assert page.status_code == {500: 502}.get(status, status)
    assert "Traceback" not in page.text
    assert (body.get("title") or "Source API") in page.text


def test_with_the_demo_tools_off_it_is_404(logged_in, tried):
    assert logged_in.client.get("/inspector/try").status_code == 404
    token = logged_in.csrf_token()
    assert logged_in.client.post("/inspector/try/exchange", data={"csrf_token": token}).status_code == 404
    assert tried.posted == []


def test_it_needs_a_login(demo_app):
    assert demo_app.test_client().get("/inspector/try").status_code == 401


@pytest.mark.parametrize(
    ("grant", "error", "description", "case"),
    [
        ("token-exchange", "access_denied", "Service not enabled within domain: https://x/", "T20"),
        ("token-exchange", "invalid_target", "resource and audience must name the same API", "T20"),
        ("token-exchange", "invalid_request", "Missing required parameter: audience", "T19"),
        ("token-exchange", "invalid_request", "Unsupported requested_token_type: access tokens only", "T26"),
        ("token-exchange", "invalid_request", "Missing required parameter: requested_token_type", "T41"),
        ("token-exchange", "invalid_request", "actor_token is not supported: impersonation only", "T27"),
        ("token-exchange", "invalid_request", "actor_token audience does not match the requesting API", "T43"),
        ("token-exchange", "invalid_scope", "Scope not selected in the API pairing: write:contacts", "T21"),
        ("refresh", "invalid_scope", "Scope not granted to this refresh token: write:contacts", "T36"),
        ("refresh", "invalid_grant", "Unknown or invalid refresh token.", "T33"),
    ],
)
def test_each_tried_answer_names_its_case(grant, error, description, case):
    assert case_number(grant, error, description) == case
