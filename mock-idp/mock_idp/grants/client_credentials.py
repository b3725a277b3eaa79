"""client_credentials: a machine-to-machine token, e.g. for the Management API.

Checks: the client authenticates -> may use this grant -> an audience is named -> a
client grant authorises this client for that API -> the asked scopes are within it.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749 import grants

from ..errors import AccessDenied, InvalidRequest, InvalidScope
from ..provider import idp
from ..tokens import Issue, token_response
from .base import TenantGrant


class ClientCredentialsGrant(TenantGrant, grants.ClientCredentialsGrant):
    LOG_EVENTS = ("seccft", "feccft")

    def validate_token_request(self):
        client = self.authenticate_token_endpoint_client()
        audience = self.request.payload.data.get("audience")
        if not audience:
            raise InvalidRequest("Missing required parameter: audience")
        self.request.audience = audience
        tenant = idp().tenant()
        api = tenant.resource_server(audience)
        if api is None:
            raise AccessDenied(f"Service not enabled within domain: {audience}")
        grant = tenant.client_grant(client.client_id, audience)
        if grant is None:
            raise AccessDenied(f"Client is not authorized to access {audience}. Create a client grant for it.")
        asked = (self.request.payload.scope or "").split()
        beyond = set(asked) - set(grant.scope)
        if beyond:
            raise InvalidScope(f"Scope not granted to this client: {' '.join(sorted(beyond))}")
        self.request.api = api
        self.request.scope = " ".join(asked) if asked else " ".join(grant.scope)

    def create_token_response(self):
        client = self.request.client.client
        issue = Issue(
            client=client,
            subject=f"{client.client_id}@clients",
            api=self.request.api,
            scopes=self.request.scope.split(),
            extra_access_claims={"gty": "client-credentials"},
        )
        return 200, token_response(issue), self.TOKEN_RESPONSE_HEADER
