"""The exchange under each tenant profile: legacy sends RFC 8693's core parameters; current
adds requested_token_type and, when configured, the Source API's own actor token."""

from __future__ import annotations

import pytest
from conftest import INTERNAL, TARGET_AUDIENCE, grants

from obo_testing import response
from source_api.exchange_profile import ExchangeProfile
from source_api.problems import UpstreamRefused
from source_api.settings import Settings
from source_api.token_exchange import ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE, TargetTokens

TOKEN_URL = INTERNAL + "oauth/token"
USER_TOKEN = "eyJ.user-token-of-alice.sig"


def tokens_for(settings, idp, session, clock, **profile) -> TargetTokens:
    settings = settings.model_copy(update=profile)
    return TargetTokens(settings, idp, session, clock=clock, profile=ExchangeProfile(settings, idp, session, clock))


def exchanges(network):
    return [call.data for call in network.calls_to("POST", TOKEN_URL) if call.data["grant_type"] == TOKEN_EXCHANGE]


def test_legacy_sends_no_requested_token_type_and_no_actor(settings, idp, session, clock, network):
    tokens_for(settings, idp, session, clock).get(USER_TOKEN)
    (exchange,) = exchanges(network)
    assert "requested_token_type" not in exchange
    assert "actor_token" not in exchange


def test_current_sends_requested_token_type(settings, idp, session, clock, network):
    tokens_for(settings, idp, session, clock, exchange_profile="current").get(USER_TOKEN)
    (exchange,) = exchanges(network)
    assert exchange["requested_token_type"] == ACCESS_TOKEN_TYPE
    assert "actor_token" not in exchange
    assert grants(network) == ["exchange"]


def test_current_with_an_actor_sends_its_own_client_credentials_token_cached(
    settings, idp, session, clock, network, token_endpoint
):
    tokens = tokens_for(settings, idp, session, clock, exchange_profile="current", send_actor_token=True)
    tokens.get(USER_TOKEN)
    tokens.get("eyJ.user-token-of-bob.sig")
    assert grants(network) == ["client_credentials", "exchange", "exchange"]
    actor_request = network.calls_to("POST", TOKEN_URL)[0].data
    assert actor_request == {
        "grant_type": "client_credentials",
        "audience": TARGET_AUDIENCE,
        "client_id": "source-api",
        "client_secret": "source-api-secret",
    }
    first, second = exchanges(network)
    assert first["actor_token"] == second["actor_token"] == "target-at-1"
    assert first["actor_token_type"] == ACCESS_TOKEN_TYPE


def test_the_actor_token_is_fetched_again_near_its_expiry(settings, idp, session, clock, network, token_endpoint):
    profile = ExchangeProfile(
        settings.model_copy(update={"exchange_profile": "current", "send_actor_token": True}), idp, session, clock
    )
    assert profile.actor_token() == "target-at-1"
    clock.advance(token_endpoint.expires_in - settings.renew_margin + 1)
    assert profile.actor_token() == "target-at-2"


def test_a_refused_actor_token_is_502_naming_the_upstream_error(settings, idp, session, clock, network):
    network.route("POST", TOKEN_URL, lambda call: response(403, {"error": "unauthorized_client"}))
    tokens = tokens_for(settings, idp, session, clock, exchange_profile="current", send_actor_token=True)
    with pytest.raises(UpstreamRefused) as refused:
        tokens.get(USER_TOKEN)
    assert refused.value.upstream_error == "unauthorized_client"
    assert refused.value.status == 502


def test_an_actor_token_needs_the_current_profile(monkeypatch):
    monkeypatch.setenv("SOURCE_API_SEND_ACTOR_TOKEN", "true")
    with pytest.raises(ValueError, match="SOURCE_API_EXCHANGE_PROFILE=current"):
        Settings()
    monkeypatch.setenv("SOURCE_API_EXCHANGE_PROFILE", "current")
    assert Settings().send_actor_token is True
