"""Who is logged in at the identity provider, and their consents.

The signed session cookie holds only a session id; the session itself (user, auth_time,
expiry, ended) is a row in SQLite, so logging out ends it for every copy of the cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

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
    session_id = session.get("sid")
    if not isinstance(session_id, str):
        return None, None  # also a cookie from before sessions had ids: not logged in
    row = idp().storage.live_login_session(session_id, clock.now())
    if row is None:
        return None, None
    return idp().tenant().user(row["user_id"]), row["auth_time"]


def check_password(email: str, password: str) -> User | None:
    user = idp().tenant().user_by_email(email)
    # Compare digests in constant time, and do the same work for unknown emails.
    stored = user.password if user else "\0"
    matches = hmac.compare_digest(_digest(password), _digest(stored))
    return user if user and matches else None


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8")).digest()


def log_in(user: User) -> int:
    previous = session.get("sid")
    if isinstance(previous, str):  # a login replaces the session: copies of the old cookie end too
        idp().storage.end_login_session(previous, clock.now())
    session.clear()  # a new session on login: no fixation
    session.permanent = True
    auth_time = clock.now()
    session_id = secrets.token_urlsafe(32)
    expires_at = auth_time + idp().settings.login_session_lifetime
    idp().storage.start_login_session(session_id, user.user_id, auth_time, expires_at)
    session["sid"] = session_id
    return auth_time


def log_out() -> str | None:
    """End the session on the server (every copy of the cookie), then clear the cookie."""
    session_id = session.get("sid")
    user, _ = current_user()
    if isinstance(session_id, str):
        idp().storage.end_login_session(session_id, clock.now())
    session.clear()
    return user.user_id if user else None


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
