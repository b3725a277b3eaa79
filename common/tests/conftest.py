from __future__ import annotations

import pytest

from obo_common import AccessTokenValidator, JWKSCache
from obo_testing import AUDIENCE, ISSUER, Clock, FakeSession, TokenFactory

JWKS_URL = "http://idp.test/.well-known/jwks.json"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def factory(clock) -> TokenFactory:
    return TokenFactory(clock=clock, scope="openid read:things")


@pytest.fixture
def session() -> FakeSession:
    return FakeSession()


@pytest.fixture
def jwks(session, factory, clock) -> JWKSCache:
    session.route("GET", JWKS_URL, lambda call: factory.jwks())
    return JWKSCache(lambda: JWKS_URL, session, unknown_kid_interval=30, max_age=3600, clock=clock)


@pytest.fixture
def validator(jwks, clock) -> AccessTokenValidator:
    return AccessTokenValidator(ISSUER, AUDIENCE, jwks, leeway=30, clock=clock)
