"""Where the web app keeps its server-side sessions, and what ends with them.

The browser holds only a session id. A session that holds a login (the user's tokens) is
kept in ``<data dir>/sessions``, which is never pruned for room: only its own expiry, a
logout or the operator ends it. Every other session (a login started and not finished, a
CSRF token for an anonymous form) is kept in ``<data dir>/pending-logins``, bounded to
``PENDING_CAP`` entries of at most ``PENDING_LIFETIME``: a flood of anonymous
``GET /login`` pushes out other unfinished logins, never a logged-in user.

Records kept beside a session under ``key_for(its id)`` (the flow inspector's) are
registered with ``keep_beside``: they are deleted with their session (logout, a new id at
login, the operator) and swept with it once expired. A session carries the time it expires
(``EXPIRES_AT``), so such a record can be set to expire with it.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from cachelib.file import FileSystemCache
from flask import Flask
from flask_session.cachelib import CacheLibSessionInterface

from .token_store import TOKENS

PENDING_CAP = 1000
PENDING_LIFETIME = timedelta(minutes=30)
SWEEP_INTERVAL = 60  # seconds: expired sessions are swept on a save, at most this often
EXPIRES_AT = "_expires_at"
KEY_PREFIX = "session:"


def key_for(session_id: str) -> str:
    """The key of what is kept beside a session: its id's digest, never the id itself."""
    return hashlib.sha256(session_id.encode()).hexdigest()


class SessionStore(CacheLibSessionInterface):
    """Flask-Session's cachelib sessions, logged-in and pending ones kept apart."""

    def __init__(self, app: Flask, data_dir: Path, clock: Callable[[], float] = time.time):
        super().__init__(
            app,
            client=FileSystemCache(str(data_dir / "sessions"), threshold=0, mode=0o600),
            key_prefix=KEY_PREFIX,
            permanent=app.config["SESSION_PERMANENT"],
        )
        self.logins = self.cache
        self.pending = _Bounded(
            str(data_dir / "pending-logins"),
            threshold=PENDING_CAP,
            default_timeout=int(PENDING_LIFETIME.total_seconds()),
            mode=0o600,
        )
        self.clock = clock
        self.beside: list[FileSystemCache] = []
        self._swept = 0.0

    def keep_beside(self, records: FileSystemCache) -> None:
        self.beside.append(records)

    def end_all(self) -> int:
        """End every session; returns how many were logged in."""
        ended = sum(1 for _ in self.logins._list_dir())  # the session files, not the cache's own
        for store in (self.logins, self.pending, *self.beside):
            store.clear()
        return ended

    def sweep(self) -> None:
        """Delete every expired session, and what was kept beside it."""
        now = self.clock()
        self._swept = now
        for store in (self.logins, self.pending, *self.beside):
            store._remove_expired(now)

    def _retrieve_session_data(self, store_id: str) -> dict | None:
        data = self.logins.get(store_id)
        return data if data is not None else self.pending.get(store_id)

    def _delete_session(self, store_id: str) -> None:
        self.logins.delete(store_id)
        self.pending.delete(store_id)
        key = key_for(store_id.removeprefix(KEY_PREFIX))
        for records in self.beside:
            records.delete(key)

    def _upsert_session(self, session_lifetime: timedelta, session, store_id: str) -> None:
        logged_in = TOKENS in session
        lifetime = session_lifetime if logged_in else min(session_lifetime, PENDING_LIFETIME)
        seconds = int(lifetime.total_seconds())
        data = {**dict(session), EXPIRES_AT: int(self.clock()) + seconds}
        keep, other = (self.logins, self.pending) if logged_in else (self.pending, self.logins)
        keep.set(store_id, data, timeout=seconds)
        other.delete(store_id)
        if self.clock() - self._swept >= SWEEP_INTERVAL:
            self.sweep()


class _Bounded(FileSystemCache):
    """A cache that, once over its cap, drops the expired entries and then the oldest down to
    three quarters of the cap: a flood pays for one pass over the files per quarter of the
    cap, instead of one per request (cachelib stops one entry under the cap)."""

    def _prune(self) -> None:
        if not self._over_threshold():
            return
        self._remove_expired(time.time())
        cap = self._threshold
        self._threshold = cap * 3 // 4
        try:
            if self._over_threshold():
                self._remove_older()
        finally:
            self._threshold = cap


def seconds_left(session) -> int | None:
    """How long ``session`` has left; None when this request saves it (a full lifetime, then)."""
    expires_at = None if session.modified else session.get(EXPIRES_AT)
    return max(int(expires_at - time.time()), 1) if isinstance(expires_at, int) else None
