"""Verifying tokens this server issued: access tokens (subject tokens, userinfo, the
Management API) and the ID token a logout may carry as ``id_token_hint``.

For access tokens, strict in the order a reader would check by hand: it parses and its signature verifies
with a published key and RS256 only, it names this issuer, it has not expired, it was
issued for the expected audience, it is an access token (``typ: at+jwt``), it has the
claims of RFC 9068 (``sub``, ``client_id``, ``iat``; ``scope`` a string) and lives no
longer than an API's token may (30 days). The APIs check the same (obo_common's validator).
"""

from __future__ import annotations

from joserfc import jwt
from joserfc.errors import ExpiredTokenError, JoseError

from . import clock
from .keys import ALGORITHM
from .provider import idp
from .tenant import MAX_API_TOKEN_LIFETIME

LEEWAY = 30  # seconds of clock difference tolerated on exp, nbf and iat, as at the APIs


class TokenRejected(Exception):
    """The token cannot be used; ``reason`` says why in words fit for an error_description."""

    def __init__(self, reason: str, expired: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.expired = expired


def verify_access_token(value: str | None, audience: str, *, what: str = "token") -> dict:
    provider = idp()
    if not value or not isinstance(value, str) or value.count(".") != 2:
        raise TokenRejected(f"{what} is not a JWT")
    try:
        token = jwt.decode(value, provider.keys.published(), algorithms=[ALGORITHM])
    except JoseError:
        raise TokenRejected(f"{what} signature could not be verified") from None
    except ValueError:
        raise TokenRejected(f"{what} is malformed") from None
    claims = token.claims
    if claims.get("iss") != provider.issuer:
        raise TokenRejected(f"{what} was not issued by this tenant")
    registry = jwt.JWTClaimsRegistry(
        now=clock.now(),
        leeway=LEEWAY,
        exp={"essential": True},
        sub={"essential": True},
    )
    try:
        registry.validate(claims)
    except ExpiredTokenError:
        raise TokenRejected(f"{what} expired", expired=True) from None
    except JoseError:
        raise TokenRejected(f"{what} has invalid claims") from None
    audiences = claims.get("aud")
    audiences = [audiences] if isinstance(audiences, str) else audiences or []
    if audience not in audiences:
        raise TokenRejected(f"{what} audience does not match the requesting API")
    if str(token.header.get("typ", "")).lower() not in ("at+jwt", "application/at+jwt"):
        raise TokenRejected(f"{what} is not an access token")
    # RFC 9068 2.2: an access token names its client and when it was issued; its scope is a string.
    if "iat" not in claims or not isinstance(claims.get("client_id"), str):
        raise TokenRejected(f"{what} has invalid claims")
    if not isinstance(claims.get("scope", ""), str):
        raise TokenRejected(f"{what} has invalid claims")
    if claims["exp"] - claims["iat"] > MAX_API_TOKEN_LIFETIME:
        raise TokenRejected(f"{what} lives longer than any token this tenant issues")
    return claims


def verify_id_token_hint(value: str | None, user_id: str, client_id: str | None = None) -> bool:
    """Whether ``value`` is an ID token this tenant issued to one of its clients for this
    user (RP-Initiated Logout 1.0, section 2): its signature verifies with a published key,
    it names this issuer, its ``aud`` is a known client (the one named by ``client_id``,
    when given) and its ``sub`` is the user. An expired one still counts, as the
    specification allows: it names who asks, not what may be accessed."""
    provider = idp()
    if not value or not isinstance(value, str) or value.count(".") != 2:
        return False
    try:
        token = jwt.decode(value, provider.keys.published(), algorithms=[ALGORITHM])
    except (JoseError, ValueError):
        return False
    claims = token.claims
    if str(token.header.get("typ", "JWT")).lower() in ("at+jwt", "application/at+jwt"):
        return False  # an access token is not an ID token, whatever its audience
    audiences = claims.get("aud")
    audiences = [audiences] if isinstance(audiences, str) else audiences
    if not isinstance(audiences, list) or not audiences:
        return False
    tenant = provider.tenant()
    known = [a for a in audiences if isinstance(a, str) and tenant.client(a) is not None]
    if client_id is not None and client_id not in known:
        return False
    return claims.get("iss") == provider.issuer and bool(known) and claims.get("sub") == user_id
