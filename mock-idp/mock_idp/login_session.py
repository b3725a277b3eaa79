"""Who is logged in at the identity provider (a signed session cookie) and their consents."""

from __future__ import annotations

import hashlib
import hmac

from flask import session

from . import clock
from .provider import idp
from .tenant import Client, ResourceServer, User

OIDC_SCOPE_DESCRIPTIONS = {
    "openid": "Sign you in",
    "profile": "Read your name and nickname",
    "email": "Read your email address",
    "offline_access": "Keep access while you are away (refresh tokens)",
}


def current_user() -> tuple[User | None, int | None]:
    user_id, auth_time = session.get("user_id"), session.get("auth_time")
    if not user_id or not isinstance(auth_time, int):
        return None, None
    if auth_time + idp().settings.login_session_lifetime < clock.now():
        return None, None
    return idp().tenant().user(user_id), auth_time


def check_password(email: str, password: str) -> User | None:
    user = idp().tenant().user_by_email(email)
    # Compare digests in constant time, and do the same work for unknown emails.
    stored = user.password if user else "\0"
    matches = hmac.compare_digest(_digest(password), _digest(stored))
    return user if user and matches else None


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8")).digest()


def log_in(user: User) -> int:
    session.clear()  # a new session on login: no fixation
    session.permanent = True
    auth_time = clock.now()
    session.update(user_id=user.user_id, auth_time=auth_time)
    return auth_time


def log_out() -> str | None:
    user_id = session.get("user_id")
    session.clear()
    return user_id


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
