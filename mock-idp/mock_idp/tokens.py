"""Issuing tokens: RFC 9068 access tokens, OpenID Connect ID tokens, opaque refresh tokens.

Every grant ends here, so every token of the tenant has one shape:
- access token: JWT, header ``typ: at+jwt``; ``iss sub aud client_id azp iat exp jti scope``;
  ``aud`` is the API identifier, plus the userinfo URL when ``openid`` was granted; a
  user's token carries ``grant_id`` (the login's grant, as in OAuth Grant Management), so
  an exchange can tell whether the login it comes from was revoked;
- ID token: JWT for the client, with ``nonce`` when the login sent one;
- refresh token: random, stored only as its SHA-256, bound to client, user, API and scope,
  and to a family (one login) so reuse can revoke them all.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field

from joserfc import jwt

from . import authn_context, clock
from .keys import ALGORITHM
from .provider import idp
from .tenant import Client, ResourceServer, User

ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"


def digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


@dataclass
class Issue:
    """What a grant decided to issue."""

    client: Client
    subject: str
    scopes: list[str]
    api: ResourceServer | None = None
    user: User | None = None
    nonce: str | None = None
    auth_time: int | None = None
    # How strongly the user logged in (authn_context.py): acr and amr in every token.
    acr: str | None = None
    # A refresh token is minted only when the grant sets this (the family it belongs to).
    refresh_family: str | None = None
    code_hash: str | None = None
    id_token: bool = False
    # A rule may give the access token another scope than the one granted.
    access_token_scope: list[str] | None = None
    extra_access_claims: dict = field(default_factory=dict)
    extra_id_claims: dict = field(default_factory=dict)
    issued_token_type: str | None = None
    # The grant (one login, or one exchange from it) the tokens belong to: its refresh family.
    grant_id: str | None = None
    # No token of this issue expires later than this (the ``bounded`` exchange policy).
    not_after: int | None = None


def sign(claims: dict, typ: str) -> str:
    key = idp().keys.current()
    return jwt.encode({"alg": ALGORITHM, "typ": typ, "kid": key.kid}, claims, key)


def issuing_time() -> int:
    """The time written in iat and exp: this server's clock, plus the tenant's skew."""
    return clock.now() + idp().tenant().clock_skew


def access_token(issue: Issue) -> tuple[str, int]:
    provider = idp()
    # Management API tokens keep the true time, so a skewed tenant can always be put back.
    now = clock.now() if issue.api and issue.api.is_system else issuing_time()
    lifetime = issue.api.token_lifetime if issue.api else 86400
    audiences = [issue.api.identifier] if issue.api else []
    if "openid" in issue.scopes or not audiences:
        audiences.append(provider.userinfo_url)
    expires = min(now + lifetime, issue.not_after) if issue.not_after else now + lifetime
    lifetime = max(expires - now, 0)
    claims = {
        "iss": provider.issuer,
        "sub": issue.subject,
        "aud": audiences[0] if len(audiences) == 1 else audiences,
        "iat": now,
        "exp": expires,
        "jti": secrets.token_urlsafe(16),
        "client_id": issue.client.client_id,
        "azp": issue.client.client_id,
        "scope": " ".join(access_scopes(issue)),
    }
    if issue.auth_time:
        claims["auth_time"] = issue.auth_time
    claims.update(authn_context.claims(issue.acr))
    if issue.grant_id:
        claims["grant_id"] = issue.grant_id
    claims.update(issue.extra_access_claims)
    return sign(claims, "at+jwt"), lifetime


def access_scopes(issue: Issue) -> list[str]:
    return issue.scopes if issue.access_token_scope is None else issue.access_token_scope


def id_token(issue: Issue) -> str:
    provider = idp()
    now = issuing_time()
    claims = {
        "iss": provider.issuer,
        "sub": issue.subject,
        "aud": issue.client.client_id,
        "azp": issue.client.client_id,
        "iat": now,
        "exp": min(
            now + provider.settings.id_token_lifetime, issue.not_after or now + provider.settings.id_token_lifetime
        ),
    }
    if issue.auth_time:
        claims["auth_time"] = issue.auth_time
    claims.update(authn_context.claims(issue.acr))
    if issue.nonce:
        claims["nonce"] = issue.nonce
    if issue.user:
        claims.update(issue.user.profile_claims(set(issue.scopes)))
    claims.update(issue.extra_id_claims)
    return sign(claims, "JWT")


def store_refresh_token(issue: Issue, scopes: list[str] | None = None) -> str:
    """Mint a refresh token of the issue's family and store it (its hash only).

    ``scopes`` binds it to a wider scope than the access token (a down-scoped refresh
    keeps the scope originally granted); by default it has the issue's.
    """
    value, row = new_refresh_token(issue, scopes)
    idp().storage.save_refresh_token(**row)
    return value


def new_refresh_token(issue: Issue, scopes: list[str] | None = None) -> tuple[str, dict]:
    """A refresh token of the issue's family, not stored yet: its value and its row."""
    value = secrets.token_urlsafe(32)
    now = clock.now()
    row = {
        "token_hash": digest(value),
        "family_id": issue.refresh_family,
        "client_id": issue.client.client_id,
        "user_id": issue.subject,
        "audience": issue.api.identifier if issue.api else None,
        "scope": " ".join(scopes or issue.scopes),
        "auth_time": issue.auth_time,
        "acr": issue.acr,
        "code_hash": issue.code_hash,
        "created_at": now,
        "expires_at": now + issue.client.refresh_token.token_lifetime,
    }
    return value, row


def token_response(issue: Issue, refresh_token: str | None = None) -> dict:
    """The token endpoint's JSON body for an issue: its access token and ID token are
    signed here; its refresh token, already stored, is passed in."""
    value, lifetime = access_token(issue)
    body: dict[str, str | int] = {"access_token": value}
    if issue.issued_token_type:
        body["issued_token_type"] = issue.issued_token_type
    body.update({"token_type": "Bearer", "expires_in": lifetime, "scope": " ".join(access_scopes(issue))})
    if issue.id_token:
        body["id_token"] = id_token(issue)
    if refresh_token:
        body["refresh_token"] = refresh_token
    return body


def new_family() -> str:
    return secrets.token_hex(16)
