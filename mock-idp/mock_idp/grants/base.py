"""What every grant of this server shares: client authentication and the grant-type check."""

from __future__ import annotations

from ..errors import UnauthorizedClient
from ..models import TOKEN_ENDPOINT_AUTH_METHODS


class TenantGrant:
    """Mixed into each grant, ahead of Authlib's grant class.

    The client authenticates first (a failure is the provider's 401 "Unauthorized"),
    then the tenant decides whether this client may use this grant type, answering
    with the provider's wording.
    """

    TOKEN_ENDPOINT_AUTH_METHODS = list(TOKEN_ENDPOINT_AUTH_METHODS)
    #: the tenant log event types of this grant: (success, failure)
    LOG_EVENTS: tuple[str, str] = ("", "")

    def authenticate_token_endpoint_client(self):
        client = super().authenticate_token_endpoint_client()
        self.request.client = client
        if not self.client_may_use_grant(client):
            raise UnauthorizedClient(self.GRANT_TYPE)
        return client

    def client_may_use_grant(self, client) -> bool:
        return client.check_grant_type(self.GRANT_TYPE)
