"""The ``rate_limits`` table: one counter per key for its current window."""

from __future__ import annotations

from .database import Database


class RateLimitCounters(Database):
    def count_in_window(self, key: str, window_start: int) -> int:
        """Add one to the counter of ``key`` for this window (a new window starts at 1)."""
        row = (
            self._connection()
            .execute(
                "INSERT INTO rate_limits (key, window_start, count) VALUES (?, ?, 1) "
                "ON CONFLICT (key) DO UPDATE SET "
                "count = CASE WHEN window_start = excluded.window_start THEN count + 1 ELSE 1 END, "
                "window_start = excluded.window_start "
                "RETURNING count",
                (key, window_start),
            )
            .fetchall()
        )  # fetch all: the statement (and its write lock) ends with the last row
        return row[0]["count"]
