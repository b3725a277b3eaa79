"""X-Obo-Trace: the Source API's hops (exchange, cache hit, refresh, Target API call) in its
answer for the flow inspector, only when the operator asks and only with the demo tools on."""

from __future__ import annotations

import json

import pytest
import requests
from conftest import ALICE, INTERNAL, OPERATOR_SECRET, TARGET_URL

from obo_common import http_trace
from obo_testing import Clock
from source_api import create_app

TOKEN_URL = INTERNAL + "oauth/token"
CONTACTS_URL = TARGET_URL + "/api/contacts"
TARGET_BODY = {"owner": ALICE, "contacts": [{"name": "Carol Chen", "email": "carol@example.com"}]}
TRACE = {"X-Obo-Trace": "1", "X-Obo-Operator": OPERATOR_SECRET}


@pytest.fixture
def target(network):
    network.route("GET", CONTACTS_URL, (200, TARGET_BODY))
    return network


@pytest.fixture
def user_token(factory) -> str:
    return factory.issue(sub=ALICE)


def contacts(client, token: str, **headers):
    return client.get("/api/contacts", headers={"Authorization": f"Bearer {token}", **headers})


def test_with_the_header_the_answer_carries_the_exchange_and_the_target_api_call(client, user_token, target):
    answer = contacts(client, user_token, **TRACE)

    assert answer.status_code == 200
    body = answer.get_json()
    assert body["contacts"] == TARGET_BODY["contacts"]
    exchange, call = body["trace"]
    assert (exchange["step"], exchange["title"]) == ("3", "Token exchange")
    assert (exchange["caller"], exchange["callee"]) == ("source-api", "identity provider")
    assert exchange["cache"] == "miss"
    assert exchange["request"]["method"] == "POST"
    assert exchange["request"]["url"] == TOKEN_URL
    form = exchange["request"]["form"]
    assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:token-exchange"
    assert form["subject_token"] == user_token
    assert form["client_secret"] == http_trace.MASK
    assert exchange["secrets"] == {"client_secret": "SOURCE_API_CLIENT_SECRET"}
    assert exchange["response"]["status"] == 200
    assert exchange["response"]["body"]["access_token"] == "target-at-1"
    assert exchange["request_id"] == answer.headers["X-Request-Id"]

    assert (call["step"], call["title"], call["callee"]) == ("4", "Target API call", "target-api")
    assert call["request"]["url"] == CONTACTS_URL
    assert call["request"]["headers"]["Authorization"] == "Bearer target-at-1"
    assert call["response"]["body"] == TARGET_BODY


def test_the_source_api_client_secret_is_never_in_the_trace(client, user_token, target):
    answer = contacts(client, user_token, **TRACE)
    assert answer.get_json()["trace"]
    assert "source-api-secret" not in answer.get_data(as_text=True)


@pytest.mark.parametrize("operator", [None, "", "demo-operator-secret", OPERATOR_SECRET + "x"])
def test_a_token_holder_without_the_operator_secret_gets_no_trace(client, user_token, target, operator):
    headers = {"X-Obo-Trace": "1"} | ({"X-Obo-Operator": operator} if operator is not None else {})
    answer = contacts(client, user_token, **headers)
    assert answer.status_code == 200
    assert "trace" not in answer.get_json()


def test_the_target_api_refresh_token_the_exchange_returned_is_masked(client, user_token, target):
    exchange, _ = contacts(client, user_token, **TRACE).get_json()["trace"]
    assert exchange["response"]["body"]["refresh_token"] == http_trace.MASK
    assert exchange["response"]["body"]["access_token"] == "target-at-1"  # the user's own: shown


def test_without_the_header_the_answer_is_as_without_the_demo_tools(settings, user_token, target):
    answers = {}
    for demo_tools in ("on", "off"):
        app = create_app(settings.model_copy(update={"demo_tools": demo_tools}))
        answers[demo_tools] = contacts(app.test_client(), user_token).get_json()
    assert "trace" not in answers["on"]
    for answer in answers.values():
        answer["via"].pop("obtained_at"), answer["via"].pop("expires_at")
    assert answers["on"] == answers["off"]


@pytest.mark.parametrize("value", ["1", "0", "yes"])
def test_with_the_demo_tools_off_the_header_changes_nothing(settings, user_token, target, value):
    app = create_app(settings.model_copy(update={"demo_tools": "off"}))
    answer = contacts(app.test_client(), user_token, **{"X-Obo-Trace": value})
    assert answer.status_code == 200
    assert "trace" not in answer.get_json()


