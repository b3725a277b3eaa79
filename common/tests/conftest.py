from __future__ import annotations

import pytest
import requests

from obo_common import AccessTokenValidator, JWKSCache
from obo_testing import AUDIENCE, ISSUER, Clock, FakeNetwork, TokenFactory

JWKS_URL = "http://idp.test/.well-known/jwks.json"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def factory(clock) -> TokenFactory:
    return TokenFactory(clock=clock, scope="openid read:things")


@pytest.fixture
def network():
    """Under every requests session for the test; routes and records what is sent."""
    with FakeNetwork().installed() as network:
        yield network


@pytest.fixture
def session(network) -> requests.Session:
    """A real session, for code that takes one: it sends through ``network``."""
    return requests.Session()


@pytest.fixture
def jwks(network, session, factory, clock) -> JWKSCache:
    network.route("GET", JWKS_URL, lambda call: factory.jwks())
    return JWKSCache(lambda: JWKS_URL, session, unknown_kid_interval=30, max_age=3600, clock=clock)


@pytest.fixture
def validator(jwks, clock) -> AccessTokenValidator:
    return AccessTokenValidator(ISSUER, AUDIENCE, jwks, leeway=30, clock=clock)
