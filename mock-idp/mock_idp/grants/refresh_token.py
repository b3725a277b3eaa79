"""refresh_token: new tokens for a refresh token, with rotation and reuse detection.

The checks run in this order, each failing with the answer of the troubleshooting table:

  1. the client authenticates (401, as T17) and may use this grant (T06)
  2. the refresh_token parameter is present
  3. the token exists, is not revoked or expired (T33), and belongs to this client (T35)
  4. it was not already rotated (T34: reuse revokes the whole family, i.e. every refresh
     token of that login and the exchanges made from it)
  5. refreshes of this token from this address are within the rate limit (T37)
  6. the asked scope is within the original (T36)
  7. the user still exists
  8. the tenant's rules run, then the token is rotated (a concurrent rotation is reuse
     too, T34) and the new tokens are issued.

Refusals 3, 4 and 7 all say "Unknown or invalid refresh token.", so a caller learns
nothing about a token that is not its own (the tenant log says more on reuse).
"""

from __future__ import annotations

from authlib.oauth2.rfc6749.grants import TokenEndpointMixin
from flask import request
from typing_extensions import override

from .. import clock
from ..errors import InvalidGrant, InvalidRequest, InvalidScope, RefreshTokenReused
from ..oauth_adapters import RefreshToken
from ..provider import idp
from ..tokens import Issue, digest
from .base import GrantOutcome, LogEvent, LogEvents, TenantGrant

UNKNOWN = "Unknown or invalid refresh token."


class RefreshTokenGrant(TenantGrant, TokenEndpointMixin):
    GRANT_TYPE = "refresh_token"
    LOG_EVENTS = LogEvents(
        LogEvent("sertft", "Success Exchange (Refresh Token for Access Token)"),
        LogEvent("fertft", "Failed Exchange (Refresh Token for Access Token)"),
        others=(LogEvent(RefreshTokenReused.log_type, "Refresh Token Reuse Detected"),),
    )
    RULES_PROTOCOL = "oauth2-refresh-token"

    @override
    def validate_token_request(self):
        client = self.authenticate_token_endpoint_client()
        tenant = idp().tenant()
        storage = idp().storage

        value = self.request.form.get("refresh_token")
        if value is None:
            raise InvalidRequest("Missing 'refresh_token' in request.")
        row = storage.refresh_token(digest(value))
        if row is None:
            raise InvalidGrant(UNKNOWN)  # T33
        token = RefreshToken(row)
        self.user_id, self.audience = token.user_id, token.audience
        if token.is_revoked() or token.is_expired() or not token.check_client(client):
            raise InvalidGrant(UNKNOWN)  # T33, T35
        if token.rotated_at is not None:
            storage.revoke_family(token.family_id, clock.now())
            raise RefreshTokenReused()  # T34
        limit = tenant.rate_limits.refresh_token
        idp().rate_limiter.hit(f"refresh_token:{token.family_id}:{request.remote_addr}", limit.limit, limit.window)

        granted = token.get_scope().split()
        asked = self.asked_scopes()
        beyond = set(asked) - set(granted)
        if beyond:
            raise InvalidScope(f"Scope not granted to this refresh token: {' '.join(sorted(beyond))}")  # T36
        user = tenant.user(token.user_id)
        if user is None:
            raise InvalidGrant(UNKNOWN)

        rotating = client.client.refresh_token.rotation_type == "rotating"
        self.outcome = GrantOutcome(
            Issue(
                client=client.client,
                subject=user.user_id,
                user=user,
                api=tenant.resource_server(token.audience) if token.audience else None,
                scopes=[s for s in granted if s in asked] if asked else granted,
                auth_time=token.auth_time,
                acr=token.acr,
                id_token="openid" in granted,
                refresh_family=token.family_id if rotating else None,
                grant_id=token.family_id,
            ),
            rotates=token.token_hash if rotating else None,
            refresh_scopes=granted,
        )

    @override
    def create_token_response(self):
        outcome = self.decided()
        # Rules first: a rule that fails the request must leave the token usable.
        issue = self.apply_rules(outcome.issue)
        storage = idp().storage
        if outcome.rotates and not storage.mark_rotated(outcome.rotates, clock.now()):
            # Another request rotated this token a moment ago: that is reuse too (T34).
            assert issue.grant_id is not None  # the refresh token's family
            storage.revoke_family(issue.grant_id, clock.now())
            raise RefreshTokenReused()
        return self.store_and_answer(issue, refresh_scopes=outcome.refresh_scopes)
