"""The Management API: authentication, each call, refused changes, and reset."""

import pytest

from mock_idp import clock

from .flows import ALICE_ID, SOURCE_API, TARGET_API, Flows, Management


@pytest.fixture
def api(flows):
    return Management(flows)


def test_no_token_is_401_in_the_apis_format(flows):
    response = flows.backend.get("/api/v2/clients")
    assert response.status_code == 401
    assert response.json == {
        "statusCode": 401,
        "error": "Unauthorized",
        "message": "Missing authentication",
        "errorCode": "unauthorized",
    }
    assert response.headers["WWW-Authenticate"].startswith("Bearer realm=")


def test_a_user_token_is_not_a_management_token(flows):
    token = flows.login_tokens()["access_token"]
    response = flows.backend.get("/api/v2/clients", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json["errorCode"] == "invalid_token"


def test_missing_scope_is_403(flows):
    api = Management(flows, scope="read:logs")
    response = api.get("/clients")
    assert response.status_code == 403
    assert response.json["message"] == "Insufficient scope, expected any of: read:clients"


def test_clients_are_listed_without_secrets(api):
    clients = api.get("/clients").json
    assert {c["client_id"] for c in clients} == {"web-app", "source-api", "management"}
    assert all("client_secret" not in c for c in clients)
    assert api.get("/clients/web-app").json["callbacks"] == ["http://localhost:3000/callback"]
    assert api.get("/clients/nobody").status_code == 404


def test_patching_a_client_applies_at_once(flows, api):
    response = api.patch("/clients/web-app", {"grant_types": ["authorization_code"]})
    assert response.status_code == 200
    assert response.json["grant_types"] == ["authorization_code"]
    refused = flows.refresh("whatever")
    assert refused.json["error"] == "unauthorized_client"


def test_changing_a_client_secret(flows, api):
    api.patch("/clients/source-api", {"client_secret": "a-brand-new-secret"})
    token = flows.login_tokens()["access_token"]
    assert flows.exchange(token).status_code == 401
    fresh = flows.exchange(token, client={"client_id": "source-api", "client_secret": "a-brand-new-secret"})
    assert fresh.status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"grant_types": ["implicit"]}, "grant_types"),
        ({"callbacks": ["not a url"]}, "callbacks"),
        ({"client_secret": "short"}, "client_secret"),
        ({"client_id": "renamed"}, "client_id"),
        ({"favourite": 1}, "favourite"),
    ],
)
def test_invalid_client_changes_are_refused_and_change_nothing(api, body, field):
    before = api.get("/clients/web-app").json
    response = api.patch("/clients/web-app", body)
    assert response.status_code == 400
    assert response.json["errorCode"] == "invalid_body"
    assert field in response.json["message"]
    assert api.get("/clients/web-app").json == before


def test_body_must_be_a_json_object(flows, api):
    response = flows.backend.patch("/api/v2/clients/web-app", headers=api.headers, data="grant_types=x")
    assert response.status_code == 400
    response = api.patch("/clients/web-app", ["a"])
    assert response.status_code == 400


def test_json_nested_thousands_deep_is_a_bad_body(flows, api):
    deep = "[" * 5000 + "]" * 5000
    response = flows.backend.patch(
        "/api/v2/tenants/settings", headers={**api.headers, "Content-Type": "application/json"}, data=deep
    )
    assert response.status_code == 400
    assert response.json["errorCode"] == "invalid_body"


def test_resource_servers_by_id_or_identifier(api):
    assert api.get("/resource-servers/target-api").json["identifier"] == TARGET_API
    assert api.get(f"/resource-servers/{TARGET_API}").json["id"] == "target-api"
    assert api.get("/resource-servers/nothing").status_code == 404


def test_patching_a_resource_server(flows, api):
    response = api.patch("/resource-servers/target-api", {"skip_consent_for_verifiable_first_party_clients": False})
    assert response.status_code == 200
    refused = flows.exchange(flows.login_tokens()["access_token"])
    assert refused.json["error"] == "consent_required"

    api.patch("/resource-servers/target-api", {"skip_consent_for_verifiable_first_party_clients": True})
    assert flows.exchange(flows.login_tokens()["access_token"]).status_code == 200


