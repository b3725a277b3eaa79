"""Sessions in files in the data folder: shared by the gunicorn workers of one host.

Logged-in sessions in ``<data dir>/sessions``, never pruned for room; pending ones in
``<data dir>/pending-logins``, bounded; records beside them in ``<data dir>/<name>``.
Expired files are swept on a save, at most every ``SWEEP_INTERVAL`` seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from cachelib.file import FileSystemCache
from flask import Flask

from . import PENDING_CAP, PENDING_LIFETIME, SessionStore

SWEEP_INTERVAL = 60  # seconds
KEY_PREFIX = "session:"
RECORDS_CAP = 1000


class FileSessionStore(SessionStore):
    def __init__(self, app: Flask, data_dir: Path, clock: Callable[[], float] = time.time):
        super().__init__(app, KEY_PREFIX, clock)
        self.data_dir = data_dir
        self.logins = FileSystemCache(str(data_dir / "sessions"), threshold=0, mode=0o600)
        self.pending = _Bounded(
            str(data_dir / "pending-logins"),
            threshold=PENDING_CAP,
            default_timeout=int(PENDING_LIFETIME.total_seconds()),
            mode=0o600,
        )
        self._swept = 0.0

    def _open_records(self, name: str) -> FileSystemCache:
        return FileSystemCache(
            str(self.data_dir / name), threshold=RECORDS_CAP, default_timeout=self.lifetime, mode=0o600
        )

    def end_all(self) -> int:
        ended = sum(1 for _ in self.logins._list_dir())  # the session files, not the cache's own
        for store in (self.logins, self.pending, *self.beside):
            store.clear()
        return ended

    def sweep(self) -> None:
        now = self.clock()
        self._swept = now
        for store in (self.logins, self.pending, *self.beside):
            if isinstance(store, FileSystemCache):
                store._remove_expired(now)

    def _retrieve_session_data(self, store_id: str) -> dict | None:
        data = self.logins.get(store_id)
        return data if data is not None else self.pending.get(store_id)

    def _drop(self, store_id: str) -> None:
        self.logins.delete(store_id)
        self.pending.delete(store_id)

    def _save(self, store_id: str, data: dict, seconds: int, logged_in: bool) -> None:
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
