"""source-api end to end in one process: the user's token in (step 2), the exchange (step 3)
and the Target API call (step 4) against a FakeNetwork, and every failure as its caller sees it."""

from __future__ import annotations

import base64
import json
import socket

import pytest
import requests
from conftest import ALICE, INTERNAL, SOURCE_AUDIENCE, TARGET_AUDIENCE, TARGET_URL, grants

from obo_testing import FakeNetwork, response

TOKEN_URL = INTERNAL + "oauth/token"
CONTACTS_URL = TARGET_URL + "/api/contacts"
TARGET_BODY = {"owner": ALICE, "contacts": [{"name": "Carol Chen", "email": "carol@example.com"}]}
PROBLEM_FIELDS = {"type", "title", "status", "detail", "step", "upstream"}


@pytest.fixture
def target(network):
    """The Target API: answers GET with TARGET_BODY and POST with the contact it got."""

    def contacts(call):
        if call.method == "POST":
            return 201, call.json
        return 200, TARGET_BODY

    network.route("GET", CONTACTS_URL, contacts)
    network.route("POST", CONTACTS_URL, contacts)
    return network


@pytest.fixture
def user_token(factory) -> str:
    return factory.issue(sub=ALICE)


@pytest.fixture
def writer_token(factory) -> str:
    """A login that also granted the Source API's write:contacts (POST /api/contacts)."""
    return factory.issue(sub=ALICE, scope="openid read:contacts write:contacts")


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def target_calls(network: FakeNetwork):
    return [call for call in network.calls if call.url.startswith(TARGET_URL)]


def assert_problem(answer, status: int, step: int, upstream: str) -> dict:
    assert answer.status_code == status
    assert answer.mimetype == "application/problem+json"
    body = json.loads(answer.get_data())
    assert set(body) >= PROBLEM_FIELDS
    assert body["status"] == status
    assert body["step"] == step
    assert body["upstream"] == upstream
    assert body["type"].startswith("about:blank#")
    assert body["title"]
    assert body["detail"]
    return body


def test_healthz_names_its_instance_and_its_cache(client):
    body = client.get("/healthz", environ_overrides={"SERVER_PORT": "3101"}).get_json()
    assert body == {"status": "ok", "instance": f"{socket.gethostname()}:3101", "cache": "memory"}


def test_logout_drops_the_logins_cached_target_tokens_and_no_other(client, factory, target, network):
    login, other_login = (factory.issue(sub=ALICE, grant_id=grant) for grant in ("grant-1", "grant-2"))
    refreshed = factory.issue(sub=ALICE, grant_id="grant-1")  # the same login, a later token
    for token in (login, other_login):
        assert client.get("/api/contacts", headers=bearer(token)).status_code == 200
    assert client.get("/api/contacts", headers=bearer(refreshed)).get_json()["via"]["target_token"] == "cache"

    answer = client.delete("/api/login-tokens", headers=bearer(refreshed))

    assert (answer.status_code, answer.get_json()) == (200, {"forgotten": 1})
    assert client.get("/api/contacts", headers=bearer(login)).get_json()["via"]["target_token"] == "exchange"
    assert client.get("/api/contacts", headers=bearer(other_login)).get_json()["via"]["target_token"] == "cache"
    assert grants(network) == ["exchange", "exchange", "exchange"]


def test_dropping_a_logins_tokens_needs_a_valid_token(client):
    assert client.delete("/api/login-tokens").status_code == 401
    assert client.delete("/api/login-tokens", headers=bearer("not-a-token")).status_code == 401


def test_me_echoes_the_claims_of_the_users_token(client, factory):
    token = factory.issue(sub=ALICE, jti="jti-1", **{"https://example.com/plan": "gold"})
    answer = client.get("/api/me", headers=bearer(token))
    assert answer.status_code == 200
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert answer.get_json() == {"sub": ALICE, "claims": claims}


def test_me_needs_read_profile(client, factory):
    answer = client.get("/api/me", headers=bearer(factory.issue(scope="openid read:contacts")))
    assert answer.status_code == 403
    assert 'scope="read:profile"' in answer.headers["WWW-Authenticate"]


