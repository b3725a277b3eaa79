"""Where the web app keeps its server-side sessions, and what ends with them.

The browser holds only a session id. A session that holds a login (the user's tokens) is
never pruned for room: only its own expiry, a logout or the operator ends it. Every other
session (a login started and not finished, a CSRF token for an anonymous form) is kept
apart, bounded to ``PENDING_CAP`` entries of at most ``PENDING_LIFETIME``: a flood of
anonymous ``GET /login`` pushes out other unfinished logins, never a logged-in user.

Records kept beside a session under ``key_for(its id)`` (the flow inspector's) come from
``records(name)``: they are deleted with their session (logout, a new id at login, the
operator) and expire with it. A session carries the time it expires (``EXPIRES_AT``), so
such a record can be set to expire with it (``seconds_left``).

Two backends keep these promises behind this one interface, chosen by ``for_settings``:
files in the data folder (``files.py``), shared by the processes of one host, and Redis
(``in_redis.py``, ``WEB_APP_SESSION_URL``), shared by web app replicas.
"""

from __future__ import annotations

import hashlib
import time
from abc import abstractmethod
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from flask import Flask
from flask_session.base import ServerSideSession, ServerSideSessionInterface

from ..token_store import TOKENS

if TYPE_CHECKING:
    from ..settings import Settings

PENDING_CAP = 1000
PENDING_LIFETIME = timedelta(minutes=30)
EXPIRES_AT = "_expires_at"


class Records(Protocol):
    """What is kept beside sessions, one entry per session (cachelib's calls)."""

    def get(self, key: str) -> Any: ...
    def set(self, key: str, value: Any, timeout: int | None = None) -> Any: ...
    def delete(self, key: str) -> Any: ...
    def has(self, key: str) -> bool: ...
    def clear(self) -> Any: ...


def key_for(session_id: str) -> str:
    """The key of what is kept beside a session: its id's digest, never the id itself."""
    return hashlib.sha256(session_id.encode()).hexdigest()


class SessionStore(ServerSideSessionInterface):
    """Flask-Session's server-side sessions, logged-in and pending ones kept apart."""

    def __init__(self, app: Flask, key_prefix: str, clock: Callable[[], float] = time.time):
        super().__init__(app, key_prefix=key_prefix, permanent=app.config["SESSION_PERMANENT"])
        self.lifetime = int(app.permanent_session_lifetime.total_seconds())
        self.clock = clock
        self.beside: list[Records] = []

    def records(self, name: str) -> Records:
        """A store of records kept beside the sessions (``name``: what they are), ended with them."""
        records = self._open_records(name)
        self.beside.append(records)
        return records

    @abstractmethod
    def end_all(self) -> int:
        """End every session, and what was kept beside it; returns how many were logged in."""

    @abstractmethod
    def sweep(self) -> None:
        """Delete what expired and is not yet gone."""

    @abstractmethod
    def _open_records(self, name: str) -> Records: ...

    @abstractmethod
    def _save(self, store_id: str, data: dict, seconds: int, logged_in: bool) -> None:
        """Keep ``data`` for ``seconds`` with the logins or the pending ones, and drop it
        from the other."""

    @abstractmethod
    def _drop(self, store_id: str) -> None: ...

    def _delete_session(self, store_id: str) -> None:
        self._drop(store_id)
        key = key_for(store_id.removeprefix(self.key_prefix))
        for records in self.beside:
            records.delete(key)

    def _upsert_session(self, session_lifetime: timedelta, session: ServerSideSession, store_id: str) -> None:
        logged_in = TOKENS in session
        lifetime = session_lifetime if logged_in else min(session_lifetime, PENDING_LIFETIME)
        seconds = int(lifetime.total_seconds())
        data = {**dict(session), EXPIRES_AT: int(self.clock()) + seconds}
        self._save(store_id, data, seconds, logged_in)


def for_settings(app: Flask, settings: Settings) -> SessionStore:
    """The store the settings name: Redis with ``WEB_APP_SESSION_URL``, else files."""
    if settings.session_url:
        from .in_redis import RedisSessionStore

        return RedisSessionStore.from_url(app, settings.session_url)
    from .files import FileSessionStore

    return FileSessionStore(app, settings.data_dir.resolve())


def seconds_left(session) -> int | None:
    """How long ``session`` has left; None when this request saves it (a full lifetime, then)."""
    expires_at = None if session.modified else session.get(EXPIRES_AT)
    return max(int(expires_at - time.time()), 1) if isinstance(expires_at, int) else None
