"""AccessTokenValidator: RFC 9068 access tokens, strictly (T11, T12, T13, T14, T15)."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from authlib.oauth2.rfc6750 import InsufficientScopeError, InvalidTokenError

from obo_common import AccessTokenValidator, access_token_validator
from obo_testing import AUDIENCE, ISSUER, SUBJECT, TokenFactory

EXPIRED = "The access token expired"
WRONG_ALG = "The access token must be signed with RS256"
WRONG_TYP = "The token is not an access token (typ must be at+jwt)"
MALFORMED = "The access token is malformed"
UNKNOWN_KEY = "The access token is signed with an unknown key"
BAD_SIGNATURE = "The access token signature is invalid"
WRONG_ISSUER = "The access token was not issued by the expected issuer"
WRONG_AUDIENCE = "The access token was not issued for this API"


def check(validator: AccessTokenValidator, token: str, scopes=None):
    """What the resource protector does with a token: authenticate, then validate."""
    claims = validator.authenticate_token(token)
    validator.validate_token(claims, scopes, None)
    return claims


def refusal(validator: AccessTokenValidator, token: str) -> str:
    with pytest.raises(InvalidTokenError) as caught:
        check(validator, token)
    assert caught.value.error == "invalid_token"
    assert caught.value.status_code == 401
    assert caught.value.realm == AUDIENCE
    return caught.value.description


def test_a_valid_token_is_accepted_with_its_claims(validator, factory):
    claims = check(validator, factory.issue(), scopes=["read:things"])
    assert claims["sub"] == SUBJECT
    assert claims["iss"] == ISSUER
    assert claims["aud"] == AUDIENCE


def test_the_media_type_form_of_typ_is_accepted(validator, factory):
    assert check(validator, factory.issue(typ="application/at+jwt"))["sub"] == SUBJECT


@pytest.mark.parametrize("token", ["not-a-jwt", "a.b.c", "", "é.é.é", "eyJhbGciOiJSUzI1NiJ9"])
def test_a_malformed_token_is_refused(validator, token):
    assert refusal(validator, token) == MALFORMED


@pytest.mark.parametrize(
    "alg",
    ["none", "HS256", "RS384", "RS512", "PS256"],
)
def test_T13_any_algorithm_but_RS256_is_refused(validator, factory, alg):
    assert refusal(validator, factory.issue(alg=alg)) == WRONG_ALG


def test_T13_HS256_signed_with_the_public_key_as_secret_is_refused(validator, factory):
    # the classic key-confusion forgery: HMAC keyed with the provider's public key
    unsigned = TokenFactory.raw({"alg": "HS256", "typ": "at+jwt", "kid": factory.key.kid}, factory.claims())
    signing_input = unsigned.rsplit(".", 1)[0]
    mac = hmac.new(factory.key.as_pem(private=False), signing_input.encode(), hashlib.sha256).digest()
    forged = signing_input + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    assert refusal(validator, forged) == WRONG_ALG


@pytest.mark.parametrize("typ", ["at+JWT-not", "id_token", None])
def test_T13_T11_a_token_that_is_not_an_access_token_is_refused(validator, factory, typ):
    assert refusal(validator, factory.issue(typ=typ)) == WRONG_TYP


@pytest.mark.parametrize("typ", ["JWT", "jwt"])
def test_T13_T11_a_typ_JWT_token_for_this_api_is_refused_as_the_other_profile(validator, factory, typ):
    # typ JWT and this API's audience: the provider's default access-token profile.
    description = refusal(validator, factory.issue(typ=typ))
    assert "typ must be at+jwt" in description
    assert "provider's default profile" in description


def test_T14_an_unknown_kid_is_refused(validator, factory):
    assert refusal(validator, factory.issue(kid="rotated-away")) == UNKNOWN_KEY


def test_T14_a_token_without_kid_is_refused(validator, factory):
    assert refusal(validator, factory.issue(kid=None)) == UNKNOWN_KEY


@pytest.mark.parametrize("kid", [["test-key-1"], {"kid": "test-key-1"}])
def test_T13_a_kid_that_is_not_a_string_is_refused(validator, factory, kid):
    token = TokenFactory.raw({"alg": "RS256", "typ": "at+jwt", "kid": kid}, factory.claims())
    assert refusal(validator, token) in (UNKNOWN_KEY, MALFORMED)


def test_T13_a_token_signed_by_another_key_under_the_right_kid_is_refused(validator, factory):
    impostor = TokenFactory.new_key(factory.key.kid)
    assert refusal(validator, factory.issue(signing_key=impostor)) == BAD_SIGNATURE


def test_T13_a_token_whose_claims_were_changed_after_signing_is_refused(validator, factory):
    header, _, signature = factory.issue().split(".")
    forged_claims = TokenFactory.raw({}, factory.claims(sub="auth0|someone-else")).split(".")[1]
    assert refusal(validator, f"{header}.{forged_claims}.{signature}") == BAD_SIGNATURE


@pytest.mark.parametrize(
    "iss",
    ["http://localhost:9000", "http://localhost:9000//", "https://localhost:9000/", "http://evil.test/", ""],
)
def test_T13_a_token_from_another_issuer_is_refused(validator, factory, iss):
    # the trailing slash matters: iss must equal the issuer exactly
    assert refusal(validator, factory.issue(iss=iss)) == WRONG_ISSUER


@pytest.mark.parametrize(
    "aud",
    [
        "https://source-api.example.com",
        ["https://source-api.example.com", "http://localhost:9000/userinfo"],
        AUDIENCE + "/",
        [],
    ],
)
def test_T11_T29_a_token_for_another_audience_is_refused(validator, factory, aud):
    assert refusal(validator, factory.issue(aud=aud)) == WRONG_AUDIENCE


def test_an_audience_list_that_contains_the_api_is_accepted(validator, factory):
    claims = check(validator, factory.issue(aud=["https://other.example.com", AUDIENCE]))
    assert AUDIENCE in claims["aud"]


def test_T12_an_expired_token_is_refused(validator, factory, clock):
    token = factory.issue()
    clock.advance(factory.lifetime + 31)
    assert refusal(validator, token) == EXPIRED


@pytest.mark.parametrize(("seconds_ago", "accepted"), [(20, True), (29, True), (30, False), (40, False)])
def test_T15_expiry_is_judged_with_the_leeway(validator, factory, clock, seconds_ago, accepted):
    token = factory.issue(exp=int(clock()) - seconds_ago)
    if accepted:
        assert check(validator, token)["sub"] == SUBJECT
    else:
        assert refusal(validator, token) == EXPIRED


def test_T15_a_validator_without_leeway_refuses_a_token_that_just_expired(jwks, factory, clock):
    strict = AccessTokenValidator(ISSUER, AUDIENCE, jwks, leeway=0, clock=clock)
    with pytest.raises(InvalidTokenError, match=EXPIRED):
        check(strict, factory.issue(exp=int(clock()) - 1))


@pytest.mark.parametrize(("seconds_ahead", "accepted"), [(20, True), (30, True), (31, False), (600, False)])
def test_T15_nbf_is_judged_with_the_leeway(validator, factory, clock, seconds_ahead, accepted):
    token = factory.issue(nbf=int(clock()) + seconds_ahead)
    if accepted:
        assert check(validator, token)["sub"] == SUBJECT
    else:
        assert refusal(validator, token) == "The access token is not valid yet"


def test_T15_a_token_issued_in_the_future_beyond_the_leeway_is_refused(validator, factory, clock):
    assert check(validator, factory.issue(iat=int(clock()) + 25))
    assert refusal(validator, factory.issue(iat=int(clock()) + 45)) == "The access token was issued in the future"


@pytest.mark.parametrize("claim", ["sub", "client_id", "jti", "exp", "iat", "iss", "aud"])
def test_a_token_lacking_a_required_claim_is_refused(validator, factory, claim):
    assert refusal(validator, factory.issue(**{claim: None})) == f"The access token lacks the {claim} claim"


def test_a_non_numeric_exp_is_refused(validator, factory):
    assert refusal(validator, factory.issue(exp="tomorrow")) == "The access token has an invalid exp claim"


def test_insufficient_scope_names_the_required_scope(validator, factory):
    with pytest.raises(InsufficientScopeError) as caught:
        check(validator, factory.issue(scope="openid read:things"), scopes=["write:things"])
    assert caught.value.error == "insufficient_scope"
    assert caught.value.status_code == 403
    assert caught.value.required_scope == "write:things"


def test_a_token_without_any_scope_lacks_every_scope(validator, factory):
    with pytest.raises(InsufficientScopeError):
        check(validator, factory.issue(scope=None), scopes=["read:things"])


def test_a_scope_that_merely_contains_the_required_one_as_text_is_not_enough(validator, factory):
    with pytest.raises(InsufficientScopeError):
        check(validator, factory.issue(scope="read:things-extra write"), scopes=["read:things"])


@pytest.mark.parametrize("leeway", [-1, 61, 3600])
def test_a_leeway_outside_0_to_60_seconds_is_refused(jwks, leeway):
    with pytest.raises(ValueError, match="between 0 and 60 seconds"):
        AccessTokenValidator(ISSUER, AUDIENCE, jwks, leeway=leeway)


@pytest.mark.parametrize(("lifetime", "accepted"), [(30 * 86400, True), (30 * 86400 + 1, False), (10**20, False)])
def test_a_token_living_longer_than_the_providers_longest_lifetime_is_refused(
    validator, factory, clock, lifetime, accepted
):
    # Signed by the provider's key, so only the lifetime check can refuse it.
    token = factory.issue(exp=int(clock()) + lifetime)
    if accepted:
        assert check(validator, token)["sub"] == SUBJECT
    else:
        assert refusal(validator, token) == "The access token lives longer than any token the provider issues"


# -- verified tokens: a token seen before is not verified again, and nothing more passes ---


@pytest.fixture
def verifications(monkeypatch) -> list[str]:
    """Each RS256 signature check the validator makes."""
    made: list[str] = []
    real = access_token_validator.jws.validate_compact

    def counted(compact, key, **kwargs):
        made.append(key.kid)
        return real(compact, key, **kwargs)

    monkeypatch.setattr(access_token_validator.jws, "validate_compact", counted)
    return made


def test_a_token_seen_before_is_not_verified_again(validator, factory, verifications):
    token = factory.issue()
    for _ in range(3):
        assert check(validator, token, scopes=["read:things"])["sub"] == SUBJECT
    assert len(verifications) == 1


def test_a_token_tampered_with_after_it_was_verified_is_refused(validator, factory, verifications):
    token = factory.issue()
    check(validator, token)
    header, _, signature = token.split(".")
    forged_claims = TokenFactory.raw({}, factory.claims(sub="auth0|someone-else")).split(".")[1]
    assert refusal(validator, f"{header}.{forged_claims}.{signature}") == BAD_SIGNATURE
    assert refusal(validator, token[:-2] + ("AA" if not token.endswith("AA") else "BB")) in (BAD_SIGNATURE, MALFORMED)


def test_a_token_verified_before_it_expired_is_refused_once_it_has(validator, factory, clock):
    token = factory.issue()
    check(validator, token)
    clock.advance(factory.lifetime + 31)
    assert refusal(validator, token) == EXPIRED


def test_a_token_not_yet_valid_is_refused_every_time_until_it_is(validator, factory, clock):
    token = factory.issue(nbf=int(clock()) + 100)
    assert refusal(validator, token) == "The access token is not valid yet"
    assert refusal(validator, token) == "The access token is not valid yet"
    clock.advance(100)
    assert check(validator, token)["sub"] == SUBJECT


def test_a_token_of_a_key_rotated_away_is_refused_after_it_was_verified(validator, factory, clock):
    token = factory.issue()
    check(validator, token)
    factory.rotate("test-key-2")
    check(validator, factory.issue())  # the new kid: the JWKS is fetched, the old key is gone
    assert refusal(validator, token) == UNKNOWN_KEY


def test_a_key_replaced_under_the_same_kid_makes_its_tokens_verified_again(validator, factory, clock, verifications):
    token = factory.issue(exp=int(clock()) + 7200)
    check(validator, token)
    factory.rotate(factory.key.kid)  # other key material, same kid
    clock.advance(3601)  # the JWKS cache's max_age: fetched again at the next token
    assert refusal(validator, token) == BAD_SIGNATURE
    assert len(verifications) == 2


def test_the_verified_tokens_are_bounded(jwks, factory, clock, verifications):
    small = AccessTokenValidator(ISSUER, AUDIENCE, jwks, clock=clock, verified_tokens=2)
    tokens = [factory.issue(jti=f"token-{n}") for n in range(3)]
    for token in tokens:
        check(small, token)
    assert len(small.verified) == 2
    check(small, tokens[0])  # forgotten: the oldest, so verified again
    assert len(verifications) == 4


def test_the_checks_that_depend_only_on_the_token_are_made_once(validator, factory, monkeypatch):
    full: list[int] = []
    real = access_token_validator.JWTAccessTokenClaims.validate

    def counted(self, **kwargs):
        full.append(1)
        return real(self, **kwargs)

    monkeypatch.setattr(access_token_validator.JWTAccessTokenClaims, "validate", counted)
    token = factory.issue()
    for _ in range(3):
        check(validator, token, scopes=["read:things"])
    assert len(full) == 1


@pytest.mark.parametrize("claims", [{}, {"nbf": 1_700_000_000}], ids=["iat", "nbf-and-iat"])
def test_a_remembered_token_is_judged_against_the_time_as_a_fresh_validator_judges_it(
    validator, jwks, factory, clock, claims
):
    # The clock going back (a stepped system clock): nbf and iat are in the future again.
    token = factory.issue(**claims)
    check(validator, token)
    clock.advance(-600)
    fresh = AccessTokenValidator(ISSUER, AUDIENCE, jwks, leeway=30, clock=clock)
    assert refusal(validator, token) == refusal(fresh, token)
    clock.advance(600)
    assert check(validator, token)["sub"] == SUBJECT


def test_a_token_refused_by_its_claims_is_refused_every_time(validator, factory):
    token = factory.issue(iss="http://evil.test/")
    assert refusal(validator, token) == WRONG_ISSUER
    assert refusal(validator, token) == WRONG_ISSUER
