"""Strict validation of an access token, built on Authlib's JWT validator.

Checks, in order, with the troubleshooting case each failure is: the token is a JWS whose
header says ``alg: RS256`` (T13) and the profile's ``typ`` (an ID token: T11) -> its
``kid`` is a key the provider publishes (T14) -> the signature verifies (T13) -> ``iss`` is
exactly the issuer (T13) -> ``aud`` contains this API (another API's token: T11; the
Source API's own token at the Target API: T29) -> the profile's claims are there ->
``exp`` (T12), ``nbf`` and ``iat`` (T15) hold within the leeway, and ``exp`` is at most 30
days after ``iat`` -> ``scope`` is a string -> (per endpoint) the scopes are present (T30).
Every failure is an ``invalid_token`` with a description saying which check failed,
except the last: ``insufficient_scope``.

Two profiles, one per API, chosen by ``ACCESS_TOKEN_PROFILE`` (docs/configuration.md):

- ``rfc9068`` (the default): RFC 9068, ``typ: at+jwt``; ``sub``, ``client_id``, ``iat``,
  ``jti`` and ``exp`` required.
- ``provider-default``: the provider's default access-token profile, ``typ: JWT``; the
  client that asked is ``azp`` instead of ``client_id``, and there is no ``jti``; ``sub``,
  ``azp``, ``iat`` and ``exp`` required. Everything else is checked as above.

A token of the other profile is refused with a description naming the profile expected.

Verified tokens are remembered (``VerifiedTokens``): a caller sends the same token for many
calls until it expires, and its signature, header and claims cannot change without its
bytes changing. What is kept is keyed by the token's SHA-256, and used only while the
JWKS cache still holds the very key object that verified it (any fetch of the JWKS, hence
any rotation or retirement, replaces every key object); everything that depends on the
time (``exp``, ``nbf``, ``iat``, as joserfc compares them) and the scopes is checked again
on every request, and the claims checks that depend on nothing but the token (``iss``,
``aud``, the required claims, the lifetime cap) are skipped only once it passed them. A
token is therefore accepted from it exactly when a fresh verification would accept it
(docs/security.md, "Verified tokens").
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Literal, NoReturn

from authlib.oauth2.claims import JWTClaims
from authlib.oauth2.rfc6750 import InsufficientScopeError, InvalidTokenError
from authlib.oauth2.rfc9068 import JWTBearerTokenValidator
from authlib.oauth2.rfc9068.claims import JWTAccessTokenClaims
from joserfc import jws
from joserfc.errors import ExpiredTokenError, InvalidClaimError, JoseError, MissingClaimError
from joserfc.jwk import RSAKey
from typing_extensions import override

from .jwks_cache import JWKSCache

ALGORITHMS = ["RS256"]
ACCESS_TOKEN_TYPES = ("at+jwt", "application/at+jwt")
# The provider gives an API's tokens at most 30 days (its cap on token_lifetime): a token
# that lives longer was not made by it, or was made by a key that must not be trusted.
MAX_LIFETIME = 30 * 86400
PROVIDER_DEFAULT_TYPES = ("jwt",)
UNKNOWN_KEY = "The access token is signed with an unknown key"
AccessTokenProfile = Literal["rfc9068", "provider-default"]
PROFILES: tuple[AccessTokenProfile, ...] = ("rfc9068", "provider-default")
# The claims each profile requires beside iss, aud and exp.
REQUIRED_CLAIMS = {
    "rfc9068": ("sub", "client_id", "iat", "jti"),
    "provider-default": ("sub", "azp", "iat"),
}
WRONG_PROFILE = {
    # A provider-default token at an API expecting RFC 9068, and the other way round.
    "rfc9068": "The access token has the provider's default profile, not RFC 9068 (typ must be "
    "at+jwt, ACCESS_TOKEN_PROFILE=rfc9068): turn on the API's RFC 9068 profile at the provider, "
    "or set ACCESS_TOKEN_PROFILE=provider-default",
    "provider-default": "The access token has the RFC 9068 profile, not the provider's default "
    "(typ must be JWT, ACCESS_TOKEN_PROFILE=provider-default): set ACCESS_TOKEN_PROFILE=rfc9068 "
    "to match the provider",
}
# Built once: joserfc makes a registry on every call that is given only the algorithms.
_JWS_REGISTRY = jws.JWSRegistry(algorithms=ALGORITHMS)
# Verified tokens remembered per API process: enough for every token in use at once here.
VERIFIED_TOKENS = 1000


class _Verified:
    __slots__ = ("checked", "claims", "header", "key", "kid")

    def __init__(self, kid: str, key: RSAKey, header: dict, claims: dict):
        self.kid = kid
        self.key = key  # the JWKS cache's own object: replaced by any fetch of the JWKS
        self.header = header
        self.claims = claims
        # Passed every claims check once: those that do not depend on the time hold for good.
        self.checked = False


class VerifiedTokens:
    """Tokens whose signature verified, by SHA-256 of the token; the oldest forgotten first."""

    def __init__(self, size: int = VERIFIED_TOKENS):
        self.size = size
        self._entries: OrderedDict[bytes, _Verified] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, digest: bytes, jwks: JWKSCache) -> _Verified | None:
        with self._lock:
            entry = self._entries.get(digest)
        if entry is None:
            return None
        if jwks.key(entry.kid) is not entry.key:  # the JWKS was fetched again since: verify anew
            with self._lock:
                self._entries.pop(digest, None)
            return None
        return entry

    def put(self, digest: bytes, entry: _Verified) -> None:
        with self._lock:
            self._entries[digest] = entry
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


class AccessTokenValidator(JWTBearerTokenValidator):
    """For one API: tokens from ``issuer`` whose audience includes ``resource_server``."""

    def __init__(
        self,
        issuer: str,
        resource_server: str,
        jwks: JWKSCache,
        leeway: int = 30,
        clock: Callable[[], float] = time.time,
        profile: AccessTokenProfile = "rfc9068",
        verified_tokens: int = VERIFIED_TOKENS,
    ) -> None:
        if not 0 <= leeway <= 60:
            raise ValueError("the clock leeway must be between 0 and 60 seconds")
        if profile not in PROFILES:
            raise ValueError(f"the access token profile must be one of {', '.join(PROFILES)}")
        super().__init__(issuer, resource_server, realm=resource_server)
        self.jwks = jwks
        self.profile = profile
        self.leeway = leeway
        self.clock = clock
        # Built once: the claims each token of this profile must carry.
        self._claims_options = {
            "iss": {"essential": True, "value": issuer},
            "aud": {"essential": True, "value": resource_server},
            "exp": {"essential": True},
            **{claim: {"essential": True} for claim in REQUIRED_CLAIMS[profile]},
        }
        self.verified = VerifiedTokens(verified_tokens)

    @override
    def get_jwks(self) -> NoReturn:
        raise NotImplementedError("keys are looked up by kid in the JWKS cache")

    @override
    def authenticate_token(self, token_string: str) -> JWTAccessTokenClaims:
        try:
            raw = token_string.encode("ascii")
        except UnicodeError:
            raise self._invalid("The access token is malformed") from None
        digest = hashlib.sha256(raw).digest()
        known = self.verified.get(digest, self.jwks)
        if known is not None:
            # The same bytes verified with the same key object: only the time-dependent
            # checks (validate_token) are left, and they run on every request.
            token = self._claims(dict(known.claims), known.header)
        else:
            header, claims, kid, key = self._verify(raw)
            known = _Verified(kid, key, header, dict(claims))
            self.verified.put(digest, known)
            token = self._claims(claims, header)
        token.obo_verified = known
        return token

    def _claims(self, claims: dict, header: dict) -> JWTAccessTokenClaims:
        if self.profile == "rfc9068":
            return JWTAccessTokenClaims(claims, header, self._claims_options)
        return JWTClaims(claims, header, self._claims_options)

    def _verify(self, raw: bytes) -> tuple[dict, dict, str, RSAKey]:
        try:
            # Split and decoded once; the signature is checked on this same object below.
            compact = jws.extract_compact(raw, registry=_JWS_REGISTRY)
            header = compact.headers()
        except (JoseError, ValueError, UnicodeError):
            raise self._invalid("The access token is malformed") from None
        if header.get("alg") not in ALGORITHMS:
            raise self._invalid("The access token must be signed with RS256")
        self._check_type(str(header.get("typ", "")).lower(), compact.payload)
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise self._invalid(UNKNOWN_KEY)
        key = self.jwks.key(kid)
        if key is None:
            raise self._invalid(UNKNOWN_KEY)
        try:
            claims = json.loads(compact.payload) if jws.validate_compact(compact, key, registry=_JWS_REGISTRY) else None
        except (JoseError, ValueError):
            claims = None
        if not isinstance(claims, dict):  # a bad signature, or a payload that is not a claims object
            raise self._invalid("The access token signature is invalid")
        return header, claims, kid, key

    def _check_type(self, typ: str, payload: bytes) -> None:
        """The header's typ is the profile's; a token of the other profile is told apart
        from an ID token (also typ JWT) by its audience: this API."""
        if self.profile == "rfc9068" and typ in ACCESS_TOKEN_TYPES:
            return
        if self.profile == "provider-default" and typ in PROVIDER_DEFAULT_TYPES:
            return
        other_profile = typ in PROVIDER_DEFAULT_TYPES if self.profile == "rfc9068" else typ in ACCESS_TOKEN_TYPES
        if other_profile and self._names_this_api(payload):
            raise self._invalid(WRONG_PROFILE[self.profile])
        expected = "at+jwt" if self.profile == "rfc9068" else "JWT"
        raise self._invalid(f"The token is not an access token (typ must be {expected})")

    def _names_this_api(self, payload: bytes) -> bool:
        # Read before the signature is checked: it only chooses the words of a refusal.
        try:
            audience = json.loads(payload).get("aud")
        except (ValueError, AttributeError):
            return False
        return audience == self.resource_server or (isinstance(audience, list) and self.resource_server in audience)

    @override
    def validate_token(
        self, token: JWTAccessTokenClaims, scopes: list[str] | None, request: Any, **kwargs: Any
    ) -> None:
        known: _Verified | None = getattr(token, "obo_verified", None)
        now = int(self.clock())
        try:
            if known is not None and known.checked:
                # Every other check depends only on the token's bytes, which passed them.
                _time_checks(token, now, self.leeway)
            else:
                token.validate(now=now, leeway=self.leeway)
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
        if known is not None:
            known.checked = True
        if self.scope_insufficient(token.get("scope"), scopes):
            insufficient = InsufficientScopeError()
            insufficient.required_scope = " ".join(scopes or ())
            raise insufficient

    def _invalid(self, description: str) -> InvalidTokenError:
        return InvalidTokenError(description, realm=self.realm)


def _time_checks(claims: dict, now: int, leeway: int) -> None:
    """joserfc's checks of exp, nbf and iat against the time (the same comparisons, leeway
    and errors, in the token's claim order, as its full validation makes them), for a token
    that passed every other check already."""
    for name, value in claims.items():
        if name == "exp" and value <= now - leeway:
            raise ExpiredTokenError("exp")
        if name in ("nbf", "iat") and value > now + leeway:
            raise InvalidClaimError(name)


def kid_of(token_string: str) -> str | None:
    """The ``kid`` of a compact JWS's header, or None."""
    try:
        kid = jws.extract_compact(token_string.encode("ascii")).protected.get("kid")
    except (JoseError, ValueError, UnicodeError):
        return None
    return kid if isinstance(kid, str) else None


def _invalid_claim(claim: str) -> str:
    return {
        "iss": "The access token was not issued by the expected issuer",
        "aud": "The access token was not issued for this API",
        "nbf": "The access token is not valid yet",
        "iat": "The access token was issued in the future",
    }.get(claim, f"The access token has an invalid {claim} claim")
