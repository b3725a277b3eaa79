"""Who is logged in at the identity provider: password check, log in, log out.

The signed session cookie holds only a session id; the session itself (user, auth_time,
expiry, ended) is a row in SQLite, so logging out ends it for every copy of the cookie.
"""

from __future__ import annotations

import secrets

from flask import session

from . import authn_context, clock
from .provider import idp
from .secret_hashing import verify_no_password, verify_password
from .tenant import User


def current_session_id() -> str | None:
    """The id of the session this browser's cookie names (live or not)."""
    session_id = session.get("sid")
    return session_id if isinstance(session_id, str) else None  # a cookie from before sessions had ids: none


def current_user() -> tuple[User | None, int | None]:
    session_id = current_session_id()
    if session_id is None:
        return None, None
    row = idp().storage.live_login_session(session_id, clock.now())
    if row is None:
        return None, None
    return idp().tenant().user(row["user_id"]), row["auth_time"]


def current_acr() -> str | None:
    """How strongly this browser's live session logged in (authn_context.py), else None."""
    session_id = current_session_id()
    row = idp().storage.live_login_session(session_id, clock.now()) if session_id else None
    if row is None:
        return None
    return row["acr"] or authn_context.PASSWORD  # a session from before acr existed: a password


def step_up(acr: str) -> int | None:
    """The logged-in user passed a stronger check: the session now has ``acr``, and its
    ``auth_time`` is now (OIDC Core 2: the time of the latest authentication)."""
    session_id = current_session_id()
    now = clock.now()
    if session_id is None or not idp().storage.step_up_login_session(session_id, acr, now):
        return None
    return now


def check_password(email: str, password: str) -> User | None:
    user = idp().tenant().user_by_email(email)
    # The same work for an unknown email, so the answer's time does not tell which exist.
    if user is None:
        verify_no_password(password, idp().settings.password_hash_cost)
        return None
    return user if verify_password(user.password, password) else None


def log_in(user: User) -> int:
    previous = current_session_id()
    if previous is not None:  # a login replaces the session: copies of the old cookie end too
        idp().storage.end_login_session(previous, clock.now())
    session.clear()  # a new session on login: no fixation
    session.permanent = True
    auth_time = clock.now()
    session_id = secrets.token_urlsafe(32)
    expires_at = auth_time + idp().settings.login_session_lifetime
    idp().storage.start_login_session(session_id, user.user_id, auth_time, expires_at, authn_context.PASSWORD)
    session["sid"] = session_id
    return auth_time


def log_out() -> str | None:
    """End the session on the server (every copy of the cookie), then clear the cookie.
    Returns the session's user, also when it had ended already (its grant was revoked)."""
    session_id = current_session_id()
    row = idp().storage.login_session(session_id) if session_id is not None else None
    if session_id is not None:
        idp().storage.end_login_session(session_id, clock.now())
    session.clear()
    return row["user_id"] if row else None
