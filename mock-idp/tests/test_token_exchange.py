"""Step 3: the On-Behalf-Of exchange and the cases T16-T27 it decides."""

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

from mock_idp import clock

from .conftest import api_named, client_named
from .flows import ACCESS_TOKEN_TYPE, ALICE_ID, ISSUER, SOURCE_API, TARGET_API, WEB_APP, Flows

FAILED = "failed_on_behalf_of_token_exchange"


@pytest.fixture
def user_token(flows):
    return flows.login_tokens()["access_token"]


def assert_exchange_fails(flows, response, status, error, description=None):
    assert response.status_code == status, response.json
    assert response.json["error"] == error
    assert response.headers["Cache-Control"] == "no-store"
    if description is not None:
        assert response.json["error_description"] == description
    log = flows.last_log()
    assert log["type"] == FAILED
    assert log["description"] == response.json["error_description"]
    return log


def test_exchange_issues_a_target_api_token_for_the_same_user(flows, user_token):
    response = flows.exchange(user_token)

    assert response.status_code == 200, response.json
    body = response.json
    assert body["issued_token_type"] == ACCESS_TOKEN_TYPE
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 86400
    assert body["scope"] == "read:contacts"
    assert "refresh_token" not in body
    assert "id_token" not in body
    claims = flows.claims(body["access_token"])
    assert claims["aud"] == TARGET_API
    assert claims["sub"] == ALICE_ID
    assert claims["client_id"] == claims["azp"] == "source-api"
    assert claims["scope"] == "read:contacts"
    assert "act" not in claims
    log = flows.last_log()
    assert log["type"] == "success_on_behalf_of_token_exchange"
    assert (log["client_id"], log["user_id"], log["audience"]) == ("source-api", ALICE_ID, TARGET_API)
    assert log["details"]["issued"] == {
        "scope": "read:contacts",
        "expires_in": 86400,
        "id_token": False,
        "refresh_token": False,
    }


def test_exchange_lifetime_follows_the_target_api(make_app):
    flows = Flows(make_app(lambda doc: api_named(doc, TARGET_API).update(token_lifetime=600)))
    body = flows.exchange(flows.login_tokens()["access_token"]).json
    assert body["expires_in"] == 600
    claims = flows.claims(body["access_token"])
    assert claims["exp"] - claims["iat"] == 600


def test_exchange_with_openid_and_offline_access(flows, user_token):
    body = flows.exchange(user_token, scope="openid offline_access read:contacts").json
    assert body["scope"] == "openid offline_access read:contacts"
    identity = flows.claims(body["id_token"], typ="JWT")
    assert identity["aud"] == "source-api"
    assert identity["exp"] - identity["iat"] == 36000
    refreshed = flows.refresh(
        body["refresh_token"], client={"client_id": "source-api", "client_secret": "source-api-secret"}
    )
    assert refreshed.status_code == 200
    assert flows.claims(refreshed.json["access_token"])["aud"] == [TARGET_API, ISSUER + "userinfo"]


def test_exchange_without_scope_gets_the_pairing_scopes(flows, user_token):
    assert flows.exchange(user_token, scope=None).json["scope"] == "read:contacts"


def test_T07_no_target_refresh_token_when_the_target_disallows_offline_access(make_app):
    flows = Flows(make_app(lambda doc: api_named(doc, TARGET_API).update(allow_offline_access=False)))
    body = flows.exchange(flows.login_tokens()["access_token"], scope="offline_access read:contacts").json
    assert "refresh_token" not in body
    assert body["scope"] == "read:contacts"


def test_T16_exchange_not_enabled_on_the_source_api(make_app):
    flows = Flows(make_app(lambda doc: api_named(doc, SOURCE_API)["token_exchange"].update(enabled=False)))
    response = flows.exchange(flows.login_tokens()["access_token"])
    assert_exchange_fails(
        flows,
        response,
        403,
        "unauthorized_client",
        "Grant type 'urn:ietf:params:oauth:grant-type:token-exchange' not allowed for the client.",
    )


