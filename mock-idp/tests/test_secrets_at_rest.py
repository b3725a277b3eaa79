"""Passwords and client secrets are kept hashed wherever the tenant is stored."""

import json

import pytest

from mock_idp.secret_hashing import hash_client_secret, hash_password, is_password_hash, is_secret_hash
from mock_idp.settings import Settings

from .conftest import client_named
from .flows import ALICE, ISSUER, PASSWORD, Flows, Management

DEMO_CLEAR_VALUES = ("Passw0rd!", "web-app-secret", "source-api-secret", "management-secret")


def stored_document(app) -> dict:
    return app.extensions["mock_idp"].storage.tenant_document()[1]


def assert_hashed(document: dict) -> None:
    assert all(is_password_hash(u["password"]) for u in document["users"]), document["users"]
    assert all(is_secret_hash(c["client_secret"]) for c in document["clients"]), document["clients"]
    assert not any(value in json.dumps(document) for value in DEMO_CLEAR_VALUES)


def test_the_stored_tenant_holds_hashes_and_the_clear_values_still_work(app, flows):
    assert_hashed(stored_document(app))
    assert flows.login_tokens()["access_token"]  # alice's password and the web app's secret
    other_browser = Flows(app)
    wrong = other_browser.log_in(other_browser.authorize_params()[0], password="Passw0rd?")
    assert wrong.status_code == 401


def test_basic_client_authentication_checks_the_hash(make_app):
    flows = Flows(
        make_app(lambda doc: client_named(doc, "management").update(token_endpoint_auth_method="client_secret_basic"))
    )
    response = flows.backend.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "audience": ISSUER + "api/v2/"},
        auth=("management", "management-secret"),
    )
    assert response.status_code == 200, response.json
    wrong = flows.backend.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "audience": ISSUER + "api/v2/"},
        auth=("management", "management-secreT"),
    )
    assert wrong.status_code == 401


def test_a_secret_set_through_the_management_api_is_stored_hashed(app, flows):
    api = Management(flows, scope="update:clients read:clients")
    response = api.patch("/clients/source-api", {"client_secret": "a-brand-new-secret"})
    assert response.status_code == 200
    assert "client_secret" not in response.json
    assert "client_secret" not in api.get("/clients/source-api").json
    stored = client_named(stored_document(app), "source-api")["client_secret"]
    assert is_secret_hash(stored)
    assert "a-brand-new-secret" not in json.dumps(stored_document(app))


def test_a_tenant_file_may_name_hashes(make_app):
    def prehashed(document):
        document["users"][0]["password"] = hash_password("an0ther-password", cost=4)
        client_named(document, "web-app")["client_secret"] = hash_client_secret("another-web-secret")

    flows = Flows(make_app(prehashed))
    params, _ = flows.authorize_params()
    assert flows.log_in(params, ALICE, "an0ther-password").status_code == 302
    code, verifier, _ = flows.authorization_code()
    other = {"client_id": "web-app", "client_secret": "another-web-secret"}
    assert flows.redeem(code, verifier, client=other).status_code == 200


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("password", "$scrypt$ln=14,r=8,p=1$bm90LWEtaGFzaA"),
        ("password", "$scrypt$ln=30,r=8,p=1$" + "A" * 22 + "==$" + "A" * 43 + "="),  # too costly to verify
        ("client_secret", "$sha256$not-a-digest"),
    ],
)
def test_a_malformed_hash_is_refused_naming_the_field(make_app, where, value):
    def change(document):
        if where == "password":
            document["users"][0]["password"] = value
        else:
            client_named(document, "web-app")["client_secret"] = value

    with pytest.raises(ValueError, match=where):
        make_app(change)


def test_clear_values_stored_by_an_older_version_are_hashed_on_start(make_app, tenant_document):
    app = make_app()
    app.extensions["mock_idp"].tenants.change(lambda document: document.update(friendly_name="Changed"))
    # What an older version kept: the same document with the clear values.
    document = stored_document(app)
    document["users"] = tenant_document["users"]
    document["clients"] = tenant_document["clients"]
    with app.extensions["mock_idp"].storage.transaction() as db:
        db.execute("UPDATE tenant_state SET document = ? WHERE id = 1", (json.dumps(document),))

    restarted = make_app()
    migrated = stored_document(restarted)
    assert_hashed(migrated)
    assert migrated["friendly_name"] == "Changed"  # the same file: its Management API changes stay
    assert Flows(restarted).login_tokens()["access_token"]


def test_a_restart_with_the_same_file_keeps_management_api_changes(make_app):
    app = make_app()
    app.extensions["mock_idp"].tenants.change(lambda document: document.update(friendly_name="Changed"))
    assert stored_document(make_app())["friendly_name"] == "Changed"


def test_passwords_are_hashed_at_the_default_cost_unless_configured():
    assert Settings().password_hash_cost == 14
    assert hash_password(PASSWORD).startswith("$scrypt$ln=14,r=8,p=1$")
