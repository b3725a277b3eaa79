"""Consent: when the user is asked, what is remembered, and how scopes are described.

The user is asked when the request forces it (``prompt=consent``); otherwise, for a
request to an API, when it asks for a scope the user has not yet granted this client for
that API, unless the API skips consent for first-party clients and this is one. A
sign-in-only request (no API) is asked only when forced. Grants are remembered per user,
client and API, and only ever grow (the Management API deletes them).
"""

from __future__ import annotations

from . import clock
from .provider import idp
from .tenant import Client, ResourceServer, User

OIDC_SCOPE_DESCRIPTIONS = {
    "openid": "Sign you in",
    "profile": "Read your name and nickname",
    "email": "Read your email address",
    "offline_access": "Keep access while you are away (refresh tokens)",
}


def consent_needed(user: User, client: Client, api: ResourceServer | None, scopes: list[str], forced: bool) -> bool:
    if api is None:
        return forced
    if forced:
        return True
    if api.skip_consent_for_verifiable_first_party_clients and client.is_first_party:
        return False
    granted = idp().storage.consented_scopes(user.user_id, client.client_id, api.identifier)
    return not set(scopes) <= granted


def remember_consent(user: User, client: Client, api: ResourceServer | None, scopes: list[str]) -> None:
    if api is not None:
        idp().storage.save_consent(user.user_id, client.client_id, api.identifier, set(scopes), clock.now())


def describe_scopes(api: ResourceServer | None, scopes: list[str]) -> list[tuple[str, str]]:
    descriptions = dict(OIDC_SCOPE_DESCRIPTIONS)
    if api:
        descriptions.update({s.value: s.description or s.value for s in api.scopes})
    return [(scope, descriptions.get(scope, scope)) for scope in scopes]
