"""verify_access_token, the check behind userinfo, the Management API and the exchange's
subject_token: each token here is signed with the provider's own current key, so only
the claim under test can make it refused."""

from __future__ import annotations

import pytest
from joserfc import jwt

from mock_idp import clock
from mock_idp.provider import idp
from mock_idp.token_verification import TokenRejected, verify_access_token

from .flows import ISSUER

AUDIENCE = "https://source-api.example.com"
DAY = 86400


@pytest.fixture
def sign(app):
    """sign(**changes): a valid access token for AUDIENCE, with ``changes`` (None drops a claim)."""

    def make(**changes) -> str:
        now = clock.now()
        claims = {
            "iss": ISSUER,
            "sub": "auth0|65f1a2b3c4d5e6f708091a01",
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + 3600,
            "jti": "j1",
            "client_id": "web-app",
            "scope": "openid read:profile",
            **changes,
        }
        key = idp().keys.current()
        payload = {name: value for name, value in claims.items() if value is not None}
        return jwt.encode({"alg": "RS256", "typ": "at+jwt", "kid": key.kid}, payload, key)

    with app.app_context():
        yield make


def refusal(token: str) -> str:
    with pytest.raises(TokenRejected) as caught:
        verify_access_token(token, AUDIENCE, what="subject_token")
    return caught.value.reason


def test_a_token_signed_by_the_provider_is_accepted(sign):
    assert verify_access_token(sign(), AUDIENCE)["client_id"] == "web-app"


@pytest.mark.parametrize("claim", ["client_id", "iat", "sub", "exp"])
def test_a_token_lacking_a_claim_of_rfc_9068_is_refused(sign, claim):
    assert refusal(sign(**{claim: None})) == "subject_token has invalid claims"


@pytest.mark.parametrize(
    ("claim", "value"), [("scope", ["openid", "read:profile"]), ("scope", 42), ("client_id", 7), ("iat", "yesterday")]
)
def test_a_claim_of_the_wrong_type_is_refused(sign, claim, value):
    assert refusal(sign(**{claim: value})) == "subject_token has invalid claims"


@pytest.mark.parametrize(("lifetime", "accepted"), [(30 * DAY, True), (30 * DAY + 1, False), (10**20, False)])
def test_a_token_living_longer_than_an_api_token_may_is_refused(sign, lifetime, accepted):
    token = sign(exp=clock.now() + lifetime)
    if accepted:
        assert verify_access_token(token, AUDIENCE)["sub"]
    else:
        assert refusal(token) == "subject_token lives longer than any token this tenant issues"
