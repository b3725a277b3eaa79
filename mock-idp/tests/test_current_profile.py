"""The tenant's token_exchange_profile: ``current``, the provider's current On-Behalf-Of
setup (T40-T44): a Custom API client, required parameters, an access token only, the
provider's statuses (401, 400, 403), and delegation with ``act`` (RFC 8693 4.1, 4.4)."""

from __future__ import annotations

from typing import get_args

import pytest

from mock_idp import clock
from mock_idp.grants.exchange_profiles import PROFILES
from mock_idp.tenant import Tenant
from mock_idp.tokens import sign

from .conftest import client_named
from .flows import ACCESS_TOKEN_TYPE, ALICE_ID, ISSUER, SOURCE_API, SOURCE_CLIENT, TARGET_API, Flows, Management

FAILED = "failed_on_behalf_of_token_exchange"
CURRENT = {"requested_token_type": ACCESS_TOKEN_TYPE}


def current(document, depth=5):
    document["token_exchange_profile"] = "current"
    document["token_exchange_delegation_depth"] = depth
    client_named(document, "source-api")["grant_types"] = ["refresh_token", "client_credentials"]


@pytest.fixture
def flows(make_app):
    return Flows(make_app(current))


def actor_token(flows, audience=TARGET_API, client=SOURCE_CLIENT):
    response = flows.backend.post(
        "/oauth/token", data={"grant_type": "client_credentials", "audience": audience, **client}
    )
    assert response.status_code == 200, response.json
    return response.json["access_token"]


def delegated(flows, subject, **extra):
    return flows.exchange(
        subject, actor_token=actor_token(flows), actor_token_type=ACCESS_TOKEN_TYPE, **CURRENT, **extra
    )


def subject_with(flows, **claims):
    """A Source API token of this tenant carrying ``claims`` (act, may_act), as one made
    by an exchange further up a chain would."""
    now = clock.now()
    with flows.app.app_context():
        return sign(
            {"iss": ISSUER, "sub": ALICE_ID, "aud": SOURCE_API, "iat": now, "exp": now + 600,
             "client_id": "web-app", "scope": "read:contacts", **claims},
            "at+jwt",
        )  # fmt: skip


def refused(flows, response, status, error, description, reason=None):
    assert response.status_code == status, response.json
    assert response.json == {"error": error, "error_description": description}
    log = flows.last_log()
    assert log["type"] == FAILED
    assert log["description"] == description
    if reason:
        assert log["details"]["reason"] == reason


def test_every_profile_a_tenant_may_name_has_its_class():
    assert set(PROFILES) == set(get_args(Tenant.model_fields["token_exchange_profile"].annotation))


def test_the_profile_is_legacy_by_default_and_a_tenant_setting(make_app):
    management = Management(Flows(make_app()))
    settings = management.get("/tenants/settings").json
    assert settings["token_exchange_profile"] == "legacy"
    assert settings["token_exchange_delegation_depth"] == 5
    changed = management.patch("/tenants/settings", {"token_exchange_profile": "current"})
    assert changed.status_code == 200, changed.json
    assert changed.json["token_exchange_profile"] == "current"
    assert management.patch("/tenants/settings", {"token_exchange_profile": "newest"}).status_code == 400
    assert management.patch("/tenants/settings", {"token_exchange_delegation_depth": 6}).status_code == 400


def test_the_demo_source_api_client_is_a_custom_api_client(make_app):
    client = Management(Flows(make_app())).get("/clients/source-api").json
    assert client["app_type"] == "resource_server"
    assert client["resource_server_identifier"] == SOURCE_API


def test_only_a_custom_api_client_has_a_resource_server_identifier(make_app):
    management = Management(Flows(make_app()))
    response = management.patch("/clients/web-app", {"resource_server_identifier": SOURCE_API})
    assert response.status_code == 400
    assert "clients.0.resource_server_identifier" in response.json["message"]
    response = management.patch("/clients/source-api", {"resource_server_identifier": "https://nowhere.example.com"})
    assert response.status_code == 400


def test_current_answers_an_access_token_only(flows):
    token = flows.login_tokens()["access_token"]
    response = flows.exchange(token, scope="openid read:contacts offline_access", **CURRENT)
    assert response.status_code == 200, response.json
    assert set(response.json) == {"access_token", "issued_token_type", "token_type", "expires_in", "scope"}
    assert response.json["scope"] == "read:contacts"
    claims = flows.claims(response.json["access_token"])
    assert claims["aud"] == TARGET_API
    assert "act" not in claims  # no actor token: impersonation
    assert flows.last_log()["type"] == "success_on_behalf_of_token_exchange"