def test_T11_a_target_api_token_sent_here_is_refused_before_any_exchange(client, factory, network, target):
    answer = client.get("/api/contacts", headers=bearer(factory.issue(aud=TARGET_AUDIENCE, scope="read:contacts")))
    assert answer.status_code == 401
    assert answer.get_json()["error"] == "invalid_token"
    assert grants(network) == []
    assert target_calls(network) == []


def test_T10_no_token_no_exchange(client, network, target):
    answer = client.get("/api/contacts")
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == f'Bearer realm="{SOURCE_AUDIENCE}"'
    assert grants(network) == []


def test_contacts_answers_the_target_body_plus_via(client, user_token, target):
    first = client.get("/api/contacts", headers=bearer(user_token))
    assert first.status_code == 200
    body = first.get_json()
    via = body.pop("via")
    assert body == TARGET_BODY
    assert via["target_token"] == "exchange"
    assert via["audience"] == TARGET_AUDIENCE
    assert via["client_id"] == "source-api"
    assert via["scope"] == "read:contacts offline_access"
    assert via["refresh_token"] is True
    assert via["expires_at"] - via["obtained_at"] == 3600
    second = client.get("/api/contacts", headers=bearer(user_token)).get_json()
    assert second["via"]["target_token"] == "cache"
    assert grants(target) == ["exchange"]


def test_the_target_apis_own_bytes_are_passed_on_with_via_appended(client, user_token, network):
    sent = b'{"owner": "x", "contacts": [{"name": "Z\\u00e9", "email": "z@example.com"}]}  \n'
    network.route("GET", CONTACTS_URL, response(200, text=sent.decode(), headers={"Content-Type": "application/json"}))

    answer = client.get("/api/contacts", headers=bearer(user_token))

    assert answer.status_code == 200
    assert answer.content_type == "application/json"
    assert answer.get_data().startswith(sent.strip()[:-1] + b',"via":{"audience":')
    body = answer.get_json()
    assert body.pop("via")["target_token"] == "exchange"
    assert body == json.loads(sent)


@pytest.mark.parametrize(
    "sent",
    [
        {"via": "the Target API's own", "contacts": []},  # replaced, as a key cannot be said twice
        {},
    ],
    ids=["its-own-via", "empty-object"],
)
def test_via_is_the_source_apis_whatever_the_target_api_answered(client, user_token, network, sent):
    network.route("GET", CONTACTS_URL, (200, sent))

    answer = client.get("/api/contacts", headers=bearer(user_token))

    assert answer.get_data().count(b'"via"') == 1
    body = answer.get_json()
    assert body.pop("via")["target_token"] == "exchange"
    assert body == {k: v for k, v in sent.items() if k != "via"}
    assert (
        json.loads(client.get("/api/contacts", headers=bearer(user_token)).get_data())["via"]["target_token"] == "cache"
    )


def test_the_target_api_gets_the_target_token_never_the_users(client, user_token, target):
    for _ in range(2):
        client.get("/api/contacts", headers=bearer(user_token))
    [exchange] = target.calls_to("POST", TOKEN_URL)
    assert exchange.data["subject_token"] == user_token
    calls = target_calls(target)
    assert [call.headers["Authorization"] for call in calls] == ["Bearer target-at-1"] * 2
    for call in calls:
        assert user_token not in json.dumps([call.headers, call.json, call.data, call.url])


def test_every_outbound_call_has_the_configured_timeout(client, user_token, target, settings):
    client.get("/api/contacts", headers=bearer(user_token))
    assert len(target.calls) == 4  # discovery, JWKS, exchange, Target API
    assert {call.timeout for call in target.calls} == {settings.timeout}


def test_a_posted_contact_is_forwarded_as_json(client, writer_token, target):
    contact = {"name": "Zoe Zhang", "email": "zoe@example.com"}
    answer = client.post("/api/contacts", json=contact, headers=bearer(writer_token))
    assert answer.status_code == 201
    body = answer.get_json()
    assert body.pop("via")["target_token"] == "exchange"
    assert body == contact
    assert target_calls(target)[0].json == contact