def test_token_exchange_can_be_switched_off_and_on(flows, api):
    api.patch("/resource-servers/source-api", {"token_exchange": {"enabled": False, "client_id": "source-api"}})
    token = flows.login_tokens()["access_token"]
    assert flows.exchange(token).json["error"] == "unauthorized_client"
    api.patch("/resource-servers/source-api", {"token_exchange": {"enabled": True, "client_id": "source-api"}})
    assert flows.exchange(token).status_code == 200


def test_invalid_resource_server_changes_are_refused(api):
    response = api.patch("/resource-servers/target-api", {"token_lifetime": -5})
    assert response.status_code == 400
    assert "token_lifetime" in response.json["message"]
    response = api.patch("/resource-servers/target-api", {"scopes": [{"value": "read:profile"}]})
    assert response.status_code == 400  # the pairing selects read:contacts, which would vanish
    assert "api_pairings" in response.json["message"]
    assert api.get("/resource-servers/target-api").json["token_lifetime"] == 86400


def test_the_management_api_itself_cannot_be_changed(api):
    response = api.patch("/resource-servers/management-api", {"token_lifetime": 60})
    assert response.status_code == 403


def test_pairings_list_delete_create_and_change(flows, api):
    assert api.get("/api-pairings").json == [
        {
            "id": "source-api:target-api",
            "source": SOURCE_API,
            "target": TARGET_API,
            "scopes": ["read:contacts"],
        }
    ]
    token = flows.login_tokens()["access_token"]

    assert api.delete("/api-pairings/source-api:target-api").status_code == 204
    assert flows.exchange(token).json["error"] == "access_denied"
    assert api.delete("/api-pairings/source-api:target-api").status_code == 404

    created = api.post("/api-pairings", {"source": "source-api", "target": "target-api", "scopes": ["read:contacts"]})
    assert created.status_code == 201
    assert flows.exchange(token).status_code == 200
    assert api.post("/api-pairings", {"source": "source-api", "target": "target-api"}).status_code == 409

    widened = api.patch("/api-pairings/source-api:target-api", {"scopes": ["read:contacts", "write:contacts"]})
    assert widened.json["scopes"] == ["read:contacts", "write:contacts"]
    assert flows.exchange(token, scope="read:contacts write:contacts").status_code == 200


def test_pairing_with_a_scope_the_target_lacks_is_refused(api):
    response = api.patch("/api-pairings/source-api:target-api", {"scopes": ["delete:everything"]})
    assert response.status_code == 400
    assert "api_pairings.0.scopes" in response.json["message"]


def test_tenant_settings_and_reset(flows, api):
    response = api.patch("/tenants/settings", {"rate_limits": {"token_exchange": {"limit": 2, "window": 60}}})
    assert response.status_code == 200
    assert response.json["rate_limits"]["token_exchange"] == {"limit": 2, "window": 60}
    api.patch("/clients/web-app", {"callbacks": ["http://localhost:4000/callback"]})
    api.delete("/api-pairings/source-api:target-api")

    assert api.post("/tenants/settings/reset").status_code == 200

    assert api.get("/tenants/settings").json["rate_limits"]["token_exchange"] == {"limit": 100, "window": 60}
    assert api.get("/clients/web-app").json["callbacks"] == ["http://localhost:3000/callback"]
    assert len(api.get("/api-pairings").json) == 1


def test_changes_survive_a_restart_until_reset(make_app, flows, api):
    api.patch("/clients/web-app", {"allowed_logout_urls": ["http://localhost:3000/bye"]})
    restarted = Management(type(flows)(make_app()))
    assert restarted.get("/clients/web-app").json["allowed_logout_urls"] == ["http://localhost:3000/bye"]


def test_an_edited_tenant_file_wins_over_earlier_changes(make_app, flows, api):
    api.patch("/clients/web-app", {"name": "Renamed by the API"})
    edited = make_app(lambda doc: doc.update(friendly_name="Edited file"))
    restarted = Management(type(flows)(edited))
    assert restarted.get("/clients/web-app").json["name"] == "Web App"
    assert restarted.get("/tenants/settings").json["friendly_name"] == "Edited file"


def test_rules_can_be_listed_and_disabled(api):
    rules = api.get("/rules").json
    assert rules[0]["name"] == "add-on-behalf-of-claims"
    assert rules[0]["enabled"] is True
    assert api.patch("/rules/add-on-behalf-of-claims", {"enabled": False}).json["enabled"] is False
    assert api.patch("/rules/nothing", {"enabled": False}).status_code == 404
    assert api.patch("/rules/add-on-behalf-of-claims", {"script": "x.py"}).status_code == 400