def test_T40_a_client_that_is_not_a_custom_api_client_is_refused(make_app):
    flows = Flows(make_app(lambda d: (current(d), client_named(d, "source-api").pop("resource_server_identifier"))))
    token = flows.login_tokens()["access_token"]
    description = (
        "Only a Custom API client (app_type resource_server, with a resource_server_identifier) "
        "may use On-Behalf-Of token exchange"
    )
    refused(flows, flows.exchange(token, **CURRENT), 403, "unauthorized_client", description, "not_custom_api_client")


def test_T40_token_exchange_settings_alone_do_not_make_a_custom_api_client(make_app):
    # Legacy: the API's Token Exchange Settings decide, resource_server_identifier does not.
    flows = Flows(make_app(lambda d: client_named(d, "source-api").pop("resource_server_identifier")))
    token = flows.login_tokens()["access_token"]
    assert flows.exchange(token).status_code == 200


@pytest.mark.parametrize("missing", ["subject_token", "subject_token_type", "requested_token_type", "audience"])
def test_T41_each_required_parameter_is_named_when_missing(flows, missing):
    token = flows.login_tokens()["access_token"]
    parameters = {**CURRENT, missing: None}
    response = flows.exchange(parameters.pop("subject_token", token), **parameters)
    refused(flows, response, 400, "invalid_request", f"Missing required parameter: {missing}")


def test_T41_legacy_does_not_require_requested_token_type(make_app):
    flows = Flows(make_app())
    assert flows.exchange(flows.login_tokens()["access_token"]).status_code == 200


def test_T42_an_invalid_or_expired_subject_token_is_401(flows, clock_at):
    token = flows.login_tokens()["access_token"]
    refused(flows, flows.exchange(token + "x", **CURRENT), 401, "invalid_request",
            "subject_token signature could not be verified")  # fmt: skip
    clock_at(86400 + 120)
    refused(flows, flows.exchange(token, **CURRENT), 401, "invalid_request", "subject_token expired")


def test_T42_legacy_keeps_400_for_an_invalid_subject_token(make_app):
    flows = Flows(make_app())
    token = flows.login_tokens()["access_token"]
    assert flows.exchange(token + "x").status_code == 400


def test_a_pairing_missing_is_403_under_both_profiles(make_app):
    flows = Flows(make_app(lambda d: (current(d), d.update(api_pairings=[]))))
    response = flows.exchange(flows.login_tokens()["access_token"], **CURRENT)
    assert response.status_code == 403
    assert response.json["error"] == "access_denied"


def test_an_actor_token_names_the_source_api_in_act(flows):
    token = flows.login_tokens()["access_token"]
    response = delegated(flows, token)
    assert response.status_code == 200, response.json
    claims = flows.claims(response.json["access_token"])
    assert claims["act"] == {"sub": "source-api"}
    assert claims["sub"] == ALICE_ID


def test_a_subject_token_that_carries_act_is_nested(flows):
    subject = subject_with(flows, act={"sub": "front-api"})
    response = delegated(flows, subject)
    assert response.status_code == 200, response.json
    assert flows.claims(response.json["access_token"])["act"] == {"sub": "source-api", "act": {"sub": "front-api"}}


def test_without_an_actor_token_the_subject_tokens_chain_is_kept(flows):
    subject = subject_with(flows, act={"sub": "front-api"})
    response = flows.exchange(subject, **CURRENT)
    assert flows.claims(response.json["access_token"])["act"] == {"sub": "front-api"}


def test_T43_the_actor_token_type_is_required_with_an_actor_token(flows):
    token = flows.login_tokens()["access_token"]
    response = flows.exchange(token, actor_token=actor_token(flows), **CURRENT)
    refused(flows, response, 400, "invalid_request", "Missing required parameter: actor_token_type")
    response = flows.exchange(token, actor_token_type=ACCESS_TOKEN_TYPE, **CURRENT)
    refused(flows, response, 400, "invalid_request", "actor_token_type was sent without actor_token")


def test_T43_an_actor_token_that_does_not_verify_is_401(flows):
    token = flows.login_tokens()["access_token"]
    response = flows.exchange(token, actor_token=actor_token(flows) + "x", actor_token_type=ACCESS_TOKEN_TYPE,
                              **CURRENT)  # fmt: skip
    refused(flows, response, 401, "invalid_request", "actor_token signature could not be verified")


def test_T43_an_actor_token_for_another_audience_is_401(flows):
    token = flows.login_tokens()["access_token"]
    management_client = {"client_id": "management", "client_secret": "management-secret"}
    management = actor_token(flows, ISSUER + "api/v2/", management_client)
    response = flows.exchange(token, actor_token=management, actor_token_type=ACCESS_TOKEN_TYPE, **CURRENT)
    refused(flows, response, 401, "invalid_request", "actor_token audience does not match the requesting API")