def test_adding_a_contact_needs_the_source_apis_write_scope_not_read(client, user_token, target):
    # A login that granted read:contacts only: refused here, before any exchange.
    answer = client.post("/api/contacts", json={"name": "Zoe", "email": "zoe@example.com"}, headers=bearer(user_token))
    assert answer.status_code == 403
    assert answer.get_json()["error"] == "insufficient_scope"
    assert answer.headers["WWW-Authenticate"].startswith(
        f'Bearer realm="{SOURCE_AUDIENCE}", error="insufficient_scope"'
    )
    assert answer.headers["WWW-Authenticate"].endswith('scope="write:contacts"')
    assert grants(target) == []
    assert target_calls(target) == []


def test_a_post_that_is_not_json_is_400_before_any_exchange(client, writer_token, target):
    answer = client.post("/api/contacts", data="name=Zoe", headers=bearer(writer_token))
    assert answer.status_code == 400
    assert grants(target) == []


def test_the_request_id_goes_to_the_identity_provider_and_the_target_api(client, user_token, target):
    answer = client.get("/api/contacts", headers={**bearer(user_token), "X-Request-Id": "click-42"})
    assert answer.headers["X-Request-Id"] == "click-42"
    [exchange] = target.calls_to("POST", TOKEN_URL)
    assert exchange.headers["X-Request-Id"] == "click-42"
    assert target_calls(target)[0].headers["X-Request-Id"] == "click-42"


# -- step 4 failures: the Target API ------------------------------------------------------


def test_T31_target_api_refusing_connections_is_502_and_the_cached_token_is_kept(client, user_token, target):
    target.route("GET", CONTACTS_URL, requests.ConnectionError("connection refused"))
    answer = client.get("/api/contacts", headers=bearer(user_token))
    body = assert_problem(answer, 502, step=4, upstream="target-api")
    assert "upstream_error" not in body
    target.route("GET", CONTACTS_URL, (200, TARGET_BODY))
    again = client.get("/api/contacts", headers=bearer(user_token))
    assert again.status_code == 200
    assert again.get_json()["via"]["target_token"] == "cache"
    assert grants(target) == ["exchange"]


def test_T31_target_api_timing_out_is_504(client, user_token, target):
    target.route("GET", CONTACTS_URL, requests.Timeout("read timed out"))
    assert_problem(client.get("/api/contacts", headers=bearer(user_token)), 504, step=4, upstream="target-api")


@pytest.mark.parametrize(
    "answer",
    [(500, {"error": "server_error"}), response(503, text="Service Unavailable"), (200, ["not", "an", "object"])],
    ids=["500", "503-text", "200-list"],
)
def test_a_broken_target_api_answer_is_502(client, user_token, target, answer):
    target.route("GET", CONTACTS_URL, answer)
    assert_problem(client.get("/api/contacts", headers=bearer(user_token)), 502, step=4, upstream="target-api")


def test_T30_target_insufficient_scope_is_passed_up_as_403_with_the_scope(client, writer_token, target):
    challenge = (
        f'Bearer realm="{TARGET_AUDIENCE}", error="insufficient_scope", '
        'error_description="The request requires higher privileges", scope="write:contacts"'
    )
    target.route(
        "POST",
        CONTACTS_URL,
        (403, {"error": "insufficient_scope", "scope": "write:contacts"}, {"WWW-Authenticate": challenge}),
    )
    answer = client.post(
        "/api/contacts", json={"name": "Zoe", "email": "zoe@example.com"}, headers=bearer(writer_token)
    )
    assert answer.status_code == 403
    assert answer.headers["WWW-Authenticate"].startswith(
        f'Bearer realm="{SOURCE_AUDIENCE}", error="insufficient_scope"'
    )
    assert answer.headers["WWW-Authenticate"].endswith('scope="write:contacts"')
    assert answer.get_json()["error"] == "insufficient_scope"
    assert answer.get_json()["scope"] == "write:contacts"


def test_target_401_means_one_fresh_exchange_and_one_retry_then_502(client, user_token, target):
    target.route(
        "GET", CONTACTS_URL, (401, {"error": "invalid_token", "error_description": "signed with an unknown key"})
    )
    answer = client.get("/api/contacts", headers=bearer(user_token))
    body = assert_problem(answer, 502, step=4, upstream="target-api")
    assert body["upstream_error"] == "invalid_token"
    assert body["upstream_error_description"] == "signed with an unknown key"
    assert grants(target) == ["exchange", "exchange"]
    assert [call.headers["Authorization"] for call in target_calls(target)] == [
        "Bearer target-at-1",
        "Bearer target-at-2",
    ]


