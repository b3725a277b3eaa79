"""ACCESS_TOKEN_PROFILE: RFC 9068 by default, or the provider's default access-token profile
(typ JWT, azp instead of client_id, no jti), and a refusal naming the profile expected."""

from __future__ import annotations

import pytest
from authlib.oauth2.rfc6750 import InvalidTokenError

from obo_common import AccessTokenValidator
from obo_common.access_token_validator import WRONG_PROFILE
from obo_testing import AUDIENCE, ISSUER, SUBJECT

WRONG_TYP = "The token is not an access token (typ must be at+jwt)"


@pytest.fixture
def provider_default(jwks, clock) -> AccessTokenValidator:
    return AccessTokenValidator(ISSUER, AUDIENCE, jwks, leeway=30, clock=clock, profile="provider-default")


def provider_default_token(factory, **claims) -> str:
    """What the provider signs by default: typ JWT, azp, no client_id and no jti."""
    return factory.issue(typ="JWT", **{"client_id": None, "jti": None, "azp": "web-app", **claims})


def refusal(validator, token) -> str:
    with pytest.raises(InvalidTokenError) as caught:
        validator.validate_token(validator.authenticate_token(token), None, None)
    assert caught.value.status_code == 401
    return caught.value.description


def test_rfc9068_is_the_default_and_refuses_a_provider_default_token_naming_the_profile(validator, factory):
    assert validator.profile == "rfc9068"
    description = refusal(validator, provider_default_token(factory))
    assert description == WRONG_PROFILE["rfc9068"]
    assert "ACCESS_TOKEN_PROFILE=provider-default" in description


def test_an_id_token_is_still_not_an_access_token_under_rfc9068(validator, factory):
    id_token = factory.issue(typ="JWT", aud="web-app", client_id=None, jti=None, nonce="n-1")
    assert refusal(validator, id_token) == WRONG_TYP


def test_the_provider_default_profile_accepts_its_tokens(provider_default, factory):
    claims = provider_default.authenticate_token(provider_default_token(factory))
    provider_default.validate_token(claims, ["read:things"], None)
    assert (claims["sub"], claims["azp"]) == (SUBJECT, "web-app")


def test_the_provider_default_profile_accepts_an_audience_list_with_userinfo(provider_default, factory):
    token = provider_default_token(factory, aud=[AUDIENCE, ISSUER + "userinfo"])
    provider_default.validate_token(provider_default.authenticate_token(token), None, None)


def test_the_provider_default_profile_refuses_an_rfc9068_token_naming_the_profile(provider_default, factory):
    description = refusal(provider_default, factory.issue())
    assert description == WRONG_PROFILE["provider-default"]
    assert "ACCESS_TOKEN_PROFILE=rfc9068" in description


@pytest.mark.parametrize(
    ("claims", "description"),
    [
        ({"azp": None}, "The access token lacks the azp claim"),
        ({"sub": None}, "The access token lacks the sub claim"),
        ({"iat": None}, "The access token lacks the iat claim"),
        ({"aud": "https://other-api.example.com"}, "The access token was not issued for this API"),
        ({"iss": "https://evil.example.com/"}, "The access token was not issued by the expected issuer"),
        ({"exp": 1_699_990_000}, "The access token expired"),
    ],
)
def test_the_provider_default_profile_checks_the_rest_as_strictly(provider_default, factory, claims, description):
    assert refusal(provider_default, provider_default_token(factory, **claims)) == description


def test_the_provider_default_profile_refuses_other_types(provider_default, factory):
    assert refusal(provider_default, factory.issue(typ="id+jwt", client_id=None, azp="x")) == (
        "The token is not an access token (typ must be JWT)"
    )
    assert refusal(provider_default, factory.issue(typ=None, client_id=None, azp="x")) == (
        "The token is not an access token (typ must be JWT)"
    )


def test_an_unknown_profile_is_refused(jwks):
    with pytest.raises(ValueError, match="rfc9068, provider-default"):
        AccessTokenValidator(ISSUER, AUDIENCE, jwks, profile="lenient")