def test_T43_an_actor_token_that_is_a_users_token_is_403(flows):
    token = flows.login_tokens()["access_token"]
    users_target_token = flows.exchange(token, **CURRENT).json["access_token"]
    response = flows.exchange(token, actor_token=users_target_token, actor_token_type=ACCESS_TOKEN_TYPE, **CURRENT)
    refused(flows, response, 403, "access_denied",
            "actor_token must be a client-credentials token of the exchanging client source-api",
            "actor_not_permitted")  # fmt: skip


def test_T43_may_act_restricts_who_may_act(flows):
    refusing = subject_with(flows, may_act={"sub": "another-api"})
    refused(flows, delegated(flows, refusing), 403, "access_denied",
            "The subject_token's may_act does not allow source-api to act", "actor_not_permitted")  # fmt: skip
    allowing = subject_with(flows, may_act={"sub": "source-api"})
    assert delegated(flows, allowing).status_code == 200


def test_T44_the_chain_has_a_depth_limit(make_app):
    flows = Flows(make_app(lambda d: current(d, depth=1)))
    subject = subject_with(flows, act={"sub": "front-api"})
    refused(flows, delegated(flows, subject), 400, "invalid_request",
            "Delegation chain too deep: the token would name 2 actor(s), the tenant allows 1",
            "delegation_depth")  # fmt: skip
    assert delegated(flows, flows.login_tokens()["access_token"]).status_code == 200


def test_T44_depth_0_allows_no_actor(make_app):
    flows = Flows(make_app(lambda d: current(d, depth=0)))
    response = delegated(flows, flows.login_tokens()["access_token"])
    assert response.status_code == 400
    assert response.json["error_description"].startswith("Delegation chain too deep")


def test_T27_legacy_still_refuses_an_actor_token(make_app):
    flows = Flows(make_app())
    response = flows.exchange(flows.login_tokens()["access_token"], actor_token="x", actor_token_type=ACCESS_TOKEN_TYPE)
    assert response.status_code == 400
    assert response.json["error_description"] == "actor_token is not supported: impersonation only"


# -- delegation edge cases, decided as RFC 8693 4.1 and 4.4 read (docs/security.md) ---------


def test_may_act_is_checked_without_an_actor_token_too(flows):
    refusing = subject_with(flows, may_act={"sub": "another-api"})
    refused(flows, flows.exchange(refusing, **CURRENT), 403, "access_denied",
            "The subject_token's may_act does not allow source-api to act", "actor_not_permitted")  # fmt: skip
    allowing = subject_with(flows, may_act={"sub": "source-api"})
    response = flows.exchange(allowing, **CURRENT)
    assert response.status_code == 200, response.json
    assert "act" not in flows.claims(response.json["access_token"])  # impersonation still


@pytest.mark.parametrize("may_act", ["source-api", ["source-api"], 1, None, True])
def test_a_may_act_that_is_not_an_object_lets_no_one_act(flows, may_act):
    subject = subject_with(flows, may_act=may_act)
    for response in (flows.exchange(subject, **CURRENT), delegated(flows, subject)):
        refused(flows, response, 403, "access_denied",
                "The subject_token's may_act is not a JSON object: no party may act on it",
                "actor_not_permitted")  # fmt: skip


def test_a_carried_chain_deeper_than_the_limit_is_refused_without_an_actor_token(make_app):
    flows = Flows(make_app(lambda d: current(d, depth=1)))
    subject = subject_with(flows, act={"sub": "front-api", "act": {"sub": "edge-api"}})
    refused(flows, flows.exchange(subject, **CURRENT), 400, "invalid_request",
            "Delegation chain too deep: the token would name 2 actor(s), the tenant allows 1",
            "delegation_depth")  # fmt: skip
    within = subject_with(flows, act={"sub": "front-api"})
    response = flows.exchange(within, **CURRENT)
    assert response.status_code == 200, response.json
    assert flows.claims(response.json["access_token"])["act"] == {"sub": "front-api"}


@pytest.mark.parametrize("act", ["front-api", ["front-api"], None, {"sub": "front-api", "act": "edge-api"}])
def test_an_act_that_is_not_an_object_is_refused_not_dropped(flows, act):
    subject = subject_with(flows, act=act)
    for response in (flows.exchange(subject, **CURRENT), delegated(flows, subject)):
        refused(flows, response, 400, "invalid_request", "subject_token has an act claim that is not a JSON object")
