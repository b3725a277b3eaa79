"""Strict validation of an RFC 9068 access token, built on Authlib's JWT validator.

Checks, in order: the token is a JWS whose header says ``alg: RS256`` and
``typ: at+jwt`` -> its ``kid`` is a key the provider publishes -> the signature verifies
-> ``iss`` is exactly the issuer -> ``aud`` contains this API -> ``exp``, ``nbf``, ``iat``
hold within the leeway, and ``exp`` is at most 30 days after ``iat`` -> ``scope`` is a
string -> (per endpoint) the scopes are present. Every failure is an
``invalid_token`` with a description saying which check failed.
"""

from __future__ import annotations

import json
import time

from authlib.oauth2.rfc6750 import InsufficientScopeError, InvalidTokenError
from authlib.oauth2.rfc9068 import JWTBearerTokenValidator
from authlib.oauth2.rfc9068.claims import JWTAccessTokenClaims
from joserfc import jws
from joserfc.errors import ExpiredTokenError, InvalidClaimError, JoseError, MissingClaimError

from .jwks_cache import JWKSCache

ALGORITHMS = ["RS256"]
ACCESS_TOKEN_TYPES = ("at+jwt", "application/at+jwt")
# The provider gives an API's tokens at most 30 days (its cap on token_lifetime): a token
# that lives longer was not made by it, or was made by a key that must not be trusted.
MAX_LIFETIME = 30 * 86400
# Built once: joserfc makes a registry on every call that is given only the algorithms.
_JWS_REGISTRY = jws.JWSRegistry(algorithms=ALGORITHMS)


class AccessTokenValidator(JWTBearerTokenValidator):
    """For one API: tokens from ``issuer`` whose audience includes ``resource_server``."""

    def __init__(self, issuer: str, resource_server: str, jwks: JWKSCache, leeway: int = 30, clock=time.time):
        if not 0 <= leeway <= 60:
            raise ValueError("the clock leeway must be between 0 and 60 seconds")
        super().__init__(issuer, resource_server, realm=resource_server)
        self.jwks = jwks
        self.leeway = leeway
        self.clock = clock
        self._claims_options = {
            "iss": {"essential": True, "value": issuer},
            "aud": {"essential": True, "value": resource_server},
            "exp": {"essential": True},
            "sub": {"essential": True},
            "client_id": {"essential": True},
            "iat": {"essential": True},
            "jti": {"essential": True},
        }

    def get_jwks(self):
        raise NotImplementedError("keys are looked up by kid in the JWKS cache")

    def authenticate_token(self, token_string: str) -> JWTAccessTokenClaims:
        try:
            # Split and decoded once; the signature is checked on this same object below.
            compact = jws.extract_compact(token_string.encode("ascii"), registry=_JWS_REGISTRY)
            header = compact.headers()
        except (JoseError, ValueError, UnicodeError):
            raise self._invalid("The access token is malformed") from None
        if header.get("alg") not in ALGORITHMS:
            raise self._invalid("The access token must be signed with RS256")
        if str(header.get("typ", "")).lower() not in ACCESS_TOKEN_TYPES:
            raise self._invalid("The token is not an access token (typ must be at+jwt)")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise self._invalid("The access token is signed with an unknown key")
        key = self.jwks.key(kid)
        if key is None:
            raise self._invalid("The access token is signed with an unknown key")
        try:
            claims = json.loads(compact.payload) if jws.validate_compact(compact, key, registry=_JWS_REGISTRY) else None
        except (JoseError, ValueError):
            claims = None
        if not isinstance(claims, dict):  # a bad signature, or a payload that is not a claims object
            raise self._invalid("The access token signature is invalid")
        return JWTAccessTokenClaims(claims, header, self._claims_options)

    def validate_token(self, token: JWTAccessTokenClaims, scopes, request, **kwargs):
        try:
            token.validate(now=int(self.clock()), leeway=self.leeway)
        except ExpiredTokenError:
            raise self._invalid("The access token expired") from None
        except MissingClaimError as error:
            raise self._invalid(f"The access token lacks the {error.claim} claim") from None
        except InvalidClaimError as error:
            raise self._invalid(_invalid_claim(error.claim)) from None
        except JoseError:
            raise self._invalid("The access token claims are invalid") from None
        if token["exp"] - token["iat"] > MAX_LIFETIME:
            raise self._invalid("The access token lives longer than any token the provider issues")
        if not isinstance(token.get("scope", ""), str):  # RFC 9068 2.2.3: space-delimited, a string
            raise self._invalid(_invalid_claim("scope"))
        if self.scope_insufficient(token.get("scope"), scopes):
            insufficient = InsufficientScopeError()
            insufficient.required_scope = " ".join(scopes)
            raise insufficient

    def _invalid(self, description: str) -> InvalidTokenError:
        return InvalidTokenError(description, realm=self.realm)


def _invalid_claim(claim: str) -> str:
    return {
        "iss": "The access token was not issued by the expected issuer",
        "aud": "The access token was not issued for this API",
        "nbf": "The access token is not valid yet",
        "iat": "The access token was issued in the future",
    }.get(claim, f"The access token has an invalid {claim} claim")
