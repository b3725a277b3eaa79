"""What every grant of this server shares: client authentication, the grant-type check,
the rules on audiences and offline access, and how a decision becomes tokens.

Each grant's ``validate_token_request`` runs its checks top to bottom and ends with a
``GrantOutcome``; its ``create_token_response`` runs the tenant's rules and issues it.
Each grant also declares what the rest of the server reads about it (``TenantGrant``):
its grant type, its tenant log events and the protocol its rules see; ``registry.py``
lists the grants.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

from authlib.oauth2.rfc6749.grants import BaseGrant
from typing_extensions import override

from ..errors import AccessDenied, UnauthorizedClient
from ..oauth_adapters import TOKEN_ENDPOINT_AUTH_METHODS
from ..provider import idp
from ..rules import RuleContext
from ..tenant import Client, ResourceServer
from ..tokens import Issue, store_refresh_token, token_response


@dataclass(frozen=True)
class LogEvent:
    """A tenant log event type (the provider's code) and its description."""

    code: str
    description: str


@dataclass(frozen=True)
class LogEvents:
    """The tenant log events of a grant: every request ends with its success or its
    failure, unless one of its errors names another of its events (``others``)."""

    success: LogEvent
    failure: LogEvent
    others: tuple[LogEvent, ...] = ()

    @property
    def all(self) -> tuple[LogEvent, ...]:
        return (self.success, self.failure, *self.others)


@dataclass
class GrantOutcome:
    """What a grant's checks decided: the tokens to issue, and what issuing them involves."""

    issue: Issue
    #: refresh_token: the presented token's hash, rotated when the new tokens are issued
    rotates: str | None = None
    #: refresh_token: the scope the new refresh token keeps (a down-scoped refresh keeps the original)
    refresh_scopes: list[str] | None = None
    #: token exchange: the login's grant the new grant derives from (revoked with it)
    derived_from: str | None = None
    #: token exchange: the API the subject token was issued for, which the rules see
    subject_audience: str | None = None


class TenantGrant(BaseGrant):
    """Mixed into each grant, ahead of Authlib's grant class.

    The client authenticates first (a failure is the provider's 401 "Unauthorized", T17),
    then the tenant decides whether this client may use this grant type, answering
    with the provider's wording (T06, T16).
    """

    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = list(TOKEN_ENDPOINT_AUTH_METHODS)

    # What each grant declares itself (``registry.DECLARED`` checks it is there):
    #: the ``grant_type`` it answers, which a tenant's client may list
    GRANT_TYPE: ClassVar[str]
    #: its tenant log events
    LOG_EVENTS: ClassVar[LogEvents]
    #: ``context.protocol`` for the tenant's rules, or None where rules never run (no user)
    RULES_PROTOCOL: ClassVar[str | None]
    #: Authlib extensions registered with it (PKCE)
    EXTENSIONS: ClassVar[tuple] = ()

    # Whom the request is about, as far as the checks got: its tenant log entry names them.
    audience: str | None = None
    user_id: str | None = None
    #: set by validate_token_request, issued by create_token_response
    outcome: GrantOutcome | None = None

    @override
    def authenticate_token_endpoint_client(self):
        client = super().authenticate_token_endpoint_client()
        self.request.client = client
        if not self.client_may_use_grant(client):
            raise UnauthorizedClient(self.GRANT_TYPE)
        return client

    def client_may_use_grant(self, client) -> bool:
        return client.check_grant_type(self.GRANT_TYPE)

    def decided(self) -> GrantOutcome:
        """What ``validate_token_request`` decided; Authlib calls it before ``create_token_response``."""
        if self.outcome is None:
            raise RuntimeError(f"{type(self).__name__}: create_token_response before validate_token_request")
        return self.outcome

    def asked_scopes(self) -> list[str]:
        """The request's ``scope`` parameter, as a list (empty when not sent)."""
        return (self.request.payload.scope or "").split()

    def apply_rules(self, issue: Issue, subject_audience: str | None = None) -> Issue:
        """Run the tenant's enabled rules for a token issued to a user."""
        provider = idp()
        tenant = provider.tenant()
        if not any(rule.enabled for rule in tenant.rules) or issue.user is None or self.RULES_PROTOCOL is None:
            return issue
        context = RuleContext(
            protocol=self.RULES_PROTOCOL,
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

    def store_with_log_entry(self) -> None:
        """What this grant stores in the transaction of its success log entry, after
        ``create_token_response``: all of it is committed with the entry, or none. An
        OAuth2Error raised here refuses the request, with nothing of it stored."""

    def store_and_answer(self, issue: Issue, refresh_scopes: list[str] | None = None):
        """Store the issue's refresh token, if it has one, and answer with the tokens."""
        refresh = store_refresh_token(issue, refresh_scopes) if issue.refresh_family else None
        return 200, token_response(issue, refresh), self.TOKEN_RESPONSE_HEADER


def api_of_audience(audience: str, *, system_allowed: bool = False) -> ResourceServer:
    """The API an ``audience`` names (T20). The tenant's own Management API is one only
    where ``system_allowed`` (the client_credentials grant)."""
    api = idp().tenant().resource_server(audience)
    if api is None or (api.is_system and not system_allowed):
        raise AccessDenied(f"Service not enabled within domain: {audience}")
    return api


def allowed_for_users(client: Client, api: ResourceServer, scopes: list[str]) -> list[str]:
    """What ``client`` may get of ``api`` for a user (its user-flow policy): all it asks
    (``allow_all``), nothing (``deny_all``: an API reached only by token exchange), or the
    API scopes of its ``subject_type: user`` client grant (``require_client_grant``)."""
    policy = api.subject_type_authorization.user.policy
    if policy == "allow_all":
        return scopes
    grant = idp().tenant().client_grant(client.client_id, api.identifier, subject_type="user")
    if policy == "deny_all" or grant is None:
        raise AccessDenied(f"Client {client.client_id} is not authorized to access {api.identifier} for a user")
    return [s for s in scopes if s not in api.scope_values or s in grant.scope]


def with_offline_access(scopes: list[str], client: Client, api: ResourceServer | None) -> tuple[list[str], bool]:
    """Whether a refresh token is issued (T07): offline_access was asked for, the client
    has the refresh_token grant, and the API allows offline access. When one is missing,
    offline_access is taken out of the scopes granted."""
    offline = "offline_access" in scopes and "refresh_token" in client.grant_types
    offline = offline and (api is None or api.allow_offline_access)
    if offline or "offline_access" not in scopes:
        return scopes, offline
    return [s for s in scopes if s != "offline_access"], False
