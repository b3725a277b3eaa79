"""Fixed-window rate limits, counted in SQLite so they hold across gunicorn workers."""

from __future__ import annotations

from dataclasses import dataclass

from . import clock
from .errors import TooManyRequests
from .storage import Storage


@dataclass(frozen=True)
class Window:
    limit: int
    remaining: int
    reset: int  # epoch seconds when the window ends


class RateLimiter:
    def __init__(self, storage: Storage):
        self.storage = storage

    def hit(self, key: str, limit: int, window: int) -> Window:
        """Count one request against ``key``; raise TooManyRequests past ``limit``."""
        now = clock.now()
        start = now - now % window
        count = self.storage.count_in_window(key, start)
        state = Window(limit=limit, remaining=max(limit - count, 0), reset=start + window)
        if count > limit:
            raise TooManyRequests(state, retry_after=max(state.reset - now, 1))
        return state