def test_target_401_once_is_healed_by_a_fresh_exchange(client, user_token, target):
    target.route("GET", CONTACTS_URL, [(401, {"error": "invalid_token"}), (200, TARGET_BODY)])
    answer = client.get("/api/contacts", headers=bearer(user_token))
    assert answer.status_code == 200
    assert answer.get_json()["via"]["target_token"] == "exchange"
    assert target_calls(target)[-1].headers["Authorization"] == "Bearer target-at-2"
    assert client.get("/api/contacts", headers=bearer(user_token)).get_json()["via"]["target_token"] == "cache"


def test_the_callers_own_bad_input_refused_by_the_target_api_is_a_400(client, writer_token, target):
    target.route(
        "POST",
        CONTACTS_URL,
        (400, {"error": "invalid_request", "error_description": "email must be an email address."}),
    )
    answer = client.post("/api/contacts", json={"name": "Zoe", "email": "nope"}, headers=bearer(writer_token))
    assert answer.status_code == 400


# -- step 3 failures: the identity provider -----------------------------------------------


def test_T32_identity_provider_unreachable_is_503_with_retry_after_and_no_target_call(client, user_token, target):
    target.route("POST", TOKEN_URL, requests.ConnectionError("connection refused"))
    answer = client.get("/api/contacts", headers=bearer(user_token))
    assert_problem(answer, 503, step=3, upstream="identity-provider")
    assert answer.headers["Retry-After"] == "5"
    assert target_calls(target) == []


def test_T28_rate_limited_exchange_is_503_with_the_upstream_retry_after(client, user_token, target):
    target.route(
        "POST",
        TOKEN_URL,
        (429, {"error": "too_many_requests", "error_description": "slow down"}, {"Retry-After": "17"}),
    )
    answer = client.get("/api/contacts", headers=bearer(user_token))
    body = assert_problem(answer, 503, step=3, upstream="identity-provider")
    assert answer.headers["Retry-After"] == "17"
    assert body["upstream_error"] == "too_many_requests"
    assert body["upstream_error_description"] == "slow down"


def test_T32_identity_provider_too_slow_is_504(client, user_token, target):
    target.route("POST", TOKEN_URL, requests.Timeout("read timed out"))
    assert_problem(client.get("/api/contacts", headers=bearer(user_token)), 504, step=3, upstream="identity-provider")
    assert target_calls(target) == []


@pytest.mark.parametrize(
    ("status", "error", "description"),
    [
        (403, "unauthorized_client", "Grant type 'urn:ietf:params:oauth:grant-type:token-exchange' not allowed"),
        (403, "consent_required", "The target API does not allow skipping user consent"),
        (400, "invalid_scope", "Scope write:contacts is not allowed"),
    ],
    ids=["T16", "T22", "T21"],
)
def test_a_tenant_misconfiguration_is_502_naming_the_upstream_error(
    client, user_token, target, status, error, description
):
    target.route("POST", TOKEN_URL, (status, {"error": error, "error_description": description}))
    answer = client.get("/api/contacts", headers=bearer(user_token))
    body = assert_problem(answer, 502, step=3, upstream="identity-provider")
    assert body["upstream_error"] == error
    assert body["upstream_error_description"] == description
    assert target_calls(target) == []


def test_identity_provider_failing_is_502(client, user_token, target):
    target.route("POST", TOKEN_URL, response(500, text="Internal Server Error"))
    body = assert_problem(
        client.get("/api/contacts", headers=bearer(user_token)), 502, step=3, upstream="identity-provider"
    )
    assert "upstream_error" not in body


def test_T23_an_expired_subject_token_is_401_invalid_token_so_the_app_refreshes(client, user_token, target):
    target.route("POST", TOKEN_URL, (400, {"error": "invalid_request", "error_description": "subject_token expired"}))
    answer = client.get("/api/contacts", headers=bearer(user_token))
    assert answer.status_code == 401
    challenge = answer.headers["WWW-Authenticate"]
    assert challenge.startswith(f'Bearer realm="{SOURCE_AUDIENCE}", error="invalid_token"')
    assert "subject_token expired" in challenge
    assert answer.get_json()["error"] == "invalid_token"
    assert target_calls(target) == []


