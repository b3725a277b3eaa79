"""Verifying access tokens this server issued (subject tokens, userinfo, Management API).

Strict in the order a reader would check by hand: it parses and its signature verifies
with a published key and RS256 only, it names this issuer, it has not expired, it was
issued for the expected audience, and it is an access token (``typ: at+jwt``).
"""

from __future__ import annotations

from joserfc import jwt
from joserfc.errors import ExpiredTokenError, JoseError

from . import clock
from .keys import ALGORITHM
from .provider import idp

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
    return claims