def test_a_pairing_can_be_addressed_by_identifiers(make_app):
    def short_identifier(doc):
        next(a for a in doc["resource_servers"] if a["identifier"] == TARGET_API)["identifier"] = "contacts"
        doc["api_pairings"][0]["target"] = "contacts"
        for grant in doc["client_grants"]:  # the Source API's actor token grant names it too
            grant["audience"] = "contacts" if grant["audience"] == TARGET_API else grant["audience"]

    api = Management(Flows(make_app(short_identifier)))
    response = api.patch("/api-pairings/source-api:contacts", {"scopes": []})
    assert response.status_code == 200
    assert response.json == {"id": "source-api:target-api", "source": SOURCE_API, "target": "contacts", "scopes": []}


@pytest.mark.parametrize(
    "body",
    [
        {"source": "source-api", "target": "source-api"},
        {"source": "source-api", "target": "management-api"},
    ],
)
def test_nonsense_pairings_are_refused(api, body):
    api.delete("/api-pairings/source-api:target-api")
    response = api.post("/api-pairings", body)
    assert response.status_code == 400


def test_default_audience_must_name_an_api(api):
    assert api.patch("/tenants/settings", {"default_audience": "https://nowhere.example.com"}).status_code == 400
    assert api.patch("/tenants/settings", {"default_audience": TARGET_API}).status_code == 200


def test_clock_skew_moves_iat_and_exp_of_issued_tokens(flows, api):
    assert api.patch("/tenants/settings", {"clock_skew": -90000}).json["clock_skew"] == -90000
    claims = flows.claims(flows.login_tokens()["access_token"])
    assert claims["exp"] < clock.now()  # issued already expired: T12 on demand
    assert api.patch("/tenants/settings", {"clock_skew": 10**9}).status_code == 400


def test_grants_list_and_delete_a_users_consents(flows, api):
    flows.login_tokens()
    grants = api.get("/grants", user_id=ALICE_ID).json
    assert [(g["clientID"], g["audience"]) for g in grants] == [("web-app", SOURCE_API)]
    assert "read:contacts" in grants[0]["scope"]

    assert api.delete(f"/grants/{grants[0]['id']}").status_code == 204
    assert api.get("/grants", user_id=ALICE_ID).json == []
    assert api.delete(f"/grants/{grants[0]['id']}").status_code == 404

    params, _ = flows.authorize_params()
    page = flows.browser.get("/authorize", query_string=params)
    assert "Authorize" in page.text  # consent is asked again


def test_deleting_every_grant_of_a_user(flows, api):
    flows.login_tokens()
    assert api.delete("/grants").status_code == 400
    assert api.delete(f"/grants?user_id={ALICE_ID}").status_code == 204
    assert api.get("/grants", user_id=ALICE_ID).json == []


def test_a_skewed_clock_never_locks_the_management_api_out(flows, api):
    api.patch("/tenants/settings", {"clock_skew": -90000})
    fresh = Management(flows)
    assert fresh.post("/tenants/settings/reset").status_code == 200
    assert fresh.get("/tenants/settings").json["clock_skew"] == 0


@pytest.mark.parametrize("grant_id", ["1" * 30, "\u0663", "-1", "x"])  # too big for SQLite; Arabic-Indic 3
def test_a_grant_id_that_cannot_be_one_is_not_found(api, grant_id):
    response = api.delete(f"/grants/{grant_id}")
    assert response.status_code == 404
    assert response.json["errorCode"] == "inexistent_grant"


@pytest.mark.parametrize(("method", "path"), [("GET", "/api/v2/clients/"), ("PUT", "/api/v2/tenants/settings")])
def test_an_unknown_path_or_method_of_the_api_answers_in_its_error_format(flows, method, path):
    response = flows.backend.open(path, method=method)
    body = response.json
    assert response.status_code in (404, 405)
    assert body["statusCode"] == response.status_code, body
    assert body["error"] in ("Not Found", "Method Not Allowed"), body
    assert body["message"], body
    if response.status_code == 405:
        assert "PATCH" in response.headers["Allow"]
