"""refresh_token: new tokens for a refresh token, with rotation and reuse detection.

Checks, in order: the client authenticates -> may use this grant -> the token is
present -> it exists, is not revoked or expired, and belongs to this client -> it was
not already rotated (reuse revokes the whole family, i.e. every refresh token of that
login) -> refreshes of this token from this address are within the rate limit -> the
asked scope is within the original -> rules run -> rotate -> issue.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749 import grants
from flask import request

from .. import clock
from ..errors import InvalidGrant, InvalidScope, RefreshTokenReused
from ..oauth_adapters import RefreshToken
from ..provider import idp
from ..tokens import Issue, digest, token_response
from .base import TenantGrant

UNKNOWN = "Unknown or invalid refresh token."


class RefreshTokenGrant(TenantGrant, grants.RefreshTokenGrant):
    LOG_EVENTS = ("sertft", "fertft")

    def authenticate_refresh_token(self, refresh_token):
        storage = idp().storage
        row = storage.refresh_token(digest(refresh_token))
        if row is None:
            raise InvalidGrant(UNKNOWN)
        token = RefreshToken(row)
        self.request.user_id = token.user_id
        self.request.audience = token.audience
        if token.is_revoked() or token.is_expired() or not token.check_client(self.request.client):
            raise InvalidGrant(UNKNOWN)
        if token.rotated_at is not None:
            storage.revoke_family(token.family_id, clock.now())
            raise RefreshTokenReused()
        limit = idp().tenant().rate_limits.refresh_token
        key = f"refresh_token:{token.family_id}:{request.remote_addr}"
        idp().rate_limiter.hit(key, limit.limit, limit.window)
        return token

    def _validate_token_scope(self, token):
        asked = set((self.request.payload.scope or "").split())
        beyond = asked - set(token.get_scope().split())
        if beyond:
            raise InvalidScope(f"Scope not granted to this refresh token: {' '.join(sorted(beyond))}")

    def authenticate_user(self, refresh_token):
        return idp().tenant().user(refresh_token.user_id)

    def create_token_response(self):
        token = self.request.refresh_token
        client = self.request.client.client
        user = self.authenticate_user(token)
        if user is None:
            raise InvalidGrant(UNKNOWN)
        self.request.user = user
        rotating = client.refresh_token.rotation_type == "rotating"
        granted = token.get_scope().split()
        asked = (self.request.payload.scope or "").split()
        scopes = [s for s in granted if s in asked] if asked else granted
        api = idp().tenant().resource_server(token.audience) if token.audience else None
        issue = Issue(
            client=client,
            subject=user.user_id,
            user=user,
            api=api,
            scopes=scopes,
            auth_time=token.auth_time,
            id_token="openid" in granted,
            refresh_family=token.family_id if rotating else None,
            grant_id=token.family_id,
        )
        # Rules first: a rule that fails the request must leave the token usable.
        issue = self.apply_rules(issue)
        if rotating and not idp().storage.mark_rotated(token.token_hash, clock.now()):
            # Another request rotated this token a moment ago: that is reuse too.
            idp().storage.revoke_family(token.family_id, clock.now())
            raise RefreshTokenReused()
        return 200, token_response(issue, refresh_scopes=granted), self.TOKEN_RESPONSE_HEADER

    def revoke_old_credential(self, refresh_token):
        pass  # rotation happens atomically in create_token_response
