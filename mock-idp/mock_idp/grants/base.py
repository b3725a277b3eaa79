"""What every grant of this server shares: client authentication and the grant-type check."""

from __future__ import annotations

from dataclasses import replace

from ..errors import UnauthorizedClient
from ..oauth_adapters import TOKEN_ENDPOINT_AUTH_METHODS
from ..provider import idp
from ..rules import PROTOCOLS, RuleContext
from ..tokens import Issue


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

    def apply_rules(self, issue: Issue, subject_audience: str | None = None) -> Issue:
        """Run the tenant's enabled rules for a token issued to a user."""
        provider = idp()
        tenant = provider.tenant()
        if not any(rule.enabled for rule in tenant.rules) or issue.user is None:
            return issue
        context = RuleContext(
            protocol=PROTOCOLS[self.GRANT_TYPE],
            client_id=issue.client.client_id,
            client_name=issue.client.name,
            audience=issue.api.identifier if issue.api else None,
            scope=list(issue.scopes),
            subject_audience=subject_audience,
        )
        outcome = provider.rules.run(tenant, context, issue.user, issue.client)
        return replace(
            issue,
            extra_access_claims={**issue.extra_access_claims, **outcome.access_claims},
            extra_id_claims={**issue.extra_id_claims, **outcome.id_claims},
            access_token_scope=outcome.scope,
        )
