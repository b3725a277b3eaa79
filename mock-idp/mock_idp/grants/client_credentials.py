"""client_credentials: a machine-to-machine token, e.g. for the Management API.

The checks run in this order:

  1. the client authenticates (401, as T17) and may use this grant (T06)
  2. an audience is named, and it is an API of the tenant (the Management API included)
  3. a client grant authorises this client for that API
  4. the asked scopes are within the client grant's (none asked: all of them).
"""

from __future__ import annotations

from authlib.oauth2.rfc6749 import grants
from typing_extensions import override

from ..errors import AccessDenied, InvalidRequest, InvalidScope
from ..provider import idp
from ..tokens import Issue
from .base import GrantOutcome, LogEvent, LogEvents, TenantGrant, api_of_audience


class ClientCredentialsGrant(TenantGrant, grants.ClientCredentialsGrant):
    GRANT_TYPE = "client_credentials"
    LOG_EVENTS = LogEvents(
        LogEvent("seccft", "Success Exchange (Client Credentials for Access Token)"),
        LogEvent("feccft", "Failed Exchange (Client Credentials for Access Token)"),
    )
    RULES_PROTOCOL = None  # a machine's token: no user, so no rule runs

    @override
    def validate_token_request(self):
        client = self.authenticate_token_endpoint_client()
        audience = self.request.payload.data.get("audience")
        if not audience:
            raise InvalidRequest("Missing required parameter: audience")
        self.audience = audience
        api = api_of_audience(audience, system_allowed=True)
        grant = idp().tenant().client_grant(client.client_id, audience)
        if grant is None:
            raise AccessDenied(f"Client is not authorized to access {audience}. Create a client grant for it.")
        asked = self.asked_scopes()
        beyond = set(asked) - set(grant.scope)
        if beyond:
            raise InvalidScope(f"Scope not granted to this client: {' '.join(sorted(beyond))}")
        self.outcome = GrantOutcome(
            Issue(
                client=client.client,
                subject=f"{client.client_id}@clients",
                api=api,
                scopes=asked or list(grant.scope),
                extra_access_claims={"gty": "client-credentials"},
            )
        )

    @override
    def create_token_response(self):
        return self.store_and_answer(self.decided().issue)
