"""The grant registry: one registration per grant, read by the server, the tenant model,
discovery, the tenant log and the rules; a grant that does not declare what they read is
refused when the server starts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from authlib.oauth2.rfc6749.grants import TokenEndpointMixin
from typing_extensions import override

from mock_idp import tenant_log
from mock_idp.grants import registry
from mock_idp.grants.base import LogEvent, LogEvents, TenantGrant
from mock_idp.grants.registry import GrantRegistrationError, registered

from .conftest import client_named
from .flows import WEB_APP, Flows

ECHO = "urn:example:params:oauth:grant-type:echo"


class EchoGrant(TenantGrant, TokenEndpointMixin):
    """A grant added the way a contributor adds one: its module, and one registration."""

    GRANT_TYPE = ECHO
    LOG_EVENTS = LogEvents(LogEvent("seecho", "Success Echo"), LogEvent("feecho", "Failed Echo"))
    RULES_PROTOCOL = None

    @override
    def validate_token_request(self):
        self.authenticate_token_endpoint_client()

    @override
    def create_token_response(self):
        return 200, {"echo": self.request.payload.data.get("say", "")}, self.TOKEN_RESPONSE_HEADER


@pytest.fixture
def with_echo(monkeypatch):
    """The registry as it reads with EchoGrant registered."""
    grants = registered(*registry.GRANTS, EchoGrant)
    monkeypatch.setattr(registry, "GRANTS", grants)
    monkeypatch.setattr(registry, "GRANT_TYPES", (*registry.GRANT_TYPES, ECHO))
    monkeypatch.setattr(registry, "LOG_DESCRIPTIONS", {**registry.LOG_DESCRIPTIONS, "seecho": "Success Echo"})
    tenant_log.descriptions.cache_clear()
    yield
    tenant_log.descriptions.cache_clear()


def test_every_registered_grant_is_served_published_and_described(flows):
    discovery = flows.browser.get("/.well-known/openid-configuration").json
    assert discovery["grant_types_supported"] == list(registry.GRANT_TYPES)
    assert set(registry.GRANT_TYPES) == {
        "authorization_code",
        "refresh_token",
        "client_credentials",
        "urn:ietf:params:oauth:grant-type:token-exchange",
    }
    server = flows.app.extensions["mock_idp"].server
    assert {grant for grant, _ in server._token_grants} == set(registry.GRANTS)
    for grant in registry.GRANTS:
        for event in grant.LOG_EVENTS.all:
            assert tenant_log.descriptions()[event.code] == event.description
    assert registry.RULES_PROTOCOLS == {
        "authorization_code": "oidc-basic-profile",
        "refresh_token": "oauth2-refresh-token",
        "urn:ietf:params:oauth:grant-type:token-exchange": "token_exchange",
    }


def test_a_grant_added_to_the_registry_reaches_the_tenant_the_server_and_the_log(with_echo, make_app):
    app = make_app(lambda d: client_named(d, "web-app")["grant_types"].append(ECHO))
    client = app.test_client()

    answer = client.post("/oauth/token", data={"grant_type": ECHO, "say": "hello", **WEB_APP})

    assert answer.status_code == 200, answer.json
    assert answer.json == {"echo": "hello"}
    assert ECHO in client.get("/.well-known/openid-configuration").json["grant_types_supported"]
    [entry] = Flows(app).logs("seecho")
    assert (entry["description"], entry["client_id"]) == ("Success Echo", "web-app")


@pytest.mark.parametrize("missing", ["GRANT_TYPE", "LOG_EVENTS", "RULES_PROTOCOL"])
def test_a_grant_that_does_not_declare_what_the_server_reads_is_refused_at_start(missing):
    declared = {name: getattr(EchoGrant, name) for name in ("GRANT_TYPE", "LOG_EVENTS", "RULES_PROTOCOL")}
    del declared[missing]
    incomplete = type("IncompleteGrant", (TenantGrant, TokenEndpointMixin), declared)

    with pytest.raises(GrantRegistrationError, match=f"IncompleteGrant does not declare {missing}"):
        registered(*registry.GRANTS, incomplete)


def test_two_grants_cannot_share_a_grant_type_or_a_log_event():
    twin = type(
        "TwinGrant",
        (EchoGrant,),
        {"GRANT_TYPE": ECHO, "LOG_EVENTS": LogEvents(LogEvent("s2", "a"), LogEvent("f2", "b")), "RULES_PROTOCOL": None},
    )
    with pytest.raises(GrantRegistrationError, match="both answer"):
        registered(EchoGrant, twin)
    same_log = type(
        "SameLogGrant",
        (EchoGrant,),
        {"GRANT_TYPE": "urn:example:other", "LOG_EVENTS": EchoGrant.LOG_EVENTS, "RULES_PROTOCOL": None},
    )
    with pytest.raises(GrantRegistrationError, match="both log seecho"):
        registered(EchoGrant, same_log)
    login_event = type(
        "LoginEventGrant",
        (EchoGrant,),
        {"GRANT_TYPE": ECHO, "LOG_EVENTS": LogEvents(LogEvent("s", "a"), LogEvent("f2", "b")), "RULES_PROTOCOL": None},
    )
    with pytest.raises(GrantRegistrationError, match="LoginEventGrant and tenant_log both log s"):
        registered(login_event)


def test_a_client_may_list_only_a_registered_grant_type(make_app):
    from mock_idp.tenant import TenantError

    with pytest.raises(TenantError, match=r"clients\.0\.grant_types\.0: Value error, Input should be one of"):
        make_app(lambda d: d["clients"][0].update(grant_types=[ECHO]))


def test_the_rules_docs_name_every_protocol_a_grant_declares():
    docs = (Path(__file__).resolve().parents[2] / "docs" / "mock-idp.md").read_text(encoding="utf-8")
    [row] = [line for line in docs.splitlines() if line.startswith("| `protocol` |")]
    named = set(re.findall(r"`([^`]+)`", row.split("|")[2]))
    assert named == set(registry.RULES_PROTOCOLS.values())
