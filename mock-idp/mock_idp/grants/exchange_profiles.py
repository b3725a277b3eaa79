"""The token exchange's two profiles: where ``legacy`` and ``current`` differ.

The tenant's ``token_exchange_profile`` picks one (docs/mock-idp.md). ``legacy`` is the
API's Token Exchange Settings, as the tutorial describes: impersonation only, errors
answered 400. ``current`` is the provider's current On-Behalf-Of setup: a Custom API
client, every parameter required, an invalid token answered 401, delegation with ``act``
(``delegation.py``), and an access token only. Everything else, in
``token_exchange.py``, is the same for both.
"""

from __future__ import annotations

from typing import ClassVar

from authlib.oauth2.rfc6749 import OAuth2Error

from ..errors import InvalidRequest, NotCustomApiClient, SubjectGrantRevoked, TokenRefused
from ..tenant import ResourceServer, Tenant
from . import delegation


class ExchangeProfile:
    """What a profile decides at steps 2, 4, 6 and 9 of the exchange."""

    #: scopes whose tokens this profile never issues (an ID token, a refresh token)
    NOT_ISSUED: ClassVar[tuple[str, ...]] = ()

    def source_api(self, tenant: Tenant, client_id: str) -> ResourceServer | None:
        """2. The API the exchanging client acts for, or None when it may not exchange."""
        raise NotImplementedError

    def check_parameters(self, data) -> None:
        """4. What this profile requires of the request, before the shared checks."""
        raise NotImplementedError

    def subject_refused(self, reason: str) -> OAuth2Error:
        """6. The answer to a subject token that does not verify."""
        raise NotImplementedError

    def subject_revoked(self) -> OAuth2Error:
        """6. The answer to a subject token whose login was revoked (T39)."""
        return SubjectGrantRevoked()

    def act(self, data, subject: dict, client_id: str, audience: str, tenant: Tenant) -> dict | None:
        """6. The issued token's ``act`` claim, or None."""
        return None


class LegacyProfile(ExchangeProfile):
    """The API's Token Exchange Settings: impersonation only (T16, T27)."""

    def source_api(self, tenant, client_id):
        return tenant.exchange_api_of(client_id)  # T16

    def check_parameters(self, data):
        if data.get("actor_token") or data.get("actor_token_type"):
            raise InvalidRequest("actor_token is not supported: impersonation only")  # T27

    def subject_refused(self, reason):
        return InvalidRequest(reason)  # T23-T25


class CurrentProfile(ExchangeProfile):
    """A Custom API client (T40), every parameter (T41), 401 for a bad token (T42),
    delegation (T43, T44), an access token only."""

    NOT_ISSUED = ("openid", "offline_access")

    def source_api(self, tenant, client_id):
        api = tenant.custom_api_of(client_id)
        if api is None:
            raise NotCustomApiClient()  # T40
        return api

    def check_parameters(self, data):
        delegation.require_parameters(data)  # T41, T19, T26, T43

    def subject_refused(self, reason):
        return TokenRefused(reason)  # T42

    def subject_revoked(self):
        revoked = SubjectGrantRevoked()
        revoked.status_code = 401  # as any other refused token under this profile
        return revoked

    def act(self, data, subject, client_id, audience, tenant):
        actor = delegation.actor_of(data.get("actor_token"), client_id, audience)  # T43
        return delegation.act_claim(subject, actor, client_id, tenant.token_exchange_delegation_depth)  # T43, T44


PROFILES: dict[str, ExchangeProfile] = {"legacy": LegacyProfile(), "current": CurrentProfile()}
