"""IdentityProviderEndpoints: discovery fetched at the back-channel address, back-channel
endpoints moved there, browser-facing ones left alone."""

from __future__ import annotations

import pytest
import requests

from obo_common import IdentityProviderEndpoints, IdentityProviderUnavailable
from obo_testing import ISSUER, response, serve_identity_provider

INTERNAL = "http://mock-idp:9000"


@pytest.fixture
def idp_network(network, factory):
    serve_identity_provider(network, factory, internal_url=INTERNAL)
    return network


def test_discovery_is_fetched_at_the_back_channel_address(idp_network, session):
    idp = IdentityProviderEndpoints(ISSUER, INTERNAL, session)
    assert idp.metadata()["issuer"] == ISSUER
    assert [call.url for call in idp_network.calls] == [INTERNAL + "/.well-known/openid-configuration"]
    assert idp_network.calls[0].timeout is not None


def test_back_channel_endpoints_are_rewritten_and_browser_facing_ones_kept(idp_network, session):
    idp = IdentityProviderEndpoints(ISSUER, INTERNAL + "/", session)
    assert idp.endpoint("token_endpoint") == "http://mock-idp:9000/oauth/token"
    assert idp.endpoint("jwks_uri") == "http://mock-idp:9000/.well-known/jwks.json"
    assert idp.endpoint("userinfo_endpoint") == "http://mock-idp:9000/userinfo"
    # the browser goes there, so it stays at the issuer's address
    assert idp.endpoint("authorization_endpoint") == "http://localhost:9000/authorize"
    assert idp.endpoint("end_session_endpoint") == "http://localhost:9000/oidc/logout"
    # the issuer itself is never rewritten: it is in every token
    assert idp.metadata()["issuer"] == ISSUER


def test_an_endpoint_on_another_host_is_not_rewritten(network, session, factory):
    idp_urls = serve_identity_provider(network, factory, internal_url=INTERNAL)
    document = {**idp_urls.discovery(), "revocation_endpoint": "https://elsewhere.example.com/revoke"}
    network.route("GET", idp_urls.discovery_url, document)
    idp = IdentityProviderEndpoints(ISSUER, INTERNAL, session)
    assert idp.endpoint("revocation_endpoint") == "https://elsewhere.example.com/revoke"


def test_without_a_back_channel_address_everything_stays_at_the_issuer(network, session, factory):
    serve_identity_provider(network, factory)
    idp = IdentityProviderEndpoints(ISSUER, None, session)
    assert idp.endpoint("token_endpoint") == "http://localhost:9000/oauth/token"
    assert network.calls[0].url == "http://localhost:9000/.well-known/openid-configuration"


def test_discovery_is_fetched_once(idp_network, session):
    idp = IdentityProviderEndpoints(ISSUER, INTERNAL, session)
    for name in ("token_endpoint", "jwks_uri", "authorization_endpoint", "token_endpoint"):
        idp.endpoint(name)
    assert len(idp_network.calls) == 1


@pytest.mark.parametrize("issuer", ["http://localhost:9000", "http://mock-idp:9000/", "http://evil.test/", None])
def test_a_discovery_document_naming_another_issuer_is_refused(idp_network, session, issuer):
    document = {**IdentityProviderEndpoints(ISSUER, INTERNAL, session).metadata(), "issuer": issuer}
    idp_network.route("GET", INTERNAL + "/.well-known/openid-configuration", document)
    with pytest.raises(IdentityProviderUnavailable, match="names issuer"):
        IdentityProviderEndpoints(ISSUER, INTERNAL, session).metadata()


@pytest.mark.parametrize(
    "failure",
    [
        requests.ConnectionError("refused"),
        requests.Timeout("slow"),
        (500, {"error": "server_error"}),
        (404, {"error": "not_found"}),
    ],
    ids=["refused", "timeout", "500", "404"],
)
def test_an_unreachable_or_failing_provider_is_IdentityProviderUnavailable(network, session, failure):
    network.route("GET", INTERNAL + "/.well-known/openid-configuration", failure)
    with pytest.raises(IdentityProviderUnavailable):
        IdentityProviderEndpoints(ISSUER, INTERNAL, session).endpoint("token_endpoint")


def test_a_non_JSON_discovery_answer_is_IdentityProviderUnavailable(network, session):
    network.route("GET", INTERNAL + "/.well-known/openid-configuration", response(200, text="<html>proxy</html>"))
    with pytest.raises(IdentityProviderUnavailable):
        IdentityProviderEndpoints(ISSUER, INTERNAL, session).metadata()


@pytest.mark.parametrize("body", [["issuer"], None])
def test_a_discovery_answer_that_is_not_a_JSON_object_is_IdentityProviderUnavailable(network, session, body):
    network.route("GET", INTERNAL + "/.well-known/openid-configuration", (200, body))
    with pytest.raises(IdentityProviderUnavailable):
        IdentityProviderEndpoints(ISSUER, INTERNAL, session).metadata()


def test_a_failed_discovery_is_tried_again_on_the_next_use(network, session, factory):
    idp_urls = serve_identity_provider(network, factory, internal_url=INTERNAL)
    network.route("GET", idp_urls.discovery_url, [requests.ConnectionError("down"), idp_urls.discovery()])
    idp = IdentityProviderEndpoints(ISSUER, INTERNAL, session)
    with pytest.raises(IdentityProviderUnavailable):
        idp.endpoint("jwks_uri")
    assert idp.endpoint("jwks_uri") == idp_urls.jwks_uri


def test_back_channel_rewrites_only_urls_under_the_issuer(session):
    idp = IdentityProviderEndpoints(ISSUER, INTERNAL, session)
    assert idp.back_channel("http://localhost:9000/oauth/token") == "http://mock-idp:9000/oauth/token"
    assert idp.back_channel("http://localhost:90001/x") == "http://localhost:90001/x"
    assert idp.back_channel("https://other.example.com/") == "https://other.example.com/"