def test_only_the_value_1_asks_for_a_trace(client, user_token, target):
    assert "trace" not in contacts(client, user_token, **{"X-Obo-Trace": "true"}).get_json()


def test_a_second_call_is_a_cache_hit_saying_until_when_the_token_is_held(client, user_token, target):
    contacts(client, user_token, **TRACE)
    hit, call = contacts(client, user_token, **TRACE).get_json()["trace"]

    assert (hit["step"], hit["cache"], hit["request"], hit["response"]) == ("3", "hit", None, None)
    assert "held until" in hit["note"]
    assert "UTC" in hit["note"]
    assert call["request"]["headers"]["Authorization"] == "Bearer target-at-1"


def test_near_expiry_the_trace_shows_the_source_apis_refresh(app, client, user_token, target):
    clock = Clock()
    app.extensions["source_api"].target_tokens.clock = clock
    contacts(client, user_token)
    clock.advance(3600 - 30)  # inside the 60 s renew margin

    refresh, call = contacts(client, user_token, **TRACE).get_json()["trace"]

    assert refresh["step"] == "5"
    assert refresh["title"] == "Source API refreshes its Target API token"
    assert refresh["request"]["form"]["grant_type"] == "refresh_token"
    assert refresh["request"]["form"]["refresh_token"] == http_trace.MASK
    assert refresh["secrets"]["refresh_token"] == "TARGET_API_REFRESH_TOKEN"
    assert "target-rt-1" not in json.dumps(refresh)
    assert refresh["request"]["form"]["client_secret"] == http_trace.MASK
    assert call["request"]["headers"]["Authorization"] == "Bearer target-at-2"


def test_a_target_api_that_cannot_be_reached_is_in_the_problem_answer(client, user_token, network):
    network.route("GET", CONTACTS_URL, requests.ConnectionError("refused"))
    answer = contacts(client, user_token, **TRACE)

    assert answer.status_code == 502
    assert answer.mimetype == "application/problem+json"
    body = answer.get_json()
    assert body["step"] == 4
    exchange, call = body["trace"]
    assert exchange["step"] == "3"
    assert call["step"] == "4"
    assert call["response"] is None
    assert call["error"] == "could not connect"


def test_a_target_api_error_answer_is_recorded_with_its_body(client, user_token, network):
    network.route("GET", CONTACTS_URL, (500, {"error": "server_error"}))
    body = contacts(client, user_token, **TRACE).get_json()
    assert body["trace"][-1]["response"] == {
        "status": 500,
        "headers": {"Content-Type": "application/json"},
        "body": {"error": "server_error"},
    }


def test_an_identity_provider_that_times_out_is_a_hop_without_an_answer(client, user_token, network):
    network.route("POST", TOKEN_URL, requests.ReadTimeout("slow"))
    answer = contacts(client, user_token, **TRACE)
    assert answer.status_code == 504
    [exchange] = answer.get_json()["trace"]
    assert exchange["step"] == "3"
    assert exchange["error"] == "timed out"
    assert exchange["response"] is None


def test_a_refused_exchange_is_recorded_with_the_identity_providers_answer(client, user_token, network):
    refusal = {"error": "unauthorized_client", "error_description": "Token exchange is not enabled"}
    network.route("POST", TOKEN_URL, (403, refusal))
    body = contacts(client, user_token, **TRACE).get_json()
    assert body["upstream_error"] == "unauthorized_client"
    [exchange] = body["trace"]
    assert exchange["response"]["status"] == 403
    assert exchange["response"]["body"] == refusal


def test_a_refused_user_token_answers_rfc_6750_json_with_an_empty_trace(client, factory, target):
    answer = contacts(client, factory.issue(sub=ALICE, exp=1), **TRACE)
    assert answer.status_code == 401
    body = json.loads(answer.get_data())
    assert body["error"] == "invalid_token"
    assert body["trace"] == []


def test_the_actor_token_all_users_share_is_masked(settings, user_token, target):
    app = create_app(settings.model_copy(update={"exchange_profile": "current", "send_actor_token": True}))
    exchange, _ = contacts(app.test_client(), user_token, **TRACE).get_json()["trace"]
    actor = app.extensions["source_api"].target_tokens.profile.actor_token()
    assert exchange["request"]["form"]["actor_token"] == http_trace.MASK
    assert exchange["secrets"]["actor_token"] == "SOURCE_API_ACTOR_TOKEN"
    assert actor not in json.dumps(exchange)