def test_T16_exchange_with_the_applications_client(flows, user_token):
    response = flows.exchange(user_token, client=WEB_APP)
    log = assert_exchange_fails(flows, response, 403, "unauthorized_client")
    assert log["client_id"] == "web-app"


@pytest.mark.parametrize("secret", ["wrong-secret", None])
def test_T17_wrong_or_missing_client_secret(flows, user_token, secret):
    response = flows.exchange(user_token, client={"client_id": "source-api", "client_secret": secret})
    assert_exchange_fails(flows, response, 401, "access_denied", "Unauthorized")


def test_T17_client_secret_basic_is_accepted_from_a_client_registered_for_it(make_app):
    flows = Flows(
        make_app(lambda doc: client_named(doc, "source-api").update(token_endpoint_auth_method="client_secret_basic"))
    )
    user_token = flows.login_tokens()["access_token"]
    response = flows.backend.post(
        "/oauth/token",
        data={
            "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
            "subject_token": user_token,
            "subject_token_type": ACCESS_TOKEN_TYPE,
            "audience": TARGET_API,
        },
        auth=("source-api", "source-api-secret"),
    )
    assert response.status_code == 200


def test_T18_apis_not_paired(make_app):
    flows = Flows(make_app(lambda doc: doc.update(api_pairings=[])))
    response = flows.exchange(flows.login_tokens()["access_token"])
    log = assert_exchange_fails(flows, response, 403, "access_denied")
    assert "source-api" in log["description"]
    assert TARGET_API in log["description"]


def test_T19_audience_missing(flows, user_token):
    response = flows.exchange(user_token, audience=None)
    assert_exchange_fails(flows, response, 400, "invalid_request", "Missing required parameter: audience")


@pytest.mark.parametrize("audience", ["https://target-api.example.com/", "https://targt-api.example.com"])
def test_T20_audience_names_no_api(flows, user_token, audience):
    response = flows.exchange(user_token, audience=audience)
    assert_exchange_fails(flows, response, 403, "access_denied", f"Service not enabled within domain: {audience}")


def test_T21_scope_outside_the_pairing(flows, user_token):
    response = flows.exchange(user_token, scope="read:contacts write:contacts")
    log = assert_exchange_fails(flows, response, 400, "invalid_scope")
    assert "write:contacts" in log["description"]


def test_T22_target_does_not_allow_skipping_consent(make_app):
    flows = Flows(
        make_app(lambda doc: api_named(doc, TARGET_API).update(skip_consent_for_verifiable_first_party_clients=False))
    )
    response = flows.exchange(flows.login_tokens()["access_token"])
    assert_exchange_fails(
        flows, response, 403, "consent_required", "The target API does not allow skipping user consent"
    )


def at_seconds_after_expiry(flows, token, seconds, monkeypatch):
    """The server's clock set to ``seconds`` after the token's own exp."""
    expiry = flows.claims(token)["exp"]
    monkeypatch.setattr(clock, "now", lambda: expiry + seconds)


def test_T23_subject_token_expired(flows, user_token, monkeypatch):
    at_seconds_after_expiry(flows, user_token, 31, monkeypatch)
    response = flows.exchange(user_token)
    assert_exchange_fails(flows, response, 400, "invalid_request", "subject_token expired")


def test_T15_subject_token_within_the_clock_leeway_is_accepted(flows, user_token, monkeypatch):
    at_seconds_after_expiry(flows, user_token, 29, monkeypatch)
    assert flows.exchange(user_token).status_code == 200


def _forge(claims, key, alg="RS256", typ="at+jwt"):
    return jwt.encode({"alg": alg, "typ": typ}, claims, key)


def _claims(**overrides):
    now = clock.now()
    claims = {
        "iss": ISSUER,
        "sub": ALICE_ID,
        "aud": SOURCE_API,
        "iat": now,
        "exp": now + 600,
        "client_id": "web-app",
        "scope": "read:contacts",
        "jti": "x",
    }
    claims.update(overrides)
    return claims


