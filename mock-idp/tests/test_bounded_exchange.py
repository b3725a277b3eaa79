"""The tenant's token_exchange_policy: ``bounded`` limits the exchange to the subject token (T38).

Under either policy the exchanged ID token and userinfo release profile and email claims
only for the scopes the user granted at login (OIDC Core 5.4).
"""

import pytest

from .flows import Flows, Management

FAILED = "failed_on_behalf_of_token_exchange"
SOURCE_CLIENT = {"client_id": "source-api", "client_secret": "source-api-secret"}


def bounded(document):
    document["token_exchange_policy"] = "bounded"


@pytest.fixture
def strict(make_app):
    return Flows(make_app(bounded))


def refused(flows, response, description):
    assert response.status_code == 400, response.json
    assert response.json == {"error": "invalid_scope", "error_description": description}
    log = flows.last_log()
    assert log["type"] == FAILED
    assert log["description"] == description
    assert log["details"]["reason"] == "bounded_policy"


def test_the_policy_is_legacy_by_default_and_a_tenant_setting(flows):
    management = Management(flows)
    assert management.get("/tenants/settings").json["token_exchange_policy"] == "legacy"
    changed = management.patch("/tenants/settings", {"token_exchange_policy": "bounded"})
    assert changed.status_code == 200, changed.json
    assert changed.json["token_exchange_policy"] == "bounded"
    assert management.patch("/tenants/settings", {"token_exchange_policy": "lax"}).status_code == 400


def test_legacy_issues_what_the_pairing_selects(flows):
    token = flows.login_tokens(scope="openid read:profile")["access_token"]
    assert flows.exchange(token).json["scope"] == "read:contacts"


def test_T38_bounded_refuses_a_scope_the_subject_token_lacks(strict):
    token = strict.login_tokens(scope="openid read:profile")["access_token"]
    refused(strict, strict.exchange(token), "Scope not granted to the subject token: read:contacts")


def test_T38_bounded_refuses_offline_access_the_user_did_not_grant(strict):
    token = strict.login_tokens(scope="openid read:profile read:contacts")["access_token"]
    response = strict.exchange(token, scope="offline_access read:contacts")
    refused(strict, response, "Scope not granted at login: offline_access")


def test_bounded_issues_what_the_subject_token_carries(strict):
    token = strict.login_tokens()["access_token"]
    body = strict.exchange(token, scope="openid offline_access read:contacts").json
    assert body["scope"] == "openid offline_access read:contacts"
    assert "refresh_token" in body


def test_bounded_exchange_expires_no_later_than_the_subject_token(make_app):
    def short_source(document):
        bounded(document)
        next(a for a in document["resource_servers"] if a["name"] == "Source API")["token_lifetime"] = 300

    flows = Flows(make_app(short_source))
    subject = flows.claims(token := flows.login_tokens()["access_token"])
    body = flows.exchange(token).json
    assert flows.claims(body["access_token"])["exp"] <= subject["exp"]
    assert body["expires_in"] <= 300


def test_legacy_exchange_lifetime_still_follows_the_target_api(make_app):
    def short_source(document):
        next(a for a in document["resource_servers"] if a["name"] == "Source API")["token_lifetime"] = 300

    flows = Flows(make_app(short_source))
    assert flows.exchange(flows.login_tokens()["access_token"]).json["expires_in"] == 86400


@pytest.mark.parametrize("policy", ["legacy", "bounded"])
def test_exchanged_id_token_and_userinfo_release_only_granted_claims(make_app, policy):
    flows = Flows(make_app(lambda document: document.update(token_exchange_policy=policy)))
    token = flows.login_tokens(scope="openid read:profile read:contacts")["access_token"]
    response = flows.exchange(token, scope="openid profile email read:contacts")
    if policy == "bounded":
        refused(flows, response, "Scope not granted to the subject token: profile email")
        return
    body = response.json
    assert body["scope"] == "openid read:contacts"
    identity = flows.claims(body["id_token"], typ="JWT")
    assert not {"name", "email", "nickname", "email_verified"} & set(identity)
    info = flows.backend.get("/userinfo", headers={"Authorization": "Bearer " + body["access_token"]})
    assert info.status_code == 200
    assert not {"name", "email"} & set(info.json)


def test_exchanged_id_token_keeps_the_claims_the_user_granted(flows):
    token = flows.login_tokens()["access_token"]
    body = flows.exchange(token, scope="openid profile email read:contacts").json
    identity = flows.claims(body["id_token"], typ="JWT")
    assert identity["email"] == "alice@example.com"
    assert identity["name"] == "Alice Adams"
