"""The grants this server supports, registered once.

Everything else reads this list: the authorization server registers each grant
(``server.create_server``), a tenant's client may list its grant type
(``tenant.GrantType``) and discovery publishes it, the tenant log knows its event
descriptions (``tenant_log.descriptions``) and the rules see its protocol. A grant that
does not declare what those read is refused here, when the server starts, rather than
with a ``KeyError`` at its first request.
"""

from __future__ import annotations

from ..tenant_log import OTHER_DESCRIPTIONS
from .authorization_code import AuthorizationCodeGrant
from .base import TenantGrant
from .client_credentials import ClientCredentialsGrant
from .refresh_token import RefreshTokenGrant
from .token_exchange import TokenExchangeGrant

#: What a grant class must declare itself (``TenantGrant`` says what each one is).
DECLARED = ("GRANT_TYPE", "LOG_EVENTS", "RULES_PROTOCOL")


class GrantRegistrationError(TypeError):
    """A grant cannot be registered: the message names the grant and what it lacks."""


def registered(*grants: type[TenantGrant]) -> tuple[type[TenantGrant], ...]:
    """``grants``, once each declares what the server reads and no two share a grant type
    or a log event code (with each other, or with the events of no grant)."""
    grant_types: dict[str, str] = {}
    codes: dict[str, str] = dict.fromkeys(OTHER_DESCRIPTIONS, "tenant_log")
    for grant in grants:
        missing = [name for name in DECLARED if name not in vars(grant)]
        if missing:
            raise GrantRegistrationError(f"{grant.__name__} does not declare {', '.join(missing)}")
        if not isinstance(grant.GRANT_TYPE, str) or not grant.GRANT_TYPE:
            raise GrantRegistrationError(f"{grant.__name__}.GRANT_TYPE must be a grant_type value")
        if grant.GRANT_TYPE in grant_types:
            raise GrantRegistrationError(
                f"{grant.__name__} and {grant_types[grant.GRANT_TYPE]} both answer {grant.GRANT_TYPE}"
            )
        grant_types[grant.GRANT_TYPE] = grant.__name__
        for event in grant.LOG_EVENTS.all:
            if not event.code or not event.description:
                raise GrantRegistrationError(f"{grant.__name__} has a log event without a code or a description")
            if event.code in codes:
                raise GrantRegistrationError(f"{grant.__name__} and {codes[event.code]} both log {event.code}")
            codes[event.code] = grant.__name__
    return grants


# One line per grant.
GRANTS = registered(
    AuthorizationCodeGrant,
    RefreshTokenGrant,
    TokenExchangeGrant,
    ClientCredentialsGrant,
)

GRANT_TYPES: tuple[str, ...] = tuple(grant.GRANT_TYPE for grant in GRANTS)
LOG_DESCRIPTIONS: dict[str, str] = {event.code: event.description for grant in GRANTS for event in grant.LOG_EVENTS.all}
RULES_PROTOCOLS: dict[str, str] = {grant.GRANT_TYPE: grant.RULES_PROTOCOL for grant in GRANTS if grant.RULES_PROTOCOL}