@pytest.mark.parametrize(
    "make_token",
    [
        lambda: _forge(_claims(), RSAKey.generate_key(2048)),
        lambda: _forge(_claims(), OctKey.generate_key(256), alg="HS256"),
        lambda: "e30." + jwt.encode({"alg": "RS256"}, _claims(), RSAKey.generate_key(2048)).split(".", 1)[1],
        lambda: "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
        lambda: "not-a-jwt",
        lambda: "a.b.c",
    ],
    ids=["foreign-key", "hs256", "bad-header", "alg-none", "garbage", "three-junk-parts"],
)
def test_T24_forged_or_unsigned_subject_token(flows, make_token):
    response = flows.exchange(make_token())
    assert_exchange_fails(flows, response, 400, "invalid_request")


def test_T24_subject_token_from_another_issuer(flows):
    # Signed with this tenant's key but naming another issuer.
    key = flows.app.extensions["mock_idp"].keys.current()
    token = jwt.encode({"alg": "RS256", "typ": "at+jwt", "kid": key.kid}, _claims(iss="https://evil.example/"), key)
    response = flows.exchange(token)
    assert_exchange_fails(flows, response, 400, "invalid_request", "subject_token was not issued by this tenant")


def test_T25_target_api_token_as_subject(flows, user_token):
    target_token = flows.exchange(user_token).json["access_token"]
    response = flows.exchange(target_token)
    assert_exchange_fails(
        flows, response, 400, "invalid_request", "subject_token audience does not match the requesting API"
    )


def test_T25_id_token_as_subject(flows):
    id_token = flows.login_tokens()["id_token"]
    response = flows.exchange(id_token)
    assert_exchange_fails(
        flows, response, 400, "invalid_request", "subject_token audience does not match the requesting API"
    )


@pytest.mark.parametrize("token_type", [None, "urn:ietf:params:oauth:token-type:id_token", "access_token"])
def test_T26_unsupported_subject_token_type(flows, user_token, token_type):
    response = flows.exchange(user_token, subject_token_type=token_type)
    assert_exchange_fails(flows, response, 400, "invalid_request", "Unsupported subject_token_type")


def test_T26_a_requested_token_type_other_than_an_access_token_is_refused(flows, user_token):
    urn = "urn:ietf:params:oauth:token-type:"
    response = flows.exchange(user_token, requested_token_type=urn + "id_token")
    assert_exchange_fails(
        flows,
        response,
        400,
        "invalid_request",
        "Unsupported requested_token_type: this server issues access tokens only",
    )
    assert flows.exchange(user_token, requested_token_type=ACCESS_TOKEN_TYPE).status_code == 200


def test_T20_a_resource_naming_another_api_than_the_audience_is_an_invalid_target(flows, user_token):
    response = flows.exchange(user_token, resource="https://source-api.example.com")
    assert_exchange_fails(
        flows,
        response,
        400,
        "invalid_target",
        "resource and audience must name the same API: send the Target API's identifier",
    )
    assert flows.exchange(user_token, resource=TARGET_API).status_code == 200


@pytest.mark.parametrize("field", ["actor_token", "actor_token_type"])
def test_T27_actor_token_is_refused(flows, user_token, field):
    response = flows.exchange(user_token, **{field: user_token if field == "actor_token" else ACCESS_TOKEN_TYPE})
    assert_exchange_fails(flows, response, 400, "invalid_request", "actor_token is not supported: impersonation only")


def test_source_api_without_refresh_token_grant_gets_no_target_refresh_token(make_app):
    flows = Flows(make_app(lambda doc: client_named(doc, "source-api").update(grant_types=[])))
    body = flows.exchange(flows.login_tokens()["access_token"], scope="offline_access read:contacts").json
    assert "refresh_token" not in body