def test_T32_with_keys_and_target_token_cached_an_identity_provider_outage_does_not_matter(client, user_token, target):
    assert client.get("/api/contacts", headers=bearer(user_token)).status_code == 200
    for method, url in list(target.routes):
        if url.startswith(INTERNAL):
            target.route(method, url, requests.ConnectionError("identity provider down"))
    answer = client.get("/api/contacts", headers=bearer(user_token))
    assert answer.status_code == 200
    assert answer.get_json()["via"]["target_token"] == "cache"
    assert client.get("/api/me", headers=bearer(user_token)).status_code == 200


def test_T14_identity_provider_down_before_any_key_was_fetched_is_503(client, user_token, target):
    for method, url in list(target.routes):
        if url.startswith(INTERNAL):
            target.route(method, url, requests.ConnectionError("identity provider down"))
    answer = client.get("/api/contacts", headers=bearer(user_token))
    assert answer.status_code == 503
    assert "Retry-After" in answer.headers
    assert grants(target) == []


def test_T14_a_key_retired_after_it_was_cached_the_exchange_refusal_and_the_api_agree(
    client, user_token, target, factory
):
    assert client.get("/api/me", headers=bearer(user_token)).status_code == 200  # the key is cached
    factory.rotate("idp-key-2")  # and retired: the JWKS no longer has it
    assert client.get("/api/me", headers=bearer(user_token)).status_code == 200  # within JWKS_MAX_AGE
    refusal = {"error": "invalid_request", "error_description": "subject_token signature could not be verified"}
    target.route("POST", TOKEN_URL, (400, refusal))

    exchanged = client.get("/api/contacts", headers=bearer(user_token))
    me = client.get("/api/me", headers=bearer(user_token))

    for answer in (exchanged, me):
        assert answer.status_code == 401
        assert answer.get_json() == {
            "error": "invalid_token",
            "error_description": "The access token is signed with an unknown key",
        }
    assert target_calls(target) == []


def test_a_step_up_challenge_is_passed_up_as_401_with_the_same_requirement(client, user_token, target):
    """RFC 9470: the Target API wants a stronger, more recent login. Exchanging again would
    carry the same login: the caller is told, with the Target API's acr_values and max_age."""
    description = "A stronger login is required (acr: urn:mock:mfa)"
    challenge = (
        f'Bearer realm="{TARGET_AUDIENCE}", error="insufficient_user_authentication", '
        f'error_description="{description}", acr_values="urn:mock:mfa", max_age="300"'
    )
    target.route(
        "GET",
        CONTACTS_URL,
        (401, {"error": "insufficient_user_authentication"}, {"WWW-Authenticate": challenge}),
    )
    answer = client.get("/api/contacts", headers=bearer(user_token))
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == (
        f'Bearer realm="{SOURCE_AUDIENCE}", error="insufficient_user_authentication", '
        f'error_description="{description}", acr_values="urn:mock:mfa", max_age="300"'
    )
    assert answer.get_json() == {
        "error": "insufficient_user_authentication",
        "error_description": description,
        "acr_values": "urn:mock:mfa",
        "max_age": 300,
        "upstream": "target-api",
    }
    assert grants(target) == ["exchange"]  # no second exchange: it would carry the same login
    assert len(target_calls(target)) == 1


def test_the_providers_step_up_refusal_is_passed_up_as_the_same_401_challenge(client, user_token, target):
    """T46: the Target API's step-up policy at the exchange, told as the Target API would."""
    description = "A more recent login is required (within 600 seconds)"
    refusal = {"error": "insufficient_user_authentication", "error_description": description, "max_age": 600}
    target.route("POST", TOKEN_URL, (400, refusal))
    answer = client.get("/api/contacts", headers=bearer(user_token))
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == (
        f'Bearer realm="{SOURCE_AUDIENCE}", error="insufficient_user_authentication", '
        f'error_description="{description}", max_age="600"'
    )
    assert answer.get_json()["upstream"] == "identity-provider"
    assert target_calls(target) == []
