"""The user's tokens, kept in the server-side session: the browser holds only the session id.

Nothing here returns a token to a template; pages get ``TokenFacts`` (expiry, scope, which
tokens exist) and ``RefreshReport`` (what a refresh changed). The one exception is the flow
inspector (demo tools only), which shows the user their own tokens (``held_tokens``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from flask import session

TOKENS = "tokens"
PROFILE = "profile"
KEPT = ("access_token", "refresh_token", "id_token", "expires_at", "scope", "token_type")


@dataclass(frozen=True)
class TokenFacts:
    expires_at: int | None
    scope: str
    has_refresh_token: bool

    @property
    def expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= time.time()


@dataclass(frozen=True)
class RefreshReport:
    old_expires_at: int | None
    new_expires_at: int | None
    refresh_token_rotated: bool
    id_token_renewed: bool
    old_scope: str
    new_scope: str


def save_login(token: dict, claims: dict) -> None:
    session[TOKENS] = _kept(token)
    session[PROFILE] = claims


def logged_in() -> bool:
    return TOKENS in session


def profile() -> dict:
    return session.get(PROFILE, {})


def access_token() -> str:
    return session[TOKENS]["access_token"]


def refresh_token() -> str | None:
    return session[TOKENS].get("refresh_token")


def id_token() -> str | None:
    """The login's ID token: the ``id_token_hint`` of the provider's logout."""
    return session[TOKENS].get("id_token")


def held_tokens() -> dict[str, str]:
    """The tokens kept for the user, by name: for the flow inspector page only."""
    tokens = session.get(TOKENS, {})
    return {name: tokens[name] for name in ("access_token", "id_token", "refresh_token") if tokens.get(name)}


def facts() -> TokenFacts:
    tokens = session[TOKENS]
    return TokenFacts(tokens.get("expires_at"), tokens.get("scope", ""), "refresh_token" in tokens)


def save_refresh(token: dict) -> RefreshReport:
    old = session[TOKENS]
    new = _kept(token)
    # Without rotation the provider sends no new refresh token: the old one stays valid.
    new.setdefault("refresh_token", old.get("refresh_token"))
    new.setdefault("id_token", old.get("id_token"))
    new.setdefault("scope", old.get("scope", ""))
    session[TOKENS] = new
    return RefreshReport(
        old_expires_at=old.get("expires_at"),
        new_expires_at=new.get("expires_at"),
        refresh_token_rotated=new["refresh_token"] != old.get("refresh_token"),
        id_token_renewed=new["id_token"] != old.get("id_token"),
        old_scope=old.get("scope", ""),
        new_scope=new["scope"],
    )


def clear() -> None:
    session.clear()


def _kept(token: dict) -> dict:
    kept = {name: token[name] for name in KEPT if token.get(name) is not None}
    if "expires_at" in kept:
        kept["expires_at"] = int(kept["expires_at"])
    return kept
