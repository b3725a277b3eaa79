"""The tenant file: environment references, and refusals that name the bad field."""

import copy

import pytest

from mock_idp.tenant import TenantError, parse_tenant
from mock_idp.tenant_file import expand_environment, load_tenant

ISSUER = "http://localhost:9000/"


def test_the_shipped_tenant_loads(tmp_path):
    from .conftest import TENANT_FILE

    tenant = load_tenant(TENANT_FILE, ISSUER, environ={})
    assert tenant.client("web-app").callbacks == ("http://localhost:3000/callback",)
    assert tenant.exchange_api_of("source-api").identifier == "https://source-api.example.com"
    assert tenant.resource_server(ISSUER + "api/v2/").is_system


def test_environment_references_are_expanded():
    doc = {"a": "${X:-default}", "b": ["${Y}"], "c": {"d": "pre-${X}-post"}}
    assert expand_environment(doc, {"X": "1", "Y": "2"}) == {"a": "1", "b": ["2"], "c": {"d": "pre-1-post"}}
    assert expand_environment({"a": "${X:-fallback}"}, {}) == {"a": "fallback"}
    with pytest.raises(TenantError, match="Y"):
        expand_environment({"b": "${Y}"}, {})


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["clients"][0].update(grant_types=["implicit"]), "clients.0.grant_types"),
        (lambda d: d["clients"][0].update(callbacks=["localhost:3000/callback"]), "clients.0.callbacks"),
        (lambda d: d["clients"][0].update(callbacks=["http://localhost:3000/*"]), "clients.0.callbacks"),
        (lambda d: d["resource_servers"][0].update(token_lifetime=0), "resource_servers.0.token_lifetime"),
        (
            lambda d: d["resource_servers"][0]["token_exchange"].update(client_id="ghost"),
            "token_exchange.client_id",
        ),
        (lambda d: d["api_pairings"][0].update(scopes=["delete:all"]), "api_pairings.0.scopes"),
        (lambda d: d["api_pairings"][0].update(target="https://nowhere"), "api_pairings.0.target"),
        (lambda d: d["clients"].append(copy.deepcopy(d["clients"][0])), "clients"),
        (lambda d: d["users"][0].update(favourite_colour="blue"), "users.0.favourite_colour"),
    ],
)
def test_invalid_tenant_is_refused_naming_the_field(tenant_document, change, field):
    document = copy.deepcopy(tenant_document)
    change(document)
    with pytest.raises(TenantError, match=field.replace(".", r"\.")):
        parse_tenant(document, ISSUER)


def test_unreadable_and_invalid_yaml(tmp_path):
    with pytest.raises(TenantError, match="cannot read"):
        load_tenant(tmp_path / "missing.yaml", ISSUER)
    bad = tmp_path / "bad.yaml"
    bad.write_text("clients: [unclosed")
    with pytest.raises(TenantError, match="not valid YAML"):
        load_tenant(bad, ISSUER)


MANAGEMENT_API = ISSUER + "api/v2/"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d.update(default_audience=MANAGEMENT_API),
            f"default_audience: '{MANAGEMENT_API}' is the built-in Management API",
        ),
        (
            lambda d: d["api_pairings"][0].update(target=MANAGEMENT_API),
            f"api_pairings.0.target: '{MANAGEMENT_API}' is the built-in Management API",
        ),
        (
            lambda d: d["api_pairings"][0].update(target=d["api_pairings"][0]["source"]),
            "api_pairings.0: an API cannot be paired with itself",
        ),
        (
            lambda d: d["resource_servers"][0]["token_exchange"].update(client_id=None),
            "resource_servers.0.token_exchange.client_id: token exchange is enabled but names no client",
        ),
        (
            lambda d: d["users"].append(dict(d["users"][0], user_id="auth0|twin")),
            "users (email): .* appears twice",
        ),
    ],
)
def test_a_broken_cross_reference_is_refused_saying_what_is_wrong(tenant_document, change, message):
    document = copy.deepcopy(tenant_document)
    change(document)
    with pytest.raises(TenantError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_tenant(document, ISSUER)
